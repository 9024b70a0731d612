"""The 277CA's per-provider totals and a rejected claim's 2220D line loops (the writer is
:mod:`scrub837.outputs.ack277`)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from scrub837.claims.model import ServiceLine
from scrub837.edits._util import ccyymmdd
from scrub837.findings import Finding
from scrub837.outputs._ack277_text import _charge, _composites, _stc, clean
from scrub837.verdicts.results import ClaimResult


def provider_key(c: ClaimResult) -> tuple[str, int]:
    return (c.claim.provider.hl_id, c.claim.provider.hl.ordinal)


class Totals:
    """One billing provider's counts and amounts in a transaction (for its 2200C)."""

    __slots__ = ("acc", "rej", "acc_amt", "rej_amt")

    def __init__(self) -> None:
        self.acc = self.rej = 0
        self.acc_amt = self.rej_amt = Decimal(0)

    def add(self, c: ClaimResult) -> None:
        if c.rejected:
            self.rej += 1
            self.rej_amt += c.charge
        else:
            self.acc += 1
            self.acc_amt += c.charge


def totals_of(claims: Iterable[ClaimResult]) -> Totals:
    totals = Totals()
    for c in claims:
        totals.add(c)
    return totals


def line_loop(line: ServiceLine, findings: list[Finding], ymd: str) -> list[str]:
    """A rejecting line's 2220D loop: SVC, STC, REF*FJ, REF*XZ, DTP*472 (``findings``: the
    line's rejecting findings)."""
    code = clean(line.code, 48)
    revenue = clean(line.revenue_code, 48)
    if code:
        comp = ":".join([clean(line.qualifier, 2) or "HC", code,
                         *(clean(m, 2) for m in line.modifiers)])
    else:  # an 837I line with a revenue code only: SVC01 NU (National Uniform Billing)
        comp = f"NU:{revenue or 'UNKNOWN'}"
    parts = ["SVC", comp, _charge(line.charge)]
    if code and revenue:
        parts += ["", revenue]
    units = clean(line.units, 15)
    if units:
        parts += [""] * (7 - len(parts)) + [units]
    segs = ["*".join(parts),
            _stc(_composites(findings)[:3], ymd, "U", "").rstrip("*")]
    control = line.line_control
    if control:
        segs.append(f"REF*FJ*{clean(control, 50)}")
    drug = line.drug
    if drug is not None:
        prescription = drug.prescription
        if prescription:
            segs.append(f"REF*XZ*{clean(prescription, 50)}")
    date = line.service_date
    if ccyymmdd(date) is not None:
        segs.append(f"DTP*472*D8*{date}")
    return segs
