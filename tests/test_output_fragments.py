"""The outputs' text made from fragments is what the plain way gives: a finding's JSON from
outputs/_json.FindingEncoder is ``json``'s for ``to_dict()`` (both separator styles, memo hits
and misses, hostile values, values of other types), and the 277CA's CLM02 amount without
Decimal is the Decimal path's."""

from __future__ import annotations

import dataclasses
import json
import random
from decimal import Decimal
from typing import TypeVar

import pytest

from scrub837.findings import Finding, Location, Severity, Stc
from scrub837.outputs._json import FindingEncoder
from scrub837.outputs._ack277_text import _BAD, _NOT_PRINTABLE, _PLAIN, _stc, stc_around
from scrub837.outputs.ack277 import _amount, _charge, clean
from scrub837.verdicts.results import money

TEXTS = ["", "plain", 'quote " back \\ slash', "caf\u00e9 \u2022 \U0001f600", "\x00\x1f\x7f\n\r\t",
         "</script><b>&amp;", "\ud800 lone surrogate"]
T = TypeVar("T")
SEPARATORS = [(",", ":"), (", ", ": ")]


def _findings() -> list[Finding]:
    out = []
    for i, text in enumerate(TEXTS):
        loc = Location(file=text or "a.837", isa13="000000001", gs06="1", st02="0001",
                       clm01=text, lx=str(i), ref_6r=text, segment=10 + i, span=(100, 160 + i),
                       path=f"2000A/2300/2400[{i}]/SV101-2", element=text)
        for severity in Severity:
            for stc in ((), (Stc("A7", "218"),), (Stc("A3", "21"), Stc("A7", "454", "85"))):
                out.append(Finding("NDC_MISSING" if i % 2 else text or "R", severity, text, loc,
                                   stc, fix=text, source=TEXTS[-1 - i], line_level=bool(i % 2)))
    return out


@pytest.mark.parametrize("separators", SEPARATORS)
def test_a_finding_is_jsons_own(separators: tuple[str, str]) -> None:
    encoder = FindingEncoder(*separators)
    findings = _findings()
    random.Random(14).shuffle(findings)  # memo hits and misses in every order
    for f in findings + findings:
        assert encoder.encode(f) == json.dumps(f.to_dict(), separators=separators)
    assert encoder.encode_all(tuple(findings[:3])) == json.dumps(
        [f.to_dict() for f in findings[:3]], separators=separators)
    assert encoder.encode_all(()) == "[]"


def _with(value: T, **changes: object) -> T:
    """``value`` with other field values (a named tuple or a frozen dataclass)."""
    if hasattr(value, "_replace"):
        return value._replace(**changes)  # type: ignore[no-any-return]
    return dataclasses.replace(value, **changes)  # type: ignore[type-var]


@pytest.mark.parametrize("separators", SEPARATORS)
def test_values_of_other_types_are_left_to_json(separators: tuple[str, str]) -> None:
    encoder = FindingEncoder(*separators)
    base = _findings()[1]
    loc = base.location
    odd = [_with(base, message=42), _with(base, line_level=1), _with(base, fix=None),
           _with(base, location=_with(loc, segment=True)),
           _with(base, location=_with(loc, span=(1.5, 2))),
           _with(base, location=_with(loc, lx=7))]
    for f in odd + odd:
        assert encoder.encode(f) == json.dumps(f.to_dict(), separators=separators)


def test_a_claims_277_amount_is_the_decimal_paths() -> None:
    rng = random.Random(837)
    cases = ["0", "0.0", "0.00", "0.10", "0.01", "7", "10", "100.5", "100.50", "100.05", "1500",
             "007", ".5", "5.", "-1", "-0.5", "1e3", "", "abc", "1.005", "1.234", " 1", "NaN",
             "Infinity", "9" * 21, "9" * 21 + ".99", "1" + "0" * 25]
    for _ in range(5000):
        cases.append(str(rng.randint(0, 10 ** rng.randint(1, 12))) + rng.choice(
            ["", ".", f".{rng.randint(0, 99)}", f".{rng.randint(0, 9)}", ".00",
             f".{rng.randint(0, 99):02d}"]))
    for text in cases:
        assert _charge(text) == _amount(money(text)) == _decimal_amount(money(text)), text


def _decimal_amount(value: Decimal) -> str:
    """The 277CA's amount the Decimal way (what ``_amount`` was before its plain paths)."""
    text = format(value.quantize(Decimal("0.01")), "f")
    return text[:-3] if text.endswith(".00") else text.rstrip("0")


def test_a_total_amount_is_the_decimal_paths() -> None:
    rng = random.Random(277)
    values = [Decimal(t) for t in ("0", "0.00", "-0", "-0.00", "1E+3", "1E-2", "5.", "0.5",
                                   "12.10", "12.345", "-12.5", "9" * 21, "9" * 22, "1" + "0" * 24,
                                   "0.001", "1.995", "100.00")]
    for _ in range(3000):
        total = Decimal(0)
        for _ in range(rng.randint(1, 6)):
            total += money(rng.choice(["", "-"]) + str(rng.randint(0, 10 ** rng.randint(1, 9)))
                           + rng.choice(["", ".5", ".05", ".50", ".125", ".00", "e2"]))
        values.append(total)
    for value in values:
        assert _amount(value) == _decimal_amount(value), value


def test_clean_keeps_or_remakes_a_value_as_the_slow_path_does() -> None:
    def slow(value: str, limit: int) -> str:
        if len(value) <= limit and _PLAIN(value) is not None:
            return value
        return " ".join(_NOT_PRINTABLE.sub("", value.translate(_BAD)).split())[:limit]

    rng = random.Random(14)
    alphabet = "aZ09 *:^~|<>{!\r\n\t\x00\u00e9\u0663\u00b2-._"
    cases = ["", "SYN000000001", "SMITH JR", "\u0663\u0663", "\u00b2", "A" * 81, "caf\u00e9"]
    cases += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(3000)]
    for text in cases:
        for limit in (3, 50, 80):
            assert clean(text, limit) == slow(text, limit), (text, limit)


def test_an_stc_around_its_amount_is_the_stc() -> None:
    composites = [Stc("A3", "21"), Stc("A7", "454", "85"), Stc("A8", "97"), Stc("A6", "1")]
    for n in range(1, 5):
        for action in ("U", "WQ"):
            before, after = stc_around(composites[:n], "", action)
            for amount in ("0", "12.5", "1500"):
                assert before + amount + after == _stc(composites[:n], "", action, amount)
