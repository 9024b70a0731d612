"""Dates of service outside the periods of the CMS tables a drug line was checked against
(runs last, so its warning follows the claim's other findings)."""

from __future__ import annotations

from datetime import date

from scrub837._memo import IdentityMemo
from scrub837.claims.model import Claim
from scrub837.edits._engine import EditContext, Hit, drug_lines_only
from scrub837.rulebook import Dataset

#: per dataset (by identity), the tables a date falls outside of, by (kind, date, has NDC)
_outside: IdentityMemo[Dataset, dict[tuple[str, date, bool], str]] = IdentityMemo(8)


def _tables_outside(data: Dataset, kind: str, dos: date, with_ndc: bool) -> str:
    """The tables (``; ``-joined labels) whose period ``dos`` is outside of, or ''."""
    mue = data.table("mue_outpatient" if kind == "I" else "mue_practitioner")
    hcpcs, crosswalk = data.table("hcpcs"), data.table("crosswalk")
    outside: list[str] = []
    if hcpcs is not None and hcpcs.end is not None and dos > hcpcs.end:
        outside.append(hcpcs.label)
    if crosswalk is not None and with_ndc and not crosswalk.covers(dos):
        outside.append(crosswalk.label)
    if mue is not None and not mue.covers(dos):
        outside.append(mue.label)
    return "; ".join(outside)


@drug_lines_only
def dates_in_data_period(claim: Claim, ctx: EditContext) -> list[Hit]:
    """One warning per claim naming the tables whose period a drug line's date falls outside:
    the HCPCS file for a later date (earlier dates are answered by its add/termination dates),
    the crosswalk for a line with an NDC, the MUE table of the claim's setting."""
    data = ctx.rulebook.data
    memo = _outside.get(data)
    if memo is None:
        memo = {}
        _outside.put(data, memo)
    kind = ctx.kind
    for drug in ctx.drugs:
        dos = drug.dos
        if dos is None:
            continue
        key = (kind, dos, drug.drug is not None)
        tables = memo.get(key)
        if tables is None:
            tables = _tables_outside(data, kind, dos, key[2])
            if len(memo) >= 1024:
                memo.clear()
            memo[key] = tables
        if tables:
            dtp = drug.line.dtp_472
            return [Hit("DATA_PERIOD", drug.line, element="DTP03" if dtp else "", segment=dtp,
                        values={"dos": dos.isoformat(), "tables": tables})]
    return []


EDITS = (dates_in_data_period,)
