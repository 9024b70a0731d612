"""The watcher's sha256 index: which content was processed, and under which output name.

An append-only text file in the work folder, shared by every watcher using that folder and
locked (``flock`` on ``INDEX.lock``) around each read-modify-append. One line per event::

    <sha256> <claim|done|release> <unix time> <claim id> <output stem, %-quoted>

``claim`` is written before a file is processed (so an identical file claimed by another watcher
at the same moment is a duplicate, not processed twice), ``done`` after its input was archived,
``release`` when it goes back to the inbox for a retry (disk full). The last line for a digest
wins. Bounded: when the file holds more than ``2 * limit`` lines it is rewritten (temporary file,
rename) with the last state of the ``limit`` most recent digests, so duplicates are recognised
among the last ``limit`` (default 100,000) distinct contents.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

CLAIM, DONE, RELEASE = "claim", "done", "release"
_STATES = frozenset({CLAIM, DONE, RELEASE})


@dataclass(frozen=True)
class Entry:
    state: str
    claim_id: str
    stem: str


@dataclass(frozen=True)
class Begin:
    duplicate: bool
    stem: str  # this upload's output stem (free in every folder when chosen)
    duplicate_of: str | None = None  # for a duplicate: the stem of the first copy's answer


class HashIndex:
    def __init__(self, path: Path, limit: int = 100_000) -> None:
        self.path = path
        self.limit = limit
        self._lock_path = path.with_name(path.name + ".lock")
        self._entries: dict[str, Entry] = {}
        self._inflight: dict[str, str] = {}  # stem -> digest, for claims not yet done
        self._lines = 0
        self._offset = 0
        self._inode: int | None = None
        self._torn = False  # the file ends in a partial line (a crash mid-append)

    @property
    def lock_path(self) -> Path:
        return self._lock_path

    # -- the three transitions ---------------------------------------------------------------

    def begin(self, digest: str, claim_id: str, name: str, *, previous: str | None = None,
              stem_taken: Callable[[str], bool] = lambda stem: False,
              alive: Callable[[str], bool] = lambda claim: True,
              answered: Callable[[str], bool] = lambda stem: False,
              chosen: Callable[[Begin], None] = lambda begin: None) -> Begin:
        """Record that ``claim_id`` processes ``digest``; a duplicate when that content was
        already processed, is being processed under another live claim (``alive``), or was
        answered under a claim that died before its "done" line (``answered(stem)``: that
        line is written now). The output stem is ``name``, or ``name.N`` when ``stem_taken``
        or in flight. ``previous`` is the claim a recovered file was left under (taken over,
        with its output stem). ``chosen`` runs under the lock before the claim line is
        written (the watcher writes its ticket there, so no two uploads choose one stem)."""
        with self._locked():
            self._refresh()
            entry = self._entries.get(digest)
            if entry is not None and entry.state == CLAIM and entry.claim_id != previous \
                    and not alive(entry.claim_id) and answered(entry.stem):
                self._append(digest, DONE, entry.claim_id, entry.stem)
                entry = self._entries[digest]
            if entry is not None and (entry.state == DONE or (
                    entry.state == CLAIM and entry.claim_id != previous
                    and alive(entry.claim_id))):
                begin = Begin(True, self._free_stem(name, stem_taken), entry.stem)
                chosen(begin)
                return begin
            if entry is not None and entry.state == CLAIM and entry.claim_id == previous:
                stem = entry.stem
            else:
                stem = self._free_stem(name, stem_taken)
            begin = Begin(False, stem)
            chosen(begin)
            self._append(digest, CLAIM, claim_id, stem)
            return begin

    def claim(self, digest: str, claim_id: str, stem: str) -> None:
        """A recovered input with a ticket keeps its stem under its new claim."""
        with self._locked():
            self._refresh()
            self._append(digest, CLAIM, claim_id, stem)

    def done(self, digest: str, claim_id: str) -> None:
        self._finish(digest, claim_id, DONE)

    def release(self, digest: str, claim_id: str) -> None:
        self._finish(digest, claim_id, RELEASE)

    def __contains__(self, digest: str) -> bool:
        with self._locked():
            self._refresh()
            return digest in self._entries

    # -- internals ---------------------------------------------------------------------------

    def _finish(self, digest: str, claim_id: str, state: str) -> None:
        with self._locked():
            self._refresh()
            entry = self._entries.get(digest)
            stem = entry.stem if entry is not None else ""
            self._append(digest, state, claim_id, stem)
            if self._lines > 2 * self.limit:
                self._compact()

    def _free_stem(self, name: str, stem_taken: Callable[[str], bool]) -> str:
        n = 0
        while True:
            stem = name if n == 0 else f"{name}.{n}"
            if stem not in self._inflight and not stem_taken(stem):
                return stem
            n += 1

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _refresh(self) -> None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._reset(None)
            return
        if st.st_ino != self._inode or st.st_size < self._offset:
            self._reset(st.st_ino)  # rewritten by a compaction (or moved away by an operator)
        if st.st_size == self._offset:
            self._torn = False
            return
        with open(self.path, "rb") as f:
            f.seek(self._offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        for raw in data[:end].splitlines():
            self._apply(raw.decode("ascii", "replace"))
        self._offset += end
        self._torn = end < len(data)  # only a crash mid-append leaves a partial last line

    def _reset(self, inode: int | None) -> None:
        self._entries.clear()
        self._inflight.clear()
        self._lines = 0
        self._offset = 0
        self._inode = inode

    def _apply(self, line: str) -> None:
        parts = line.split(" ", 4)
        if len(parts) != 5 or parts[1] not in _STATES or len(parts[0]) != 64:
            return  # not ours, or torn: ignored
        digest, state, _, claim_id, stem = parts
        entry = Entry(state, claim_id, unquote(stem))
        old = self._entries.pop(digest, None)
        if old is not None and self._inflight.get(old.stem) == digest:
            del self._inflight[old.stem]
        self._entries[digest] = entry  # re-inserted: the dict is ordered oldest first
        if state == CLAIM:
            self._inflight[entry.stem] = digest
        self._lines += 1

    def _line(self, digest: str, state: str, claim_id: str, stem: str) -> str:
        return f"{digest} {state} {int(time.time())} {claim_id} {quote(stem, safe='')}\n"

    def _append(self, digest: str, state: str, claim_id: str, stem: str) -> None:
        line = self._line(digest, state, claim_id, stem)
        prefix = "\n" if self._torn else ""  # end the partial line: it is ignored when read
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, (prefix + line).encode("ascii"))
            os.fsync(fd)
            st = os.fstat(fd)
        finally:
            os.close(fd)
        if self._inode is None:
            self._inode = st.st_ino
        self._apply(line.rstrip("\n"))
        self._offset = st.st_size
        self._torn = False

    def _compact(self) -> None:
        keep = list(self._entries.items())[-self.limit:]
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        with open(tmp, "w", encoding="ascii") as f:
            f.writelines(self._line(digest, e.state, e.claim_id, e.stem) for digest, e in keep)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        self._reset(os.stat(self.path).st_ino)
        self._refresh()
