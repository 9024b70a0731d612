"""The billing unit of a HCPCS code, parsed from its CMS descriptor dosage.

The HCPCS long description ends its dosage in a comma-separated part: ``Injection,
pembrolizumab, 1 mg``, ``..., per 250 mg``, ``..., up to 1000 cc``, ``..., per 250,000 iu``,
``..., per i.u.``, ``..., 1 microgram``. The ASP pricing and crosswalk files say it in capitals
(``1 MG``, ``UP TO 0.50 MG``, ``100,000 UNITS``, ``Per Dose``). A part that is a dosage on its
own gives the unit; two different dosages (``1 cc, 200 mg``), a compound (``2.5 MG/0.5 MG``) or
none at all give *not convertible* with the raw text kept. Nothing is guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from scrub837.rulebook._model import BILLING_UNITS, BillingUnit


class _Pattern:
    """A regular expression compiled when first used: compiling the six below is ~2 ms, which a
    scrub that never parses a descriptor (the built-in data stores parsed units) need not pay
    at start-up."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._source = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None

    @property
    def _re(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(*self._source)
        return self._compiled

    def fullmatch(self, text: str) -> re.Match[str] | None:
        return self._re.fullmatch(text)

    def search(self, text: str) -> re.Match[str] | None:
        return self._re.search(text)

    def split(self, text: str) -> list[str]:
        return self._re.split(text)

    def findall(self, text: str) -> list[Any]:
        return self._re.findall(text)


_UNIT_WORDS = (
    ("MG", r"mg|milligrams?"), ("MCG", r"mcg|micrograms?|µg"), ("G", r"gm|g|grams?"),
    ("ML", r"ml|cc|milliliters?"), ("IU", r"i\.u\.|iu|international units?"),
    ("MILLION_UNITS", r"million units"), ("USP_UNITS", r"usp units?"), ("KIU", r"kiu"),
    ("UNITS", r"units?"),
    ("MEQ", r"meq|milliequivalents?"), ("MCI", r"mci|millicuries?"), ("SQCM", r"sq\.? ?cm"),
)
_UNIT_RE = "|".join(f"(?P<{name}>{words})" for name, words in _UNIT_WORDS)
_AMOUNT = r"(?P<amount>[0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)"
_DOSAGE = _Pattern(rf"(?P<q>up to |per )?(?:{_AMOUNT} ?)?(?:{_UNIT_RE})(?=$|[\s(;])(?P<rest>.*)",
                   re.IGNORECASE)
_PER_ITEM = _Pattern(r"(?:^|, |per (?:therapeutic |single (?:use |dose )?|study )?)"
                     r"(?P<item>dose|treatment|vial|kit|course|implant|each|patch)$",
                     re.IGNORECASE)
_PARTS = _Pattern(r",(?![0-9]{3}(?![0-9]))\s*|;\s*")
_MENTION = _Pattern(rf"(?<![a-z0-9]){_AMOUNT} ?(?:{_UNIT_RE})(?![a-z])", re.IGNORECASE)
_TAIL = _Pattern(rf"(?:^|\s)(?P<dose>(?:up to |per )?(?:[0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)? ?"
                 rf"(?:{_UNIT_RE.replace('?P<', '?P<t_')}))$", re.IGNORECASE)
_COMPOUND = _Pattern(r"[0-9] ?(?:mg|mcg|ml|g|units?)\s*[/&-]\s*[0-9.]", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ParsedUnit:
    """``kind``: ``per`` (``1 mg``, ``per 250 mg``), ``up_to`` (``up to 250 mg``: part of a unit
    is billed as one), ``per_item`` (``per dose``, ``per treatment``: whole units, one per item),
    or ``none`` (not convertible; ``raw`` says what the text was)."""

    kind: str
    amount: Decimal | None
    unit: str
    raw: str

    @property
    def convertible(self) -> bool:
        """A quantity in CTP05-1 mass, volume or IU units converts to billing units."""
        return self.kind in ("per", "up_to") and self.unit in BILLING_UNITS

    def billing_unit(self) -> BillingUnit | None:
        if self.kind == "none" or self.amount is None:
            return None
        return BillingUnit(self.amount, self.unit, self.kind)

    def fields(self) -> tuple[str, str, str]:
        """(kind, amount, unit) as the dataset stores them."""
        return self.kind, "" if self.amount is None else format(self.amount, "f"), self.unit

    def __str__(self) -> str:
        if self.kind == "none":
            return f"not convertible ({self.raw!r})" if self.raw else "not convertible"
        if self.kind == "per_item":
            return f"per {self.unit.lower()}"
        bu = self.billing_unit()
        return str(bu) if bu is not None else self.raw


NONE = ParsedUnit("none", None, "", "")


def _dosage(part: str) -> ParsedUnit | None:
    m = _DOSAGE.fullmatch(part.strip())
    if m is None:
        return None
    unit = next(name for name, _ in _UNIT_WORDS if m.group(name))
    text = m.group("amount")
    if text is None and (m.group("q") or "").lower().strip() != "per":
        return None  # a bare unit word ("units") is no dosage
    amount = Decimal(text.replace(",", "")) if text else Decimal(1)
    if amount <= 0:
        return None
    if unit == "MILLION_UNITS":
        unit, amount = "UNITS", amount * 1_000_000
    kind = "up_to" if (m.group("q") or "").lower().startswith("up") else "per"
    return ParsedUnit(kind, amount, unit, part.strip())


def parse_unit(text: str) -> ParsedUnit:
    """The billing unit a descriptor states (see the module docstring)."""
    clean = " ".join(text.split())
    if not clean:
        return NONE
    found: list[ParsedUnit] = []
    for part in _PARTS.split(clean):
        if _COMPOUND.search(part):
            return ParsedUnit("none", None, "", clean)
        got = _dosage(part)
        if got is not None and all(got.fields() != f.fields() for f in found):
            found.append(got)
    if len(found) == 1:
        return found[0]
    if not found and len(_MENTION.findall(clean)) <= 1:
        tail = _TAIL.search(clean)  # "Injection, burosumab-twza 1 mg", "... per 50 units"
        got = _dosage(tail.group("dose")) if tail is not None else None
        if got is not None:
            return got
    if not found:
        item = _PER_ITEM.search(clean)
        if item is not None:
            return ParsedUnit("per_item", Decimal(1), item.group("item").upper(), item.group(0))
    return ParsedUnit("none", None, "", clean)


def stored_unit(kind: str, amount: str, unit: str, raw: str) -> ParsedUnit:
    """A unit back from the dataset's (kind, amount, unit) columns."""
    if kind == "none" or not kind:
        return ParsedUnit("none", None, "", raw)
    return ParsedUnit(kind, Decimal(amount) if amount else None, unit, raw)
