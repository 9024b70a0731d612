"""Code validity on the date of service (CMS HCPCS add and termination dates) and codes CMS
does not define."""

from __future__ import annotations

from scrub837.claims.model import Claim
from scrub837.edits._engine import EditContext, Hit, drug_lines_only


@drug_lines_only
def code_valid_for_date(claim: Claim, ctx: EditContext) -> list[Hit]:
    hcpcs = ctx.rulebook.data.table("hcpcs")
    out: list[Hit] = []
    for drug in ctx.drugs:
        rule, dos = drug.rule, drug.dos
        if rule is not None and rule.in_cms and dos is not None and (
                rule.effective is None or dos >= rule.effective) and (
                rule.terminated is None or dos <= rule.terminated):
            continue  # the usual line: a code of the CMS file, valid on its date
        line = drug.line
        element = "SV202-2" if drug.institutional else "SV101-2"
        if hcpcs is not None and (rule is None or not rule.in_cms):
            # a code the CMS file does not list: invalid on the dates the file answers for
            # (its quarter, and back to the oldest termination it still lists); later it may be
            # a code added since, earlier one terminated before the file's history
            if dos is not None and hcpcs.end is not None and dos > hcpcs.end:
                out.append(Hit("CODE_UNKNOWN", line, element=element, values={
                    "why": f"is not in {hcpcs.label}, which is older than the date of service "
                           f"{dos.isoformat()} (it may be a new code)",
                    "code_source": hcpcs.label}))
            elif dos is not None and hcpcs.history is not None and dos < hcpcs.history:
                out.append(Hit("CODE_UNKNOWN", line, element=element, values={
                    "why": f"is not in {hcpcs.label}, which lists terminated codes back to "
                           f"{hcpcs.history.isoformat()} only (the date of service is "
                           f"{dos.isoformat()})",
                    "code_source": hcpcs.label}))
            else:
                out.append(Hit("CODE_INVALID", line, element=element, values={
                    "dos": dos.isoformat() if dos else "the date of service",
                    "code_source": hcpcs.label}))
            continue
        if rule is None:
            out.append(Hit("CODE_UNKNOWN", line, element=element, values={
                "why": "is not in the rule pack and no CMS HCPCS file is loaded",
                "code_source": "scrub837 rule pack"}))
            continue
        if dos is None:
            continue
        starts, ends = rule.effective, rule.terminated
        if (starts is not None and dos < starts) or (ends is not None and dos > ends):
            out.append(Hit("CODE_NOT_EFFECTIVE", line, element=element,
                           values={"dos": dos.isoformat(),
                                   "effective": starts.isoformat() if starts else "",
                                   "terminated": ends.isoformat() if ends else "",
                                   "code_source": rule.source,
                                   "replacements_text": f"; use {' or '.join(rule.replaced_by)}"
                                   if rule.replaced_by else ""}))
    return out


EDITS = (code_valid_for_date,)
