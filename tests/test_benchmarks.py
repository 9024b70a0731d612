"""The benchmark generator writes valid, deterministic files (no timing here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scrub837.api import iter_items
from scrub837.claims.model import Claim
from scrub837.claims.reader import EnvelopeProblem, TransactionEnd
from scrub837.x12.pyx12_adapter import validate_837
from tests.conftest import ROOT

GEN = ROOT / "benchmarks" / "generate.py"


def generate(tmp: Path, kind: str, claims: int, seed: int = 7, per_st: int = 5000) -> bytes:
    out = tmp / f"{kind}{claims}{seed}.837"
    subprocess.run([sys.executable, str(GEN), "--kind", kind, "--claims", str(claims), "--seed",
                    str(seed), "--claims-per-st", str(per_st), "--out", str(out)], check=True,
                   timeout=120)
    return out.read_bytes()


@pytest.mark.parametrize("kind", ["P", "I"])
def test_generated_files_are_valid_and_deterministic(tmp_path: Path, kind: str) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    data = generate(tmp_path / "a", kind, 40, per_st=15)
    assert data == generate(tmp_path / "b", kind, 40, per_st=15)  # same seed, same bytes
    assert data != generate(tmp_path / "b", kind, 40, seed=8, per_st=15)
    items = list(iter_items(data))
    assert sum(isinstance(i, Claim) for i in items) == 40
    ends = [i for i in items if isinstance(i, TransactionEnd)]
    assert len(ends) == 3 and all(not e.findings for e in ends)
    assert not [i for i in items if isinstance(i, EnvelopeProblem)]
    assert validate_837(data).ok
