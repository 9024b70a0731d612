"""The engine: an edit that raises is a finding, overlays from an extra folder, control numbers
that persist across runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from scrub837.claims.model import Claim
from scrub837.edits import EditContext, Hit, NamedEdit, builtin_edits
from scrub837.outputs.control import ControlNumbers
from scrub837.scrubber import Scrubber, iter_findings
from tests.conftest import SAMPLES
from tests.test_cli import cli


def _explodes(claim: Claim, ctx: EditContext) -> Iterator[Hit]:
    if claim.clm01.startswith("CLEAN-J0897"):
        raise ZeroDivisionError("odd data")
    return iter(())


def test_an_edit_that_raises_is_a_finding_and_the_run_goes_on() -> None:
    scrubber = Scrubber(edits=builtin_edits() + (NamedEdit("test.explodes", _explodes),))
    result = scrubber.scrub((SAMPLES / "837p_clean.837").read_bytes(), "clean.837")
    verdicts = {c.claim.clm01: c for t in result.transactions for c in t.claims}
    bad = verdicts["CLEAN-J0897-003"]
    assert bad.rejected and [f.rule_id for f in bad.findings
                             if f.rule_id != "DATA_PERIOD"] == ["ENGINE_ERROR"]
    error = next(f for f in bad.findings if f.rule_id == "ENGINE_ERROR")
    assert "test.explodes" in error.message and "ZeroDivisionError" in error.message
    assert "odd data" not in error.message  # exception text may quote values
    assert all(not c.rejected for k, c in verdicts.items() if k != "CLEAN-J0897-003")
    assert result.ack_277.count(b"STC*A3:21") == 1


def test_extra_payer_overlay_folder(tmp_path: Path) -> None:
    (tmp_path / "medcr.toml").write_text(
        '[payer]\nname = "Strict Medicare test"\npayer_ids = ["MEDCR1"]\n'
        'source = "test"\nprior_auth = ["J0897"]\n')
    data = (SAMPLES / "837p_clean.837").read_bytes()
    rules = {(f.location.clm01, f.rule_id) for f in iter_findings(
        data, Scrubber(payer_overlays=tmp_path))}
    assert ("CLEAN-J0897-003", "AUTH_MISSING") in rules
    assert not any(r == "AUTH_MISSING" for _, r in iter_findings_rules(data))


def iter_findings_rules(data: bytes) -> list[tuple[str, str]]:
    return [(f.location.clm01, f.rule_id) for f in iter_findings(data, Scrubber())]


def test_control_numbers_persist_across_runs(tmp_path: Path) -> None:
    state = tmp_path / "control.json"
    first = ControlNumbers(state).take(5)
    second = ControlNumbers(state).take(1)
    assert second == first + 5
    assert json.loads(state.read_text())["next"] == first + 6
    out = tmp_path / "out"
    for run in ("a", "b"):
        proc = cli("scrub", str(SAMPLES / "837p_clean.837"), "--out", str(out / run),
                   "--control-state", str(state))
        assert proc.returncode == 0, proc.stderr
    isa13 = [(out / r / "837p_clean.837.277").read_text()[90:99] for r in ("a", "b")]
    assert isa13[0] != isa13[1] and all(x.isdigit() for x in isa13)


def test_edits_marked_drug_lines_only_find_nothing_without_drug_lines() -> None:
    """The short path is sound: every edit the engine skips on a claim without drug lines
    finds nothing on such a claim (each sample claim, checked as if it had none), and an
    unmarked edit (a plugin's) is never skipped."""
    from dataclasses import replace

    from scrub837 import read_claims
    from scrub837.edits import Engine

    engine = Scrubber().engine
    marked = [e for e in builtin_edits()
              if getattr(getattr(e, "func", None), "drug_lines_only", False)]
    assert len(marked) >= 10
    claims = [c for p in sorted(SAMPLES.glob("*.837")) for c in _claims_or_none(read_claims, p)]
    assert len(claims) > 10
    for claim in claims:
        ctx = replace(engine.context(claim), drug_lines=())
        for edit in marked:
            assert list(edit(claim, ctx)) == [], (edit.name, claim.clm01)
    calls: list[str] = []

    def counting(claim: Claim, ctx: EditContext) -> Iterator[Hit]:
        calls.append(claim.clm01)
        return iter(())

    plain = replace(claims[0], lines=())  # a claim without drug lines
    assert not engine.context(plain).drug_lines
    Engine(engine.rulebook, (NamedEdit("test.counting", counting),)).check(plain)
    assert calls == [plain.clm01]


def _claims_or_none(read: object, path: Path) -> list[Claim]:
    try:
        return list(read(path.read_bytes()))  # type: ignore[operator]
    except Exception:  # a sample that cannot be read (they include such files)
        return []



def test_line_local_edits_find_on_each_line_alone(tmp_path: Path) -> None:
    """The skip of line-local edits is sound: on every claim of the samples and of generated
    837P/837I files, each edit marked line_local finds on the claim what it finds on each of
    its drug lines alone (in order), lines with equal DrugLine.values() get equal verdicts,
    and the engine's findings are those it gives with no edit skipped."""
    import subprocess
    import sys

    from scrub837 import read_claims
    from scrub837.edits import Engine
    from tests.conftest import ROOT

    paths = sorted(SAMPLES.glob("*.837"))
    for kind in ("P", "I"):
        out = tmp_path / f"{kind}.837"
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--kind", kind,
                        "--claims", "300", "--seed", "5", "--out", str(out)], check=True)
        paths.append(out)
    engine = Scrubber(plugins=False).engine
    unskipped = Engine(engine.rulebook, engine.edits, today=engine.today)
    unskipped._local = ()
    local = [e for e in builtin_edits() if getattr(getattr(e, "func", None), "line_local", False)]
    assert len(local) >= 5 and engine._local
    verdicts: dict[tuple[object, ...], list[bool]] = {}
    checked = 0
    for path in paths:
        for claim in _claims_or_none(read_claims, path):
            ctx = engine.context(claim)
            for drug in ctx.drugs:
                alone = EditContext(ctx.rulebook, ctx.overlay, ctx.kind, (drug.line,), ctx.today)
                found = [bool(list(edit(claim, alone))) for edit in local]
                key = (id(ctx.overlay), ctx.kind, drug.values())
                assert verdicts.setdefault(key, found) == found, (claim.clm01, drug.line)
            for edit in local:
                each = [hit for drug in ctx.drugs for hit in edit(claim, EditContext(
                    ctx.rulebook, ctx.overlay, ctx.kind, (drug.line,), ctx.today))]
                assert list(edit(claim, ctx)) == each, (edit.name, claim.clm01)
            assert engine.check(claim) == unskipped.check(claim), claim.clm01
            checked += bool(ctx.drugs)
    assert checked > 500
