"""pack.toml (pack metadata and settings) and edits.toml (one table per rule id)."""

from __future__ import annotations

import re

from scrub837.rulebook._errors import RulePackError
from scrub837.rulebook._model import CTP_UNIT_NAMES, EditDef, Settings
from scrub837.rulebook._tables import Table, field_names, severity_of, stc_of, template

_RULE_ID = re.compile(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*")
_MODIFIER = re.compile(r"[0-9A-Z]{2}")
_PREFIX = re.compile(r"[A-Z][0-9A-Z]{0,3}")
# every setting must say where it comes from in a "<setting>_source" key
_SETTINGS = ("drug_prefixes", "jw_jz_required_from", "icd10_from", "modifiers_not_on_drug_lines",
             "ndc_required_default", "ctp_units", "whole_units_default")


def load_pack(data: dict[str, object], file: str) -> tuple[dict[str, str], Settings]:
    """(``[pack]`` name/version/as_of, ``[settings]``) from pack.toml."""
    root = Table(data, file, "")
    pack = root.table("pack", required=True)
    assert pack is not None
    meta = {"name": pack.text("name", required=True),
            "version": pack.text("version", required=True),
            "as_of": pack.text("as_of", required=True)}
    pack.done()
    s = root.table("settings", required=True)
    assert s is not None
    sources = {name: s.text(f"{name}_source", required=True) for name in _SETTINGS}
    prefixes = s.strings("drug_prefixes", required=True)
    if not prefixes or not all(_PREFIX.fullmatch(p) for p in prefixes):
        raise s.fail("drug_prefixes", 'needs one or more code prefixes like ["J"]')
    modifiers = s.strings("modifiers_not_on_drug_lines")
    for mod in modifiers:
        if not _MODIFIER.fullmatch(mod):
            raise s.fail("modifiers_not_on_drug_lines", f"{mod!r} is not a two-character modifier")
    units = s.strings("ctp_units", required=True)
    bad = sorted(set(units) - set(CTP_UNIT_NAMES))
    if bad or not units:
        raise s.fail("ctp_units", f"{bad or units!r}: CTP05-1 units are a non-empty subset of "
                     f"{sorted(CTP_UNIT_NAMES)} (the 837 guides' code list)")
    settings = Settings(
        drug_prefixes=prefixes,
        jw_jz_required_from=s.day("jw_jz_required_from", required=True),  # type: ignore[arg-type]
        icd10_from=s.day("icd10_from", required=True),  # type: ignore[arg-type]
        modifiers_not_on_drug_lines=frozenset(modifiers),
        ndc_required_default=s.flag("ndc_required_default", required=True),
        ctp_units=frozenset(units),
        whole_units_default=s.flag("whole_units_default", required=True),
        sources=sources,
    )
    s.done()
    root.done()
    return meta, settings


def load_edits(data: dict[str, object], file: str) -> dict[str, EditDef]:
    """edits.toml: ``[RULE_ID]`` tables; templates may use ``{code}`` and the listed fields."""
    out = {}
    for rule_id, body in data.items():
        if not _RULE_ID.fullmatch(rule_id):
            raise RulePackError(file, rule_id, "rule ids are UPPER_CASE words like NDC_MISSING")
        t = Table(body, file, rule_id)
        fields = field_names(t, "fields")
        allowed = frozenset(fields) | {"code"}
        out[rule_id] = EditDef(
            rule_id=rule_id,
            severity=severity_of(t, "severity"),  # type: ignore[arg-type]
            stc=stc_of(t, "stc"),
            title=t.text("title", required=True),
            message=template(t, "message", allowed),
            fix=template(t, "fix", allowed),
            source=template(t, "source", allowed),
            example=t.text("example"),
            fields=fields,
        )
        t.done()
    if not out:
        raise RulePackError(file, "", "defines no rules")
    return out
