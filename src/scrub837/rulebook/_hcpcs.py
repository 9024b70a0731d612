"""The CMS HCPCS Level II quarterly file, as CMS publishes it (``HCPC2026_JAN_ANWEB_*.txt`` or
the zip holding it).

Fixed-width 320-byte records, positions from CMS's record layout (``HCPC2026_recordlayout.txt``):
code 1-5, sequence 6-10, record id 11 (3 first record of a procedure code, 4 its continuation
records, 7/8 the same for modifiers), long description 12-91 (continued in the record-4 lines,
joined), short description 92-119, cross-reference codes 205-229 (five of 5), add date 269-276,
action effective date 277-284, termination date 285-292, action code 293. A record shorter
than 293 bytes, or with text past byte 320, fails with file and line; blank lines are skipped.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from scrub837.rulebook._errors import RulePackError
from scrub837.rulebook._units import parse_unit

RECORD = 320
_MIN = 293
_ANWEB = re.compile(r"(?:.*/)?HCPC(?P<year>[0-9]{4})_(?P<mon>[A-Z]{3})_ANWEB[^/]*\.txt",
                    re.IGNORECASE)
_MONTHS = {"JAN": 1, "APR": 4, "JUL": 7, "OCT": 10}
_NAMES = {1: "January", 4: "April", 7: "July", 10: "October"}
#: the columns of a HCPCS record as the dataset stores them
COLUMNS = ("code", "long", "short", "added", "action_effective", "terminated", "action",
           "xref", "unit_kind", "unit_amount", "unit")


def period_of(name: str) -> tuple[str, date, date]:
    """("January 2026", first day, last day of the quarter) from an ANWEB file name."""
    m = _ANWEB.fullmatch(name)
    if m is None or m.group("mon").upper() not in _MONTHS:
        raise RulePackError(name, "", "not a CMS HCPCS quarterly file name like "
                            "HCPC2026_JAN_ANWEB_01122026.txt (its name gives the period)")
    year, month = int(m.group("year")), _MONTHS[m.group("mon").upper()]
    end = date(year, month + 2, 31 if month + 2 in (3, 12) else 30)
    return f"{_NAMES[month]} {year}", date(year, month, 1), end


def _day(text: str, shown: str, line: int, what: str) -> str:
    text = text.strip()
    if not text:
        return ""
    if not (len(text) == 8 and text.isdigit()):
        raise RulePackError(shown, "", f"{what} {text!r} is not a date CCYYMMDD", line=line)
    try:
        date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise RulePackError(shown, "", f"{what} {text!r} is not a date", line=line) from None
    return text


def parse_records(lines: Iterable[str], shown: str) -> dict[str, tuple[str, ...]]:
    """HCPCS code -> the :data:`COLUMNS` of its procedure record (modifier records skipped)."""
    parts: dict[str, list[str]] = {}
    head: dict[str, list[str]] = {}
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r\n")
        if not text.strip():
            continue
        if len(text) < _MIN or text[RECORD:].strip():
            raise RulePackError(shown, "", f"a record is {len(text)} bytes (the layout has "
                                f"{RECORD})", line=number)
        code, rid = text[:5].strip(), text[10]
        if rid in "78":
            continue
        if rid not in "34" or not re.fullmatch(r"[A-Z][0-9]{4}", code):
            raise RulePackError(shown, "", f"record id {rid!r} / code {code!r}: not a HCPCS "
                                "procedure record (id 3 or 4, code like J9271)", line=number)
        if rid == "3":
            if code in head:
                raise RulePackError(shown, "", f"{code} has a second first record (id 3)",
                                    line=number)
            xref = " ".join(c for c in (text[204 + 5 * i:209 + 5 * i].strip()
                                        for i in range(5)) if c)
            head[code] = [" ".join(text[91:119].split()),
                          _day(text[268:276], shown, number, "add date"),
                          _day(text[276:284], shown, number, "action effective date"),
                          _day(text[284:292], shown, number, "termination date"),
                          text[292].strip(), xref]
            parts[code] = [text[11:91].strip()]
        elif code not in parts:
            raise RulePackError(shown, "", f"continuation record for {code} before its first "
                                "record", line=number)
        else:
            parts[code].append(text[11:91].strip())
    out: dict[str, tuple[str, ...]] = {}
    for code, fields in head.items():
        long = " ".join(" ".join(parts[code]).split())
        unit = parse_unit(long)
        out[code] = (code, long, fields[0], *fields[1:], *unit.fields())
    return out


def read_hcpcs(path: Path) -> tuple[str, dict[str, tuple[str, ...]]]:
    """(the ANWEB file's name, its records) from the ``.txt`` or the zip CMS publishes."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if _ANWEB.fullmatch(n)]
                if len(names) != 1:
                    raise RulePackError(str(path), "", f"expected one HCPC*_ANWEB*.txt in the "
                                        f"zip, found {len(names)}")
                inner = names[0].rsplit("/", 1)[-1]
                with zf.open(names[0]) as f:
                    text = io.TextIOWrapper(f, encoding="cp1252", errors="replace", newline="")
                    return inner, parse_records(text, f"{path.name}:{inner}")
        with open(path, encoding="cp1252", errors="replace", newline="") as f:
            return path.name, parse_records(f, str(path))
    except (OSError, zipfile.BadZipFile) as exc:
        raise RulePackError(str(path), "", f"cannot read: {exc}") from None
