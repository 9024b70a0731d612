"""Parsed rule-pack TOML files come back from the cache as tomllib gave them, and only for the
same bytes."""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from pathlib import Path

import pytest

from scrub837.rulebook import RulePackError, _toml_cache, load_rulebook
from scrub837.rulebook._tables import read_toml

EVERY_TYPE = """
title = "x"
count = 12
big = 123456789012345678901234567890
price = 0.1
neg_zero = -0.0
inf = inf
flag = true
day = 2026-01-01
local = 2026-01-01T12:30:00.123456
utc = 1979-05-27T07:32:00Z
offset = 1979-05-27T00:32:00-07:00
clock = 07:32:00.5
list = [1, "two", [3.0, 2026-02-03]]
inline = { a = 1, "b c" = [] }
[[tables]]
name = "first"
[[tables]]
name = "second"
[deep.er]
nan = nan
"""


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SCRUB837_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(_toml_cache, "_state", {})
    return tmp_path / "cache"


def _fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_toml_cache, "_state", {})


def test_every_toml_value_comes_back_the_same(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "every.toml"
    path.write_text(EVERY_TYPE)
    expected = tomllib.loads(EVERY_TYPE)
    read_toml(path, "every.toml")  # parsed, and kept
    _toml_cache.save()
    _fresh_process(monkeypatch)
    monkeypatch.setattr(tomllib, "loads", lambda *_: pytest.fail("parsed again"))
    got = read_toml(path, "every.toml")
    assert math.isnan(got["deep"]["er"]["nan"])  # type: ignore[index]
    got["deep"] = expected["deep"] = None  # type: ignore[index]
    assert got == expected
    assert [type(v) for v in got.values()] == [type(v) for v in expected.values()]
    assert list(got) == list(expected)  # the order of the keys too
    assert got["utc"].utcoffset() == expected["utc"].utcoffset()  # type: ignore[union-attr]
    assert str(got["neg_zero"]) == "-0.0"


def test_changed_bytes_are_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.toml"
    path.write_text("a = 1\n")
    assert read_toml(path, "a.toml") == {"a": 1}
    _toml_cache.save()
    _fresh_process(monkeypatch)
    path.write_text("a = 2\n")  # the same size, maybe the same mtime
    assert read_toml(path, "a.toml") == {"a": 2}


def test_a_broken_file_is_never_kept(tmp_path: Path, own_cache: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("a = \n")
    for _ in range(2):
        with pytest.raises(RulePackError, match="not valid TOML"):
            read_toml(path, "bad.toml")
    _toml_cache.save()
    assert not (own_cache / _toml_cache.cache_file().name).exists()


def test_a_damaged_or_foreign_cache_is_ignored(tmp_path: Path, own_cache: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.toml"
    path.write_text("a = 1\n")
    own_cache.mkdir()
    for junk in ("{not json", json.dumps({"format": 99, "files": {}}), json.dumps([1]),
                 json.dumps({"format": _toml_cache.FORMAT, "files": {
                     hashlib.sha256(b"a = 1\n").hexdigest(): {"\x00scrub837": "?"}}})):
        _toml_cache.cache_file().write_text(junk)
        _fresh_process(monkeypatch)
        assert read_toml(path, "a.toml") == {"a": 1}


def test_the_shipped_pack_loads_the_same_from_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_rulebook()
    _fresh_process(monkeypatch)
    monkeypatch.setattr(tomllib, "loads", lambda *_: pytest.fail("parsed again"))
    second = load_rulebook()
    assert second.codes == first.codes and second.edits == first.edits
    assert second.settings == first.settings and second.payers == first.payers
    assert second.default_payer == first.default_payer
    assert (second.name, second.version, second.as_of) == (first.name, first.version, first.as_of)
