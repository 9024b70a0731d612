"""Temporary files a dead process left behind (they can hold patient data): found and removed
at start and in every sweep.

* the pipeline's hidden outputs in OUTBOX, ``.STEM.SUFFIX.HEX.tmp``: removed unless STEM is the
  stem of a ticket whose claim is alive (a watcher writing them now). The outbox is listed
  *before* the tickets, and a ticket is written before its scrub starts, so a temporary file of a
  scrub that starts during the sweep is never taken for an orphan;
* the watcher's own atomic writes (tickets, done markers, notes), ``.NAME.HOST.PID.HEX.tmp``:
  removed when PID is gone on this host, or, from another host, untouched for ``stale_after``;
* the control-number state's ``.STATE.PID.tmp`` and the sha256 index's compaction file: removed
  while holding that file's lock (their writer holds it from creation to rename).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

from scrub837.watch._fs import HOST, ClaimName, claim_alive, temp_writer, watcher_alive
from scrub837.watch._index import HashIndex
from scrub837.watch._ticket import TICKET_PREFIX, Ticket
from scrub837.run.pipeline import SUFFIXES


def _listing(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:
        return []


def _unlink(path: Path) -> int:
    try:
        path.unlink()
        return 1
    except OSError:
        return 0


def pipeline_temps(outbox: Path, suffixes: Sequence[str]) -> list[tuple[Path, str]]:
    """(path, stem) of every pipeline temporary file in ``outbox``."""
    out = []
    for path in _listing(outbox):
        name = path.name
        if not (name.startswith(".") and name.endswith(".tmp")) or temp_writer(name):
            continue
        body = name[1:].rsplit(".", 2)[0]  # STEM.SUFFIX
        for suffix in suffixes:
            if body.endswith(suffix) and len(body) > len(suffix):
                out.append((path, body[:-len(suffix)]))
                break
    return out


def remove_pipeline_temps(found: list[tuple[Path, str]], live_stems: Collection[str]) -> int:
    return sum(_unlink(path) for path, stem in found if stem not in live_stems)


def remove_writer_temps(folders: Sequence[Path], stale_after: float) -> int:
    removed = 0
    for folder in folders:
        for path in _listing(folder):
            writer = temp_writer(path.name)
            if writer is None or not path.name.startswith("."):
                continue
            host, pid = writer
            if host == HOST:
                if pid != os.getpid() and not watcher_alive(pid):
                    removed += _unlink(path)
                continue
            try:
                old = time.time() - path.lstat().st_mtime > stale_after
            except OSError:
                continue
            if old:
                removed += _unlink(path)
    return removed


def remove_locked_temps(target: Path, lock: Path, match: Callable[[str], bool]) -> int:
    """Temporary files beside ``target`` that only a holder of ``lock`` writes."""
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return 0
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return sum(_unlink(p) for p in _listing(target.parent) if match(p.name))
    finally:
        os.close(fd)


def control_temp(state: Path) -> Callable[[str], bool]:
    prefix = f".{state.name}."
    return lambda name: (name.startswith(prefix) and name.endswith(".tmp")
                         and name[len(prefix):-4].isdigit())


def index_temp(index: Path) -> Callable[[str], bool]:
    prefix = f".{index.name}."
    return lambda name: name.startswith(prefix) and name.endswith(".tmp")


def sweep_temps(outbox: Path, folders: Sequence[Path], index: HashIndex, state: Path | None,
                tickets: Callable[[], list[Ticket]], stale_after: float) -> int:
    """Remove every kind of temporary file above (and tickets whose input has left the work
    folder); returns how many. ``folders`` are the work and error folders."""
    temps = pipeline_temps(outbox, SUFFIXES)  # listed before the tickets: see above
    found = tickets()  # before the work folder: a ticket is written after its claim
    live = set()
    orphans = []
    claims = _claims(folders[0])
    for ticket in found:
        claim = claims.get(_token(ticket))
        if claim is None:
            orphans.append(ticket)
        elif claim_alive(claim.claim_id, stale_after):
            live.add(ticket.stem)
    if orphans:
        claims = _claims(folders[0])  # again: a listing may miss a file renamed meanwhile
        for ticket in orphans:
            if _token(ticket) not in claims:
                ticket.remove()  # its input was archived (or given back) before a crash
    removed = remove_pipeline_temps(temps, live)
    removed += remove_writer_temps([outbox, *folders], stale_after)
    removed += remove_locked_temps(index.path, index.lock_path, index_temp(index.path))
    if state is not None:
        removed += remove_locked_temps(state, state.with_name(state.name + ".lock"),
                                       control_temp(state))
    return removed


def _claims(work: Path) -> dict[str, ClaimName]:
    return {c.token: c for p in _listing(work) if (c := ClaimName.parse(p.name))}


def _token(ticket: Ticket) -> str:
    return ticket.path.name[len(TICKET_PREFIX):-len(".json")]
