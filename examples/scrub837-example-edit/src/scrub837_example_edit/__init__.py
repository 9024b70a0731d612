"""An example scrub837 edit plugin: drug lines billed at zero charge."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation

from scrub837.claims import Claim
from scrub837.edits import EditContext, Hit
from scrub837.findings import Severity, Stc
from scrub837.rulebook import EditDef


class ZeroChargeEdit:
    """Satisfies scrub837.edits.Edit: a name, its rule definitions, and __call__."""

    name = "example.zero_charge"
    definitions: Mapping[str, EditDef] = {
        "EXAMPLE_ZERO_CHARGE": EditDef(
            rule_id="EXAMPLE_ZERO_CHARGE",
            severity=Severity.WARN,
            stc=(Stc("A7", "583"),),
            title="Drug line billed at zero",
            message="{code}: the line charge is zero",
            fix="bill the drug's charge, or remove the line",
            source="scrub837-example-edit",
            example="SV1*HC:J2260*0*UN*4***1~",
        )
    }

    def __call__(self, claim: Claim, ctx: EditContext) -> Iterator[Hit]:
        for line in ctx.drug_lines:
            try:
                zero = Decimal(line.charge or "0") == 0
            except InvalidOperation:
                continue
            if zero:
                yield Hit("EXAMPLE_ZERO_CHARGE", line,
                          element="SV203" if line.is_institutional else "SV102")
