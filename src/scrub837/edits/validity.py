"""Code validity: the HCPCS code exists in the pack and is valid on the date of service."""

from __future__ import annotations

from collections.abc import Iterator

from scrub837.claims import Claim
from scrub837.edits._engine import EditContext, Hit
from scrub837.edits._util import line_date


def code_valid_for_date(claim: Claim, ctx: EditContext) -> Iterator[Hit]:
    for line in ctx.drug_lines:
        rule = ctx.rule(line.code)
        if rule is None:
            yield Hit("CODE_UNKNOWN", line, element="SV202-2" if line.is_institutional
                      else "SV101-2")
            continue
        dos = line_date(line)
        if dos is None:
            continue
        starts, ends = rule.effective, rule.terminated
        if (starts is not None and dos < starts) or (ends is not None and dos > ends):
            yield Hit("CODE_NOT_EFFECTIVE", line,
                      element="SV202-2" if line.is_institutional else "SV101-2",
                      values={"dos": dos.isoformat(),
                              "effective": starts.isoformat() if starts else "",
                              "terminated": ends.isoformat() if ends else "",
                              "replacements_text": f"; use {' or '.join(rule.replaced_by)}"
                              if rule.replaced_by else ""})


EDITS = (code_valid_for_date,)
