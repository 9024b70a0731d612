"""Units: SV104/SV205 value and basis, the day's maximum, agreement with the NDC quantity."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_CEILING, Decimal

from scrub837.claims.model import Claim, ServiceLine
from scrub837.edits._engine import EditContext, Hit, drug_lines_only
from scrub837.edits._util import ccyymmdd, number, plain
from scrub837.rulebook._model import CTP_UNIT_NAMES


def _units_element(line: ServiceLine) -> str:
    return "SV205" if line.is_institutional else "SV104"


@drug_lines_only
def units_value(claim: Claim, ctx: EditContext) -> Iterator[Hit]:
    for line in ctx.drug_lines:
        element = _units_element(line)
        basis = line.unit_basis
        if basis != "UN":
            yield Hit("UNITS_BASIS", line, element="SV204" if line.is_institutional else "SV103",
                      values={"basis": basis})
        units = number(line.units)
        if units is None or units <= 0:
            yield Hit("UNITS_INVALID", line, element=element, values={"units": line.units[:20]})
            continue
        rule = ctx.rule(line.code)
        if rule is not None and rule.whole_units and units != units.to_integral_value():
            yield Hit("UNITS_FRACTIONAL", line, element=element, values={"units": plain(units)})


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


def _units(line: ServiceLine) -> Decimal:
    units = number(line.units)
    return units if units is not None and units > 0 else Decimal(0)


@drug_lines_only
def units_over_day_max(claim: Claim, ctx: EditContext) -> Iterator[Hit]:
    """The MUE of the claim's setting, MAI-aware: MAI 1 holds each line to the value; MAI 2
    and 3 sum the lines of a code and date of service (administered and JW waste lines
    together). A line with a date span (``DTP*472*RD8``) is held to the daily value times the
    days of the span. The payer's quantity limit (per day) applies to the sum when lower."""
    groups: dict[tuple[str, str], list[ServiceLine]] = {}
    for line in ctx.drug_lines:
        groups.setdefault((line.code, line.service_dates), []).append(line)
    for (code, dates), lines in groups.items():
        days = span_days(lines[0])
        total = sum((_units(line) for line in lines), Decimal(0))
        mue = ctx.rulebook.mue(code, ctx.kind)
        per_line = mue is not None and mue.mai == 1
        limit, source = ctx.overlay.quantity_limits.get(code), ""
        if limit is not None:
            source = f"payer overlay {ctx.overlay.name}, per day"
        if mue is not None and not per_line and (limit is None or mue.units < limit):
            limit, source = mue.units, f"{mue.source}, MAI {mue.mai}: per date of service"
        dos = dates.replace("-", " to ") if days > 1 else lines[0].service_date
        if limit is not None and total > limit * days:
            yield _over(lines[-1], total, limit, days, source, dos, len(lines))
        elif mue is not None and per_line:
            for line in lines:
                if _units(line) > mue.units * days:
                    yield _over(line, _units(line), mue.units, days,
                                f"{mue.source}, MAI 1: per claim line", dos, 1)


def _over(line: ServiceLine, total: Decimal, limit: Decimal, days: int, source: str, dos: str,
          count: int) -> Hit:
    per = f" over {days} days ({plain(limit)} a day)" if days > 1 else " per day"
    return Hit("UNITS_OVER_MAX", line, element=_units_element(line),
               values={"units": plain(total), "max": plain(limit * days), "per": per,
                       "limit_source": source,
                       "dos": dos, "lines": str(count)})


def _expected_units(line: ServiceLine, ctx: EditContext) -> tuple[Decimal, str] | None:
    """Billing units the NDC quantity stands for, and how that was worked out."""
    drug = line.drug
    rule = ctx.rule(line.code)
    if drug is None or drug.ctp is None or rule is None or rule.billing_unit is None:
        return None
    quantity = number(drug.quantity)
    if quantity is None or quantity <= 0:
        return None
    unit = drug.unit
    bu = rule.billing_unit
    converted = bu.convert(quantity, unit)
    if converted is not None:
        return converted, f"{plain(quantity)} {CTP_UNIT_NAMES.get(unit, unit)}"
    ndc = drug.ndc.replace("-", "")
    for entry in ctx.rulebook.crosswalk_for(ndc):
        if entry.hcpcs != line.code or entry.bill_units is None:
            continue
        if unit == "UN":
            return quantity * entry.bill_units, (
                f"{plain(quantity)} unit(s) of NDC {ndc} (CMS crosswalk: "
                f"{plain(entry.bill_units)} billing units each)")
        if unit == "ML" and entry.pkg_size and entry.pkg_size > 0:
            return quantity * entry.bill_units / entry.pkg_size, (
                f"{plain(quantity)} mL of NDC {ndc} (CMS crosswalk: {plain(entry.pkg_size)} mL "
                f"= {plain(entry.bill_units)} billing units)")
    return None


@drug_lines_only
def units_match_ndc_quantity(claim: Claim, ctx: EditContext) -> Iterator[Hit]:
    for line in ctx.drug_lines:
        billed = number(line.units)
        if billed is None or billed <= 0:
            continue
        found = _expected_units(line, ctx)
        if found is None:
            continue
        expected, how = found
        rule = ctx.rule(line.code)
        if rule is not None and rule.billing_unit is not None and \
                rule.billing_unit.kind == "up_to":
            expected = expected.to_integral_value(rounding=ROUND_CEILING)
        low = expected.to_integral_value(rounding="ROUND_FLOOR")
        high = expected.to_integral_value(rounding=ROUND_CEILING)
        if expected < 1:
            low, high = Decimal(1), Decimal(1)  # a dose under one unit is billed as 1 unit
        if not (low <= billed <= high):
            bu = rule.billing_unit if rule is not None else None
            yield Hit("UNITS_NDC_MISMATCH", line, element=_units_element(line),
                      values={"units": plain(billed),
                              "expected": plain(expected.quantize(Decimal("0.001")))
                              if expected % 1 else plain(expected),
                              "dose": how,
                              "billing_unit": str(bu) if bu else "",
                              "unit_source": (rule.unit_source or rule.source) if rule
                              else ""})


EDITS = (units_value, units_over_day_max, units_match_ndc_quantity)
