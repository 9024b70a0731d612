"""Diagnosis: SV107 pointers, ICD-10-CM validity (simple-icd-10-cm), ICD-9 qualifiers after
2015-10-01, and whether the pointed diagnoses support the drug."""

from __future__ import annotations

from datetime import date

from scrub837.rulebook import icd10
from scrub837.claims.model import Claim, Diagnosis, ServiceLine
from scrub837.edits._engine import EditContext, Hit, drug_lines_only
from scrub837.edits._util import line_date

_STATUS: dict[str, str] = {}  # recent answers of icd10_status (the code list never changes)
_PREFIXES: dict[tuple[str, ...], tuple[str, ...]] = {}  # dx_supported -> prefixes, no dots


def icd10_status(code: str) -> str:
    """'billable', 'category' (valid but not a billable leaf) or 'invalid'."""
    found = _STATUS.get(code)
    if found is None:
        found = "invalid" if not code or not code.isalnum() else icd10.status(code)
        if len(_STATUS) >= 8192:
            _STATUS.clear()
        _STATUS[code] = found
    return found


@drug_lines_only
def dx_pointers(claim: Claim, ctx: EditContext) -> list[Hit]:
    out: list[Hit] = []
    count = -1
    for drug in ctx.drugs:
        if drug.institutional:
            continue
        if count < 0:
            count = sum(1 for d in claim.diagnoses if d.position)
        pointers = drug.pointers
        if not pointers:
            out.append(Hit("DX_POINTER_INVALID", drug.line, element="SV107-1",
                           values={"pointer": "", "count": str(count)}))
        for i, pointer in enumerate(pointers, start=1):
            if not pointer.isdigit() or not 1 <= int(pointer) <= count:
                out.append(Hit("DX_POINTER_INVALID", drug.line, element=f"SV107-{i}",
                               values={"pointer": pointer[:4], "count": str(count)}))
    return out


def _claim_date(claim: Claim) -> date | None:
    dates = [d for d in (line_date(line) for line in claim.lines) if d is not None]
    return max(dates) if dates else None


@drug_lines_only
def dx_codes(claim: Claim, ctx: EditContext) -> list[Hit]:
    out: list[Hit] = []
    if not ctx.drug_lines:
        return out
    settings = ctx.rulebook.settings
    latest: date | None = None
    icd9_seen = icd9_reported = False
    for dx in claim.diagnoses:
        if dx.icd9:
            if not icd9_seen:  # the claim's date is read only for an ICD-9 code
                icd9_seen = True
                latest = _claim_date(claim)
            if latest is not None and latest >= settings.icd10_from and not icd9_reported:
                icd9_reported = True
                out.append(Hit("DX_ICD9_QUALIFIER", None, dx.segment, f"HI{dx.element:02d}-1",
                               values={"qualifier": dx.qualifier, "since":
                                       settings.icd10_from.isoformat()}))
            continue
        status = icd10_status(dx.code)
        if status == "billable":
            continue
        values = {"dx": dx.code[:10], "role": "principal" if dx.qualifier == "ABK" else "other"}
        element = f"HI{dx.element:02d}-2"
        if status == "invalid":
            out.append(Hit("DX_CODE_INVALID", None, dx.segment, element, values=values))
        elif status == "category":
            out.append(Hit("DX_NOT_BILLABLE", None, dx.segment, element, values=values))
    return out


def _pointed(claim: Claim, line: ServiceLine, pointers: tuple[str, ...]) -> list[Diagnosis]:
    if line.is_institutional:
        return [d for d in claim.diagnoses if not d.icd9]
    by_position = {d.position: d for d in claim.diagnoses if d.position}
    return [by_position[int(p)] for p in pointers if p.isdigit() and int(p) in by_position]


@drug_lines_only
def dx_supports_drug(claim: Claim, ctx: EditContext) -> list[Hit]:
    out: list[Hit] = []
    for drug in ctx.drugs:
        rule = drug.rule
        if rule is None or not rule.dx_supported:
            continue
        supported = rule.dx_supported
        prefixes = _PREFIXES.get(supported)
        if prefixes is None:
            prefixes = tuple(p.replace(".", "") for p in supported)
            if len(_PREFIXES) >= 1024:
                _PREFIXES.clear()
            _PREFIXES[supported] = prefixes
        pointed = _pointed(claim, drug.line, drug.pointers)
        if not any(d.code.replace(".", "").startswith(prefixes) for d in pointed):
            out.append(Hit("DX_NOT_SUPPORTED", drug.line,
                           element="SV107" if not drug.institutional else "HI",
                           values={"supported": ", ".join(supported),
                                   "pointed": ", ".join(d.code for d in pointed) or "none"}))
    return out


EDITS = (dx_pointers, dx_codes, dx_supports_drug)
