"""Diagnosis: SV107 pointers, ICD-10-CM validity (simple-icd-10-cm), ICD-9 qualifiers after
2015-10-01, and whether the pointed diagnoses support the drug."""

from __future__ import annotations

from datetime import date

from scrub837._memo import IdentityMemo
from scrub837.rulebook import icd10
from scrub837.claims.model import Claim, Diagnosis, ServiceLine
from scrub837.edits._engine import EditContext, Hit, drug_lines_only
from scrub837.edits._util import line_date

_STATUS: dict[str, str] = {}  # recent answers of icd10_status (the code list never changes)
#: a claim's diagnoses by SV107 position (1..12), found once for dx_pointers and
#: dx_supports_drug (keyed by the claim's diagnoses tuple)
_by_position: IdentityMemo[tuple[Diagnosis, ...],
                           tuple[int, dict[int, Diagnosis]]] = IdentityMemo(4)
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


def _positions(claim: Claim) -> tuple[int, dict[int, Diagnosis]]:
    """How many diagnoses SV107 pointers count, and those diagnoses by position."""
    diagnoses = claim.diagnoses
    found = _by_position.get(diagnoses)
    if found is None:
        pointed = [d for d in diagnoses if d.position]
        found = (len(pointed), {d.position: d for d in pointed})
        _by_position.put(diagnoses, found)
    return found


#: the SV107 pointers of a line that point at no diagnosis, by (pointers, diagnoses counted)
_bad_pointers: dict[tuple[tuple[str, ...], int], tuple[tuple[int, str], ...]] = {}


def _pointers_out_of_range(pointers: tuple[str, ...], count: int) -> tuple[tuple[int, str], ...]:
    key = (pointers, count)
    found = _bad_pointers.get(key)
    if found is None:
        found = tuple((i, p) for i, p in enumerate(pointers, start=1)
                      if not p.isdigit() or not 1 <= int(p) <= count)
        if len(_bad_pointers) >= 1024:
            _bad_pointers.clear()
        _bad_pointers[key] = found
    return found


@drug_lines_only
def dx_pointers(claim: Claim, ctx: EditContext) -> list[Hit]:
    out: list[Hit] = []
    count = -1
    for drug in ctx.drugs:
        if drug.institutional:
            continue
        if count < 0:
            count = _positions(claim)[0]
        pointers = drug.pointers
        if not pointers:
            out.append(Hit("DX_POINTER_INVALID", drug.line, element="SV107-1",
                           values={"pointer": "", "count": str(count)}))
            continue
        for i, pointer in _pointers_out_of_range(pointers, count):
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
    by_position = _positions(claim)[1]
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
