"""Typed, key-checked access to parsed TOML tables (unknown keys fail loudly)."""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from scrub837.findings import Severity, Stc
from scrub837.rulebook._errors import RulePackError

T = TypeVar("T")
_FORMATTER = string.Formatter()


class Table:
    def __init__(self, data: object, file: str, path: str) -> None:
        if not isinstance(data, dict):
            raise RulePackError(file, path, f"expected a table, got {type(data).__name__}")
        self.data: dict[str, object] = data
        self.file = file
        self.path = path
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, message: str) -> RulePackError:
        return RulePackError(self.file, self.key(name), message)

    def raw(self, name: str) -> object:
        self.used.add(name)
        return self.data.get(name)

    def has(self, name: str) -> bool:
        return name in self.data

    def _typed(self, name: str, kind: type[T], required: bool, default: T) -> T:
        value = self.raw(name)
        if value is None:
            if required:
                raise self.fail(name, "is required")
            return default
        if kind is bool and not isinstance(value, bool):
            raise self.fail(name, f"expected true or false, got {value!r}")
        if kind is not bool and (not isinstance(value, kind) or isinstance(value, bool)):
            raise self.fail(name, f"expected {kind.__name__}, got {value!r}")
        return value  # type: ignore[return-value]

    def text(self, name: str, required: bool = False, default: str = "") -> str:
        return self._typed(name, str, required, default)

    def flag(self, name: str, required: bool = False, default: bool = False) -> bool:
        return self._typed(name, bool, required, default)

    def integer(self, name: str, required: bool = False, default: int = 0) -> int:
        return self._typed(name, int, required, default)

    def day(self, name: str, required: bool = False) -> date | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise self.fail(name, "is required")
            return None
        if not isinstance(value, date):
            raise self.fail(name, f"expected a date (YYYY-MM-DD, unquoted), got {value!r}")
        return value

    def number(self, name: str, required: bool = False) -> Decimal | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise self.fail(name, "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self.fail(name, f"expected a number, got {value!r}")
        try:
            result = Decimal(str(value))
        except InvalidOperation:
            raise self.fail(name, f"expected a number, got {value!r}") from None
        if not result.is_finite() or result < 0:
            raise self.fail(name, f"expected a finite number >= 0, got {value!r}")
        return result

    def strings(self, name: str) -> tuple[str, ...]:
        value = self.raw(name)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(name, f"expected a list of strings, got {value!r}")
        return tuple(value)

    def table(self, name: str, required: bool = False) -> "Table | None":
        value = self.raw(name)
        if value is None:
            if required:
                raise self.fail(name, "is required")
            return None
        return Table(value, self.file, self.key(name))

    def tables(self, name: str) -> list["Table"]:
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


def severity_of(table: Table, name: str, value: object, allow_off: bool = False) -> Severity | None:
    if allow_off and value == "off":
        return None
    try:
        return Severity(value)
    except ValueError:
        choices = "'reject', 'warn'" + (" or 'off'" if allow_off else "")
        raise table.fail(name, f"expected {choices}, got {value!r}") from None


def stc_of(table: Table, name: str) -> tuple[Stc, ...]:
    out = []
    for text in table.strings(name):
        try:
            stc = Stc.parse(text)
        except ValueError as exc:
            raise table.fail(name, str(exc)) from None
        if not (len(stc.category) == 2 and stc.category[0] in "AE" and stc.category[1].isdigit()):
            raise table.fail(name, f"category {stc.category!r} is not a 277CA A/E category")
        if not stc.status.isdigit():
            raise table.fail(name, f"status code {stc.status!r} is not numeric")
        out.append(stc)
    if not out:
        raise table.fail(name, "needs at least one STC composite like 'A7:218'")
    return tuple(out)


def template(table: Table, name: str) -> str:
    """A message template: only plain ``{name}`` fields (no attribute, index or conversion),
    so nothing in a rule file can reach into Python objects."""
    text = table.text(name)
    try:
        for _, field, spec, conversion in _FORMATTER.parse(text):
            if field is None:
                continue
            if not field.isidentifier() or spec or conversion:
                raise table.fail(name, f"template field {{{field}}} is not a plain name")
    except ValueError as exc:
        raise table.fail(name, f"bad template: {exc}") from None
    return text


def code_key(table: Table, name: str, code: object) -> str:
    if not isinstance(code, str) or not (len(code) == 5 and code[0].isalpha() and
                                         code[1:].isdigit()):
        raise table.fail(name, f"{code!r} is not a HCPCS code like J9262")
    return code


def as_mapping(value: Mapping[str, T]) -> Mapping[str, T]:
    return dict(value)
