"""Modifiers: JW/JZ waste reporting, modifiers that do not belong on drug lines, 340B JG/TB."""

from __future__ import annotations

from scrub837.claims.model import Claim, ServiceLine
from scrub837.edits._engine import EditContext, Hit, drug_lines_only, line_local


def _mod_element(line: ServiceLine, modifier: str) -> str:
    base = "SV202" if line.is_institutional else "SV101"
    try:
        return f"{base}-{line.modifiers.index(modifier) + 3}"
    except ValueError:
        return f"{base}-2"


@drug_lines_only
def jw_jz(claim: Claim, ctx: EditContext) -> list[Hit]:
    settings = ctx.rulebook.settings
    out: list[Hit] = []
    for drug in ctx.drugs:
        mods = drug.modifiers
        if "JW" in mods and "JZ" in mods:
            out.append(Hit("MOD_JW_JZ_BOTH", drug.line, element=_mod_element(drug.line, "JZ")))
    for lines in ctx.by_code_and_date().values():
        rule = lines[0].rule  # the rule of the group's code
        if rule is None:
            continue
        waste = [d for d in lines if "JW" in d.modifiers]
        if rule.container == "multi-dose":
            for drug in waste:
                out.append(Hit("MOD_JW_MULTIDOSE", drug.line,
                               element=_mod_element(drug.line, "JW")))
            continue
        if waste and len(waste) == len(lines):  # waste reported, and nothing given
            for drug in waste:
                out.append(Hit("MOD_JW_ORPHAN", drug.line, element=_mod_element(drug.line, "JW")))
        if rule.container != "single-dose" or waste:
            continue
        since = settings.jw_jz_required_from
        for drug in lines:  # no waste line: every line is a given dose
            dos = drug.dos
            if dos is None or dos < since:
                continue
            if "JZ" not in drug.modifiers:
                out.append(Hit("MOD_WASTE_MISSING", drug.line,
                               element="SV202-3" if drug.institutional else "SV101-3",
                               values={"dos": dos.isoformat(), "since": since.isoformat()}))
    return out


@line_local
def misplaced_modifiers(claim: Claim, ctx: EditContext) -> list[Hit]:
    not_for_drugs = ctx.rulebook.settings.modifiers_not_on_drug_lines
    out: list[Hit] = []
    for drug in ctx.drugs:
        mods = drug.modifiers
        if not mods:
            continue
        for mod in mods:
            if mod in not_for_drugs:
                out.append(Hit("MOD_NOT_FOR_DRUG", drug.line,
                               element=_mod_element(drug.line, mod), values={"modifier": mod}))
        if "JG" in mods and "TB" in mods:
            out.append(Hit("MOD_JG_TB", drug.line, element=_mod_element(drug.line, "TB")))
    return out


EDITS = (jw_jz, misplaced_modifiers)
