"""Typed, key-checked access to parsed TOML tables: every read names the key it failed on, and
:meth:`Table.done` fails on keys nobody read (misspelt or unknown keys never pass silently)."""

from __future__ import annotations

import re
import string
import tomllib
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from scrub837.findings import Severity, Stc
from scrub837.rulebook._errors import RulePackError

_FORMATTER = string.Formatter()
HCPCS = re.compile(r"[A-Z][0-9]{4}")
_STC_CATEGORY = re.compile(r"[AE][0-9]")
_STC_ENTITY = re.compile(r"[0-9A-Z]{2,3}")
_FIELD = re.compile(r"[a-z][a-z0-9_]*")


def read_toml(path: Path, shown: str) -> dict[str, object]:
    """Parse one TOML file; any failure is a :class:`RulePackError` naming ``shown``."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise RulePackError(shown, "", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulePackError(shown, "", f"not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulePackError(shown, "", f"cannot read: {exc}") from None


class Table:
    """One TOML table and the keys read from it so far."""

    def __init__(self, data: object, file: str, path: str) -> None:
        if not isinstance(data, dict):
            raise RulePackError(file, path, f"expected a table, got {_show(data)}")
        self.data: dict[str, object] = data
        self.file = file
        self.path = path
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        if not name:
            return self.path
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, message: str) -> RulePackError:
        return RulePackError(self.file, self.key(name), message)

    def raw(self, name: str) -> object:
        self.used.add(name)
        return self.data.get(name)

    def text(self, name: str, required: bool = False, default: str = "") -> str:
        value = self.raw(name)
        if value is None:
            if required:
                raise self.fail(name, "is required")
            return default
        if not isinstance(value, str):
            raise self.fail(name, f"expected a string, got {_show(value)}")
        if required and not value.strip():
            raise self.fail(name, "must not be empty")
        return value

    def flag(self, name: str, required: bool = False, default: bool = False) -> bool:
        value = self.raw(name)
        if value is None:
            if required:
                raise self.fail(name, "is required")
            return default
        if not isinstance(value, bool):
            raise self.fail(name, f"expected true or false, got {_show(value)}")
        return value

    def optional_flag(self, name: str) -> bool | None:
        value = self.raw(name)
        if value is not None and not isinstance(value, bool):
            raise self.fail(name, f"expected true or false, got {_show(value)}")
        return value

    def integer(self, name: str, required: bool = False, default: int = 0) -> int:
        value = self.raw(name)
        if value is None:
            if required:
                raise self.fail(name, "is required")
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, f"expected a whole number, got {_show(value)}")
        return value

    def day(self, name: str, required: bool = False) -> date | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise self.fail(name, "is required")
            return None
        if isinstance(value, datetime) or not isinstance(value, date):
            raise self.fail(name, f"expected a date like 2025-07-01 (unquoted), got {_show(value)}")
        return value

    def number(self, name: str, required: bool = False, positive: bool = False) -> Decimal | None:
        """A finite number >= 0 (> 0 when ``positive``): TOML integer, float or numeric string
        (strings keep decimals exact: ``amount = "0.01"``)."""
        value = self.raw(name)
        if value is None:
            if required:
                raise self.fail(name, "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self.fail(name, f"expected a number, got {_show(value)}")
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise self.fail(name, f"expected a number, got {_show(value)}") from None
        if not result.is_finite() or result < 0 or (positive and result == 0):
            bound = "> 0" if positive else ">= 0"
            raise self.fail(name, f"expected a finite number {bound}, got {_show(value)}")
        return result

    def strings(self, name: str, required: bool = False) -> tuple[str, ...]:
        value = self.raw(name)
        if value is None:
            if required:
                raise self.fail(name, "is required")
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(name, f"expected a list of strings, got {_show(value)}")
        if len(set(value)) != len(value):
            raise self.fail(name, "lists the same value twice")
        return tuple(value)

    def table(self, name: str, required: bool = False) -> Table | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise self.fail(name, "is required")
            return None
        return Table(value, self.file, self.key(name))

    def tables(self, name: str) -> list[Table]:
        value = self.raw(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(name, "expected an array of tables ([[...]])")
        return [Table(v, self.file, f"{self.key(name)}[{i}]") for i, v in enumerate(value)]

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self.fail(unknown[0], "unknown key (misspelt?)")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def severity_of(table: Table, name: str, allow_off: bool = False) -> Severity | None:
    """``reject`` or ``warn`` (or ``off`` = None, in payer overlays)."""
    value = table.raw(name)
    if allow_off and value == "off":
        return None
    if isinstance(value, str):
        try:
            return Severity(value)
        except ValueError:
            pass
    choices = "'reject', 'warn'" + (" or 'off'" if allow_off else "")
    raise table.fail(name, f"expected {choices}, got {_show(value)}")


def stc_of(table: Table, name: str) -> tuple[Stc, ...]:
    """277CA composites ``"A7:218"`` / ``"A6:252:1P"``: category A0-A9/E0-E9, numeric status,
    optional 2-3 character entity code."""
    out = []
    for text in table.strings(name, required=True):
        try:
            stc = Stc.parse(text)
        except ValueError as exc:
            raise table.fail(name, str(exc)) from None
        if not _STC_CATEGORY.fullmatch(stc.category):
            raise table.fail(name, f"category {stc.category!r} in {text!r} is not a 277CA "
                             "category like A7")
        if not (stc.status.isascii() and stc.status.isdigit() and len(stc.status) <= 5):
            raise table.fail(name, f"status {stc.status!r} in {text!r} is not a status code")
        if stc.entity and not _STC_ENTITY.fullmatch(stc.entity):
            raise table.fail(name, f"entity {stc.entity!r} in {text!r} is not an entity code")
        out.append(stc)
    if not out:
        raise table.fail(name, "needs at least one STC composite like 'A7:218'")
    return tuple(out)


def field_names(table: Table, name: str) -> tuple[str, ...]:
    names = table.strings(name)
    for field in names:
        if not _FIELD.fullmatch(field):
            raise table.fail(name, f"field {field!r} is not a lower_case name")
    return names


def template(table: Table, name: str, fields: frozenset[str]) -> str:
    """A message template: only plain ``{name}`` fields from ``fields`` (no attribute, index,
    conversion or format spec), so nothing in a rule file can reach into Python objects."""
    text = table.text(name, required=True)
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise table.fail(name, f"bad template: {exc}") from None
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if not _FIELD.fullmatch(field) or spec or conversion:
            shown = field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise table.fail(name, f"template field {{{shown}}} is not a plain {{name}}")
        if field not in fields:
            raise table.fail(name, f"template field {{{field}}} is not one of the rule's fields "
                             f"({', '.join(sorted(fields))})")
    return text


def code_of(table: Table, name: str, value: object) -> str:
    """A HCPCS Level II code: one capital letter and four digits (J9262)."""
    if not isinstance(value, str) or not HCPCS.fullmatch(value):
        raise table.fail(name, f"{_show(value)} is not a HCPCS code like J9262")
    return value
