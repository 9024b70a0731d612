"""The first ICD-10-CM lookups search the code list's text; they answer what the sets do."""

from __future__ import annotations

import random

import pytest

from scrub837.rulebook import icd10


@pytest.fixture(autouse=True)
def fresh() -> None:
    icd10._text.cache_clear()
    icd10._searchable.cache_clear()
    icd10._index.cache_clear()
    icd10._lookups[0] = 0


def test_search_answers_what_the_sets_answer() -> None:
    text = icd10._searchable()
    assert text is not None  # the shipped dump is plain: the search is used
    billable, categories = icd10._index()
    rng = random.Random(14)
    codes = rng.sample(sorted(billable), 500) + rng.sample(sorted(categories), 500)
    codes += [c[:-1] for c in codes[:50]] + [c + "0" for c in codes[:50]] + [c.lower() for c in codes[:20]]
    codes += ["", "C", "B", "Z99999", "C92.10", "A00 ", " A00", "A00\tX", "ICD9", "99213"]
    for code in codes:
        normal = code.replace(".", "").upper()
        assert icd10._search(text, normal) == icd10._by_sets(normal), code


def test_first_lookups_search_then_the_sets_answer() -> None:
    first = [icd10.status(c) for c in ("C9210", "c92.10", "Z5111", "C92", "XYZ", "E119")]
    assert first == ["billable", "billable", "billable", "category", "invalid", "billable"]
    assert icd10._index.cache_info().currsize == 0  # no sets yet
    for _ in range(icd10.LOOKUPS_BEFORE_INDEX):
        icd10.status("I10")
    assert icd10._index.cache_info().currsize == 1
    assert icd10._text.cache_info().currsize == 0  # the text is let go
    assert [icd10.status(c) for c in ("C9210", "c92.10", "Z5111", "C92", "XYZ")] == first[:5]


def test_codes_with_line_breaks_go_to_the_sets() -> None:
    # "\nB A000" inside a code must not match across two lines of the list
    assert icd10.status("A00\nB A000") == "invalid"
    assert icd10._index.cache_info().currsize == 1


@pytest.mark.parametrize("text", [
    "B A000\r\nC A00\n" * 30_000,  # other line breaks: splitlines() sees other lines
    "B A000\nX A00\n" * 30_000,  # a line that is neither B nor C
    "B A000\nC A00\n",  # too short: the sets raise as before
    "",
])
def test_a_list_that_is_not_plain_is_left_to_the_sets(text: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(icd10, "_text", lambda: text)
    assert icd10._searchable.__wrapped__() is None
