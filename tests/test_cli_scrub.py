"""``scrub837 scrub``: in process through ``cli.run`` (fast) and as real subprocesses (exit
codes, no tracebacks). See also tests/test_cli.py."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from scrub837.cli import run
from scrub837.x12.pyx12_adapter import validate_277ca, validate_837
from tests.conftest import SAMPLES
from tests.x12text import CLAIM_P, envelope

CLEAN = str(SAMPLES / "837p_clean.837")
DEFECTS = str(SAMPLES / "837p_defects.837")
TRUNCATED = str(SAMPLES / "bad_truncated.837")


def scrub(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(["scrub", *args], out, err)
    assert "Traceback" not in err.getvalue()
    return code, out.getvalue(), err.getvalue()


def test_outputs_summary_lines_and_the_worst_exit_code(tmp_path: Path) -> None:
    code, out, err = scrub(CLEAN, DEFECTS, TRUNCATED, "--out", str(tmp_path))
    assert code == 3
    lines = out.splitlines()
    assert lines[0] == (f"{CLEAN}: 6 claims, 6 accepted, 0 rejected, $0.00 held back, "
                        "7 warnings")  # 1 NDC_NOT_IN_CROSSWALK, 6 DATA_PERIOD (one a claim)
    assert lines[1].startswith(f"{DEFECTS}: 34 claims, 2 accepted, 32 rejected, $42,490.00 "
                               "held back")
    assert "bad_truncated.837" in err and "segment 58" in err
    names = {p.name for p in tmp_path.iterdir()}
    assert {"837p_clean.837.277", "837p_clean.837.accepted.837", "837p_defects.837.rejected.837",
            "bad_truncated.837.error.txt", "bad_truncated.837.report.json",
            "bad_truncated.837.report.html"} <= names
    assert "837p_clean.837.rejected.837" not in names and not [n for n in names if n[0] == "."]
    assert validate_277ca((tmp_path / "837p_defects.837.277").read_bytes()).ok
    for half in ("accepted", "rejected"):
        assert validate_837((tmp_path / f"837p_defects.837.{half}.837").read_bytes()).ok
    error = (tmp_path / "bad_truncated.837.error.txt").read_text()
    assert TRUNCATED in error and "segment 58" in error
    for p in tmp_path.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600


def test_mode_and_277ca_identity_options(tmp_path: Path) -> None:
    code, _, _ = scrub(CLEAN, "--out", str(tmp_path), "--mode", "640", "--sender-id",
                       "CLEARINGHS1", "--sender-qualifier", "30", "--receiver-id", "PRACTICE7",
                       "--receiver-qualifier", "01")
    assert code == 0
    assert {stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()} == {0o640}
    ack = (tmp_path / "837p_clean.837.277").read_text()
    assert ack.startswith("ISA*00*          *00*          *30*CLEARINGHS1    *01*PRACTICE7      *")
    assert "\nGS*HN*CLEARINGHS1*PRACTICE7*" in ack
    assert scrub(CLEAN, "--out", str(tmp_path), "--mode", "999")[0] == 2


def test_control_state_keeps_numbers_apart_across_runs(tmp_path: Path) -> None:
    state = tmp_path / "control.json"
    for run_dir in ("a", "b"):
        assert scrub(CLEAN, "--out", str(tmp_path / run_dir), "--control-state", str(state))[0] == 0

    def numbers(run_dir: str) -> set[str]:
        segs = [s.strip().split("*") for s in
                (tmp_path / run_dir / "837p_clean.837.277").read_text().split("~")]
        return {s[2] for s in segs if s[0] in ("ST", "REF")} | {segs[0][13].lstrip("0")}

    assert numbers("a") and not numbers("a") & numbers("b")


def test_without_out_json_and_summary_formats() -> None:
    code, out, _ = scrub(DEFECTS)
    assert code == 1
    rows = [json.loads(line) for line in out.splitlines()]
    claims = [r for r in rows if "clm01" in r]
    assert len(claims) == 34 and {r["verdict"] for r in claims} == {"accepted", "rejected"}
    assert rows[-1]["summary"]["exit_code"] == 1 and rows[-1]["summary"]["rejected"] == 32
    code, out, _ = scrub(CLEAN, "--format", "summary")
    assert code == 0 and out == f"{CLEAN}: 6 claims, 6 accepted, 0 rejected, $0.00 held back, 7 warnings\n"


def test_usage_and_rule_pack_errors_are_exit_2(tmp_path: Path) -> None:
    assert scrub(CLEAN, "--format", "xml")[0] == 2
    code, _, err = scrub(CLEAN, "--rules", str(tmp_path / "no-such-pack"))
    assert code == 2 and "no-such-pack" in err
    bad = tmp_path / "xwalk.csv"
    bad.write_text("not,a,crosswalk\n1,2,3\n")
    code, _, err = scrub(CLEAN, "--crosswalk", str(bad))
    assert code == 2 and "xwalk.csv" in err


def test_a_version_without_a_pyx12_map_is_reported_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "a2.837"
    path.write_text(envelope(CLAIM_P, version="005010X222A2"))
    code, _, _ = scrub(str(path), "--validate", "--out", str(tmp_path / "out"))
    assert code in (0, 1)
    assert (tmp_path / "out" / "a2.837.999").exists()
    report = json.loads((tmp_path / "out" / "a2.837.report.json").read_text())
    notes = [f["message"] for f in report["envelope_findings"] if f["rule_id"] == "IG_NOTE"]
    assert notes and "005010X222A2" in notes[0]


def test_disk_full_leaves_no_partial_outputs(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("scrub837.run.pipeline.os.fsync", full)
    code, out, err = scrub(CLEAN, "--out", str(tmp_path))
    assert code == 4 and out == ""  # an output failure, not the input's: 4, naming the folder
    assert f"cannot write the outputs to {tmp_path}: No space left on device" in err
    assert "no output was written for " + CLEAN in err
    assert list(tmp_path.iterdir()) == []


def cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "scrub837", "scrub", *args], input=stdin,
                          capture_output=True, timeout=120, check=False)


def test_exit_codes_as_a_real_process(tmp_path: Path) -> None:
    out = str(tmp_path)
    assert cli(CLEAN, "--out", out).returncode == 0
    assert cli(DEFECTS, "--out", out).returncode == 1
    usage = cli("--out", out)
    assert usage.returncode == 2 and b"Traceback" not in usage.stderr
    for bad in ("bad_not_x12.txt", "bad_empty.837", "bad_835.x12"):
        proc = cli(str(SAMPLES / bad), "--out", out)
        assert proc.returncode == 3 and b"Traceback" not in proc.stderr, bad
        assert (tmp_path / f"{bad}.error.txt").read_text().startswith(f"file: {SAMPLES / bad}")
    piped = cli("-", stdin=(SAMPLES / "837p_defects.837").read_bytes())
    assert piped.returncode == 1
    assert sum(1 for line in piped.stdout.splitlines() if b'"verdict"' in line) == 34
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in tmp_path.iterdir())
