"""Plain-text explanation of one code's rules (``scrub837 rules show CODE``)."""

from __future__ import annotations

from scrub837.rulebook._model import CodeRule, Rulebook

_ALWAYS = ("UNITS_INVALID", "UNITS_BASIS", "UNITS_OVER_MAX", "UNITS_NDC_MISMATCH",
           "MOD_JW_JZ_BOTH", "MOD_NOT_FOR_DRUG", "MOD_JG_TB", "NDC_FORMAT", "NDC_QUALIFIER",
           "NDC_CTP_MISSING", "NDC_QTY_INVALID", "NDC_UOM_INVALID", "NDC_HCPCS_MISMATCH",
           "NDC_NOT_IN_CROSSWALK", "DX_POINTER_INVALID", "CODE_NOT_EFFECTIVE")


def _verified(flag: bool) -> str:
    return "verified" if flag else "UNVERIFIED"


def _applies(rb: Rulebook, rule: CodeRule) -> list[str]:
    ids = list(_ALWAYS)
    if rule.ndc_required or any(o.ndc_required for o in rb.payers):
        ids.append("NDC_MISSING")
    if rule.whole_units:
        ids.append("UNITS_FRACTIONAL")
    if rule.container == "single-dose":
        ids += ["MOD_WASTE_MISSING", "MOD_JW_ORPHAN"]
    elif rule.container == "multi-dose":
        ids.append("MOD_JW_MULTIDOSE")
    else:
        ids.append("MOD_JW_ORPHAN")
    if rule.dx_supported:
        ids.append("DX_NOT_SUPPORTED")
    if rule.unlisted:
        ids += ["NOC_DESCRIPTION_MISSING", "NOC_NDC_MISSING"]
    if any(rule.code in o.prior_auth for o in (rb.default_payer, *rb.payers)):
        ids.append("AUTH_MISSING")
    if any(rule.code in o.pos_allowed for o in (rb.default_payer, *rb.payers)):
        ids.append("PAYER_POS_NOT_ALLOWED")
    return ids


def _payer_lines(rb: Rulebook, code: str) -> list[str]:
    out = []
    for o in (rb.default_payer, *rb.payers):
        said = []
        if code in o.prior_auth:
            said.append("prior authorization (REF*G1)")
        if code in o.quantity_limits:
            said.append(f"at most {o.quantity_limits[code]} units per day")
        if code in o.pos_allowed:
            said.append(f"place of service {', '.join(sorted(o.pos_allowed[code]))} only")
        if o.ndc_required is not None:
            said.append(f"NDC {'required' if o.ndc_required else 'not required'}")
        if said:
            ids = ", ".join(o.payer_ids) or "all other payers"
            label = " (EXAMPLE overlay)" if o.example else ""
            out.append(f"    {o.name} [{ids}]{label}: {'; '.join(said)}")
    return out


def explain_code(rb: Rulebook, code: str) -> str:
    rule = rb.code(code)
    if rule is None:
        return f"{code}: not in the rule pack (drug lines with it get CODE_UNKNOWN)\n"
    lines = [f"{rule.code}  {rule.descriptor}"]
    if rule.short:
        lines.append(f"  short descriptor: {rule.short}")
    lines.append(f"  source: {rule.source} ({_verified(rule.verified)}; {rule.file})")
    valid = f"from {rule.effective}" if rule.effective else "no start date"
    if rule.terminated:
        valid += f" through {rule.terminated} (terminated)"
    if rule.replaced_by:
        valid += f"; replaced by {', '.join(rule.replaced_by)}"
    if rule.action_effective:
        valid += f" [latest CMS action effective {rule.action_effective}]"
    lines.append(f"  valid: {valid}")
    if rule.unlisted:
        lines.append("  unlisted (NOC): SV101-7/SV202-7 must carry drug name, NDC and dose; "
                     "NDC loop required; no MUE")
    if rule.billing_unit is not None:
        lines.append(f"  billing unit: {rule.billing_unit} per unit"
                     f"{' (whole units)' if rule.whole_units else ''}")
    for kind, label in (("P", "837P practitioner"), ("I", "837I outpatient hospital")):
        mue = rb.max_units(code, kind)
        lines.append(f"  max units per day ({label}): "
                     + (f"{mue[0]} ({mue[1]})" if mue else "none"))
    container = f"  container: {rule.container}"
    if rule.container_source:
        container += f" ({rule.container_source}; {_verified(rule.container_verified)})"
    if rule.container == "unknown":
        container += " -- no waste-modifier (JW/JZ) requirement is applied"
    lines.append(container)
    lines.append(f"  NDC required: {'yes' if rule.ndc_required else 'no'} (payer overlays may "
                 "change this)")
    units = rule.ctp_units or rb.settings.ctp_units
    lines.append(f"  CTP05-1 units allowed: {', '.join(sorted(units))}")
    if rule.dx_supported:
        lines.append(f"  supporting diagnoses: {', '.join(rule.dx_supported)} ({rule.dx_source};"
                     f" {_verified(rule.dx_verified)})")
    else:
        lines.append("  supporting diagnoses: no list (no diagnosis-support edit)")
    for look in rule.lookalikes:
        lines.append(f"  look-alike {look.code}: {look.why}")
    if rule.seed_page:
        lines.append(f"  seed page {rule.seed_page} says: {rule.seed_says}")
    if rule.note:
        lines.append(f"  note: {rule.note}")
    xw = sorted({e.ndc11 for entries in rb.crosswalk.values() for e in entries
                 if e.hcpcs == code})
    shown = f" ({', '.join(xw[:5])}{' ...' if len(xw) > 5 else ''})" if xw else ""
    lines.append(f"  NDCs in the loaded crosswalk: {len(xw)}{shown}")
    payer = _payer_lines(rb, code)
    if payer:
        lines.append("  payer overlays:")
        lines += payer
    lines.append("  edits that apply:")
    for rule_id in _applies(rb, rule):
        d = rb.edits.get(rule_id)
        if d is not None:
            lines.append(f"    {rule_id:24} {d.severity.value:6} "
                         f"{', '.join(str(s) for s in d.stc):16} {d.title}")
    return "\n".join(lines) + "\n"
