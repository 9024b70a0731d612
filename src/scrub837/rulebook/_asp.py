"""The CMS ASP pricing file (payment allowance limits for Medicare Part B drugs), as published.

Banner rows ("Payment Allowance Limits for Medicare Part B Drugs", "Effective October 1, 2025
through December 31, 2025", notes), then the header found by name: ``HCPCS Code``, ``Short
Description``, ``HCPCS Code Dosage``, ``Payment Limit``. A malformed row fails with file and
line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from scrub837.rulebook._crosswalk import effective_period
from scrub837.rulebook._csvio import MAX_PREAMBLE, decoded, norm, number
from scrub837.rulebook._errors import RulePackError

#: the columns of a pricing row as the dataset stores them
COLUMNS = ("code", "short", "dosage", "payment_limit")
_CODE = re.compile(r"[A-Z0-9][0-9A-Z]{4}")


@dataclass(frozen=True, slots=True)
class PricingTable:
    records: dict[str, tuple[str, ...]]  # code -> COLUMNS
    period: tuple[date, date] | None


def _parse(shown: str, rows: Iterator[tuple[int, list[str]]]) -> PricingTable:
    col: dict[str, int] = {}
    period = None
    for line, row in rows:
        period = period or effective_period(row)
        cells = [norm(c) for c in row]
        if "HCPCSCODE" in cells and "HCPCSCODEDOSAGE" in cells and "PAYMENTLIMIT" in cells:
            col = {"code": cells.index("HCPCSCODE"), "dosage": cells.index("HCPCSCODEDOSAGE"),
                   "limit": cells.index("PAYMENTLIMIT")}
            if "SHORTDESCRIPTION" in cells:
                col["short"] = cells.index("SHORTDESCRIPTION")
            break
        if line >= MAX_PREAMBLE:
            break
    if not col:
        raise RulePackError(shown, "", "no ASP pricing header row ('HCPCS Code', 'HCPCS Code "
                            f"Dosage', 'Payment Limit') in the first {MAX_PREAMBLE} lines")
    out: dict[str, tuple[str, ...]] = {}
    for line, row in rows:
        if not any(c.strip() for c in row):
            continue
        cell = {k: " ".join(row[i].split()) if i < len(row) else "" for k, i in col.items()}
        code = cell["code"].upper()
        if not _CODE.fullmatch(code):
            raise RulePackError(shown, "", f"HCPCS Code: {code[:40]!r} is not a HCPCS or CPT "
                                "code", line=line)
        # "N/A": CMS prices the code another way (its Notes column says how)
        limit = None if cell["limit"].upper() == "N/A" else number(
            shown, line, "Payment Limit", cell["limit"])
        if code in out:
            raise RulePackError(shown, "", f"{code} has a second row", line=line)
        out[code] = (code, cell.get("short", ""), cell["dosage"],
                     "" if limit is None else format(limit, "f"))
    return PricingTable(out, period)


def read_pricing(path: Path, shown: str | None = None) -> PricingTable:
    """HCPCS code -> (code, short description, HCPCS Code Dosage, payment limit)."""
    name = shown if shown is not None else str(path)
    return decoded(path, name, lambda rows: _parse(name, rows))
