"""An example scrub837 edit plugin: J-code (drug) lines billed at zero charge.

An edit satisfies :class:`scrub837.edits.Edit`: a ``name``; ``definitions``, the
:class:`~scrub837.rulebook.EditDef` of every rule id it can emit (severity, 277CA STC codes,
message and fix templates); and ``__call__(claim, ctx)`` yielding :class:`~scrub837.edits.Hit`
values. The engine turns each hit into a ``Finding`` with its full location (file, envelope,
CLM01, LX, segment ordinal, byte span, loop path) and folds it into the claim's verdict.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation

from scrub837.claims.model import Claim
from scrub837.edits import EditContext, Hit
from scrub837.findings import Severity, Stc
from scrub837.rulebook import EditDef

RULE_ID = "EXAMPLE_ZERO_CHARGE"


class ExampleEdit:
    """Flags drug lines whose line charge (SV102 on 837P, SV203 on 837I) is zero."""

    name = "example.zero_charge"
    definitions: Mapping[str, EditDef] = {
        RULE_ID: EditDef(
            rule_id=RULE_ID,
            severity=Severity.WARN,
            stc=(Stc("A7", "583"),),  # A7 acknowledgement/rejected; 583 line item charge amount
            title="Drug line billed at zero",
            message="{code}: the line charge is zero",
            fix="bill the drug's charge, or remove the line",
            source="scrub837-example-edit",
            example="SV1*HC:J2260*0*UN*4***1~",
        )
    }

    def __call__(self, claim: Claim, ctx: EditContext) -> Iterator[Hit]:
        for line in ctx.drug_lines:  # the J-code lines (the pack's drug-code prefixes)
            try:
                zero = Decimal(line.charge or "0") == 0
            except InvalidOperation:
                continue  # a malformed amount is the built-in edits' business
            if zero:
                yield Hit(RULE_ID, line, element="SV203" if line.is_institutional else "SV102")
