"""NDC: loop 2410 present when required, LIN02/LIN03 form, CTP quantity and unit, crosswalk."""

from __future__ import annotations

from scrub837.claims.model import Claim, ServiceLine
from scrub837.edits._engine import EditContext, Hit, drug_lines_only, line_local
from scrub837.rulebook._classes import ndc_required_by_class


def filing_indicator(claim: Claim) -> str:
    """2000B SBR09, the claim filing indicator (MB Medicare Part B, MC Medicaid, CI, ...)."""
    for seg in claim.subscriber.segments:
        if seg.elements[0] == "SBR":
            return seg.get(9)
    return ""


def ndc_required(line: ServiceLine, ctx: EditContext, claim: Claim | None = None) -> bool:
    """The payer overlay's word, else the claim filing indicator's class
    (rules/filing_indicators.toml), else the code's, else the pack's default."""
    if ctx.overlay.ndc_required is not None:
        return ctx.overlay.ndc_required
    if claim is not None:
        by_class = ndc_required_by_class(ctx.rulebook.filing_classes, filing_indicator(claim),
                                         ctx.kind)
        if by_class is not None:
            return by_class
    rule = ctx.rule(line.code)
    if rule is not None:
        return bool(rule.ndc_required)
    return bool(ctx.rulebook.settings.ndc_required_default)


@drug_lines_only
def ndc_present(claim: Claim, ctx: EditContext) -> list[Hit]:
    out: list[Hit] = []
    for drug in ctx.drugs:
        rule = drug.rule
        if drug.drug is None and not (rule is not None and rule.unlisted) and \
                ndc_required(drug.line, ctx, claim):
            out.append(Hit("NDC_MISSING", drug.line))
    return out


@line_local
def ndc_form(claim: Claim, ctx: EditContext) -> list[Hit]:
    settings = ctx.rulebook.settings
    out: list[Hit] = []
    for drug in ctx.drugs:
        loop = drug.drug
        if loop is None:
            continue
        line = drug.line
        if drug.qualifier != "N4":
            out.append(Hit("NDC_QUALIFIER", line, loop.lin, "LIN02",
                           values={"qualifier": drug.qualifier[:10]}))
        else:
            ndc = drug.ndc
            if not (len(ndc) == 11 and ndc.isdigit()):
                if "-" in ndc:
                    problem = "is hyphenated"
                elif not ndc.replace("-", "").isdigit():
                    problem = "has characters that are not digits"
                else:
                    problem = f"has {len(ndc)} digits"
                eleven = _eleven(ndc)
                out.append(Hit("NDC_FORMAT", line, loop.lin, "LIN03",
                               values={"ndc": ndc[:20], "problem": problem,
                                       "suggestion_text": f" ({eleven})" if eleven else ""}))
        if loop.ctp is None:
            out.append(Hit("NDC_CTP_MISSING", line, loop.lin, "CTP"))
            continue
        quantity = drug.quantity
        if quantity is None or quantity <= 0:
            out.append(Hit("NDC_QTY_INVALID", line, loop.ctp, "CTP04",
                           values={"quantity": drug.quantity_text[:20]}))
        rule = drug.rule
        allowed = settings.ctp_units
        if rule is not None and rule.ctp_units:
            allowed = rule.ctp_units
        if drug.ctp_unit not in allowed:
            out.append(Hit("NDC_UOM_INVALID", line, loop.ctp, "CTP05-1",
                           values={"unit": drug.ctp_unit[:10],
                                   "allowed": "/".join(sorted(allowed))}))
    return out


def _eleven(ndc: str) -> str:
    """The 11-digit billing form of a hyphenated 4-4-2, 5-3-2 or 5-4-1 NDC, or ''."""
    parts = ndc.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return ""
    a, b, c = parts
    if (len(a), len(b), len(c)) in ((4, 4, 2), (5, 3, 2), (5, 4, 1), (5, 4, 2)):
        return a.zfill(5) + b.zfill(4) + c.zfill(2)
    return ""


@line_local
def ndc_matches_code(claim: Claim, ctx: EditContext) -> list[Hit]:
    out: list[Hit] = []
    crosswalk_for = ctx.rulebook.crosswalk_for
    for drug in ctx.drugs:
        loop = drug.drug
        if loop is None or drug.qualifier != "N4":
            continue
        ndc = drug.ndc if drug.ndc.isdigit() else _eleven(drug.ndc)
        if len(ndc) != 11:
            continue
        entries = crosswalk_for(ndc)
        if not entries:
            table = ctx.rulebook.data.table("crosswalk")
            out.append(Hit("NDC_NOT_IN_CROSSWALK", drug.line, loop.lin, "LIN03", values={
                "ndc": ndc, "crosswalk_source": table.label if table is not None
                else "the loaded crosswalk"}))
            continue
        if len(entries) == 1 and entries[0].hcpcs == drug.code:
            continue  # the usual NDC: one crosswalk row, for the line's code
        codes = sorted({e.hcpcs for e in entries})
        if drug.code not in codes:
            out.append(Hit("NDC_HCPCS_MISMATCH", drug.line, loop.lin, "LIN03",
                           values={"ndc": ndc, "expected_code": " or ".join(codes),
                                   "drug_name": entries[0].drug_name.strip()}))
    return out


EDITS = (ndc_present, ndc_form, ndc_matches_code)
