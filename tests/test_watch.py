"""The watcher on a real filesystem with real processes (bounded by timeouts)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scrub837.pipeline import OutputOptions, process_stream
from scrub837.scrubber import Scrubber
from scrub837.watch import Watcher, WatchConfig
from tests.conftest import ROOT, SAMPLES

BASE = (SAMPLES / "837p_clean.837").read_text()


def make_files(inbox: Path, count: int, prefix: str = "f") -> list[str]:
    inbox.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(count):
        name = f"{prefix}{i:03d}.837"
        text = BASE.replace("CLEAN0001", f"B{prefix}{i:06d}").replace("CLEAN-J", f"C{i:03d}-J")
        part = inbox / (name + ".part")
        part.write_text(text)
        os.rename(part, inbox / name)  # the submitter convention
        names.append(name)
    return names


def start(root: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "scrub837", "watch", str(root / "inbox"), "--out",
         str(root / "out"), "--interval", "0.1", "--log-format", "json", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err


def settled(root: Path, names: list[str]) -> None:
    archived = [p.name for p in (root / "archive").iterdir() if p.is_file()]
    errored = [p.name for p in (root / "error").iterdir() if not p.name.endswith(".error.txt")]
    assert sorted(archived + errored) == sorted(names)  # each exactly once
    assert [p for p in (root / "inbox").iterdir()] == []
    assert [p for p in (root / "work").iterdir() if not p.name.startswith(".")] == []
    assert list((root / "archive" / "duplicates").iterdir()) == []
    for name in archived:
        for suffix in (".277", ".report.json", ".report.html", ".accepted.837"):
            assert (root / "out" / f"{name}{suffix}").exists(), (name, suffix)


def test_batch_survives_sigkill_and_restart(tmp_path: Path) -> None:
    names = make_files(tmp_path / "inbox", 40)
    proc = start(tmp_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = list((tmp_path / "archive").glob("*.837")) if (tmp_path / "archive").exists() else []
        if len(done) >= 5:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert len(list((tmp_path / "archive").glob("*.837"))) < 40  # really mid-batch
    code, err = finish(start(tmp_path, "--once"))
    assert code == 0, err[-2000:]
    settled(tmp_path, names)


def test_two_watchers_share_an_inbox_of_200_files(tmp_path: Path) -> None:
    names = make_files(tmp_path / "inbox", 200)
    a, b = start(tmp_path, "--once"), start(tmp_path, "--once")
    (ca, ea), (cb, eb) = finish(a), finish(b)
    assert ca == cb == 0, (ea[-1000:], eb[-1000:])
    settled(tmp_path, names)
    processed = [json.loads(line)["file"] for line in (ea + eb).splitlines()
                 if '"file_processed"' in line]
    assert sorted(processed) == sorted(names)  # each processed exactly once, by one of them
    assert {'"file_processed"' in ea, '"file_processed"' in eb} == {True}


def test_no_patient_data_in_logs_at_debug(tmp_path: Path) -> None:
    marked = (BASE.replace("TESTPATIENT", "ZZMARKERLAST").replace("MBR100000001", "ZZMARKERID99")
              .replace("19560312", "19010101").replace("CLEAN-J9262-001", "ZZMARKERCLM"))
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "marked.837").write_text(marked)
    bad = marked.replace("CTP****1.25*ME", "CTP****3.5*ME")  # a rejected claim too
    (tmp_path / "inbox" / "marked2.837").write_text(bad[:-200])  # and a truncated file
    (tmp_path / "inbox" / "marked3.837").write_text(bad)
    code, err = finish(start(tmp_path, "--once", "--log-level", "debug"))
    assert code == 0
    assert '"file_processed"' in err and "marked.837" in err
    for marker in ("ZZMARKERLAST", "ZZMARKERID99", "19010101", "ZZMARKERCLM", "1875"):
        assert marker not in err, marker


def test_sigterm_finishes_and_exits_zero(tmp_path: Path) -> None:
    make_files(tmp_path / "inbox", 3)
    proc = start(tmp_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list((tmp_path / "archive").glob("*.837")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    code, err = finish(proc, 30)
    assert code == 0 and "watch_stopping" in err
    assert not [p for p in (tmp_path / "work").iterdir() if not p.name.startswith(".")]


def _watcher(root: Path, process=process_stream, rules: Path | None = None) -> Watcher:  # type: ignore[no-untyped-def]
    cfg = WatchConfig(inbox=root / "inbox", outbox=root / "out", archive=root / "archive",
                      error=root / "error", work=root / "work", interval=0.01,
                      options=OutputOptions(), rule_files=(rules,) if rules else ())
    return Watcher(cfg, lambda: Scrubber(rules), process)


def test_disk_full_keeps_the_input_for_retry(tmp_path: Path) -> None:
    calls = []

    def full_then_fine(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return process_stream(*args, **kwargs)

    names = make_files(tmp_path / "inbox", 1)
    w = _watcher(tmp_path, full_then_fine)
    w.cycle()
    w.cycle()
    assert (tmp_path / "inbox" / names[0]).exists() and len(calls) == 1  # back in the inbox
    w._retry_at.clear()
    w.cycle()
    w.cycle()
    assert (tmp_path / "archive" / names[0]).exists() and len(calls) == 2


def test_vanishing_files_and_duplicates(tmp_path: Path) -> None:
    make_files(tmp_path / "inbox", 1, "v")
    (tmp_path / "inbox" / "copy.837").write_text((tmp_path / "inbox" / "v000.837").read_text())
    (tmp_path / "inbox" / "gone.837").write_text(BASE)
    (tmp_path / "inbox" / "upload.837.part").write_text(BASE)
    w = _watcher(tmp_path)
    w.cycle()
    (tmp_path / "inbox" / "gone.837").unlink()
    w.cycle()
    w.cycle()
    assert (tmp_path / "inbox" / "upload.837.part").exists()  # ignored until renamed
    archived = sorted(p.name for p in (tmp_path / "archive").iterdir() if p.is_file())
    dups = sorted(p.name for p in (tmp_path / "archive" / "duplicates").iterdir())
    assert len(archived) == 1 and len(dups) == 1


def test_broken_rules_update_keeps_the_old_pack(tmp_path: Path) -> None:
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    w = _watcher(tmp_path, rules=rules)
    old = w.scrubber
    time.sleep(0.01)
    (rules / "edits.toml").write_text("[broken\n")
    w.reload_rules()
    assert w.scrubber is old
    make_files(tmp_path / "inbox", 1)
    w.cycle()
    w.cycle()
    assert len(list((tmp_path / "archive").glob("*.837"))) == 1
    (rules / "edits.toml").write_text((ROOT / "rules" / "edits.toml").read_text())
    w.reload_rules()
    assert w.scrubber is not old


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file; cannot test EACCES")
def test_unreadable_file_goes_to_error(tmp_path: Path) -> None:
    names = make_files(tmp_path / "inbox", 1)
    os.chmod(tmp_path / "inbox" / names[0], 0)
    w = _watcher(tmp_path)
    w.cycle()
    w.cycle()
    assert (tmp_path / "error" / names[0]).exists()
