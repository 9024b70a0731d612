"""Payer rules: prior authorization (REF*G1) and place-of-service limits from the overlay."""

from __future__ import annotations

from scrub837.claims.model import Claim
from scrub837.edits._engine import EditContext, Hit, drug_lines_only


@drug_lines_only
def prior_authorization(claim: Claim, ctx: EditContext) -> list[Hit]:
    out: list[Hit] = []
    needs = ctx.overlay.prior_auth
    if not needs:
        return out
    claim_auth: bool | None = None  # the claim's REF*G1, read for a line that needs one
    for drug in ctx.drugs:
        if drug.code not in needs:  # the usual line
            continue
        if claim_auth is None:
            claim_auth = any(ref.get(2) for ref in claim.prior_auth)
        if claim_auth:  # authorises every line
            break
        line = drug.line
        if not any(r.get(2) for r in line.prior_auth):
            out.append(Hit("AUTH_MISSING", line, values={"payer": ctx.overlay.name}))
    return out


@drug_lines_only
def place_of_service(claim: Claim, ctx: EditContext) -> list[Hit]:
    out: list[Hit] = []
    limits = ctx.overlay.pos_allowed
    if not limits:
        return out
    for drug in ctx.drugs:
        allowed = limits.get(drug.code)
        if not allowed:
            continue
        line = drug.line
        pos = line.place_of_service or claim.facility_code
        if pos not in allowed:
            out.append(Hit("PAYER_POS_NOT_ALLOWED", line,
                           element="SV105" if line.place_of_service else "CLM05-1",
                           values={"pos": pos[:4], "allowed": ", ".join(sorted(allowed)),
                                   "payer": ctx.overlay.name}))
    return out


EDITS = (prior_authorization, place_of_service)
