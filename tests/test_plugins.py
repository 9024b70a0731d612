"""The plugin extension point: third-party edits under the entry-point group ``scrub837.edits``.

The example package is really built and pip-installed (into a private folder put on the
subprocess's ``PYTHONPATH``, so concurrent test runs sharing one environment never see it);
``importlib.metadata`` finds its entry point exactly as in site-packages. Broken plugins are
real distributions too (a ``.dist-info`` with ``entry_points.txt``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from scrub837.edits import ENTRY_POINT_GROUP, Edit
from scrub837.scrubber import Scrubber
from tests.conftest import ROOT, SAMPLES

EXAMPLE = ROOT / "examples" / "scrub837-example-edit"
ZERO = (SAMPLES / "837p_clean.837").read_text().replace(
    "SV1*HC:J0897:JZ*1800*UN*60", "SV1*HC:J0897:JZ*0*UN*60").replace(
    "CLM*CLEAN-J0897-003*1840", "CLM*CLEAN-J0897-003*40")


def env_with(path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(path), env.get("PYTHONPATH")]))
    return env


def scrub837(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scrub837", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    target = tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
           "--no-index", "--target", str(target), str(EXAMPLE)]
    proc = subprocess.run(pip, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    try:
        yield target
    finally:
        subprocess.run([sys.executable, "-c", "import shutil, sys; shutil.rmtree(sys.argv[1])",
                        str(target)], timeout=60, check=False)


def test_the_installed_example_runs_in_a_real_scrub(installed: Path) -> None:
    entry_points = next(installed.glob("scrub837_example_edit-*.dist-info")) / "entry_points.txt"
    assert "example = scrub837_example_edit:ExampleEdit" in entry_points.read_text()
    proc = scrub837("scrub", "-", "--format", "json", env=env_with(installed), stdin=ZERO)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    hits = [(r["clm01"], f) for r in rows for f in r.get("findings", [])
            if f["rule_id"] == "EXAMPLE_ZERO_CHARGE"]
    assert len(hits) == 1
    clm01, hit = hits[0]
    assert clm01 == "CLEAN-J0897-003"
    assert hit["severity"] == "warn" and hit["stc"] == ["A7:583"]
    assert hit["location"]["path"].endswith("/SV102")
    plain = scrub837("scrub", "-", "--format", "json", env=dict(os.environ), stdin=ZERO)
    assert "EXAMPLE_ZERO_CHARGE" not in plain.stdout  # without the plugin, no such rule


def test_the_example_satisfies_the_protocol(installed: Path) -> None:
    sys.path.insert(0, str(installed))
    try:
        from scrub837_example_edit import ExampleEdit  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(installed))
    edit = ExampleEdit()
    assert isinstance(edit, Edit) and not isinstance(object(), Edit)
    scrubber = Scrubber(edits=[edit])
    findings = [f for t in scrubber.scrub(ZERO.encode(), "zero.837").transactions
                for c in t.claims for f in c.findings]
    assert [f.rule_id for f in findings] == ["EXAMPLE_ZERO_CHARGE"]
    assert findings[0].location.clm01 == "CLEAN-J0897-003"


def fake_distribution(site: Path, name: str, entry: str, module: str = "") -> Path:
    """A real installed distribution as importlib.metadata sees one: METADATA + entry points."""
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nbroken = {entry}\n")
    if module:
        (site / f"{name}.py").write_text(module)
    return site


@pytest.mark.parametrize("entry, module, message", [
    ("broken_not_edit:NotAnEdit", "class NotAnEdit:\n    name = 'x'\n", "is not an Edit"),
    ("broken_import:Edit", "raise ImportError('missing dependency')\n", "failed to load"),
])
def test_a_broken_plugin_is_a_clear_error_from_the_cli(tmp_path: Path, entry: str,
                                                       module: str, message: str) -> None:
    name = entry.split(":")[0]
    env = env_with(fake_distribution(tmp_path / "site", name, entry, module))
    for args in (["scrub", str(SAMPLES / "837p_clean.837"), "--format", "json"],
                 ["watch", str(tmp_path / "inbox"), "--out", str(tmp_path / "out"), "--once"]):
        proc = scrub837(*args, env=env)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        assert f"'broken' ({entry})" in proc.stderr and message in proc.stderr
        assert proc.stderr.count("\n") == 1  # one line


def test_scrubber_is_safe_from_several_threads() -> None:
    scrubber = Scrubber()
    inputs = [(SAMPLES / n).read_bytes() for n in ("837p_defects.837", "837p_clean.837",
                                                    "837i_outpatient.837")] * 8
    alone = [scrubber.scrub(d, "x").summary for d in inputs]
    with ThreadPoolExecutor(max_workers=6) as pool:
        together = list(pool.map(lambda d: scrubber.scrub(d, "x").summary, inputs))
    assert together == alone
    result = scrubber.scrub(inputs[0], "defects.837")
    assert result.summary.rejected > 0 and result.ack_277.startswith(b"ISA")
    assert b"CLM*DEF-NDC-MISSING" in result.rejected_837
    assert b"<html" in result.render_html()
