"""The 277CA's values as text: values copied from the 837 made safe (``clean``), amounts,
STC segments, STC12's fixes and NM1 names. Values that repeat from claim to claim (CLM02
amounts, a subscriber's NM1*QC) are made once and kept, bounded."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from scrub837.findings import Finding, Stc
from scrub837.verdicts.results import money
from scrub837.x12.lexer import Segment

#: Our delimiters (* : ^ ~), the ones 837s commonly use (| > { !), and '<' (fix texts write
#: placeholders like <NDC>): replaced by spaces in every value copied into the 277CA.
_BAD = str.maketrans({c: " " for c in "*:^~\r\n|<>{!"})
_NOT_PRINTABLE = re.compile(r"[^ -~]+")
#: a value ``clean`` leaves as it is: printable ASCII words, none of _BAD, single spaces between
_PLAIN = re.compile(r"(?:[\x22-\x29\x2b-\x39\x3b\x3d\x3f-\x5d\x5f-\x7a\x7d]+"
                    r"(?: [\x22-\x29\x2b-\x39\x3b\x3d\x3f-\x5d\x5f-\x7a\x7d]+)*)?").fullmatch
STC12_MAX = 264
#: entries kept by the writer's memos (cleared when full)
MEMO_SIZE: Final = 4096


def clean(value: str, limit: int = 80) -> str:
    """A value copied into the 277CA: no delimiter or control characters, bounded length."""
    if len(value) <= limit and (value.isalnum() and value.isascii() or _PLAIN(value) is not None):
        return value  # nothing to remove or collapse (most values): the same string
    text = _NOT_PRINTABLE.sub("", value.translate(_BAD))
    return " ".join(text.split())[:limit]


_CENT = Decimal("0.01")


#: an amount that is its own 277CA text but for trailing zeros of its cents
_PLAIN_AMOUNT = re.compile(r"(?:[1-9][0-9]{0,20}|0)(?:\.[0-9]{1,2})?").fullmatch


def _trimmed_cents(text: str) -> str:
    """A plain amount's text (``_PLAIN_AMOUNT``) without the trailing zeros of its cents."""
    whole, _, cents = text.partition(".")
    cents = cents.rstrip("0")
    return f"{whole}.{cents}" if cents else whole


def _amount(value: Decimal) -> str:
    """An amount as the 277CA writes it: cents rounded, no trailing zeros of them."""
    text = str(value)
    if text.isdigit() and len(text) < 22:  # a whole amount
        return text
    if _PLAIN_AMOUNT(text) is not None:  # a total of plain amounts (nearly always): as it is
        return _trimmed_cents(text)
    text = format(value.quantize(_CENT), "f")
    return text[:-3] if text.endswith(".00") else text.rstrip("0")


def _charge(text: str) -> str:
    """``_amount(money(text))``; a plain amount (no sign, no leading zero, at most two
    decimals: what CLM02 nearly always is) without going through Decimal."""
    if _PLAIN_AMOUNT(text) is None:
        return _amount(money(text))
    return _trimmed_cents(text)


class Charges:
    """CLM02 texts -> ``(money(text), _charge(text))``: claims' charges repeat."""

    __slots__ = ("known",)

    def __init__(self) -> None:
        #: the texts seen (a caller may look one up itself before calling)
        self.known: dict[str, tuple[Decimal, str]] = {}

    def __call__(self, text: str) -> tuple[Decimal, str]:
        known = self.known
        hit = known.get(text)
        if hit is None:
            if len(known) >= MEMO_SIZE:
                known.clear()
            hit = known[text] = (money(text), _charge(text))
        return hit


def _stc(composites: Iterable[Stc], date: str, action: str, amount: str, text: str = "") -> str:
    comps = list(composites)[:3]
    parts = ["STC", str(comps[0]), date, action, amount]
    if len(comps) > 1 or text:
        parts += ["", "", "", "", ""]
        parts.append(str(comps[1]) if len(comps) > 1 else "")
        parts.append(str(comps[2]) if len(comps) > 2 else "")
        if text:
            parts.append(text)
    while parts[-1] == "":
        parts.pop()
    return "*".join(parts)


def stc_around(composites: list[Stc], date: str, action: str) -> tuple[str, str]:
    """The text of ``_stc(composites, date, action, amount)`` before and after a non-empty
    ``amount`` (the 2200C STC: one per billing provider, the same but for the amount)."""
    before, _, after = _stc(composites, date, action, "\0").partition("\0")
    return before, after


def _fix_text(rejecting: Iterable[Finding]) -> str:
    """STC12: 'RULE - what to fix' for each rejecting rule, as many as fit in 264 characters."""
    parts: list[str] = []
    seen: set[str] = set()
    for f in rejecting:
        if f.rule_id in seen:
            continue
        seen.add(f.rule_id)
        part = clean(f"{f.rule_id} - {f.fix or f.message}", 4 * STC12_MAX)
        candidate = "; ".join([*parts, part])
        if len(candidate) <= STC12_MAX:
            parts.append(part)
        elif not parts:
            cut = part[:STC12_MAX - 3].rsplit(" ", 1)[0]
            parts.append(cut + "...")
            break
        else:
            break
    return "; ".join(parts)


def _name(nm1: Segment | None, fallback: str) -> list[str]:
    """NM102..NM105 of a copied NM1 (entity type, last/organisation, first, middle)."""
    if nm1 is None or not nm1.get(3):
        return ["2", fallback, "", ""]
    person = nm1.get(2) == "1"
    return ["1" if person else "2", clean(nm1.get(3), 60),
            clean(nm1.get(4), 35) if person else "", clean(nm1.get(5), 25) if person else ""]


def _composites(findings: Iterable[Finding]) -> list[Stc]:
    out: list[Stc] = []
    for f in findings:
        for s in f.stc:
            if s not in out:
                out.append(s)
    return out or [Stc("A3", "21")]
