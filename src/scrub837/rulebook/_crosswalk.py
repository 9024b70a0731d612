"""The CMS ASP NDC-HCPCS crosswalk, as CMS publishes it.

About eight banner rows, then a header found by its column names: the HCPCS column is
``_YYYY_CODE`` (``_2025_CODE``), ``HCPCS Code`` or ``HCPCS Level II Code``; the NDC column
``NDC2``, ``NDC`` or ``11-Digit NDC or Alternate ID``; the rest by their short or long names.
Every row is kept: a row whose NDC column holds no usable NDC (an alternate ID such as
``888867413689`` or ``GG100``, a bare 10-digit number) is kept as an *alternate id* row, never
matched as an NDC, and counted. A malformed row (bad number, bad HCPCS code) fails with file
and line. The banner's "Effective October 1, 2025 through December 31, 2025" gives the period.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from scrub837.rulebook._csvio import MAX_PREAMBLE, decoded, norm, number
from scrub837.rulebook._errors import RulePackError
from scrub837.rulebook._model import CrosswalkEntry

#: the columns of a crosswalk row as the dataset stores them (ndc11 empty: an alternate id)
COLUMNS = ("code", "ndc2", "ndc11", "labeler", "drug", "dosage", "size", "qty", "bu", "bupkg")
_EFFECTIVE = re.compile(r"Effective\s+(?P<start>[A-Z][a-z]+ [0-9]{1,2}, [0-9]{4})\s+through\s+"
                        r"(?P<end>[A-Z][a-z]+ [0-9]{1,2}, [0-9]{4})")


def effective_period(cells: list[str]) -> tuple[date, date] | None:
    """The banner's "Effective October 1, 2025 through December 31, 2025", if in ``cells``."""
    for cell in cells:
        m = _EFFECTIVE.search(" ".join(cell.split()))
        if m is not None:
            try:
                return (datetime.strptime(m.group("start"), "%B %d, %Y").date(),
                        datetime.strptime(m.group("end"), "%B %d, %Y").date())
            except ValueError:
                return None
    return None

_YEAR_CODE = re.compile(r"_[0-9]{4}_CODE")
_CODE = re.compile(r"[A-Z0-9][0-9A-Z]{4}")  # HCPCS Level II (J9262) or CPT (90375)
_NDC_SHAPES = {(5, 4, 2), (4, 4, 2), (5, 3, 2), (5, 4, 1)}
_COLUMNS = {
    "ndc": ("NDC2", "NDC", "11-DIGITNDCORALTERNATEID", "NDCORALTERNATEID"),
    "labeler": ("LABELERNAME",),
    "drug": ("DRUGNAME",),
    "dosage": ("HCPCSDOSAGE", "CODEDOSAGEDESCRIPTOR", "HCPCSCODEDOSAGE"),
    "size": ("PKGSIZE", "PACKAGESIZE"),
    "qty": ("PKGQTY", "PACKAGEQUANTITY"),
    "bu": ("BILLUNITS", "BILLABLEUNITS"),
    "bupkg": ("BILLUNITSPKG", "BILLABLEUNITSPERPACKAGE"),
}
_NAMES = {"size": "PKG SIZE", "qty": "PKG QTY", "bu": "BILLUNITS", "bupkg": "BILLUNITSPKG"}
_ALL = ("hcpcs", *_COLUMNS)


def ndc11(text: str) -> str | None:
    """The 11-digit billing form of an NDC: 5-4-2 hyphenated (the crosswalk's form) or 11 bare
    digits as they are; the 10-digit hyphenated shapes 4-4-2, 5-3-2, 5-4-1 zero-padded (they are
    unambiguous). None for anything else: alternate IDs, bare 10 digits (ambiguous)."""
    text = text.strip()
    if len(text) == 11 and text.isascii() and text.isdigit():
        return text
    parts = text.split("-")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    if tuple(len(p) for p in parts) not in _NDC_SHAPES:
        return None
    return parts[0].zfill(5) + parts[1].zfill(4) + parts[2].zfill(2)


@dataclass(frozen=True, slots=True)
class CrosswalkTable:
    entries: Mapping[str, tuple[CrosswalkEntry, ...]]  # NDC (11 digits) -> rows
    alternates: tuple[CrosswalkEntry, ...]  # rows whose NDC2 is an alternate id
    records: tuple[tuple[str, ...], ...]  # every row, as :data:`COLUMNS`
    period: tuple[date, date] | None  # from the banner

    @property
    def skipped(self) -> int:
        """Rows never matched as an NDC (kept as alternate ids)."""
        return len(self.alternates)


def entry_of(rec: tuple[str, ...]) -> CrosswalkEntry:
    """A :class:`CrosswalkEntry` from a stored row (numbers already checked)."""
    def dec(text: str) -> Decimal | None:
        return Decimal(text) if text else None
    return CrosswalkEntry(hcpcs=rec[0], ndc11=rec[2], labeler=rec[3], drug_name=rec[4],
                          hcpcs_dosage=rec[5], pkg_size=dec(rec[6]), pkg_qty=dec(rec[7]),
                          bill_units=dec(rec[8]), bill_units_pkg=dec(rec[9]),
                          alternate_id="" if rec[2] else rec[1])


def _columns(header: list[str]) -> dict[str, int]:
    cells = [norm(c) for c in header]
    found: dict[str, int] = {}
    for i, cell in enumerate(cells):
        if "hcpcs" not in found and (_YEAR_CODE.fullmatch(cell) or cell in (
                "HCPCSCODE", "HCPCSLEVELIICODE")):
            found["hcpcs"] = i
    for key, names in _COLUMNS.items():
        for name in names:
            if name in cells:
                found[key] = cells.index(name)
                break
    return found


def _parse(shown: str, rows: Iterator[tuple[int, list[str]]]) -> CrosswalkTable:
    col: dict[str, int] = {}
    period = None
    for line, row in rows:
        period = period or effective_period(row)
        col = _columns(row)
        if "hcpcs" in col and "ndc" in col:
            break
        if line >= MAX_PREAMBLE:
            col = {}
            break
    if "hcpcs" not in col or "ndc" not in col:
        raise RulePackError(shown, "", "no crosswalk header row (a HCPCS code column such as "
                            "_2025_CODE or 'HCPCS Code', and an NDC column such as NDC2) in the "
                            f"first {MAX_PREAMBLE} lines")
    out: dict[str, list[CrosswalkEntry]] = {}
    alternates: list[CrosswalkEntry] = []
    records: list[tuple[str, ...]] = []
    for line, row in rows:
        if not any(c.strip() for c in row):
            continue
        cell = {k: row[col[k]].strip() if k in col and col[k] < len(row) else ""
                for k in _ALL}
        code = cell["hcpcs"].upper()
        if not _CODE.fullmatch(code):
            raise RulePackError(shown, "", f"HCPCS column: {code[:40]!r} is not a HCPCS or CPT "
                                "code", line=line)
        numbers = {k: number(shown, line, name, cell[k]) for k, name in _NAMES.items()}
        ndc = ndc11(cell["ndc"]) or ""
        rec = (code, " ".join(cell["ndc"].split()), ndc, " ".join(cell["labeler"].split()),
               " ".join(cell["drug"].split()), " ".join(cell["dosage"].split()),
               *("" if numbers[k] is None else format(numbers[k], "f")
                 for k in ("size", "qty", "bu", "bupkg")))
        records.append(rec)
        entry = entry_of(rec)
        if ndc:
            out.setdefault(ndc, []).append(entry)
        else:
            alternates.append(entry)
    return CrosswalkTable({k: tuple(v) for k, v in out.items()}, tuple(alternates),
                          tuple(records), period)


def read_crosswalk(path: Path, shown: str | None = None) -> CrosswalkTable:
    """The whole crosswalk with the count of skipped (no usable NDC) rows."""
    name = shown if shown is not None else str(path)
    return decoded(path, name, lambda rows: _parse(name, rows))


def load_crosswalk(path: Path) -> Mapping[str, tuple[CrosswalkEntry, ...]]:
    """NDC (11 digits, no hyphens) -> the crosswalk rows for it."""
    return read_crosswalk(path).entries
