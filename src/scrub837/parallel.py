"""``--jobs N``: inputs on N worker processes, and large single inputs split at transaction
(ST/SE) boundaries into parts that are scrubbed in parallel and joined in order.

Each worker loads the rule book once. Outputs are those of a one-process run except the 277CA
control numbers: every process of the run takes them from one shared, locked counter (or the
``--control-state`` file), so they are unique but not in file order. How a file is cut, and
when it is not (an irregular file is scrubbed whole, so its problems are reported exactly):
:mod:`scrub837.parts`.
"""

from __future__ import annotations

import argparse
import os
import secrets
from concurrent.futures import Future, ProcessPoolExecutor, wait
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from scrub837.outputs.control import ControlNumbers
from scrub837.parts import (NotSplittable, Part, PartOutcome, join_parts, plan,
                            remove_fragments, scrub_part)
from scrub837.pipeline import FileOutcome, OutputOptions, scrub_file
from scrub837.scrubber import Scrubber

SPLIT_MIN_BYTES = 16 << 20  # a file this large is cut into parts when --jobs > 1
PARTS_PER_JOB = 4  # smaller parts balance the workers; each part costs a little joining

_SCRUBBER: Scrubber | None = None


def _init(rules: str | None, crosswalk: str | None, mue: list[str], payers: str | None,
          cms: tuple[str | None, str | None, str | None] = (None, None, None),
          reject_pre_errata: bool = False) -> None:
    global _SCRUBBER
    from scrub837 import _runtime

    _runtime.tune()
    if _SCRUBBER is not None:  # inherited from the parent (fork): loaded once, shared pages
        return
    _SCRUBBER = Scrubber(Path(rules) if rules else None,
                         crosswalk=Path(crosswalk) if crosswalk else None,
                         mue=[Path(m) for m in mue],
                         payer_overlays=Path(payers) if payers else None,
                         hcpcs=cms[0], asp=cms[1], data=cms[2],
                         reject_pre_errata=reject_pre_errata)


def _one(path: str, out_dir: str, options: OutputOptions) -> FileOutcome:
    assert _SCRUBBER is not None
    return scrub_file(Path(path), _SCRUBBER, Path(out_dir), options)


def _part(path: str, part: Part, out_dir: str, options: OutputOptions,
          token: str) -> PartOutcome:
    assert _SCRUBBER is not None
    return scrub_part(Path(path), path, part, _SCRUBBER, Path(out_dir), options, token)


def _split(pool: ProcessPoolExecutor, path: str, out_dir: Path, options: OutputOptions,
           jobs: int) -> FileOutcome:
    """Cut ``path`` into parts, scrub them on the pool while the cutting goes on, join them.
    An irregular file, or a part that did not read as planned, is scrubbed whole instead."""
    token = secrets.token_hex(4)
    options = replace(options, now=options.now or datetime.now())
    target = max(1, os.path.getsize(path) // (jobs * PARTS_PER_JOB))
    futures: list[Future[PartOutcome]] = []
    whole = False
    try:
        with open(path, "rb") as stream:
            for part in plan(stream, path, target):
                futures.append(pool.submit(_part, path, part, str(out_dir), options, token))
    except NotSplittable:
        whole = True
    wait(futures)
    done = [f.result() for f in futures if f.exception() is None]
    failed = next((f.exception() for f in futures if f.exception() is not None), None)
    if failed is not None or whole or not done or any(p.irregular for p in done):
        remove_fragments(v for p in done for v in p.fragments.values())
        if failed is not None:
            raise failed
        return pool.submit(_one, path, str(out_dir), options).result()
    return join_parts(path, done, out_dir, options)


def scrub_files_parallel(files: list[str], args: argparse.Namespace, options: OutputOptions,
                         out_dir: Path, jobs: int, *, split_min: int = SPLIT_MIN_BYTES,
                         scrubber: Scrubber | None = None) -> list[FileOutcome]:
    """Scrub ``files`` on ``jobs`` processes; files of ``split_min`` bytes or more (and not
    ``--validate``, which needs pyx12 on the whole file) are cut into parts. ``scrubber``,
    when given, is what the workers use where processes are forked (Linux); elsewhere each
    worker loads the rules named in ``args``."""
    global _SCRUBBER
    _SCRUBBER = scrubber
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = max(1, min(jobs, os.cpu_count() or 1))
    shared = None
    if options.control.state_file is None:
        shared = ControlNumbers.shared_for_run(out_dir, secrets.token_hex(4),
                                               options.control.peek())
        options = replace(options, control=shared)
    try:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_init,
                                 initargs=(args.rules, args.crosswalk, args.mue,
                                           args.payers, (getattr(args, "hcpcs", None),
                                                         getattr(args, "asp", None),
                                                         getattr(args, "data", None)),
                                           getattr(args, "reject_pre_errata", False))) as pool:
            pending: list[Future[FileOutcome] | FileOutcome] = []
            for path in files:
                if (jobs > 1 and not options.validate and os.path.isfile(path)
                        and os.path.getsize(path) >= split_min):
                    pending.append(_split(pool, path, out_dir, options, jobs))
                else:
                    pending.append(pool.submit(_one, path, str(out_dir), options))
            return [p.result() if isinstance(p, Future) else p for p in pending]
    finally:
        _SCRUBBER = None
        if shared is not None:
            shared.remove()
