"""Small parsing helpers shared by the edits (pure, tolerant of odd data)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from scrub837.claims.model import ServiceLine


@lru_cache(maxsize=4096)  # units, quantities and charges repeat
def number(text: str) -> Decimal | None:
    """A numeric element as Decimal; None when it is empty or not a finite number."""
    if not text:
        return None
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


@lru_cache(maxsize=4096)  # a file's dates repeat: parse each once
def ccyymmdd(text: str) -> date | None:
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def line_date(line: ServiceLine) -> date | None:
    return ccyymmdd(line.service_date)


def plain(value: Decimal) -> str:
    """Decimal without exponent or trailing zeros: 350, 3.5, 0.01."""
    text = format(value.normalize(), "f")
    return text
