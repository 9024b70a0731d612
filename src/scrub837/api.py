"""Library entry points over the pure core."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from scrub837._source import iter_chunks
from scrub837.claims.model import Claim
from scrub837.claims.reader import ClaimReader, Item, ReadFailure


class X12ReadError(Exception):
    """The input cannot be read as X12 (from ``segment`` on)."""

    def __init__(self, failure: ReadFailure) -> None:
        super().__init__(failure.describe())
        self.failure = failure
        self.file = failure.file
        self.segment = failure.segment
        self.offset = failure.offset


Source = bytes | bytearray | memoryview | BinaryIO


def iter_items(source: Source, name: str = "", *, reader: ClaimReader | None = None,
               lazy: bool = False) -> Iterator[Item]:
    """Every item of an 837 input: claims, transaction ends, envelope problems, a failure.
    ``reader`` replaces the default whole-file reader (e.g. :meth:`ClaimReader.for_part`);
    ``lazy``: claims read when their fields are asked for (see :class:`ClaimReader`)."""
    for items in _batches(source, reader or ClaimReader(name, lazy=lazy)):
        yield from items


def _batches(source: Source, reader: ClaimReader) -> Iterator[list[Item]]:
    """The reader's items, a list per chunk read (a claim passes no generator of its own)."""
    for chunk in iter_chunks(source):
        yield reader.feed(chunk)
    yield reader.close()


def read_claims(source: Source, name: str = "") -> Iterator[Claim]:
    """Yield the claims of an 837P/837I input (bytes or a binary stream), streaming.

    Raises :class:`X12ReadError` (after yielding the claims before it) when the input cannot be
    read as X12. Envelope problems and unsupported transactions are not raised here; use
    :func:`iter_items` or :func:`scrub837.iter_findings` to see them. A claim keeps its
    text and reads its lines, segments and diagnoses when they are first asked for.
    """
    for items in _batches(source, ClaimReader(name, lazy=True)):
        for item in items:
            if isinstance(item, Claim):
                yield item
            elif isinstance(item, ReadFailure):
                raise X12ReadError(item)
