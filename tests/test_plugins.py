"""Third-party edits through the entry-point group, and the plugin API from several threads."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from scrub837.edits import Edit
from scrub837.scrubber import Scrubber
from tests.conftest import ROOT, SAMPLES

EXAMPLE = ROOT / "examples" / "scrub837-example-edit"


@pytest.fixture(scope="module")
def installed_plugin():  # type: ignore[no-untyped-def]
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
           str(EXAMPLE)]
    proc = subprocess.run(pip, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    try:
        yield
    finally:
        subprocess.run([sys.executable, "-m", "pip", "uninstall", "-y", "-q",
                        "scrub837-example-edit"], capture_output=True, timeout=300)


def test_installed_plugin_runs_in_a_real_scrub(installed_plugin, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = (SAMPLES / "837p_clean.837").read_text().replace(
        "SV1*HC:J0897:JZ*1800*UN*60", "SV1*HC:J0897:JZ*0*UN*60").replace(
        "CLM*CLEAN-J0897-003*1840", "CLM*CLEAN-J0897-003*40")
    proc = subprocess.run([sys.executable, "-m", "scrub837", "scrub", "-", "--format", "json"],
                          input=data, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    hits = [f for r in rows for f in r.get("findings", []) if f["rule_id"] ==
            "EXAMPLE_ZERO_CHARGE"]
    assert len(hits) == 1 and hits[0]["severity"] == "warn" and hits[0]["stc"] == ["A7:583"]
    assert hits[0]["location"]["path"].endswith("/SV102")


def test_the_example_satisfies_the_protocol() -> None:
    sys.path.insert(0, str(EXAMPLE / "src"))
    try:
        from scrub837_example_edit import ZeroChargeEdit
    finally:
        sys.path.pop(0)
    assert isinstance(ZeroChargeEdit(), Edit)
    assert not isinstance(object(), Edit)


def test_scrubber_is_safe_from_several_threads() -> None:
    scrubber = Scrubber()
    inputs = [(SAMPLES / n).read_bytes() for n in ("837p_defects.837", "837p_clean.837",
                                                    "837i_outpatient.837")] * 8
    alone = [scrubber.scrub(d, "x").summary for d in inputs]
    with ThreadPoolExecutor(max_workers=6) as pool:
        together = list(pool.map(lambda d: scrubber.scrub(d, "x").summary, inputs))
    assert together == alone
    result = scrubber.scrub(inputs[0], "defects.837")
    assert result.summary.rejected == 31 and result.ack_277.startswith(b"ISA")
    assert b"CLM*DEF-NDC-MISSING" in result.rejected_837
    assert b"<html" in result.render_html()


def test_a_broken_plugin_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    from importlib.metadata import EntryPoint

    import scrub837.edits as edits
    from scrub837.cli import run

    broken = EntryPoint(name="broken", value="builtins:object", group="scrub837.edits")
    monkeypatch.setattr(edits, "entry_points", lambda group: [broken])
    out, err = io.StringIO(), io.StringIO()
    code = run(["scrub", str(SAMPLES / "837p_clean.837"), "--format", "json"], out, err)
    assert code == 2
    assert "broken" in err.getvalue() and "is not an Edit" in err.getvalue()
