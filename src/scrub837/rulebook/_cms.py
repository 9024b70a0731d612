"""CMS files as CMS publishes them: the ASP NDC-HCPCS crosswalk and the NCCI MUE tables.

Both are CSV with preamble rows before the header (the crosswalk's banner; the MUE's multi-line
AMA copyright cell), Windows-1252 or UTF-8. The header row is found by its column names.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path

from scrub837.rulebook._errors import RulePackError
from scrub837.rulebook._model import CrosswalkEntry, MueEntry

_MAX_PREAMBLE = 40


def _text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RulePackError(str(path), "", f"cannot read: {exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number where the row starts, cells) for every CSV row."""
    text = _text(path)
    stream = io.StringIO(text, newline="")
    reader = csv.reader(stream)
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise RulePackError(str(path), f"line {line}", f"not valid CSV: {exc}") from None
        yield line, row


def _norm(cell: str) -> str:
    return " ".join(cell.replace("\n", " ").split()).upper()


def _find(header: list[str], *names: str, prefix: str = "") -> int | None:
    cells = [_norm(c) for c in header]
    for name in names:
        if name in cells:
            return cells.index(name)
    if prefix:
        for i, c in enumerate(cells):
            if c.startswith(prefix) and c.endswith("_CODE"):
                return i
    return None


def ndc11(text: str) -> str | None:
    """11-digit NDC from the crosswalk's 5-4-2 hyphenated form (or 11 digits); None otherwise."""
    text = text.strip()
    parts = text.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        a, b, c = parts
        if (len(a), len(b), len(c)) in ((5, 4, 2), (4, 4, 2), (5, 3, 2), (5, 4, 1)):
            return a.zfill(5) + b.zfill(4) + c.zfill(2)
        return None
    return text if len(text) == 11 and text.isdigit() else None


def _dec(path: Path, line: int, column: str, cell: str) -> Decimal | None:
    cell = cell.strip().replace(",", "")
    if not cell:
        return None
    try:
        value = Decimal(cell)
    except InvalidOperation:
        raise RulePackError(str(path), f"line {line}", f"column {column}: {cell!r} is not a "
                            "number") from None
    if not value.is_finite() or value < 0:
        raise RulePackError(str(path), f"line {line}", f"column {column}: {cell!r} is not a "
                            "number >= 0")
    return value


def load_crosswalk(path: Path) -> Mapping[str, tuple[CrosswalkEntry, ...]]:
    """NDC (11 digits) -> crosswalk rows. Rows whose NDC is an alternate ID (not an NDC) are
    skipped; a malformed number fails with the file and line."""
    rows = _rows(path)
    header: list[str] | None = None
    for line, row in rows:
        if _find(row, "NDC2", "NDC", "11-DIGIT NDC OR ALTERNATE ID") is not None and (
                _find(row, "HCPCS CODE", "HCPCS LEVEL II CODE", prefix="_") is not None):
            header = row
            break
        if line > _MAX_PREAMBLE:
            break
    if header is None:
        raise RulePackError(str(path), "header", "no crosswalk header row (HCPCS code and NDC "
                            f"columns) in the first {_MAX_PREAMBLE} lines")
    col = {
        "hcpcs": _find(header, "HCPCS CODE", "HCPCS LEVEL II CODE", prefix="_"),
        "ndc": _find(header, "NDC2", "NDC", "11-DIGIT NDC OR ALTERNATE ID"),
        "labeler": _find(header, "LABELER NAME"),
        "drug": _find(header, "DRUG NAME"),
        "dosage": _find(header, "HCPCS DOSAGE", "CODE DOSAGE DESCRIPTOR"),
        "size": _find(header, "PKG SIZE", "PACKAGE SIZE"),
        "qty": _find(header, "PKG QTY", "PACKAGE QUANTITY"),
        "bu": _find(header, "BILLUNITS", "BILLABLE UNITS"),
        "bupkg": _find(header, "BILLUNITSPKG", "BILLABLE UNITS PER PACKAGE"),
    }
    width = max(i for i in col.values() if i is not None) + 1
    out: dict[str, list[CrosswalkEntry]] = {}

    def cell(row: list[str], key: str) -> str:
        i = col[key]
        return row[i] if i is not None and i < len(row) else ""

    for line, row in rows:
        if not any(c.strip() for c in row):
            continue
        if len(row) < min(width, 2):
            raise RulePackError(str(path), f"line {line}", f"{len(row)} columns, expected {width}")
        code = cell(row, "hcpcs").strip().upper()
        ndc = ndc11(cell(row, "ndc"))
        if not code or ndc is None:
            continue
        entry = CrosswalkEntry(
            hcpcs=code, ndc11=ndc, labeler=cell(row, "labeler").strip(),
            drug_name=cell(row, "drug").strip(), hcpcs_dosage=cell(row, "dosage").strip(),
            pkg_size=_dec(path, line, "PKG SIZE", cell(row, "size")),
            pkg_qty=_dec(path, line, "PKG QTY", cell(row, "qty")),
            bill_units=_dec(path, line, "BILLUNITS", cell(row, "bu")),
            bill_units_pkg=_dec(path, line, "BILLUNITSPKG", cell(row, "bupkg")),
        )
        out.setdefault(ndc, []).append(entry)
    return {k: tuple(v) for k, v in out.items()}


def load_mue(path: Path) -> tuple[str, Mapping[str, MueEntry]]:
    """(``practitioner`` or ``outpatient``, code -> MUE) from a CMS MUE CSV."""
    rows = _rows(path)
    kind = ""
    header: list[str] | None = None
    for line, row in rows:
        cells = [_norm(c) for c in row]
        if any(c.startswith("HCPCS/ CPT CODE") or c.startswith("HCPCS/CPT CODE") for c in cells):
            header = row
            joined = " ".join(cells)
            kind = "outpatient" if "OUTPATIENT HOSPITAL" in joined else (
                "practitioner" if "PRACTITIONER" in joined else "")
            break
        if line > _MAX_PREAMBLE:
            break
    if header is None or not kind:
        raise RulePackError(str(path), "header", "no MUE header row ('HCPCS/CPT Code', "
                            "'Practitioner Services MUE Values' or 'Outpatient Hospital Services "
                            "MUE Values')")
    out = {}
    for line, row in rows:
        if not any(c.strip() for c in row):
            continue
        if len(row) < 3:
            raise RulePackError(str(path), f"line {line}", f"{len(row)} columns, expected 4")
        code, value, mai_text = row[0].strip().upper(), row[1].strip(), row[2].strip()
        if not value.isdigit():
            raise RulePackError(str(path), f"line {line}", f"MUE value {value!r} for {code} is "
                                "not a whole number")
        if mai_text[:1] not in ("1", "2", "3"):
            raise RulePackError(str(path), f"line {line}", f"MUE adjudication indicator "
                                f"{mai_text!r} for {code} does not start with 1, 2 or 3")
        out[code] = MueEntry(code, int(value), int(mai_text[0]),
                             row[3].strip() if len(row) > 3 else "")
    return kind, out
