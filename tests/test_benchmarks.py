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


def test_default_bytes_are_pinned(tmp_path: Path) -> None:
    # the files other tests generate with fixed seeds: --drug-share (a second random stream)
    # must leave the default stream as it was
    import hashlib

    assert hashlib.sha256(generate(tmp_path, "P", 40, per_st=15)).hexdigest() == (
        "f2e2ed5b2fa163d4898b3d14f68029d6685b5fdbc9da1fd6dae16241bd6da0e6")
    assert hashlib.sha256(generate(tmp_path, "I", 40, per_st=15)).hexdigest() == (
        "7444917d1cb7a34238f715eae5a0a37da39426cac24f5ee0fa569cf673208fb6")


@pytest.mark.parametrize(("kind", "share"), [("P", 0.0), ("P", 0.4), ("I", 0.9), ("P", 1.0)])
def test_drug_share(tmp_path: Path, kind: str, share: float) -> None:
    out = tmp_path / "share.837"
    subprocess.run([sys.executable, str(GEN), "--kind", kind, "--claims", "400", "--seed", "3",
                    "--claims-per-st", "150", "--drug-share", str(share), "--out", str(out)],
                   check=True, timeout=120)
    data = out.read_bytes()
    claims = [i for i in iter_items(data) if isinstance(i, Claim)]
    assert len(claims) == 400
    with_drugs = sum(any(line.code.startswith("J") for line in c.lines) for c in claims)
    assert abs(with_drugs / 400 - share) < 0.06
    if share in (0.0, 1.0):
        assert with_drugs == 400 * share
    assert validate_837(data).ok


def test_markdown_tables_from_results() -> None:
    # the runner's tables (no timing: a made-up result)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import _table  # type: ignore[import-not-found]

    def row(key: str, ratio: float, rss: float) -> dict[str, object]:
        return {"key": key, "step": f"step {key}", "claims_per_s": 1000 * ratio,
                "ratio_to_tokenizer": ratio, "peak_rss_mb": rss, "seconds": 1.0}

    files = [{"path": "a", "size_mb": 10.0, "claims": 20000, "drug_share": share,
              "steps": [row("tokenizer", 1.0, 60), row("scrub_out", 0.3, 80),
                        row("scrub_json", 0.1, 120)],
              "peers": [{"peer": "good", **row("peer:good", 0.01, 50)},
                        {"peer": "bad", "skip": "does not install: no such package"}]}
             for share in (0.4, 0.9)]
    results = {"machine": "m", "commit": "c", "date": "d", "repeat": 1, "bytecode_cache": True,
               "files": files,
               "startup": [{"key": "startup_process", "step": "whole", "seconds": 0.2,
                            "peak_rss_mb": 36.0}],
               "big": [{"key": "big_out", "step": "big", "size_mb": 1000.0, "claims": 5,
                        "seconds": 9.0, "peak_rss_mb": 90.0}]}
    text = _table.markdown(results)
    lines = text.splitlines()
    head = next(line for line in lines if line.startswith("| step |"))
    assert "40.0 % drug claims" in head and "90.0 % drug claims" in head
    assert "| step scrub_out | 300 | 0.300 | 80 MB | 300 | 0.300 | 80 MB | ≥ 0.25× ✓ |" in lines
    assert any(line.startswith("| step scrub_json |") and line.endswith("< 100 MB ✗ |")
               for line in lines)
    assert any(line.startswith("| step peer:good |") for line in lines)
    assert "Peers skipped: bad (does not install: no such package)." in lines
    assert "| whole | 0.200 | 36 MB | < 0.25 s ✓ |" in lines
    assert "| big | 1,000 MB | 5 | 9 | 90.0 MB | < 100 MB ✓ |" in lines
    assert "scrub_out" in _table.text(results)


def test_layers_reports_every_layer_of_a_scrub(tmp_path: Path) -> None:
    # benchmarks/layers.py (the README's per-layer figures) runs on today's code, and counts
    # the claims the scrub answers; its numbers are not checked (no timing here)
    data = generate(tmp_path, "P", 300, per_st=120)
    path = tmp_path / "layers.837"
    path.write_bytes(data)
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "layers.py"), str(path),
                           "--repeat", "1"], capture_output=True, text=True, check=True,
                          timeout=300)
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"{path}: 300 claims;")
    rows = {line[:20].strip(): float(line[20:]) for line in lines[1:]}
    assert list(rows) == ["reading", "edits", "of which context", "slimming", "split",
                          "JSON report", "277CA", "HTML report", "summary", "about"]
    assert rows["reading"] > 0 and rows["edits"] > rows["of which context"] > 0
    assert rows["about"] == pytest.approx(sum(v for k, v in rows.items()
                                              if k not in ("about", "of which context")),
                                          abs=0.2)


def test_floor_rebuilds_the_scrubs_outputs_and_reports_its_budget(tmp_path: Path) -> None:
    # benchmarks/floor.py times the scrub's own outputs rebuilt from templates: each template
    # must give the exact bytes back (it stops otherwise), and a wrong one is caught
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import floor
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    data = generate(tmp_path, "P", 300, per_st=120)
    path = tmp_path / "floor.837"
    path.write_bytes(data)
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "scrub837", "scrub", str(path), "--out", str(out)],
                   capture_output=True, check=False, timeout=300)
    report = (out / "floor.837.report.json").read_text("utf-8")
    ack = (out / "floor.837.277").read_text("latin-1")
    units = floor.json_units(report)
    assert len(units) == 300  # one template per claim (the first with the report's head)
    floor.check(units, report)
    floor.check(floor.x12_units(ack), ack)
    shape, values = units[5]
    units[5] = (shape, (*values[:-1], values[-1] + "x"))
    with pytest.raises(SystemExit, match="does not give the output back"):
        floor.check(units, report)
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "floor.py"), str(path),
                           "--repeat", "1", "--with-checks"], capture_output=True, text=True,
                          check=True, timeout=300)
    lines = done.stdout.splitlines()
    assert lines[0].startswith("floor.837: 300 claims, ")
    assert [line[:38].strip() for line in lines[1:7] + lines[8:12]] == [
        "tokenizer", "read_claims (lazy: no line read)", "JSON report from its values",
        "277CA from its elements", "837s and HTML, bytes only",
        "the floor (all but the tokenizer)", "the checks, fused (a prototype)",
        "the floor and the checks", "(today: scrub --out, one run)",
        "extract's records from their values"]
    assert lines[7].startswith("  0.25x is 4 tokenizers (")
    assert len(lines) == 13
    assert lines[12].startswith("  extract: the reader and its records alone ")


def test_the_fused_prototype_finds_what_the_scrub_finds(tmp_path: Path) -> None:
    # benchmarks/fused_prototype.py measures a fused pass of the checks; the measure is worth
    # something only if the pass does the scrub's work: its hits by rule are the scrub's
    # findings by rule on a generated file with each kind of defect the generator makes
    import collections
    import json

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from fused_prototype import Fused
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    from scrub837.scrubber import Scrubber

    data = generate(tmp_path, "P", 1500, seed=11, per_st=500)
    path = tmp_path / "fused.837"
    path.write_bytes(data)
    fused = Fused(Scrubber())
    ours: collections.Counter[tuple[str, str, str]] = collections.Counter()
    for claim in (c for c in iter_items(data, path.name, lazy=True) if isinstance(c, Claim)):
        hits: list[tuple[str, int, int, str]] = []
        fused.claim(claim, hits)  # its lines in order: LX01 is the line's number here
        ours.update((claim.clm01, rule, str(at + 1) if at >= 0 else "")
                    for rule, at, _, _ in hits)
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "scrub837", "scrub", str(path), "--out", str(out)],
                   capture_output=True, check=False, timeout=300)
    report = json.loads((out / "fused.837.report.json").read_text("utf-8"))
    theirs = collections.Counter((c["clm01"], f["rule_id"], f["location"]["lx"])
                                 for t in report["transactions"] for c in t["claims"]
                                 for f in c["findings"])
    # the generator's defects and the data-period warning, each on its claim and line
    assert len({rule for _, rule, _ in theirs}) >= 8
    assert ours == theirs
