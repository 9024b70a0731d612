"""The values the lexer answers: delimiters, segments (ordinal, byte span, elements) and
the error that ends a read."""

from __future__ import annotations

from typing import NamedTuple


class Delimiters(NamedTuple):
    element: str
    component: str
    repetition: str
    segment: str


class Segment(NamedTuple):
    """One segment. ``elements[0]`` is the segment id; ``span`` is ``[start, end)`` in bytes,
    the end including the terminator."""

    ordinal: int
    start: int
    end: int
    elements: tuple[str, ...]
    delims: Delimiters

    @property
    def id(self) -> str:
        return self.elements[0]

    def get(self, index: int) -> str:
        """Element ``index`` (1-based as in the guide: ``get(1)`` is SV101), '' when absent."""
        elements = self.elements
        return elements[index] if index < len(elements) else ""

    def comp(self, index: int, sub: int) -> str:
        """Component ``sub`` (1-based) of element ``index``: ``comp(1, 2)`` is SV101-2."""
        value = self.get(index)
        if not value:
            return ""
        parts = value.split(self.delims.component)
        return parts[sub - 1] if sub - 1 < len(parts) else ""

    def components(self, index: int) -> list[str]:
        value = self.get(index)
        return value.split(self.delims.component) if value else []

    def text(self) -> str:
        """The segment as it stood in the file, without terminator."""
        return self.delims.element.join(self.elements)


class X12SyntaxError(Exception):
    """The input cannot be read as X12 from this point on."""

    def __init__(self, message: str, *, offset: int, segment: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.segment = segment

    def __str__(self) -> str:
        where = f"segment {self.segment}" if self.segment else "start of file"
        return f"{where} (byte {self.offset}): {self.message}"


def too_long(limit: int, term: str, offset: int, segment: int) -> X12SyntaxError:
    """The error for a segment over the size bound."""
    return X12SyntaxError(
        f"a segment is longer than {limit} bytes (no segment terminator {term!r} within that "
        "length); no 837 segment comes near this", offset=offset, segment=segment)
