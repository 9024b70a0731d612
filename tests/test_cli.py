"""The command line as a real subprocess (and in process through cli.run)."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from scrub837.cli import run
from tests.compare import assert_same_outputs
from tests.conftest import SAMPLES


def cli(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scrub837", *args], input=stdin.decode() if
                          stdin is not None else None, capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def test_extract_prints_one_json_object_per_drug_line() -> None:
    proc = cli("extract", str(SAMPLES / "837p_clean.837"))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == 8
    first = rows[0]
    assert first["line"]["code"] == "J9262" and first["drug"]["ndc"] == "63459017714"
    assert first["location"]["path"] == "2000A/2000B/2300/2400[1]"
    assert first["claim"]["subscriber"]["last_name"] == "T**********"  # masked by default


def test_extract_reads_standard_input_and_other_prefixes() -> None:
    data = (SAMPLES / "837p_delims.837").read_bytes()
    proc = cli("extract", "-", "--prefix", "9", stdin=data)
    assert proc.returncode == 0, proc.stderr
    codes = [json.loads(line)["line"]["code"] for line in proc.stdout.splitlines()]
    assert codes == ["96372"]


def test_extract_exit_codes() -> None:
    bad = cli("extract", str(SAMPLES / "bad_truncated.837"))
    assert bad.returncode == 3
    assert "bad_truncated.837" in bad.stderr and "segment 58" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert cli("extract").returncode == 2
    missing = cli("extract", "no/such/file.837", str(SAMPLES / "837p_clean.837"))
    assert missing.returncode == 3 and "no/such/file.837: no such file" in missing.stderr
    assert missing.stdout.count("\n") == 8  # the other file was still read
    not_837 = cli("extract", str(SAMPLES / "bad_835.x12"))
    assert not_837.returncode == 3 and "'835'" in not_837.stderr


def test_scrub_out_writes_outputs_and_exit_codes(tmp_path: Path) -> None:
    clean = cli("scrub", str(SAMPLES / "837p_clean.837"), "--out", str(tmp_path))
    assert clean.returncode == 0, clean.stderr
    assert "6 claims, 6 accepted, 0 rejected, $0.00 held back" in clean.stdout
    defects = cli("scrub", str(SAMPLES / "837p_defects.837"), "--out", str(tmp_path))
    assert defects.returncode == 1
    assert "34 claims, 2 accepted, 32 rejected" in defects.stdout
    bad = cli("scrub", str(SAMPLES / "bad_not_x12.txt"), "--out", str(tmp_path))
    assert bad.returncode == 3 and (tmp_path / "bad_not_x12.txt.error.txt").exists()
    for p in tmp_path.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600


def test_scrub_json_to_stdout_and_stdin() -> None:
    data = (SAMPLES / "837p_defects.837").read_bytes()
    proc = cli("scrub", "-", "--format", "json", stdin=data)
    assert proc.returncode == 1, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    verdicts = {r["clm01"]: r["verdict"] for r in rows if "clm01" in r}
    assert verdicts["DEF-NDC-MISSING"] == "rejected"
    assert verdicts["WARN-CODE-UNKNOWN"] == "accepted"
    finding = next(r for r in rows if r.get("clm01") == "DEF-NDC-FORMAT")["findings"][0]
    assert finding["rule_id"] == "NDC_FORMAT" and finding["stc"] == ["A7:218"]
    assert finding["location"]["path"].endswith("/2410/LIN03")


def test_scrub_rule_pack_error_is_exit_2(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    import shutil

    shutil.copytree(Path(__file__).parents[1] / "rules", pack)
    (pack / "edits.toml").write_text((pack / "edits.toml").read_text().replace(
        'stc = ["A7:218"]', 'stc = ["A7-218"]', 1))
    proc = cli("scrub", str(SAMPLES / "837p_clean.837"), "--rules", str(pack), "--out",
               str(tmp_path / "o"))
    assert proc.returncode == 2
    assert "edits.toml" in proc.stderr and "stc" in proc.stderr and "Traceback" not in proc.stderr


def test_rules_check_and_show() -> None:
    check = cli("rules", "check")
    assert check.returncode == 0, check.stderr
    assert "unverified entries" in check.stdout and "J9262: container" in check.stdout
    show = cli("rules", "show", "J2260")
    assert show.returncode == 0
    assert "milrinone" in show.stdout and "oxymorphone" in show.stdout and "J2410" in show.stdout
    unknown = cli("rules", "show", "J0000")  # 1 means "a claim was rejected": not this
    assert unknown.returncode == 2 and "J0000: not in CMS HCPCS Level II" in unknown.stderr
    assert "2 payer overlays and the default (payers/default.toml)" in check.stdout


def test_run_is_a_function() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert run(["--version"], out, err) == 0 and out.getvalue().startswith("scrub837 ")
    assert run([], out, err) == 2
    assert run(["scrub", "--jobs", "0", str(SAMPLES / "837p_clean.837")], out, err) == 2


def test_validate_writes_999_and_rejects_ig_invalid_claims(tmp_path: Path) -> None:
    proc = cli("scrub", str(SAMPLES / "837p_ig_invalid.837"), str(SAMPLES / "837p_clean.837"),
               "--validate", "--out", str(tmp_path))
    assert proc.returncode == 1, proc.stderr
    assert (tmp_path / "837p_ig_invalid.837.999").read_text().startswith("ISA")
    report = json.loads((tmp_path / "837p_ig_invalid.837.report.json").read_text())
    rules = {f["rule_id"] for t in report["transactions"] for c in t["claims"]
             for f in c["findings"]}
    assert "IG_INVALID" in rules
    clean = json.loads((tmp_path / "837p_clean.837.report.json").read_text())
    assert clean["summary"]["rejected"] == 0
    assert os.path.exists(tmp_path / "837p_clean.837.999")


def test_jobs_gives_identical_outputs(tmp_path: Path) -> None:
    files = [str(SAMPLES / n) for n in ("837p_defects.837", "837p_clean.837",
                                        "837i_outpatient.837", "bad_truncated.837")]
    one = cli("scrub", *files, "--out", str(tmp_path / "one"))
    two = cli("scrub", *files, "--out", str(tmp_path / "two"), "--jobs", "2")
    assert one.returncode == two.returncode == 3
    assert one.stdout == two.stdout
    assert_same_outputs(tmp_path / "one", tmp_path / "two")


def test_scrub_standard_input_to_a_folder(tmp_path: Path) -> None:
    data = (SAMPLES / "837p_clean.837").read_bytes()
    proc = cli("scrub", "-", "--out", str(tmp_path), stdin=data)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "stdin.277", "stdin.accepted.837", "stdin.report.html", "stdin.report.json"]
