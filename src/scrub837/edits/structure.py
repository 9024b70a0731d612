"""Claim structure that breaks drug-line adjudication: impossible dates, future dates, lines
without a date, CLM02 not the sum of the lines, duplicate REF*6R, control characters."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

from scrub837.claims import Claim
from scrub837.edits._engine import EditContext, Hit
from scrub837.edits._util import ccyymmdd, number

# X12 basic and extended character sets are printable ASCII; anything else is suspect.
_BAD_CHAR = re.compile(r"[\x00-\x1f\x7f-\xff]")


def dates(claim: Claim, ctx: EditContext) -> Iterator[Hit]:
    for seg in claim.segments:
        if seg.elements[0] != "DTP":
            continue
        fmt, value = seg.get(2), seg.get(3)
        parts = value.split("-") if fmt == "RD8" else [value]
        parsed = [ccyymmdd(p) for p in parts]
        if fmt not in ("D8", "RD8") or (fmt == "RD8" and len(parts) != 2) or None in parsed:
            yield Hit("CLAIM_DATE_INVALID", None, seg, "DTP03",
                      values={"qualifier": seg.get(1)[:3], "date": value[:20]})
            continue
        if fmt == "RD8" and parsed[0] > parsed[1]:  # type: ignore[operator]
            yield Hit("CLAIM_DATE_INVALID", None, seg, "DTP03",
                      values={"qualifier": seg.get(1)[:3], "date": value[:20]})
            continue
        if seg.get(1) in ("472", "434") and any(d > ctx.today for d in parsed if d):
            yield Hit("DOS_FUTURE", None, seg, "DTP03",
                      values={"date": value[:20], "today": ctx.today.isoformat()})
    for line in ctx.drug_lines:
        if not line.service_date:
            yield Hit("LINE_DATE_MISSING", line)


def charges_balance(claim: Claim, ctx: EditContext) -> Iterator[Hit]:
    total = number(claim.charge)
    if total is None:
        yield Hit("CLAIM_CHARGE_MISMATCH", None, claim.clm, "CLM02",
                  values={"clm02": claim.charge[:20], "lines": "?"})
        return
    lines = Decimal(0)
    for line in claim.lines:
        lines += number(line.charge) or Decimal(0)
    if lines != total:
        yield Hit("CLAIM_CHARGE_MISMATCH", None, claim.clm, "CLM02",
                  values={"clm02": claim.charge[:20], "lines": format(lines, "f")})


def line_controls(claim: Claim, ctx: EditContext) -> Iterator[Hit]:
    seen: set[str] = set()
    for line in claim.lines:
        control = line.line_control
        if not control:
            continue
        if control in seen:
            yield Hit("LINE_CONTROL_DUPLICATE", line, line.ref_6r, "REF02")
        seen.add(control)


def characters(claim: Claim, ctx: EditContext) -> Iterator[Hit]:
    search = _BAD_CHAR.search
    for seg in claim.segments:
        if not search("".join(seg.elements)):  # one search per segment, not per element
            continue
        for index, value in enumerate(seg.elements):
            found = _BAD_CHAR.search(value)
            if found:
                yield Hit("BAD_CHARACTER", None, seg, f"{seg.elements[0][:3]}{index:02d}",
                          values={"char": f"0x{ord(found.group()):02X}"})
                break


EDITS = (dates, charges_balance, line_controls, characters)
