"""Modifiers: JW/JZ waste reporting, modifiers that do not belong on drug lines, 340B JG/TB."""

from __future__ import annotations

from collections.abc import Iterator

from scrub837.claims.model import Claim, ServiceLine
from scrub837.edits._engine import EditContext, Hit, drug_lines_only
from scrub837.edits._util import line_date


def _mod_element(line: ServiceLine, modifier: str) -> str:
    base = "SV202" if line.is_institutional else "SV101"
    try:
        return f"{base}-{line.modifiers.index(modifier) + 3}"
    except ValueError:
        return f"{base}-2"


@drug_lines_only
def jw_jz(claim: Claim, ctx: EditContext) -> Iterator[Hit]:
    settings = ctx.rulebook.settings
    groups: dict[tuple[str, str], list[ServiceLine]] = {}
    for line in ctx.drug_lines:
        groups.setdefault((line.code, line.service_date), []).append(line)
        mods = line.modifiers
        if "JW" in mods and "JZ" in mods:
            yield Hit("MOD_JW_JZ_BOTH", line, element=_mod_element(line, "JZ"))
    for (code, _dos), lines in groups.items():
        rule = ctx.rule(code)
        if rule is None:
            continue
        waste = [ln for ln in lines if "JW" in ln.modifiers]
        given = [ln for ln in lines if "JW" not in ln.modifiers]
        if rule.container == "multi-dose":
            for line in waste:
                yield Hit("MOD_JW_MULTIDOSE", line, element=_mod_element(line, "JW"))
            continue
        for line in waste:
            if not given:
                yield Hit("MOD_JW_ORPHAN", line, element=_mod_element(line, "JW"))
        if rule.container != "single-dose" or waste:
            continue
        for line in given:
            dos = line_date(line)
            if dos is None or dos < settings.jw_jz_required_from:
                continue
            if "JZ" not in line.modifiers:
                yield Hit("MOD_WASTE_MISSING", line,
                          element="SV202-3" if line.is_institutional else "SV101-3",
                          values={"dos": dos.isoformat(),
                                  "since": settings.jw_jz_required_from.isoformat()})


@drug_lines_only
def misplaced_modifiers(claim: Claim, ctx: EditContext) -> Iterator[Hit]:
    settings = ctx.rulebook.settings
    not_for_drugs = settings.modifiers_not_on_drug_lines
    for line in ctx.drug_lines:
        mods = line.modifiers
        for mod in mods:
            if mod in not_for_drugs:
                yield Hit("MOD_NOT_FOR_DRUG", line, element=_mod_element(line, mod),
                          values={"modifier": mod})
        if "JG" in mods and "TB" in mods:
            yield Hit("MOD_JG_TB", line, element=_mod_element(line, "TB"))


EDITS = (jw_jz, misplaced_modifiers)
