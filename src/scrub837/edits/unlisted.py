"""Unlisted (NOC) drug codes: SV101-7/SV202-7 must name the drug, its NDC and the dose given;
the line must carry the NDC in loop 2410."""

from __future__ import annotations

import re

from scrub837.claims.model import Claim
from scrub837.edits._engine import EditContext, Hit, line_local

_NDC = re.compile(r"(?<!\d)(\d{11}|\d{4,5}-\d{3,4}-\d{1,2})(?!\d)")
# A dose as people write it: "50MG", "0.9 %", "0.9%see NDC#", "1,000 UNITS", "5MG/ML", "10MGNDC".
# A percent needs nothing after it; a unit word must not run on into another word, except the
# "see"/"NDC" that so often follows without a space.
_UNIT = r"(?:MG|MCG|G|GM|ML|L|UNITS?|IU|MEQ|MMOL)"
_DOSE = re.compile(r"(?<![A-Z0-9.])\d+(?:,\d{3})*(?:\.\d+)?\s?"
                   rf"(?:%|{_UNIT}(?![A-Z])|{_UNIT}(?=SEE|NDC))", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]{3,}")
_NOT_NAMES = {"MG", "MCG", "ML", "UNIT", "UNITS", "NDC", "DOSE", "INJ", "INJECTION", "VIAL",
              "PER", "AND", "THE", "IU", "MEQ", "MMOL", "GM", "SEE"}


def missing_parts(description: str, ndc_in_2410: bool = False) -> list[str]:
    """What an unlisted drug's description lacks; ``ndc_in_2410``: the line's 2410 LIN carries
    the NDC, so the description need not repeat it ("see NDC")."""
    missing = []
    text_wo_ndc = _NDC.sub(" ", description)
    if not any(w.upper() not in _NOT_NAMES for w in _WORD.findall(text_wo_ndc)):
        missing.append("drug name")
    if not ndc_in_2410 and not _NDC.search(description):
        missing.append("NDC")
    if not _DOSE.search(text_wo_ndc):
        missing.append("dose given (amount and unit, e.g. 50 MG)")
    return missing


@line_local
def unlisted_drug(claim: Claim, ctx: EditContext) -> list[Hit]:
    out: list[Hit] = []
    for drug in ctx.drugs:
        rule = drug.rule
        if rule is None or not rule.unlisted:
            continue
        line = drug.line
        element = "SV202-7" if drug.institutional else "SV101-7"
        missing = missing_parts(line.description,
                                ndc_in_2410=drug.drug is not None and bool(drug.ndc))
        if missing:
            out.append(Hit("NOC_DESCRIPTION_MISSING", line, element=element,
                           values={"missing": ", ".join(missing)}))
        if drug.drug is None:
            out.append(Hit("NOC_NDC_MISSING", line))
    return out


EDITS = (unlisted_drug,)
