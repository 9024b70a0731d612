"""Units: SV104/SV205 value and basis, the day's maximum, agreement with the NDC quantity."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from scrub837._memo import IdentityMemo
from scrub837.claims.model import Claim, ServiceLine
from scrub837.edits._engine import EditContext, Hit, drug_lines_only, line_local
from scrub837.edits._lines import DrugLine
from scrub837.edits._util import ccyymmdd, plain
from scrub837.rulebook import CrosswalkEntry, Rulebook
from scrub837.rulebook._model import CTP_UNIT_NAMES

_ZERO = Decimal(0)
_ONE = Decimal(1)
_THOUSANDTH = Decimal("0.001")


def _units_element(line: ServiceLine) -> str:
    return "SV205" if line.is_institutional else "SV104"


@line_local
def units_value(claim: Claim, ctx: EditContext) -> list[Hit]:
    out: list[Hit] = []
    for drug in ctx.drugs:
        element = "SV205" if drug.institutional else "SV104"
        basis = drug.basis
        if basis != "UN":
            out.append(Hit("UNITS_BASIS", drug.line,
                           element="SV204" if drug.institutional else "SV103",
                           values={"basis": basis}))
        units = drug.units
        if units is None or units <= 0:
            out.append(Hit("UNITS_INVALID", drug.line, element=element,
                           values={"units": drug.units_text[:20]}))
            continue
        rule = drug.rule
        if rule is not None and rule.whole_units and units != units.to_integral_value():
            out.append(Hit("UNITS_FRACTIONAL", drug.line, element=element,
                           values={"units": plain(units)}))
    return out


def span_days(line: ServiceLine) -> int:
    """Days a line's DTP*472 covers: the days of an RD8 span (both ends counted), else 1."""
    dtp = line.dtp_472
    if dtp is None or dtp.get(2) != "RD8":
        return 1
    first, _, last = dtp.get(3).partition("-")
    start, end = ccyymmdd(first), ccyymmdd(last)
    if start is None or end is None or end < start:
        return 1
    return (end - start).days + 1


def _units(drug: DrugLine) -> Decimal:
    units = drug.units
    return units if units is not None and units > 0 else _ZERO


@drug_lines_only
def units_over_day_max(claim: Claim, ctx: EditContext) -> list[Hit]:
    """The MUE of the claim's setting, MAI-aware: MAI 1 holds each line to the value; MAI 2
    and 3 sum the lines of a code and date of service (administered and JW waste lines
    together). A line with a date span (``DTP*472*RD8``) is held to the daily value times the
    days of the span. The payer's quantity limit (per day) applies to the sum when lower."""
    groups = ctx.by_code_and_date(span=True)
    out: list[Hit] = []
    limits = ctx.overlay.quantity_limits
    mue_of = ctx.rulebook.mue
    kind = ctx.kind
    for (code, dates), lines in groups.items():
        first = lines[0]
        days = span_days(first.line) if "-" in dates else 1  # only an RD8 span has a '-'
        total = _ZERO
        for drug in lines:
            total += _units(drug)
        mue = mue_of(code, kind)
        per_line = mue is not None and mue.mai == 1
        limit = limits.get(code)
        by_mue = False
        if mue is not None and not per_line and (limit is None or mue.units < limit):
            limit, by_mue = mue.units, True
        if limit is not None and total > (limit if days == 1 else limit * days):
            if by_mue and mue is not None:
                source = f"{mue.source}, MAI {mue.mai}: per date of service"
            else:
                source = f"payer overlay {ctx.overlay.name}, per day"
            dos = dates.replace("-", " to ") if days > 1 else first.service_date
            out.append(_over(lines[-1].line, total, limit, days, source, dos, len(lines)))
        elif mue is not None and per_line:
            for drug in lines:
                if _units(drug) > mue.units * days:
                    dos = dates.replace("-", " to ") if days > 1 else first.service_date
                    out.append(_over(drug.line, _units(drug), mue.units, days,
                                     f"{mue.source}, MAI 1: per claim line", dos, 1))
    return out


def _over(line: ServiceLine, total: Decimal, limit: Decimal, days: int, source: str, dos: str,
          count: int) -> Hit:
    per = f" over {days} days ({plain(limit)} a day)" if days > 1 else " per day"
    return Hit("UNITS_OVER_MAX", line, element=_units_element(line),
               values={"units": plain(total), "max": plain(limit * days), "per": per,
                       "limit_source": source,
                       "dos": dos, "lines": str(count)})


def _expected_units(drug: DrugLine,
                    ctx: EditContext) -> tuple[Decimal, CrosswalkEntry | None] | None:
    """Billing units the NDC quantity stands for, and the crosswalk row that said so (None:
    converted from the quantity's unit by the code's billing unit)."""
    rule = drug.rule
    if drug.drug is None or drug.drug.ctp is None or rule is None or rule.billing_unit is None:
        return None
    quantity = drug.quantity
    if quantity is None or quantity <= 0:
        return None
    unit = drug.ctp_unit
    converted = rule.billing_unit.convert(quantity, unit)
    if converted is not None:
        return converted, None
    ndc = drug.ndc.replace("-", "")
    for entry in ctx.rulebook.crosswalk_for(ndc):
        if entry.hcpcs != drug.code or entry.bill_units is None:
            continue
        if unit == "UN":
            return quantity * entry.bill_units, entry
        if unit == "ML" and entry.pkg_size and entry.pkg_size > 0:
            return quantity * entry.bill_units / entry.pkg_size, entry
    return None


def _dose(drug: DrugLine, entry: CrosswalkEntry | None) -> str:
    """How :func:`_expected_units` worked the billing units out (for the finding's text)."""
    quantity, unit = plain(drug.quantity or _ZERO), drug.ctp_unit
    if entry is None:
        return f"{quantity} {CTP_UNIT_NAMES.get(unit, unit)}"
    ndc = drug.ndc.replace("-", "")
    if unit == "UN":
        return (f"{quantity} unit(s) of NDC {ndc} (CMS crosswalk: "
                f"{plain(entry.bill_units or _ZERO)} billing units each)")
    return (f"{quantity} mL of NDC {ndc} (CMS crosswalk: {plain(entry.pkg_size or _ZERO)} mL "
            f"= {plain(entry.bill_units or _ZERO)} billing units)")


_Range = tuple[Decimal, Decimal, Decimal, "CrosswalkEntry | None"]  # expected, low, high, row
#: per rule book (by identity), the billing-unit range of recent (code, CTP04, CTP05-1, NDC)
_ranges: IdentityMemo[Rulebook, dict[tuple[str, str, str, str], _Range | None]] = IdentityMemo(8)


def _range(drug: DrugLine, ctx: EditContext) -> _Range | None:
    """The billing units the NDC quantity stands for, the whole units that may be billed for
    them (low..high) and the crosswalk row used; None when the quantity says nothing."""
    found = _expected_units(drug, ctx)
    if found is None:
        return None
    expected, entry = found
    rule = drug.rule
    if rule is not None and rule.billing_unit is not None and rule.billing_unit.kind == "up_to":
        expected = expected.to_integral_value(rounding=ROUND_CEILING)
    low = expected.to_integral_value(rounding="ROUND_FLOOR")
    high = expected.to_integral_value(rounding=ROUND_CEILING)
    if expected < 1:
        low, high = _ONE, _ONE  # a dose under one unit is billed as 1 unit
    return expected, low, high, entry


@line_local
def units_match_ndc_quantity(claim: Claim, ctx: EditContext) -> list[Hit]:
    out: list[Hit] = []
    memo = _ranges.get(ctx.rulebook)
    if memo is None:
        memo = {}
        _ranges.put(ctx.rulebook, memo)
    for drug in ctx.drugs:
        billed = drug.units
        if billed is None or billed <= 0:
            continue
        key = (drug.code, drug.quantity_text, drug.ctp_unit, drug.ndc)  # all _range reads
        if key in memo:
            found = memo[key]
        else:
            found = _range(drug, ctx)
            if len(memo) >= 1024:
                memo.clear()
            memo[key] = found
        if found is None:
            continue
        expected, low, high, entry = found
        if not (low <= billed <= high):
            rule = drug.rule
            bu = rule.billing_unit if rule is not None else None
            out.append(Hit("UNITS_NDC_MISMATCH", drug.line, element=_units_element(drug.line),
                           values={"units": plain(billed),
                                   "expected": plain(expected.quantize(_THOUSANDTH))
                                   if expected % 1 else plain(expected),
                                   "dose": _dose(drug, entry),
                                   "billing_unit": str(bu) if bu else "",
                                   "unit_source": (rule.unit_source or rule.source) if rule
                                   else ""}))
    return out


EDITS = (units_value, units_over_day_max, units_match_ndc_quantity)
