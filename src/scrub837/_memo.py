"""A few recent answers keyed by object identity: the reader gives every claim of a billing
provider or subscriber the same loop object, so work on a shared loop is done once, not per
claim. Bounded (cleared when full); an entry holds its key, so the key's id is not reused while
the entry is kept, and a lookup checks the key is the same object."""

from __future__ import annotations

from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class IdentityMemo(Generic[K, V]):
    def __init__(self, size: int = 64) -> None:
        self._entries: dict[int, tuple[K, V]] = {}
        self._size = size

    def get(self, key: K) -> V | None:
        hit = self._entries.get(id(key))
        return hit[1] if hit is not None and hit[0] is key else None

    def put(self, key: K, value: V) -> None:
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[id(key)] = (key, value)
