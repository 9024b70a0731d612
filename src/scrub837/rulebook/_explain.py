"""Plain-text explanation of one code's rules (``scrub837 rules show CODE``)."""

from __future__ import annotations

from scrub837.rulebook._model import CodeRule, Rulebook

_ALWAYS = ("UNITS_INVALID", "UNITS_BASIS", "UNITS_OVER_MAX", "UNITS_NDC_MISMATCH",
           "MOD_JW_JZ_BOTH", "MOD_NOT_FOR_DRUG", "MOD_JG_TB", "NDC_FORMAT", "NDC_QUALIFIER",
           "NDC_CTP_MISSING", "NDC_QTY_INVALID", "NDC_UOM_INVALID", "NDC_HCPCS_MISMATCH",
           "NDC_NOT_IN_CROSSWALK", "DX_POINTER_INVALID", "CODE_NOT_EFFECTIVE", "DATA_PERIOD")


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


def _cms_lines(rb: Rulebook, rule: CodeRule) -> list[str]:
    from scrub837.rulebook._facts import cms_unit

    data = rb.data
    lines = []
    unit, source = cms_unit(rb, rule.code)
    if rule.in_cms:
        lines.append(f"  CMS billing unit: {unit}" + (f" ({source})" if source else ""))
    price = data.pricing(rule.code)
    asp = data.table("asp")
    if price is not None and asp is not None:
        lines.append(f"  ASP: dosage {price[2]!r}, payment limit "
                     f"{price[3] or 'N/A'} ({asp.label})")
    for setting, label in (("practitioner", "practitioner"), ("outpatient", "outpatient hospital"),
                           ("dme", "DME supplier")):
        info = data.table(f"mue_{setting}")
        if info is None:
            continue
        row = data.mue(setting, rule.code)
        lines.append(f"  MUE {label}: " + (f"{row.value} (MAI {row.mai}, {row.rationale}; "
                                           f"{info.label})" if row else f"none ({info.label})"))
    return lines


def _ndc_lines(rb: Rulebook, code: str) -> list[str]:
    rows = rb.data.crosswalk_rows(code)
    info = rb.data.table("crosswalk")
    label = info.label if info is not None else "no crosswalk loaded"
    out = [f"  NDCs in {label}: {sum(1 for e in rows if e.ndc11)}"
           + (f", alternate ids: {sum(1 for e in rows if not e.ndc11)}"
              if any(not e.ndc11 for e in rows) else "")]
    for e in rows[:12]:
        what = e.ndc11 if e.ndc11 else f"alternate id {e.alternate_id}"
        out.append(f"    {what}  {e.drug_name} ({e.labeler}): PKG SIZE {e.pkg_size}, PKG QTY "
                   f"{e.pkg_qty}, BILLUNITS {e.bill_units}, BILLUNITSPKG {e.bill_units_pkg}")
    if len(rows) > 12:
        out.append(f"    ... {len(rows) - 12} more")
    return out


def explain_code(rb: Rulebook, code: str) -> str:
    rule = rb.code(code)
    if rule is None:
        info = rb.data.table("hcpcs")
        where = info.label if info is not None else "the rule pack"
        return f"{code}: not in {where} (a drug line with it is rejected: CODE_INVALID)\n"
    lines = [f"{rule.code}  {rule.descriptor}"]
    if rule.short:
        lines.append(f"  short descriptor: {rule.short}")
    lines.append(f"  source: {rule.source} ({_verified(rule.verified)}"
                 + (f"; overlay {rule.file})" if rule.file else ")"))
    valid = f"from {rule.effective}" if rule.effective else "no start date"
    if rule.terminated:
        valid += f" through {rule.terminated} (terminated)"
    if rule.replaced_by:
        valid += f"; replaced by {', '.join(rule.replaced_by)}"
    if rule.action_effective:
        valid += f" [latest CMS action effective {rule.action_effective}]"
    lines.append(f"  valid: {valid}")
    lines.append(f"  drug line: {'yes' if rb.is_drug_code(code) else 'no'} (a drug prefix "
                 f"{list(rb.settings.drug_prefixes)} or priced by the ASP file / crosswalk)")
    if rule.unlisted:
        lines.append("  unlisted (NOC): SV101-7/SV202-7 must carry drug name, NDC and dose; "
                     "NDC loop required; no MUE")
    if rule.billing_unit is not None:
        lines.append(f"  billing unit: {rule.billing_unit} per unit"
                     f"{' (whole units)' if rule.whole_units else ''}"
                     + (f" [{rule.unit_source}]" if rule.unit_source else ""))
    lines += _cms_lines(rb, rule)
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
        lines.append(f"  CMS says: {rule.descriptor} ({rule.source})")
    if rule.note:
        lines.append(f"  note: {rule.note}")
    lines += _ndc_lines(rb, code)
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
