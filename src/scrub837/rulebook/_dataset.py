"""The CMS code data: the built-in dataset (``scrub837/data``), one built by ``scrub837 data
import``, or CMS files given by option, as tables read lazily.

A dataset folder holds ``manifest.json`` (each table's title, period, source file and counts)
and one tab-separated file per table (``hcpcs.tsv``, ``asp.tsv``, ``crosswalk.tsv``,
``mue_practitioner.tsv``, ``mue_outpatient.tsv``, ``mue_dme.tsv``), rows sorted, one record per
line in the columns the loaders define. Only HCPCS Level II codes (a letter A-V and four digits)
are written: CPT rows (AMA copyright) are dropped at import and counted. Each table is read
the first time a lookup needs it; lookups are dict lookups.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from scrub837.rulebook import _asp, _crosswalk, _hcpcs, _mue
from scrub837.rulebook._errors import RulePackError
from scrub837.rulebook._model import CrosswalkEntry, MueEntry

ENV = "SCRUB837_DATA"
TABLES = ("hcpcs", "asp", "crosswalk", "mue_practitioner", "mue_outpatient", "mue_dme")
FORMAT = 1
LEVEL2 = re.compile(r"[A-V][0-9]{4}")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_TITLES = {"hcpcs": "CMS HCPCS Level II", "asp": "CMS ASP pricing file",
           "crosswalk": "CMS ASP NDC-HCPCS crosswalk",
           **{f"mue_{k}": v for k, v in _mue.TITLES.items()}}


@dataclass(frozen=True, slots=True)
class TableInfo:
    """One table: what CMS calls it, its period, the file it came from and what it holds."""

    name: str
    title: str
    period: str  # "January 2026", "October 2025", "effective 2026-04-01"
    start: date | None
    end: date | None
    source: str  # the CMS file name
    rows: int
    codes: int
    notes: str = ""  # "1284 rows with an alternate id", "11 CPT rows dropped"
    #: HCPCS: the earliest termination date the file still lists (codes terminated before it
    #: are gone from the file, so its absence says nothing about earlier dates of service)
    history: date | None = None

    @property
    def label(self) -> str:
        """How findings cite the table: ``CMS HCPCS Level II, January 2026``."""
        return f"{self.title}, {self.period}" if self.period else self.title

    def covers(self, day: date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)

    def as_json(self) -> dict[str, object]:
        return {"title": self.title, "period": self.period,
                "start": self.start.isoformat() if self.start else "",
                "end": self.end.isoformat() if self.end else "", "source": self.source,
                "rows": self.rows, "codes": self.codes, "notes": self.notes,
                **({"history": self.history.isoformat()} if self.history else {})}


def _info(name: str, raw: object, shown: str) -> TableInfo:
    if not isinstance(raw, dict):
        raise RulePackError(shown, name, "expected a table description")
    try:
        return TableInfo(name, str(raw["title"]), str(raw["period"]),
                         date.fromisoformat(raw["start"]) if raw["start"] else None,
                         date.fromisoformat(raw["end"]) if raw["end"] else None,
                         str(raw["source"]), int(raw["rows"]), int(raw["codes"]),
                         str(raw.get("notes", "")),
                         date.fromisoformat(raw["history"]) if raw.get("history") else None)
    except (KeyError, TypeError, ValueError) as exc:
        raise RulePackError(shown, name, f"bad table description: {exc}") from None


Records = Mapping[str, tuple[tuple[str, ...], ...]]  # code -> rows (one row for most tables)


class _Lazy(Mapping[str, tuple[tuple[str, ...], ...]]):
    """A table file's rows by code, each code's lines split into columns when first asked for
    (reading a table is then one pass over its lines)."""

    def __init__(self, text: str, column: int = 0) -> None:
        raw: dict[str, str] = {}
        for line in text.splitlines():
            key = line[:line.find("\t")] if column == 0 else line.split("\t", column + 1)[column]
            if not key:
                continue
            had = raw.get(key)
            raw[key] = line if had is None else f"{had}\n{line}"
        self._raw = raw
        self._split: dict[str, tuple[tuple[str, ...], ...]] = {}

    def __getitem__(self, code: str) -> tuple[tuple[str, ...], ...]:
        got = self._split.get(code)
        if got is None:
            got = tuple(tuple(line.split("\t")) for line in self._raw[code].split("\n"))
            self._split[code] = got
        return got

    def __contains__(self, code: object) -> bool:
        return code in self._raw

    def by_column(self, column: int) -> _Lazy:
        """The same rows keyed by another column (rows with it empty left out)."""
        return _Lazy("\n".join(self._raw.values()), column)

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


@dataclass(frozen=True, slots=True)
class Table:
    info: TableInfo
    records: Records


def _month_period(start: date | None) -> str:
    return f"{_MONTHS[start.month - 1]} {start.year}" if start else ""


def _group(rows: Sequence[tuple[str, ...]]) -> dict[str, tuple[tuple[str, ...], ...]]:
    out: dict[str, list[tuple[str, ...]]] = {}
    for row in rows:
        out.setdefault(row[0], []).append(row)
    return {k: tuple(v) for k, v in out.items()}


def table_from_file(kind: str, path: Path, level2_only: bool = False) -> Table:
    """Read one CMS file as published. ``kind``: ``hcpcs``, ``asp``, ``crosswalk`` or ``mue``
    (the MUE header says which setting). ``level2_only`` drops CPT rows (for the dataset)."""
    notes: list[str] = []
    start: date | None
    end: date | None
    if kind == "hcpcs":
        source, recs = _hcpcs.read_hcpcs(path)
        period, start, end = _hcpcs.period_of(source)
        if path.name != source:
            source = f"{path.name}:{source}"
        name, rows = "hcpcs", sorted(recs.values())
    elif kind == "asp":
        pricing = _asp.read_pricing(path)
        start, end = pricing.period or (None, None)
        name, period, source, rows = "asp", _month_period(start), path.name, sorted(
            pricing.records.values())
    elif kind == "crosswalk":
        xw = _crosswalk.read_crosswalk(path)
        start, end = xw.period or (None, None)
        name, period, source, rows = "crosswalk", _month_period(start), path.name, sorted(
            xw.records)
    elif kind == "mue":
        setting, entries = _mue.load_mue(path)
        start, end = _mue.mue_period(path.name) or (None, None)
        name, source = f"mue_{setting}", path.name
        period = f"effective {start.isoformat()}" if start else ""
        rows = sorted((e.code, str(e.value), str(e.mai), e.rationale) for e in entries.values())
    else:
        raise ValueError(kind)
    if level2_only:
        kept = [r for r in rows if LEVEL2.fullmatch(r[0])]
        if len(kept) != len(rows):
            notes.append(f"{len(rows) - len(kept)} CPT rows dropped (AMA copyright)")
        rows = kept
    if name == "crosswalk":
        notes.insert(0, f"{sum(1 for r in rows if not r[2])} rows with an alternate id in NDC2 "
                     f"(kept, never matched as an NDC), {sum(1 for r in rows if r[2])} with an NDC")
    if not period:
        period = f"file {path.name}"  # no period in the file: cite it by name
    records = _group(rows)
    terminations = [r[5] for r in rows if name == "hcpcs" and r[5]]
    history = min(terminations) if terminations else ""
    info = TableInfo(name, _TITLES[name], period, start, end, source, len(rows), len(records),
                     "; ".join(notes), date(int(history[:4]), int(history[4:6]),
                                            int(history[6:])) if history else None)
    return Table(info, records)


def builtin_dir() -> Path:
    # the package folder, as importlib.resources.files("scrub837") gives it for a package on
    # disk (without importing importlib.resources' readers and zipfile at every start-up)
    return Path(__file__).parent.parent / "data"


def write_dataset(directory: Path, tables: Mapping[str, Table]) -> None:
    """Write ``tables`` as a dataset folder (deterministic: same files in, same bytes out)."""
    directory.mkdir(parents=True, exist_ok=True)
    manifest = {"format": FORMAT, "tables": {}}
    for name in TABLES:
        table = tables.get(name)
        if table is None:
            continue
        manifest["tables"][name] = table.info.as_json()  # type: ignore[index]
        with open(directory / f"{name}.tsv", "w", encoding="utf-8", newline="\n") as f:
            for code in sorted(table.records):
                for row in table.records[code]:
                    f.write("\t".join(" ".join(c.split()) for c in row) + "\n")
    with open(directory / "manifest.json", "w", encoding="utf-8", newline="\n") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


class Dataset:
    """The tables of one dataset folder (read lazily), with tables from CMS files given by
    option in their place. Thread-safe for lookups (a table read twice is the same data)."""

    def __init__(self, directory: Path | None = None,
                 overrides: Mapping[str, Table] | None = None) -> None:
        if directory is None:
            env = os.environ.get(ENV, "").strip()
            directory = Path(env) if env else builtin_dir()
        self.directory = directory
        shown = str(directory / "manifest.json")
        try:
            with open(directory / "manifest.json", encoding="utf-8") as f:
                manifest = json.load(f)
        except FileNotFoundError:
            raise RulePackError(shown, "", "no CMS dataset here (build one with "
                                "'scrub837 data import')") from None
        except (OSError, ValueError) as exc:
            raise RulePackError(shown, "", f"cannot read: {exc}") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise RulePackError(shown, "format", f"not a scrub837 dataset of format {FORMAT}")
        raw = manifest.get("tables")
        if not isinstance(raw, dict):
            raise RulePackError(shown, "tables", "missing")
        self._info = {n: _info(n, raw[n], shown) for n in TABLES if n in raw}
        self._loaded: dict[str, Records] = {}
        for name, table in (overrides or {}).items():
            self._info[name] = table.info
            self._loaded[name] = table.records
        self._ndc: Records | None = None
        self._entries: dict[str, tuple[CrosswalkEntry, ...]] = {}
        self._mue: dict[str, dict[str, MueEntry | None]] = {}

    @property
    def info(self) -> Mapping[str, TableInfo]:
        return {n: self._info[n] for n in TABLES if n in self._info}

    def with_tables(self, tables: Mapping[str, Table]) -> Dataset:
        out = Dataset.__new__(Dataset)
        out.directory = self.directory
        out._info = {**self._info, **{n: t.info for n, t in tables.items()}}
        out._loaded = {**self._loaded, **{n: t.records for n, t in tables.items()}}
        out._ndc, out._mue, out._entries = None, {}, {}
        return out

    def records(self, name: str) -> Records:
        got = self._loaded.get(name)
        if got is None:
            if name not in self._info:
                got = {}
            else:
                got = self._read(name)
            self._loaded[name] = got
        return got

    def _read(self, name: str) -> Records:
        path = self.directory / f"{name}.tsv"
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as exc:
            raise RulePackError(str(path), "", f"cannot read: {exc}") from None
        return _Lazy(text)

    def table(self, name: str) -> TableInfo | None:
        return self._info.get(name)

    def hcpcs(self, code: str) -> tuple[str, ...] | None:
        rows = self.records("hcpcs").get(code)
        return rows[0] if rows else None

    def pricing(self, code: str) -> tuple[str, ...] | None:
        rows = self.records("asp").get(code)
        return rows[0] if rows else None

    def priced(self, code: str) -> bool:
        """The ASP pricing file or the crosswalk prices ``code`` (a HCPCS Level II code: CPT
        rows of a file given by option do not count) as a Part B drug."""
        return bool(LEVEL2.fullmatch(code)) and (code in self.records("asp")
                                                 or code in self.records("crosswalk"))

    def crosswalk_rows(self, code: str) -> tuple[CrosswalkEntry, ...]:
        return tuple(_crosswalk.entry_of(r) for r in self.records("crosswalk").get(code, ()))

    def crosswalk_for(self, ndc11: str) -> tuple[CrosswalkEntry, ...]:
        """The crosswalk rows listing ``ndc11`` (11 digits); alternate ids never match."""
        index = self._ndc
        if index is None:
            table = self.records("crosswalk")
            if isinstance(table, _Lazy):
                index = table.by_column(2)
            else:
                lists: dict[str, list[tuple[str, ...]]] = {}
                for rows in table.values():
                    for row in rows:
                        if row[2]:
                            lists.setdefault(row[2], []).append(row)
                index = {k: tuple(v) for k, v in lists.items()}
            self._ndc = index
        found = self._entries.get(ndc11)
        if found is None:
            found = tuple(map(_crosswalk.entry_of, index.get(ndc11, ())))
            self._entries[ndc11] = found
        return found

    def mue(self, setting: str, code: str) -> MueEntry | None:
        """The MUE row of ``code`` in the ``practitioner``, ``outpatient`` or ``dme`` table."""
        cache = self._mue.setdefault(setting, {})
        if code in cache:
            return cache[code]
        rows = self.records(f"mue_{setting}").get(code)
        entry = None
        if rows:
            row = rows[0]
            entry = MueEntry(row[0], int(row[1]), int(row[2]), row[3] if len(row) > 3 else "")
        cache[code] = entry
        return entry


def import_files(hcpcs: Path | None, asp: Path | None, crosswalk: Path | None,
                 mue: Sequence[Path], base: Dataset | None = None) -> dict[str, Table]:
    """Tables read from CMS files (HCPCS Level II rows only), for ``data import``."""
    out: dict[str, Table] = {}
    for kind, path in (("hcpcs", hcpcs), ("asp", asp), ("crosswalk", crosswalk)):
        if path is not None:
            out[kind] = table_from_file(kind, path, level2_only=True)
    for path in mue:
        table = table_from_file("mue", path, level2_only=True)
        if table.info.name in out:
            raise RulePackError(str(path), "", f"a second {table.info.name} table (the first "
                                f"is {out[table.info.name].info.source})")
        out[table.info.name] = table
    return out

