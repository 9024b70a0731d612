"""The CMS ASP NDC-HCPCS crosswalk, as CMS publishes it.

About eight banner rows, then a header found by its column names: the HCPCS column is
``_YYYY_CODE`` (``_2025_CODE``), ``HCPCS Code`` or ``HCPCS Level II Code``; the NDC column
``NDC2``, ``NDC`` or ``11-Digit NDC or Alternate ID``; the rest by their short or long names.
Rows whose NDC column holds no usable NDC (an alternate ID, a bare 10-digit number) are
skipped and counted; a malformed row (bad number, bad HCPCS code) fails with file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from scrub837.rulebook._csvio import MAX_PREAMBLE, decoded, norm, number
from scrub837.rulebook._errors import RulePackError
from scrub837.rulebook._model import CrosswalkEntry

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
    skipped: int  # rows without a usable NDC


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
    for line, row in rows:
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
    skipped = 0
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
        ndc = ndc11(cell["ndc"])
        if ndc is None:
            skipped += 1
            continue
        out.setdefault(ndc, []).append(CrosswalkEntry(
            hcpcs=code, ndc11=ndc, labeler=cell["labeler"], drug_name=cell["drug"],
            hcpcs_dosage=cell["dosage"], pkg_size=numbers["size"], pkg_qty=numbers["qty"],
            bill_units=numbers["bu"], bill_units_pkg=numbers["bupkg"]))
    return CrosswalkTable({k: tuple(v) for k, v in out.items()}, skipped)


def read_crosswalk(path: Path, shown: str | None = None) -> CrosswalkTable:
    """The whole crosswalk with the count of skipped (no usable NDC) rows."""
    name = shown if shown is not None else str(path)
    return decoded(path, name, lambda rows: _parse(name, rows))


def load_crosswalk(path: Path) -> Mapping[str, tuple[CrosswalkEntry, ...]]:
    """NDC (11 digits, no hyphens) -> the crosswalk rows for it."""
    return read_crosswalk(path).entries
