"""The CMS NCCI MUE tables (practitioner, outpatient hospital, DME supplier), as CMS publishes them.

A first row with the AMA copyright notice in one multi-line cell, then the header
``"HCPCS/\\nCPT Code"`` (a line break inside the quoted cell; extracts spell it
``HCPCS/CPT Code``), ``Practitioner Services MUE Values``, ``Outpatient Hospital Services MUE
Values`` or ``DME Supplier Services MUE Values``, ``MUE Adjudication Indicator`` ("3 Date of Service Edit: Clinical": the MAI is the
leading digit) and ``MUE Rationale``. The period is in the name CMS gives the file
(``MCR_MUE_PractitionerServices_Eff_04-01-2026.csv``: effective 2026-04-01, for the quarter).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path

from scrub837.rulebook._csvio import MAX_PREAMBLE, decoded, norm
from scrub837.rulebook._errors import RulePackError
from scrub837.rulebook._model import MueEntry

_KINDS = {"PRACTITIONERSERVICESMUEVALUES": "practitioner",
          "OUTPATIENTHOSPITALSERVICESMUEVALUES": "outpatient",
          "DMESUPPLIERSERVICESMUEVALUES": "dme"}
#: how each table is named in findings
TITLES = {"practitioner": "CMS NCCI MUE Practitioner Services",
          "outpatient": "CMS NCCI MUE Outpatient Hospital Services",
          "dme": "CMS NCCI MUE DME Supplier Services"}
_EFF = re.compile(r"Eff_(?P<m>[0-9]{2})-(?P<d>[0-9]{2})-(?P<y>[0-9]{4})", re.IGNORECASE)


def mue_period(name: str) -> tuple[date, date] | None:
    """(effective date, end of its quarter) from CMS's file name, or None."""
    m = _EFF.search(name)
    if m is None:
        return None
    try:
        start = date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
    except ValueError:
        return None
    last = ((start.month - 1) // 3) * 3 + 3
    return start, date(start.year, last, 31 if last in (3, 12) else 30)


def _header(row: list[str]) -> tuple[str, dict[str, int]] | None:
    cells = [norm(c) for c in row]
    if "HCPCS/CPTCODE" not in cells:
        return None
    col = {"code": cells.index("HCPCS/CPTCODE")}
    kind = ""
    for i, cell in enumerate(cells):
        if cell in _KINDS:
            kind, col["value"] = _KINDS[cell], i
        elif cell == "MUEADJUDICATIONINDICATOR":
            col["mai"] = i
        elif cell == "MUERATIONALE":
            col["rationale"] = i
    return kind, col


def _parse(shown: str, rows: Iterator[tuple[int, list[str]]]) -> tuple[str, dict[str, MueEntry]]:
    found = None
    for line, row in rows:
        found = _header(row)
        if found is not None:
            kind, col = found
            if not kind:
                raise RulePackError(shown, "", "the MUE header has no 'Practitioner Services "
                                    "MUE Values', 'Outpatient Hospital Services MUE Values' or "
                                    "'DME Supplier Services MUE Values' column", line=line)
            if "mai" not in col:
                raise RulePackError(shown, "", "the MUE header has no 'MUE Adjudication "
                                    "Indicator' column", line=line)
            break
        if line >= MAX_PREAMBLE:
            break
    if found is None:
        raise RulePackError(shown, "", "no MUE header row ('HCPCS/CPT Code', 'Practitioner "
                            "Services MUE Values' or 'Outpatient Hospital Services MUE Values') "
                            f"in the first {MAX_PREAMBLE} lines")
    out: dict[str, MueEntry] = {}
    for line, row in rows:
        if not any(c.strip() for c in row):
            continue
        cells = {k: row[i].strip() if i < len(row) else "" for k, i in col.items()}
        code, value, mai = cells["code"].upper(), cells["value"], cells["mai"]
        if not (len(code) == 5 and code.isascii() and code.isalnum()):
            raise RulePackError(shown, "", f"{code[:40]!r} is not a HCPCS or CPT code",
                                line=line)
        if not (value.isascii() and value.isdigit()):
            raise RulePackError(shown, "", f"MUE value {value[:40]!r} for {code} is not a whole "
                                "number", line=line)
        if mai[:1] not in ("1", "2", "3") or mai[1:2].isdigit():
            raise RulePackError(shown, "", f"MUE adjudication indicator {mai[:40]!r} for {code} "
                                "does not start with 1, 2 or 3", line=line)
        if code in out:
            raise RulePackError(shown, "", f"{code} has a second row", line=line)
        out[code] = MueEntry(code, int(value), int(mai[0]), cells.get("rationale", ""))
    return kind, out


def load_mue(path: Path, shown: str | None = None) -> tuple[str, Mapping[str, MueEntry]]:
    """(``"practitioner"``, ``"outpatient"`` or ``"dme"``, HCPCS code -> MUE row) from a CMS
    MUE CSV."""
    name = shown if shown is not None else str(path)
    return decoded(path, name, lambda rows: _parse(name, rows))
