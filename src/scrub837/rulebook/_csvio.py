"""Reading CMS CSV files as CMS publishes them: Windows-1252 or UTF-8, preamble rows before
the header, quoted cells with line breaks. Rows are streamed with the csv module."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TypeVar

from scrub837.rulebook._errors import RulePackError

T = TypeVar("T")
MAX_PREAMBLE = 40  # rows searched for the header
_ENCODINGS = ("utf-8-sig", "cp1252")


def decoded(path: Path, shown: str, parse: Callable[[Iterator[tuple[int, list[str]]]], T]) -> T:
    """``parse(rows)`` over the file read as UTF-8 (with or without BOM); if that fails to
    decode, again from the start as Windows-1252 (undefined bytes become U+FFFD)."""
    for encoding in _ENCODINGS:
        errors = "replace" if encoding == "cp1252" else "strict"
        try:
            with open(path, encoding=encoding, errors=errors, newline="") as f:
                return parse(_rows(f, shown))
        except UnicodeDecodeError:
            continue
        except OSError as exc:
            raise RulePackError(shown, "", f"cannot read: {exc}") from None
    raise AssertionError("unreachable: cp1252 with errors='replace' always decodes")


def _rows(f: Iterator[str], shown: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the row starts, cells) for every CSV row."""
    reader = csv.reader(f, strict=True)
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise RulePackError(shown, "", f"not valid CSV: {exc}", line=line) from None
        yield line, row


def norm(cell: str) -> str:
    """A header cell compared without case or whitespace: ``'HCPCS/\\nCPT Code'`` ->
    ``'HCPCS/CPTCODE'``."""
    return "".join(cell.split()).upper()


def number(shown: str, line: int, column: str, cell: str) -> Decimal | None:
    """A numeric cell (thousands commas allowed); None when empty; >= 0 and finite."""
    text = cell.strip().replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RulePackError(shown, "", f"column {column}: {cell.strip()[:40]!r} is not a number",
                            line=line) from None
    if not value.is_finite() or value < 0:
        raise RulePackError(shown, "", f"column {column}: {cell.strip()[:40]!r} is not a "
                            "number >= 0", line=line)
    return value
