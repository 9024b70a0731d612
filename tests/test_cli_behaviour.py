"""The command line as a clearinghouse engineer meets it: --help, exit codes (input vs output
failures), a batch with a bad input, --format, the 999's numbers, progress on a terminal.
Real subprocesses unless a failure can only be injected (see test_cli_scrub's disk-full)."""

from __future__ import annotations

import ctypes
import fcntl
import io
import json
import os
import pty
import shutil
import struct
import subprocess
import sys
import tempfile
import termios
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scrub837.cli import EXIT_INPUT, EXIT_OK, EXIT_OUTPUT, EXIT_REJECTED, EXIT_USAGE, run
from scrub837.run.pipeline import OutputOptions, scrub_file
from scrub837.scrubber import Scrubber
from tests.conftest import ROOT, SAMPLES

CLEAN = str(SAMPLES / "837p_clean.837")
DEFECTS = str(SAMPLES / "837p_defects.837")
COUNT = str(SAMPLES / "bad_count_mismatch.837")
GEN = ROOT / "benchmarks" / "generate.py"


def cli(*args: str, preexec: Callable[[], None] | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "scrub837", *args], capture_output=True,
                          text=True, timeout=300, preexec_fn=preexec, cwd=cwd, check=False)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    return proc


def _drop_dac_capabilities() -> None:
    """Run the child as root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH: mode bits apply."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def permissions_apply() -> Callable[[], None] | None:
    """What makes a child obey file modes (root ignores them), or skip."""
    if os.geteuid() != 0:
        return None
    probe = subprocess.run([sys.executable, "-c", "pass"], preexec_fn=_drop_dac_capabilities,
                           capture_output=True, timeout=30, check=False)
    if probe.returncode != 0:
        pytest.skip("running as root and cannot drop root's file-permission override "
                    "(CAP_DAC_OVERRIDE) here, so a permission-denied file cannot be made")
    return _drop_dac_capabilities


# -- --help ---------------------------------------------------------------------------------

def test_help_prints_once_and_each_command_its_own() -> None:
    top = cli("--help")
    assert top.returncode == 0 and top.stdout.count("usage:") == 1
    assert "{extract,scrub,rules,watch,data}" in top.stdout
    for command in (["scrub"], ["extract"], ["rules"], ["rules", "show"], ["watch"]):
        own = cli(*command, "--help")
        assert own.returncode == 0 and own.stdout.count("usage:") == 1, command
        assert own.stdout.startswith(f"usage: scrub837 {' '.join(command)} "), command
    out, err = io.StringIO(), io.StringIO()  # in process too: to the given stream, not sys's
    assert run(["scrub", "--help"], out, err) == 0
    assert out.getvalue().count("usage: scrub837 scrub") == 1 and err.getvalue() == ""


# -- one bad input among several --------------------------------------------------------------

def test_a_missing_input_is_reported_and_the_others_are_scrubbed(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.837")
    proc = cli("scrub", CLEAN, missing, DEFECTS, "--out", str(tmp_path / "out"))
    assert proc.returncode == EXIT_INPUT  # the worst: 3 (an input) over 1 (a rejection)
    assert f"{missing}: no such file" in proc.stderr
    assert [line.split(":")[0] for line in proc.stdout.splitlines()] == [CLEAN, DEFECTS]
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"837p_clean.837.277", "837p_defects.837.277"} <= names
    assert not [n for n in names if n.startswith("nope")]
    folder = cli("scrub", str(tmp_path), CLEAN)  # a folder as input, without --out
    assert folder.returncode == EXIT_INPUT and "is a folder, not a file" in folder.stderr
    assert json.loads(folder.stdout.splitlines()[-1])["summary"]["claims"] == 6
    jobs = cli("scrub", missing, DEFECTS, "--jobs", "2", "--out", str(tmp_path / "jobs"))
    assert jobs.returncode == EXIT_INPUT and jobs.stdout.startswith(f"{DEFECTS}: 34 claims")


def test_permission_denied_input_is_exit_3_naming_it(tmp_path: Path) -> None:
    preexec = permissions_apply()
    locked = tmp_path / "locked.837"
    shutil.copyfile(CLEAN, locked)
    locked.chmod(0)
    for extra in (["--out", str(tmp_path / "out")], [], ["--jobs", "2", "--out",
                                                         str(tmp_path / "jobs")]):
        proc = cli("scrub", str(locked), DEFECTS, *extra, preexec=preexec)
        assert proc.returncode == EXIT_INPUT, (extra, proc.stderr)
        assert f"{locked}: cannot read the input: Permission denied" in proc.stderr, extra
        assert DEFECTS in proc.stdout, extra  # the other input was scrubbed
    extract = cli("extract", str(locked), preexec=preexec)
    assert extract.returncode == EXIT_INPUT and "Permission denied" in extract.stderr


def test_an_unwritable_out_folder_is_exit_4_naming_it(tmp_path: Path) -> None:
    preexec = permissions_apply()
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(0o555)
    for out in (readonly, readonly / "sub"):
        proc = cli("scrub", CLEAN, DEFECTS, "--out", str(out), preexec=preexec)
        assert proc.returncode == EXIT_OUTPUT, proc.stderr
        assert f"--out {out}: cannot write there: Permission denied" in proc.stderr
        assert "nothing was scrubbed" in proc.stderr and proc.stdout == ""
    assert list(readonly.iterdir()) == []


def test_out_under_a_file_is_exit_4_naming_the_path(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    sub = cli("scrub", CLEAN, "--out", str(a_file / "sub"))
    assert sub.returncode == EXIT_OUTPUT and f"--out {a_file / 'sub'}: cannot write" in sub.stderr
    same = cli("scrub", CLEAN, "--out", str(a_file))
    assert same.returncode == EXIT_OUTPUT and f"--out {a_file}: is a file" in same.stderr
    assert a_file.read_text() == "x"


@contextmanager
def tiny_tmpfs(mount: Path, size: str) -> Iterator[Path]:
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(mount)],
            capture_output=True, timeout=10, check=False).returncode != 0:
        pytest.skip("a real full disk needs root and a tmpfs mount, not available here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True, timeout=10, check=False)


def test_a_full_disk_is_exit_4_naming_the_output_and_leaves_nothing(tmp_path: Path) -> None:
    with tiny_tmpfs(tmp_path / "small", "64k") as out:
        proc = cli("scrub", DEFECTS, CLEAN, "--out", str(out))
        assert proc.returncode == EXIT_OUTPUT, proc.stderr
        assert f"cannot write the outputs to {out}: No space left on device" in proc.stderr
        assert f"no output was written for {DEFECTS}" in proc.stderr
        assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temp files


def test_an_internal_error_exits_4_not_70(monkeypatch: pytest.MonkeyPatch) -> None:
    from scrub837 import cli as cli_module

    def broken(argv: object, stdout: object, stderr: object) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli_module, "run", broken)
    monkeypatch.setattr(sys, "argv", ["scrub837", "scrub", CLEAN])
    with pytest.raises(SystemExit) as exited:
        cli_module.main()
    assert exited.value.code == EXIT_OUTPUT


# -- --format -------------------------------------------------------------------------------

def test_summary_is_the_same_line_with_and_without_out(tmp_path: Path) -> None:
    files = [CLEAN, DEFECTS, str(SAMPLES / "bad_truncated.837")]
    printed = cli("scrub", *files, "--format", "summary")
    written = cli("scrub", *files, "--out", str(tmp_path))
    assert printed.returncode == written.returncode == EXIT_INPUT
    assert printed.stdout == written.stdout and printed.stderr == written.stderr
    assert printed.stdout.splitlines()[1] == (
        f"{DEFECTS}: 34 claims, 2 accepted, 32 rejected, $42,490.00 held back, 44 warnings")
    refused = cli("scrub", CLEAN, "--format", "json", "--out", str(tmp_path / "x"))
    assert refused.returncode == EXIT_USAGE and "NAME.report.json" in refused.stderr
    assert not (tmp_path / "x").exists()


def _json_lines(*files: str) -> tuple[int, list[dict[str, object]]]:
    out, err = io.StringIO(), io.StringIO()
    code = run(["scrub", *files, "--format", "json"], out, err)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_json_has_transaction_findings_and_agrees_with_every_output(tmp_path: Path) -> None:
    code, rows = _json_lines(COUNT)
    se = [r for r in rows if "finding" in r and "transaction" in r]
    assert [r["finding"]["rule_id"] for r in se] == ["X12_COUNT"]  # type: ignore[index]
    assert code == EXIT_REJECTED
    for path in sorted(SAMPLES.iterdir()):
        if path.suffix not in (".837", ".x12", ".txt"):
            continue
        code, rows = _json_lines(str(path))
        out = tmp_path / path.name
        written = run(["scrub", str(path), "--out", str(out)], io.StringIO(), io.StringIO())
        report = json.loads((out / f"{path.name}.report.json").read_text())
        summary = rows[-1]["summary"]
        assert summary == report["summary"], path.name
        assert code == written == summary["exit_code"], path.name  # type: ignore[index]
        verdicts = [(r["clm01"], r["verdict"]) for r in rows if "clm01" in r]
        assert verdicts == [(c["clm01"], c["verdict"]) for t in report["transactions"]
                            for c in t["claims"]], path.name
        ack = out / f"{path.name}.277"
        if ack.exists():  # the 277CA: a rejected claim's STC is A3/A6/A7/A8, accepted A1:20
            answered, traces = [], {str(c)[:50] for c, _ in verdicts}
            for chunk in ack.read_text().split("TRN*2*")[1:]:
                trace, rest = chunk.split("~", 1)
                if trace in traces:  # a claim's (2200D), not the submitter's or provider's
                        answered.append((trace, "accepted" if rest.split("STC*")[1][:2] == "A1"
                                     else "rejected"))
            assert sorted(answered) == sorted((str(c)[:50], v) for c, v in verdicts), path.name
        found = {r["finding"]["rule_id"] for r in rows if "finding" in r}  # type: ignore[index]
        assert found == {f["rule_id"] for f in report["envelope_findings"]} | {
            f["rule_id"] for t in report["transactions"] for f in t.get("findings", [])}, \
            path.name
        assert ("failure" in rows[-2]) == bool(report["failure"]), path.name


# -- --validate: the 999 ----------------------------------------------------------------------

def test_999_numbers_come_from_the_277_counter_and_carry_the_ids(tmp_path: Path) -> None:
    from scrub837.x12.pyx12_adapter import _validate

    state = tmp_path / "control.json"
    seen: list[set[str]] = []
    for run_dir in ("a", "b"):
        proc = cli("scrub", str(SAMPLES / "837p_ig_invalid.837"), "--validate", "--out",
                   str(tmp_path / run_dir), "--control-state", str(state),
                   "--sender-id", "CLEARINGHS1", "--sender-qualifier", "30")
        assert proc.returncode == EXIT_REJECTED, proc.stderr
        ack = (tmp_path / run_dir / "837p_ig_invalid.837.999").read_text()
        segs = [s.strip().split("*") for s in ack.split("~") if s.strip()]
        isa, gs = segs[0], segs[1]
        assert isa[5:7] == ["30", "CLEARINGHS1    "] and gs[2] == "CLEARINGHS1"
        assert isa[13] == segs[-1][2] and gs[6] == segs[-2][2]
        assert "IK5*R" in ack and _validate(ack.encode(), (b"005010X231",)).ok
        numbers = {isa[13].lstrip("0"), gs[6]} | {s[2] for s in segs if s[0] in ("ST", "SE")}
        ack277 = (tmp_path / run_dir / "837p_ig_invalid.837.277").read_text()
        first = ack277.split("~")[0].split("*")
        assert first[13].lstrip("0") not in numbers  # one counter: 277 and 999 never share
        seen.append(numbers)
    assert not seen[0] & seen[1]


# -- rules, benchmarks ----------------------------------------------------------------------

def test_generate_help_describes_every_option() -> None:
    proc = subprocess.run([sys.executable, str(GEN), "--help"], capture_output=True, text=True,
                          timeout=60, check=True)
    for option in ("--kind", "--claims", "--size-mb", "--seed", "--claims-per-st",
                   "--no-newlines", "--out"):
        line = next(x for x in proc.stdout.splitlines() if x.strip().startswith(option))
        assert len(line.split(None, 2)) == 3 or option == "--kind", line  # option, arg, help
    assert "837P" in proc.stdout and "--claims-per-st" in proc.stdout


# -- progress -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.837"
    subprocess.run([sys.executable, str(GEN), "--claims", "9000", "--claims-per-st", "2250",
                    "--out", str(path)], check=True, timeout=120)
    assert path.stat().st_size > 4 << 20
    return path


def on_a_terminal(*args: str) -> tuple[int, str, str]:
    """Run with standard error on a pseudo-terminal (120 columns): exit code, what the
    terminal showed, standard output."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    with tempfile.TemporaryFile() as stdout:  # a file, not a pipe: the JSON can be large
        proc = subprocess.Popen([sys.executable, "-m", "scrub837", *args],
                                stdin=subprocess.DEVNULL, stdout=stdout, stderr=slave)
        os.close(slave)
        shown = bytearray()
        while True:
            try:
                data = os.read(master, 1 << 16)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            shown += data
        os.close(master)
        code = proc.wait(timeout=300)
        stdout.seek(0)
        out = stdout.read()
    return code, shown.decode("utf-8", "replace"), out.decode()


def test_progress_on_a_terminal_and_not_elsewhere(big: Path, tmp_path: Path) -> None:
    code, shown, out = on_a_terminal("scrub", str(big), "--out", str(tmp_path / "a"))
    assert code == EXIT_REJECTED and out.startswith(f"{big}: 9000 claims")
    final = shown.replace("\r", "\n").strip().splitlines()[-1]
    assert final.startswith("big.837: 100%") and "9,000 claims" in final, shown[-400:]
    assert "B/s" in final and "claims/s" in final and "<00:00" in final  # rate, time left
    code, shown, _ = on_a_terminal("scrub", str(big), "--quiet", "--out", str(tmp_path / "b"))
    assert code == EXIT_REJECTED and shown == ""
    small, shown, _ = on_a_terminal("scrub", CLEAN, "--out", str(tmp_path / "c"))
    assert small == EXIT_OK and shown == ""  # a small file: nothing to wait for
    piped = cli("scrub", str(big), "--out", str(tmp_path / "d"))
    assert piped.returncode == EXIT_REJECTED and piped.stderr == ""  # not a terminal
    code, shown, out = on_a_terminal("scrub", str(big), "--format", "json")
    assert code == EXIT_REJECTED and "9,000 claims" in shown
    assert json.loads(out.splitlines()[-1])["summary"]["claims"] == 9000


def test_jobs_progress_counts_the_parts(big: Path, tmp_path: Path) -> None:
    code, shown, out = on_a_terminal("scrub", str(big), "--jobs", "2", "--split-min-mb", "1",
                                     "--out", str(tmp_path))
    assert code == EXIT_REJECTED and out.startswith(f"{big}: 9000 claims")
    final = shown.replace("\r", "\n").strip().splitlines()[-1]
    assert final.startswith("parts 4/4: 100%") and "9,000 claims" in final, shown[-400:]


def test_the_progress_callback_sees_bytes_and_claims(big: Path, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    outcome = scrub_file(big, Scrubber(), tmp_path, OutputOptions(
        progress=lambda done, claims: calls.append((done, claims))))
    assert calls[-1] == (big.stat().st_size, 9000) == (big.stat().st_size,
                                                       outcome.summary.claims)
    assert calls == sorted(calls) and len(calls) >= 2


# -- a reader that stops early ----------------------------------------------------------------

@pytest.mark.parametrize("command", [["extract"], ["scrub", "--format", "json"]])
def test_a_reader_that_stops_early_stops_the_command_quietly(big: Path,
                                                             command: list[str]) -> None:
    """``scrub837 extract F G | head``: the pipe closes long before the output ends (MBs of
    it); the command stops at once, says nothing of its inputs (they were readable) and
    exits 0, as a filter in a pipeline should."""
    proc = subprocess.Popen([sys.executable, "-m", "scrub837", *command, str(big), str(big)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(1000)
    proc.stdout.close()
    code = proc.wait(timeout=300)
    err = proc.stderr.read().decode()
    assert "cannot read the input" not in err and "Traceback" not in err
    assert "Exception ignored" not in err, err
    assert code == EXIT_OK, err
