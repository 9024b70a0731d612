"""A list that keeps memory flat: what a transaction holds until its SE, however many claims.

An SE problem rejects every claim of its transaction and the 277CA's totals come before its
claims, so a transaction's (slim) claim results are held until its SE. Up to ``limit`` items
that is a plain list; beyond it, items go in pickled batches to an anonymous temporary file
(created owner-only and already unlinked: it holds patient data and vanishes with the
process). Reading gives the items back in order, as often as asked, each pass from its own
file position (two passes may interleave). Outputs are the same whether a transaction spilled
or not.
"""

from __future__ import annotations

import pickle
import tempfile
from array import array
from hashlib import blake2b
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import IO, Generic, TypeVar, overload

T = TypeVar("T")
U = TypeVar("U")

#: items a spool keeps in memory (the 837 TR3 recommends at most 5,000 claims per ST/SE, so a
#: file that follows it never touches the disk)
SPOOL_LIMIT = 5000
#: items per pickled batch once a spool is on disk (a pass holds one batch at a time)
SPOOL_BATCH = 500


class Spool(Sequence[T], Generic[T]):
    """Append-only, re-iterable, ``len()``; indexing and slicing read through (for the few
    places that look at the first items)."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = max(1, SPOOL_LIMIT if limit is None else limit)
        self._mem: list[T] = []
        self._file: IO[bytes] | None = None
        self._spilled = 0

    @property
    def spilled(self) -> int:
        """Items on disk (0: everything is in memory)."""
        return self._spilled

    def append(self, item: T) -> None:
        mem = self._mem
        mem.append(item)
        # a transaction within the limit stays in memory; beyond it, batches go to disk
        if len(mem) > (self.limit if self._file is None else SPOOL_BATCH):
            self._spill()

    def _spill(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="scrub837-spool-")
        f = self._file
        f.seek(0, 2)
        mem = self._mem
        for i in range(0, len(mem), SPOOL_BATCH):
            pickle.dump(mem[i:i + SPOOL_BATCH], f, protocol=pickle.HIGHEST_PROTOCOL)
        self._spilled += len(mem)
        self._mem = []

    def close(self) -> None:
        """Drop the items (and the file)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._mem = []
        self._spilled = 0

    def __len__(self) -> int:
        return self._spilled + len(self._mem)

    def __iter__(self) -> Iterator[T]:
        f, count, pos, read = self._file, self._spilled, 0, 0
        while f is not None and read < count:
            f.seek(pos)
            batch: list[T] = pickle.load(f)
            pos = f.tell()
            read += len(batch)
            yield from batch
            del batch  # one batch in memory at a time
        yield from list(self._mem)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...

    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            return list(islice(self, start, stop, step))
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("spool index out of range")
        return next(islice(self, index, None))

    def map(self, fn: Callable[[T], U]) -> Spool[U]:
        """A new spool of ``fn(item)`` for each item (this one is closed)."""
        out = spooled((fn(item) for item in self), self.limit)
        self.close()
        return out


def spooled(items: Iterable[T], limit: int | None = None) -> Spool[T]:
    out: Spool[T] = Spool(limit)
    for item in items:
        out.append(item)
    return out


class SeenKeys:
    """Which keys (CLM01s) a transaction has had, in flat memory. Exact up to ``limit`` keys;
    beyond, 56-bit fingerprints (BLAKE2b): the top 8 bits pick one of 256 open-addressing
    tables, which hold the other 48 bits as a 32-bit and a 16-bit array (6 bytes a slot) and
    each grow by a third on their own when 4/5 full, so growing never holds two copies of
    everything and a table is never less than ~60 % full: under 10 bytes a key (1.85 million
    keys: ~17 MB; 64-bit slots in power-of-two tables took 33.5 MB) instead of ~90 for a set of
    strings. Two different keys are taken as equal with probability under n^2 / 2^57 (about
    2e-5 for a 1.85-million-claim transaction, 2e-10 for 5,000 claims past the limit)."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = SPOOL_LIMIT if limit is None else limit
        self._exact: set[str] | None = set()
        self._low: list[array[int]] = []  # per table: the fingerprint's low 32 bits
        self._high: list[array[int]] = []  # and its next 16 (0 and 0: an empty slot)
        self._used: list[int] = []

    def add(self, key: str) -> bool:
        """Record ``key``; True when it was seen before."""
        exact = self._exact
        if exact is not None:
            if key in exact:
                return True
            exact.add(key)
            if len(exact) > self.limit:
                self._exact = None
                self._low = [array("I", [0]) * 64 for _ in range(256)]
                self._high = [array("H", [0]) * 64 for _ in range(256)]
                self._used = [0] * 256
                for k in exact:
                    self._put(_fingerprint(k))
            return False
        return not self._put(_fingerprint(key))

    def _put(self, h: int) -> bool:
        """Insert ``h``; False when it was there already."""
        shard = h >> 56
        low, high = h & 0xFFFFFFFF, (h >> 32) & 0xFFFF
        lows, highs = self._low[shard], self._high[shard]
        i = _slot(lows, highs, low, high)
        if lows[i] or highs[i]:
            return False
        lows[i], highs[i] = low, high
        used = self._used[shard] = self._used[shard] + 1
        if used * 5 > len(lows) * 4:
            size = len(lows) * 4 // 3 + 1
            new_lows, new_highs = array("I", [0]) * size, array("H", [0]) * size
            for lo, hi in zip(lows, highs):
                if lo or hi:
                    j = _slot(new_lows, new_highs, lo, hi)
                    new_lows[j], new_highs[j] = lo, hi
            self._low[shard], self._high[shard] = new_lows, new_highs
        return True


def _slot(lows: array[int], highs: array[int], low: int, high: int) -> int:
    """Where (``low``, ``high``) is, or the empty slot it goes to (linear probing)."""
    size = len(lows)
    i = (high << 32 | low) % size
    while lows[i] or highs[i]:
        if lows[i] == low and highs[i] == high:
            return i
        i += 1
        if i == size:
            i = 0
    return i


def _fingerprint(key: str) -> int:
    digest = blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    h = int.from_bytes(digest, "little")
    return h if h & 0xFFFFFFFFFFFF else h | 1  # (0, 0) in the arrays marks an empty slot
