"""A code's rule from the CMS data with the pack's judgement on top, and where the pack's CMS
facts disagree with the data (``rules check``: the data wins)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from scrub837.rulebook._model import BillingUnit, CodeRule, Rulebook
from scrub837.rulebook._units import ParsedUnit, parse_unit, stored_unit

# the descriptors of not-otherwise-classified codes (J3490 "Unclassified drugs", J9999 "Not
# otherwise classified, antineoplastic drugs", J8499 "..., nos")
_NOC = re.compile(r"not otherwise classified|\bunclassified\b|\bnoc\b|\bnos$", re.IGNORECASE)


def _day(text: str) -> date | None:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8])) if len(text) == 8 else None


def cms_unit(rb: Rulebook, code: str) -> tuple[ParsedUnit, str]:
    """The billing unit the CMS data states for ``code`` and the table it comes from: the
    HCPCS long description, else the ASP pricing file's "HCPCS Code Dosage", else the
    crosswalk's "HCPCS dosage" when all its rows agree. (``none``, "") when none converts."""
    data = rb.data
    rec = data.hcpcs(code)
    first = stored_unit(rec[8], rec[9], rec[10], rec[1]) if rec else parse_unit("")
    if first.kind != "none":
        return first, _label(rb, "hcpcs")
    price = data.pricing(code)
    if price is not None:
        got = parse_unit(price[2])
        if got.kind != "none":
            return got, _label(rb, "asp") + " (HCPCS Code Dosage)"
    doses = {" ".join(e.hcpcs_dosage.upper().split()) for e in data.crosswalk_rows(code)}
    if len(doses) == 1:
        got = parse_unit(doses.pop())
        if got.kind != "none":
            return got, _label(rb, "crosswalk") + " (HCPCS dosage)"
    return first, ""


def _label(rb: Rulebook, table: str) -> str:
    info = rb.data.table(table)
    return info.label if info is not None else table


def derive(rb: Rulebook, code: str) -> CodeRule | None:
    pack = rb.codes.get(code)
    rec = rb.data.hcpcs(code)
    if rec is None:
        return pack
    unit, unit_source = cms_unit(rb, code)
    billing: BillingUnit | None = unit.billing_unit()
    if billing is None and pack is not None and pack.billing_unit is not None:
        billing, unit_source = pack.billing_unit, f"{pack.file} (the CMS dosage is not convertible)"
    terminated = _day(rec[5])
    xref = tuple(c for c in rec[7].split() if c != code) if terminated else ()
    settings = rb.settings
    unlisted = pack.unlisted if pack is not None else (
        billing is None and bool(_NOC.search(rec[1])))
    whole = pack.whole_units if pack is not None else (
        settings.whole_units_default or unit.kind in ("up_to", "per_item"))
    facts = dict(
        descriptor=rec[1], short=rec[2], source=_label(rb, "hcpcs"), verified=True,
        effective=_day(rec[3]), terminated=terminated, action_effective=_day(rec[4]),
        billing_unit=None if unlisted else billing, unit_source=unit_source, in_cms=True)
    # the MUE of a setting is Rulebook.mue(code, kind): read from the setting's table only when
    # a claim of that setting needs it; mue_practitioner/mue_outpatient stay the pack's
    if pack is not None:
        return replace(pack, replaced_by=pack.replaced_by or xref, **facts)  # type: ignore[arg-type]
    return CodeRule(
        code=code, replaced_by=xref, mue_practitioner=None, mue_outpatient=None, unlisted=unlisted, container="unknown",
        container_source="", container_verified=False,
        ndc_required=settings.ndc_required_default, ctp_units=frozenset(), whole_units=whole,
        dx_supported=(), dx_source="", dx_verified=False, lookalikes=(), seed_page="",
        seed_says="", note="", file="", **facts)  # type: ignore[arg-type]


def disagreements(rb: Rulebook) -> list[str]:
    """CMS facts written in ``rules/codes`` that the loaded data contradicts (the data wins)."""
    out: list[str] = []
    for code, pack in sorted(rb.codes.items()):
        rec = rb.data.hcpcs(code)
        label = _label(rb, "hcpcs")
        if rec is None:
            if rb.data.table("hcpcs") is not None:
                out.append(f"{pack.file}: {code} is not in {label}")
            continue
        for what, theirs, ours in (("effective", _day(rec[3]), pack.effective),
                                   ("terminated", _day(rec[5]), pack.terminated),
                                   ("action_effective", _day(rec[4]), pack.action_effective)):
            if ours is not None and theirs != ours:
                out.append(f"{pack.file}: {code}.{what} = {ours}, {label} says "
                           f"{theirs or 'none'}")
        unit, source = cms_unit(rb, code)
        bu = unit.billing_unit()
        if pack.billing_unit is not None and bu is not None and (
                pack.billing_unit.amount != bu.amount or pack.billing_unit.unit != bu.unit
                or pack.billing_unit.kind != bu.kind):
            out.append(f"{pack.file}: {code}.billing_unit = {pack.billing_unit}, {source} says "
                       f"{bu}")
        for kind, ours_mue in (("P", pack.mue_practitioner), ("I", pack.mue_outpatient)):
            theirs_mue = rb.mue(code, kind)
            if ours_mue is None or rb.data.table(
                    "mue_outpatient" if kind == "I" else "mue_practitioner") is None:
                continue
            if theirs_mue is None or (theirs_mue.units, theirs_mue.mai) != (
                    ours_mue.units, ours_mue.mai):
                said = (f"{theirs_mue.units} (MAI {theirs_mue.mai})" if theirs_mue
                        else "no MUE")
                name = "mue_outpatient" if kind == "I" else "mue_practitioner"
                out.append(f"{pack.file}: {code}.{name} = {ours_mue.units} (MAI "
                           f"{ours_mue.mai}), {theirs_mue.source if theirs_mue else 'CMS'} "
                           f"says {said}")
    return out
