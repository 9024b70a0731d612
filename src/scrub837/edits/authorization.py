"""Payer rules: prior authorization (REF*G1) and place-of-service limits from the overlay."""

from __future__ import annotations

from collections.abc import Iterator

from scrub837.claims.model import Claim
from scrub837.edits._engine import EditContext, Hit, drug_lines_only


@drug_lines_only
def prior_authorization(claim: Claim, ctx: EditContext) -> Iterator[Hit]:
    needs = ctx.overlay.prior_auth
    if not needs:
        return
    claim_auth = any(ref.get(2) for ref in claim.prior_auth)
    for line in ctx.drug_lines:
        if line.code in needs and not claim_auth and not any(r.get(2) for r in line.prior_auth):
            yield Hit("AUTH_MISSING", line, values={"payer": ctx.overlay.name})


@drug_lines_only
def place_of_service(claim: Claim, ctx: EditContext) -> Iterator[Hit]:
    limits = ctx.overlay.pos_allowed
    if not limits:
        return
    for line in ctx.drug_lines:
        allowed = limits.get(line.code)
        if not allowed:
            continue
        pos = line.place_of_service or claim.facility_code
        if pos not in allowed:
            yield Hit("PAYER_POS_NOT_ALLOWED", line,
                      element="SV105" if line.place_of_service else "CLM05-1",
                      values={"pos": pos[:4], "allowed": ", ".join(sorted(allowed)),
                              "payer": ctx.overlay.name})


EDITS = (prior_authorization, place_of_service)
