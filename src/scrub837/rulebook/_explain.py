"""Plain-text explanation of one code's rules (``scrub837 rules show CODE``)."""

from __future__ import annotations

from scrub837.rulebook._model import Rulebook


def explain_code(rb: Rulebook, code: str) -> str:
    rule = rb.code(code)
    if rule is None:
        return f"{code}: not in the rule pack (drug lines with it get CODE_UNKNOWN)\n"
    lines = [f"{rule.code}  {rule.descriptor}",
             f"  source: {rule.source} ({'verified' if rule.verified else 'UNVERIFIED'})"]
    valid = f"from {rule.effective}" if rule.effective else "no start date"
    if rule.terminated:
        valid += f" to {rule.terminated} (terminated)"
    if rule.replaced_by:
        valid += f"; replaced by {', '.join(rule.replaced_by)}"
    lines.append(f"  valid: {valid}")
    if rule.unlisted:
        lines.append("  unlisted (NOC): SV101-7 must carry drug name, NDC and dose; NDC loop required")
    if rule.billing_unit is not None:
        lines.append(f"  billing unit: {rule.billing_unit} per unit"
                     f"{' (whole units)' if rule.whole_units else ''}")
    for kind, label in (("P", "837P practitioner"), ("I", "837I outpatient hospital")):
        mue = rb.max_units(code, kind)
        lines.append(f"  max units per day ({label}): "
                     + (f"{mue[0]} ({mue[1]})" if mue else "none"))
    lines.append(f"  container: {rule.container}" + (
        f" ({rule.container_source}; {'verified' if rule.container_verified else 'UNVERIFIED'})"
        if rule.container_source else ""))
    lines.append(f"  NDC required: {'yes' if rule.ndc_required else 'no'} (payer overlays may "
                 "change this)")
    units = rule.ctp_units or rb.settings.ctp_units
    lines.append(f"  CTP05-1 units allowed: {', '.join(sorted(units))}")
    if rule.dx_supported:
        lines.append(f"  supporting diagnoses: {', '.join(rule.dx_supported)} ({rule.dx_source};"
                     f" {'verified' if rule.dx_verified else 'UNVERIFIED'})")
    for look in rule.lookalikes:
        lines.append(f"  look-alike {look.code}: {look.why}")
    if rule.seed_page:
        lines.append(f"  seed page {rule.seed_page} says: {rule.seed_says}")
    if rule.note:
        lines.append(f"  note: {rule.note}")
    xw = sorted({e.ndc11 for entries in rb.crosswalk.values() for e in entries
                 if e.hcpcs == code})
    lines.append(f"  NDCs in the loaded crosswalk: {len(xw)}" + (f" ({', '.join(xw[:5])}"
                                                              f"{' ...' if len(xw) > 5 else ''})"
                                                              if xw else ""))
    overlays = [o for o in rb.payers if code in o.prior_auth]
    if overlays:
        lines.append("  prior authorization required by: " + ", ".join(o.name for o in overlays))
    lines.append("  edits that apply:")
    applies = ["UNITS_INVALID", "UNITS_BASIS", "UNITS_OVER_MAX", "UNITS_NDC_MISMATCH",
               "MOD_JW_JZ_BOTH", "MOD_NOT_FOR_DRUG", "MOD_JG_TB", "NDC_MISSING", "NDC_FORMAT",
               "NDC_QUALIFIER", "NDC_CTP_MISSING", "NDC_QTY_INVALID", "NDC_UOM_INVALID",
               "NDC_HCPCS_MISMATCH", "DX_POINTER_INVALID", "CODE_NOT_EFFECTIVE"]
    if rule.whole_units:
        applies.append("UNITS_FRACTIONAL")
    if rule.container == "single-dose":
        applies += ["MOD_WASTE_MISSING", "MOD_JW_ORPHAN"]
    if rule.container == "multi-dose":
        applies.append("MOD_JW_MULTIDOSE")
    if rule.dx_supported:
        applies.append("DX_NOT_SUPPORTED")
    if rule.unlisted:
        applies += ["NOC_DESCRIPTION_MISSING", "NOC_NDC_MISSING"]
    for rule_id in applies:
        d = rb.edits.get(rule_id)
        if d is not None:
            lines.append(f"    {rule_id:24} {d.severity.value:6} "
                         f"{', '.join(str(s) for s in d.stc):16} {d.title}")
    return "\n".join(lines) + "\n"
