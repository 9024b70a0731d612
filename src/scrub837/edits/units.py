"""Units: SV104/SV205 value and basis, the day's maximum, agreement with the NDC quantity."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_CEILING, Decimal

from scrub837.claims import Claim, ServiceLine
from scrub837.edits._engine import EditContext, Hit
from scrub837.edits._util import number, plain
from scrub837.rulebook._model import CTP_UNIT_NAMES


def _units_element(line: ServiceLine) -> str:
    return "SV205" if line.is_institutional else "SV104"


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


def units_over_day_max(claim: Claim, ctx: EditContext) -> Iterator[Hit]:
    """Sum the units of every line with the same code and date (administered and JW waste
    lines together, as the MUE counts them) and compare with the payer's or MUE limit."""
    groups: dict[tuple[str, str], list[ServiceLine]] = {}
    for line in ctx.drug_lines:
        groups.setdefault((line.code, line.service_date), []).append(line)
    for (code, dos), lines in groups.items():
        total = Decimal(0)
        for line in lines:
            units = number(line.units)
            if units is not None and units > 0:
                total += units
        limit = ctx.overlay.quantity_limits.get(code)
        source = f"payer overlay {ctx.overlay.name}"
        mue = ctx.rulebook.max_units(code, ctx.kind)
        if mue is not None and (limit is None or mue[0] < limit):
            limit, source = mue
        if limit is not None and total > limit:
            last = lines[-1]
            yield Hit("UNITS_OVER_MAX", last, element=_units_element(last),
                      values={"units": plain(total), "max": plain(limit), "limit_source": source,
                              "dos": dos, "lines": str(len(lines))})


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
                              "billing_unit": str(bu) if bu else ""})


EDITS = (units_value, units_over_day_max, units_match_ndc_quantity)
