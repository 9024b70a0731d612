"""The sample corpus drives one parametrized test: each sample's expected outcome sits next to
it in x12_samples/MANIFEST.toml (jsonschema's tests/_suite.py pattern)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

import pytest

from scrub837.claims.reader import ReadFailure
from scrub837.verdicts.results import TransactionResult
from scrub837.scrubber import Scrubber
from scrub837.x12.pyx12_adapter import validate_837
from tests.conftest import SAMPLES

MANIFEST = tomllib.loads((SAMPLES / "MANIFEST.toml").read_text())["file"]
GOOD = [f for f in MANIFEST if f["kind"] != "bad"]


@lru_cache(maxsize=1)
def scrubber() -> Scrubber:
    return Scrubber()


def _independent_counts(data: bytes) -> tuple[int, int, int]:
    """ST, CLM and J-code SV1/SV2 counts by a plain split on the file's own delimiters."""
    text = data.decode("latin-1")
    elem, term, comp = text[3], text[105], text[104]
    st = clm = drug = 0
    for seg in text.split(term):
        parts = seg.strip().split(elem)
        if parts[0] == "ST":
            st += 1
        elif parts[0] == "CLM":
            clm += 1
        elif parts[0] in ("SV1", "SV2"):
            proc = parts[1 if parts[0] == "SV1" else 2].split(comp)
            drug += len(proc) > 1 and proc[1].startswith("J")
    return st, clm, drug


def test_every_sample_is_in_the_manifest() -> None:
    on_disk = {p.name for p in SAMPLES.iterdir() if p.suffix in (".837", ".x12", ".txt")}
    assert on_disk == {f["name"] for f in MANIFEST}
    assert len(GOOD) >= 6


@pytest.mark.parametrize("entry", GOOD, ids=[f["name"] for f in GOOD])
def test_sample_counts_and_verdicts(entry: dict[str, object]) -> None:
    data = (SAMPLES / str(entry["name"])).read_bytes()
    st, clm, drug = _independent_counts(data)
    assert (st, clm, drug) == (entry["transactions"], entry["claim_count"], entry["drug_lines"])
    got = []
    for item in scrubber().results(data, str(entry["name"])):
        assert not isinstance(item, ReadFailure)
        if isinstance(item, TransactionResult):
            for c in item.claims:
                got.append({"clm01": c.claim.clm01, "verdict": c.verdict.value,
                            "rules": sorted({f.rule_id for f in c.rejecting}),
                            "warnings": sorted({f.rule_id for f in c.warnings})})
    expected = [{"clm01": c["clm01"], "verdict": c["verdict"], "rules": sorted(c["rules"]),
                 "warnings": sorted(c["warnings"])} for c in entry["claims"]]  # type: ignore[union-attr]
    assert got == expected


@pytest.mark.parametrize("entry", MANIFEST, ids=[f["name"] for f in MANIFEST])
def test_pyx12_agrees_with_the_manifest(entry: dict[str, object]) -> None:
    result = validate_837((SAMPLES / str(entry["name"])).read_bytes())
    assert result.crashed is None
    assert result.ok is entry["ig_valid"], [i.message for i in result.issues[:5]]


def test_samples_are_reproducible(tmp_path: Path) -> None:
    """make_samples.py writes exactly the committed files (no hand edits drift)."""
    import runpy
    import shutil

    script = tmp_path / "make_samples.py"
    shutil.copy(SAMPLES / "make_samples.py", script)
    runpy.run_path(str(script), run_name="__main__")
    for entry in MANIFEST:
        assert (tmp_path / str(entry["name"])).read_bytes() == (
            SAMPLES / str(entry["name"])).read_bytes(), entry["name"]
    assert (tmp_path / "MANIFEST.toml").read_text() == (SAMPLES / "MANIFEST.toml").read_text()
