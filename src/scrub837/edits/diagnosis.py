"""Diagnosis: SV107 pointers, ICD-10-CM validity (simple-icd-10-cm), ICD-9 qualifiers after
2015-10-01, and whether the pointed diagnoses support the drug."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from scrub837.rulebook import icd10
from scrub837.claims.model import Claim, Diagnosis, ServiceLine
from scrub837.edits._engine import EditContext, Hit, drug_lines_only
from scrub837.edits._util import line_date


def icd10_status(code: str) -> str:
    """'billable', 'category' (valid but not a billable leaf) or 'invalid'."""
    if not code or not code.isalnum():
        return "invalid"
    return icd10.status(code)


@drug_lines_only
def dx_pointers(claim: Claim, ctx: EditContext) -> Iterator[Hit]:
    count = sum(1 for d in claim.diagnoses if d.position)
    for line in ctx.drug_lines:
        if line.is_institutional:
            continue
        pointers = line.dx_pointers
        if not pointers:
            yield Hit("DX_POINTER_INVALID", line, element="SV107-1",
                      values={"pointer": "", "count": str(count)})
        for i, pointer in enumerate(pointers, start=1):
            if not pointer.isdigit() or not 1 <= int(pointer) <= count:
                yield Hit("DX_POINTER_INVALID", line, element=f"SV107-{i}",
                          values={"pointer": pointer[:4], "count": str(count)})


def _claim_date(claim: Claim) -> date | None:
    dates = [d for d in (line_date(line) for line in claim.lines) if d is not None]
    return max(dates) if dates else None


@drug_lines_only
def dx_codes(claim: Claim, ctx: EditContext) -> Iterator[Hit]:
    if not ctx.drug_lines:
        return
    settings = ctx.rulebook.settings
    latest = _claim_date(claim)
    icd9_reported = False
    for dx in claim.diagnoses:
        element = f"HI{dx.element:02d}-2"
        if dx.icd9:
            if latest is not None and latest >= settings.icd10_from and not icd9_reported:
                icd9_reported = True
                yield Hit("DX_ICD9_QUALIFIER", None, dx.segment, f"HI{dx.element:02d}-1",
                          values={"qualifier": dx.qualifier, "since":
                                  settings.icd10_from.isoformat()})
            continue
        status = icd10_status(dx.code)
        values = {"dx": dx.code[:10], "role": "principal" if dx.qualifier == "ABK" else "other"}
        if status == "invalid":
            yield Hit("DX_CODE_INVALID", None, dx.segment, element, values=values)
        elif status == "category":
            yield Hit("DX_NOT_BILLABLE", None, dx.segment, element, values=values)


def _pointed(claim: Claim, line: ServiceLine) -> list[Diagnosis]:
    if line.is_institutional:
        return [d for d in claim.diagnoses if not d.icd9]
    by_position = {d.position: d for d in claim.diagnoses if d.position}
    return [by_position[int(p)] for p in line.dx_pointers if p.isdigit() and int(p) in by_position]


@drug_lines_only
def dx_supports_drug(claim: Claim, ctx: EditContext) -> Iterator[Hit]:
    for line in ctx.drug_lines:
        rule = ctx.rule(line.code)
        if rule is None or not rule.dx_supported:
            continue
        prefixes = tuple(p.replace(".", "") for p in rule.dx_supported)
        pointed = _pointed(claim, line)
        if not any(d.code.replace(".", "").startswith(prefixes) for d in pointed):
            yield Hit("DX_NOT_SUPPORTED", line,
                      element="SV107" if not line.is_institutional else "HI",
                      values={"supported": ", ".join(rule.dx_supported),
                              "pointed": ", ".join(d.code for d in pointed) or "none"})


EDITS = (dx_pointers, dx_codes, dx_supports_drug)
