"""Dates of service outside the periods of the CMS tables a drug line was checked against
(runs last, so its warning follows the claim's other findings)."""

from __future__ import annotations

from collections.abc import Iterator

from scrub837.claims.model import Claim
from scrub837.edits._engine import EditContext, Hit
from scrub837.edits._util import line_date


def dates_in_data_period(claim: Claim, ctx: EditContext) -> Iterator[Hit]:
    """One warning per claim naming the tables whose period a drug line's date falls outside:
    the HCPCS file for a later date (earlier dates are answered by its add/termination dates),
    the crosswalk for a line with an NDC, the MUE table of the claim's setting."""
    data = ctx.rulebook.data
    mue = data.table("mue_outpatient" if ctx.kind == "I" else "mue_practitioner")
    hcpcs, crosswalk = data.table("hcpcs"), data.table("crosswalk")
    for line in ctx.drug_lines:
        dos = line_date(line)
        if dos is None:
            continue
        outside: list[str] = []
        if hcpcs is not None and hcpcs.end is not None and dos > hcpcs.end:
            outside.append(hcpcs.label)
        if crosswalk is not None and line.drug is not None and not crosswalk.covers(dos):
            outside.append(crosswalk.label)
        if mue is not None and not mue.covers(dos):
            outside.append(mue.label)
        if outside:
            yield Hit("DATA_PERIOD", line, element="DTP03" if line.dtp_472 else "",
                      segment=line.dtp_472,
                      values={"dos": dos.isoformat(), "tables": "; ".join(outside)})
            return


EDITS = (dates_in_data_period,)
