"""``--jobs N``: inputs on N worker processes, and large single inputs split at transaction
(ST/SE) boundaries into parts that are scrubbed in parallel and joined in order.

Each worker loads the rule book once. Outputs are those of a one-process run except the 277CA
control numbers: every process of the run takes them from one shared, locked counter (or the
``--control-state`` file), so they are unique but not in file order. How a file is cut, and
when it is not (an irregular file is scrubbed whole, so its problems are reported exactly):
:mod:`scrub837.run.parts`.
"""

from __future__ import annotations

import argparse
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, wait
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from scrub837.outputs.control import ControlNumbers
from scrub837.run.parts import (NotSplittable, Part, PartOutcome, join_parts, plan,
                            remove_fragments, scrub_part)
from scrub837.run.pipeline import FileOutcome, InputError, OutputOptions, scrub_file
from scrub837.scrubber import Scrubber

SPLIT_MIN_BYTES = 16 << 20  # a file this large is cut into parts when --jobs > 1
PARTS_PER_JOB = 4  # smaller parts balance the workers; each part costs a little joining

_SCRUBBER: Scrubber | None = None
_T = TypeVar("_T")


def _init(rules: str | None, crosswalk: str | None, mue: list[str], payers: str | None,
          cms: tuple[str | None, str | None, str | None] = (None, None, None),
          reject_pre_errata: bool = False) -> None:
    global _SCRUBBER
    from scrub837.run import _runtime

    _runtime.tune()
    if _SCRUBBER is not None:  # inherited from the parent (fork): loaded once, shared pages
        return
    _SCRUBBER = Scrubber(Path(rules) if rules else None,
                         crosswalk=Path(crosswalk) if crosswalk else None,
                         mue=[Path(m) for m in mue],
                         payer_overlays=Path(payers) if payers else None,
                         hcpcs=cms[0], asp=cms[1], data=cms[2],
                         reject_pre_errata=reject_pre_errata)
    _runtime.freeze_loaded()


def _one(path: str, out_dir: str, options: OutputOptions) -> FileOutcome:
    assert _SCRUBBER is not None
    return scrub_file(Path(path), _SCRUBBER, Path(out_dir), options)


def _part(path: str, part: Part, out_dir: str, options: OutputOptions,
          token: str) -> PartOutcome:
    assert _SCRUBBER is not None
    return scrub_part(Path(path), path, part, _SCRUBBER, Path(out_dir), options, token)


#: ``--jobs`` progress: called with (bytes done, claims done, parts done, parts planned) in the
#: parent each time a part or a whole file is planned or finishes
PartProgress = Callable[[int, int, int, int], None]


class _Tally:
    """What the run's finished parts add up to, for a :data:`PartProgress` callback."""

    def __init__(self, progress: PartProgress | None) -> None:
        self.progress = progress
        self.bytes = self.claims = self.done = self.planned = 0
        self.lock = threading.Lock()

    def plan(self) -> None:
        with self.lock:
            self.planned += 1
            self._tell()

    def finish(self, size: int, claims: int) -> None:
        with self.lock:
            self.bytes += size
            self.claims += claims
            self.done += 1
            self._tell()

    def _tell(self) -> None:
        if self.progress is not None:
            self.progress(self.bytes, self.claims, self.done, self.planned)

    def watch(self, future: Future[_T], size: int) -> Future[_T]:
        self.plan()

        def finished(f: Future[_T]) -> None:
            result = None if f.cancelled() or f.exception() is not None else f.result()
            summary = getattr(result, "summary", None)
            self.finish(size, int(getattr(summary, "claims", 0)))

        future.add_done_callback(finished)
        return future


def _split(pool: ProcessPoolExecutor, path: str, out_dir: Path, options: OutputOptions,
           jobs: int, tally: _Tally) -> FileOutcome:
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
                futures.append(tally.watch(pool.submit(_part, path, part, str(out_dir),
                                                       options, token), part.end - part.start))
    except NotSplittable:
        whole = True
    except OSError as exc:
        raise InputError(exc.errno, f"{path}: cannot read the input: {exc.strerror or exc}; "
                         "no output was written for it") from exc
    wait(futures)
    done = [f.result() for f in futures if f.exception() is None]
    failed = next((f.exception() for f in futures if f.exception() is not None), None)
    if failed is not None or whole or not done or any(p.irregular for p in done):
        remove_fragments(v for p in done for v in p.fragments.values())
        if failed is not None:
            raise failed
        return tally.watch(pool.submit(_one, path, str(out_dir), options),
                           os.path.getsize(path)).result()
    return join_parts(path, done, out_dir, options)


def scrub_files_parallel(files: list[str], args: argparse.Namespace, options: OutputOptions,
                         out_dir: Path, jobs: int, *, split_min: int = SPLIT_MIN_BYTES,
                         scrubber: Scrubber | None = None,
                         progress: PartProgress | None = None) -> list[FileOutcome | Exception]:
    """Scrub ``files`` on ``jobs`` processes; files of ``split_min`` bytes or more (and not
    ``--validate``, which needs pyx12 on the whole file) are cut into parts. ``scrubber``,
    when given, is what the workers use where processes are forked (Linux); elsewhere each
    worker loads the rules named in ``args``. One answer per file, in order: its outcome, or the
    exception that stopped it (the other files still run)."""
    global _SCRUBBER
    _SCRUBBER = scrubber
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = max(1, min(jobs, os.cpu_count() or 1))
    options = replace(options, progress=None)  # a callback does not travel to the workers
    tally = _Tally(progress)
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
            pending: list[Future[FileOutcome] | FileOutcome | Exception] = []
            for path in files:
                size = os.path.getsize(path) if os.path.isfile(path) else 0
                try:
                    if jobs > 1 and not options.validate and size >= split_min:
                        pending.append(_split(pool, path, out_dir, options, jobs, tally))
                    else:
                        pending.append(tally.watch(pool.submit(_one, path, str(out_dir),
                                                               options), size))
                except Exception as exc:  # noqa: BLE001 -- this file's answer; the rest go on
                    pending.append(exc)
            return [_result(p) for p in pending]
    finally:
        _SCRUBBER = None
        if shared is not None:
            shared.remove()


def _result(p: Future[FileOutcome] | FileOutcome | Exception) -> FileOutcome | Exception:
    if not isinstance(p, Future):
        return p
    try:
        return p.result()
    except Exception as exc:  # noqa: BLE001 -- this file's answer; the rest go on
        return exc
