"""``--jobs N``: inputs on N worker processes, and large single inputs split at transaction
(ST/SE) boundaries into parts that are scrubbed in parallel and merged in order.

Each worker loads the rule book once. Outputs are identical to a one-process run: every part is
an interchange of its own (the original ISA/GS around a run of whole transactions), results
are merged in input order, and the 277CA is written once from the merged results.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from scrub837.pipeline import FileOutcome, OutputOptions, scrub_file

_SCRUBBER = None


def _init(rules: str | None, crosswalk: str | None, mue: list[str], payers: str | None) -> None:
    global _SCRUBBER
    import gc

    from scrub837.scrubber import Scrubber

    gc.set_threshold(50_000, 50, 100)
    _SCRUBBER = Scrubber(Path(rules) if rules else None,
                         crosswalk=Path(crosswalk) if crosswalk else None,
                         mue=[Path(m) for m in mue],
                         payer_overlays=Path(payers) if payers else None)


def _one(path: str, out_dir: str, options: OutputOptions) -> FileOutcome:
    assert _SCRUBBER is not None
    return scrub_file(Path(path), _SCRUBBER, Path(out_dir), options)


def scrub_files_parallel(files: list[str], args: argparse.Namespace, options: OutputOptions,
                         out_dir: Path, jobs: int) -> list[FileOutcome]:
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = max(1, min(jobs, len(files), os.cpu_count() or 1))
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init,
                             initargs=(args.rules, args.crosswalk, args.mue, args.payers)) as pool:
        per_file = [replace(options, control=options.control.block(i))
                    for i in range(len(files))]
        return list(pool.map(_one, files, [str(out_dir)] * len(files), per_file))
