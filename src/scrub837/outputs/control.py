"""Control numbers for the 277CA (ISA13, GS06, ST02, BHT03, TRN traces): unique per run, and
across runs when a state file is given (watcher mode). The state file is locked (fcntl) and
rewritten atomically, so several processes sharing it never hand out one number twice."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

import fcntl
import json
import os
import threading
from pathlib import Path

_MAX = 999_999_999


class ControlNumbers:
    def __init__(self, state_file: Path | None = None, *, start: int = 1,
                 durable: bool = True) -> None:
        """``durable=False``: the state file only makes numbers unique among the processes of
        one run (``--jobs``), so it is not fsynced."""
        self.state_file = state_file
        self.durable = durable
        self._next = start
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, object]:
        return {"state_file": self.state_file, "next": self._next, "durable": self.durable}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.state_file = state["state_file"]  # type: ignore[assignment]
        self._next = state["next"]  # type: ignore[assignment]
        self.durable = bool(state.get("durable", True))
        self._lock = threading.Lock()

    @classmethod
    def shared_for_run(cls, folder: Path, token: str, start: int) -> ControlNumbers:
        """A counter the worker processes of one run share (a locked file in ``folder``,
        removed by :meth:`remove`)."""
        state = folder / f".scrub837-control.{token}.json"
        state.write_text(json.dumps({"next": start}))
        return cls(state, durable=False)

    def remove(self) -> None:
        if self.state_file is not None:
            for p in (self.state_file, self.state_file.with_name(self.state_file.name + ".lock")):
                p.unlink(missing_ok=True)

    def block(self, index: int, size: int = 1_000_000) -> ControlNumbers:
        """Numbers for the ``index``-th of several parallel workers: a disjoint range (or the
        same shared state file, which is locked)."""
        if self.state_file is not None:
            return self
        return ControlNumbers(start=self._next + index * size)

    def peek(self) -> int:
        """The next number an in-memory counter would hand out (no reservation)."""
        return self._next

    def take(self, count: int = 1) -> int:
        """Reserve ``count`` consecutive numbers; returns the first."""
        with self._lock:
            if self.state_file is None:
                first = self._next
                self._next += count
                return (first - 1) % _MAX + 1
            return self._take_persistent(count)

    def reserve(self, count: int) -> tuple[int, ...]:
        """``count`` numbers in one go (one locked update of the state file), wrapping after
        999,999,999 (ISA13 has nine digits)."""
        return tuple(self.numbers(count))

    def numbers(self, count: int) -> Iterator[int]:
        """As :meth:`reserve` (reserved now), produced lazily."""
        first = self.take(count)
        # ranges, iterated in C (the 277CA takes one per claim): up to 999,999,999, then
        # from 1 again
        head = min(count, _MAX - first + 1)
        if head == count:
            return iter(range(first, first + count))
        return chain(range(first, _MAX + 1), ((i % _MAX) + 1 for i in range(count - head)))

    def _take_persistent(self, count: int) -> int:
        assert self.state_file is not None
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.state_file.with_name(self.state_file.name + ".lock")
        with open(lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                try:
                    state = json.loads(self.state_file.read_text() or "{}")
                    first = int(state.get("next", 1))
                except (FileNotFoundError, ValueError):
                    first = 1
                tmp = self.state_file.with_name(f".{self.state_file.name}.{os.getpid()}.tmp")
                with open(tmp, "w") as f:
                    json.dump({"next": first + count}, f)
                    if self.durable:
                        f.flush()
                        os.fsync(f.fileno())
                os.replace(tmp, self.state_file)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return (first - 1) % _MAX + 1
