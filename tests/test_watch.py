"""The watcher as operators run it: real ``python -m scrub837 watch`` processes on a real
filesystem, with the real pipeline and the real samples. Every wait is bounded; every process is
killed in a ``finally``."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, SAMPLES

BASE = (SAMPLES / "837p_clean.837").read_text()
OUTPUTS_ACCEPTED = (".277", ".report.json", ".report.html")


# -- helpers --------------------------------------------------------------------------------

def variant(i: int, prefix: str = "B") -> str:
    """A small, distinct 837P: BHT03, CLM01s and REF*6R differ, so the sha256 differs."""
    return (BASE.replace("CLEAN0001", f"{prefix}{i:07d}")
            .replace("CLEAN-J", f"{prefix}{i:04d}-J"))


def drop(inbox: Path, name: str, text: str | bytes) -> None:
    """The submitter convention: write NAME.part, then rename it to NAME."""
    inbox.mkdir(parents=True, exist_ok=True)
    part = inbox / f"{name}.part"
    part.write_bytes(text.encode() if isinstance(text, str) else text)
    os.rename(part, inbox / name)


def drop_batch(inbox: Path, count: int, prefix: str = "f") -> list[str]:
    names = [f"{prefix}{i:03d}.837" for i in range(count)]
    for i, name in enumerate(names):
        drop(inbox, name, variant(i, prefix.upper()))
    return names


class Watch:
    """One watcher subprocess; its JSON log goes to a file read with :meth:`events`."""

    def __init__(self, root: Path, *extra: str, tag: str = "w",
                 preexec: Callable[[], None] | None = None) -> None:
        self.root = root
        self.log_path = root / f"{tag}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 -- closed in stop()
        args = [sys.executable, "-m", "scrub837", "watch", str(root / "inbox"), "--out",
                str(root / "out"), "--interval", "0.1", "--settle", "0.3", "--log-format", "json",
                "--log-level", "debug", *extra]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self._log,
                                     cwd=ROOT, preexec_fn=preexec)  # noqa: PLW1509

    def text(self) -> str:
        return self.log_path.read_text()

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        out = []
        for line in self.text().splitlines():
            if not line.endswith("}"):
                continue  # a line still being written
            event = json.loads(line)
            if name is None or event["event"] == name:
                out.append(event)
        return out

    def wait_for(self, check: Callable[[], object], timeout: float = 30, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"watcher exited ({self.proc.returncode}) waiting for "
                                     f"{what}:\n{self.text()[-3000:]}")
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}:\n{self.text()[-3000:]}")

    def started(self) -> None:
        self.wait_for(lambda: self.events("watch_started"), what="watch_started")

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._log.close()


@contextmanager
def watching(root: Path, *extra: str, **kw: Any) -> Iterator[Watch]:
    w = Watch(root, *extra, **kw)
    try:
        yield w
    finally:
        w.stop()


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.exists() else []


def settled(root: Path, archived: Sequence[str], errored: Sequence[str] = ()) -> None:
    """Every input is in the archive or the error folder exactly once, with its outputs."""
    try:
        _settled(root, archived, errored)
    except AssertionError as exc:
        folders = {f: files(root / f) for f in ("inbox", "work", "archive", "error")}
        logs = {p.name: p.read_text()[-4000:] for p in root.glob("*.log")}
        raise AssertionError(f"{exc}\nfolders: {folders}\nlogs: {logs}") from None


def _settled(root: Path, archived: Sequence[str], errored: Sequence[str]) -> None:
    assert files(root / "archive") == sorted(archived)
    assert [n for n in files(root / "error") if not n.endswith(".error.txt")] == sorted(errored)
    for name in errored:
        assert (root / "error" / f"{name}.error.txt").read_text().strip()
        assert (root / "out" / f"{name}.error.txt").exists()
    assert files(root / "inbox") == []
    assert [n for n in files(root / "work") if not n.startswith(".")] == []
    assert files(root / "archive" / "duplicates") == []
    for name in archived:
        for suffix in OUTPUTS_ACCEPTED:
            assert (root / "out" / f"{name}{suffix}").exists(), (name, suffix)
    assert not [n for n in files(root / "out") if n.startswith(".")]  # no temporary left


def processed_names(*watches: Watch) -> list[str]:
    return sorted(e["file"] for w in watches for e in w.events("file_processed"))


# -- a batch of real samples ----------------------------------------------------------------

def test_a_batch_of_samples_each_ends_once_with_its_outputs(tmp_path: Path) -> None:
    archived: list[str] = []
    errored: list[str] = []
    for sample in sorted(SAMPLES.iterdir()):
        if sample.suffix not in (".837", ".x12", ".txt"):
            continue
        name = f"in-{sample.name}"
        drop(tmp_path / "inbox", name, sample.read_bytes())
        # exit code 3 (cannot be read as X12) -> error folder; everything else is answered
        (errored if sample.name.startswith(("bad_truncated", "bad_not_x12", "bad_empty",
                                            "bad_835", "bad_4010")) else archived).append(name)
    with watching(tmp_path, "--once") as w:
        assert w.wait() == 0, w.text()[-3000:]
    settled(tmp_path, archived, errored)
    assert processed_names(w) == sorted(archived + errored)
    report = json.loads((tmp_path / "out" / "in-837p_defects.837.report.json").read_text())
    assert report  # the real pipeline wrote it
    by_file = {e["file"]: e for e in w.events("file_processed")}
    assert by_file["in-837p_clean.837"]["exit_code"] == 0
    assert by_file["in-837p_clean.837"]["claims"] == 6
    assert by_file["in-837p_defects.837"]["rejected"] > 0
    assert by_file["in-bad_not_x12.txt"]["exit_code"] == 3
    for name in archived + errored:
        assert oct((tmp_path / "out" / f"{name}.report.json").stat().st_mode & 0o777) == "0o600"
    state = json.loads((tmp_path / "work" / ".control-numbers.json").read_text())
    assert state["next"] > len(archived)  # 277CA control numbers persist in the work folder


# -- crash recovery -------------------------------------------------------------------------

def test_sigkill_mid_batch_then_restart_loses_and_doubles_nothing(tmp_path: Path) -> None:
    names = drop_batch(tmp_path / "inbox", 60)
    with watching(tmp_path, tag="first") as first:
        first.wait_for(lambda: len(files(tmp_path / "archive")) >= 5, what="5 archived")
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(timeout=10)
    assert len(files(tmp_path / "archive")) < len(names)  # really mid-batch
    time.sleep(1.1)  # the killed watcher's temporary outputs become older than --stale-after
    with watching(tmp_path, "--once", "--stale-after", "1", tag="second") as second:
        assert second.wait() == 0, second.text()[-3000:]
    settled(tmp_path, names)
    # a file claimed when the first was killed is recovered, not claimed twice by name
    assert not [n for n in files(tmp_path / "archive") if not n.endswith(".837")]
    # every file's file_processed line was written, but for at most the one the kill caught
    # between its move to the archive and that line
    processed = processed_names(first, second)
    logged = set(processed)
    assert len(processed) == len(logged)  # none was answered twice
    assert len(set(names) - logged) <= 1 and logged <= set(names)
    assert len(second.events("file_recovered")) <= 1  # only the one being processed, if any


def test_two_watchers_on_one_inbox_process_200_files_once_each(tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    with watching(tmp_path, "--interval", "0.2", tag="a") as a, \
            watching(tmp_path, "--interval", "0.2", tag="b") as b:
        a.started()
        b.started()
        names = drop_batch(tmp_path / "inbox", 200)
        a.wait_for(lambda: len(files(tmp_path / "archive")) == 200, timeout=60,
                   what="200 archived")
        for w in (a, b):
            w.proc.send_signal(signal.SIGTERM)
        assert a.wait(20) == 0 and b.wait(20) == 0
    settled(tmp_path, names)
    assert processed_names(a, b) == sorted(names)  # exactly once, by one of the two
    assert a.events("file_processed") and b.events("file_processed")  # both took part
    claimed = [e["file"] for w in (a, b) for e in w.events("file_claimed")]
    assert sorted(claimed) == sorted(names)  # the losing rename is skipped, never processed


# -- no patient data in the logs ------------------------------------------------------------

MARKERS = ("ZZMARKERLAST", "ZZMARKERFIRST", "ZZMARKERID99", "19010101", "ZZMARKERCLM",
           "ZZMARKERSTREET", "ZZMARKERCTY")


def marked(text: str) -> str:
    return (text.replace("TESTPATIENT", "ZZMARKERLAST").replace("ALPHA", "ZZMARKERFIRST")
            .replace("MBR100000001", "ZZMARKERID99").replace("19560312", "19010101")
            .replace("CLEAN-J9262-001", "ZZMARKERCLM").replace("200 EXAMPLE STREET",
                                                               "ZZMARKERSTREET")
            .replace("SPRINGFIELD", "ZZMARKERCTY"))


def test_no_patient_data_in_logs_at_debug_level(tmp_path: Path) -> None:
    text = marked(BASE)
    assert all(m in text for m in MARKERS)
    rejected = text.replace("CTP****1.25*ME", "CTP****3.5*ME").replace("BHT*0019*00*CLEAN0001",
                                                                       "BHT*0019*00*MARK2")
    inbox = tmp_path / "inbox"
    drop(inbox, "clean.837", text)
    drop(inbox, "rejected.837", rejected)
    drop(inbox, "truncated.837", rejected[: len(rejected) // 2])
    drop(inbox, "again.837", text)  # a duplicate
    drop(inbox, "notx12.837", "ZZMARKERLAST ZZMARKERID99 19010101 ZZMARKERCLM\n")
    with watching(tmp_path, "--once") as w:
        assert w.wait() == 0
    log = w.text()
    assert {e["event"] for e in w.events()} >= {
        "watch_started", "file_waiting", "file_claimed", "file_processed", "file_archived",
        "file_errored", "file_duplicate", "watch_stopping"}
    for line in log.splitlines():
        json.loads(line)  # every line is one JSON object
    for marker in MARKERS:
        assert marker not in log, marker
    for value in ("J9262", "63459017714", "CLEAN-J"):  # codes, NDCs, other CLM01s
        assert value not in log, value


# -- stopping, and what must not stop the watcher -------------------------------------------

def test_sigterm_finishes_the_current_file_then_exits_zero(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    drop(inbox, "a-big.837", (SAMPLES / "837p_clean.837").read_bytes() * 500)  # ~1.6 MB
    later = drop_batch(inbox, 3, "z")
    with watching(tmp_path) as w:
        w.wait_for(lambda: w.events("file_claimed"), what="the big file claimed")
        assert w.events("file_claimed")[0]["file"] == "a-big.837"
        assert not w.events("file_processed")  # it is being processed now
        w.proc.send_signal(signal.SIGTERM)
        w.wait_for(lambda: w.events("watch_stopping"), what="watch_stopping")
        assert not w.events("file_processed")  # logged at once, not after the current file
        w.proc.send_signal(signal.SIGINT)
        w.wait_for(lambda: w.events("watch_stopped"), timeout=30, what="watch_stopped")
        for _ in range(3):  # however many signals come, and whenever: exit 0
            if w.proc.poll() is None:
                w.proc.send_signal(signal.SIGTERM)
        assert w.wait(30) == 0, w.text()[-2000:]
    assert files(tmp_path / "archive") == ["a-big.837"]
    assert (tmp_path / "out" / "a-big.837.277").exists()
    assert files(inbox) == sorted(later)  # nothing more was started after the signal
    assert [n for n in files(tmp_path / "work") if not n.startswith(".")] == []
    stopping = w.events("watch_stopping")
    assert stopping and stopping[0]["reason"] == "SIGTERM"


def _drop_dac_capabilities() -> None:
    """Run the child as root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH: mode bits apply."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _permissions_apply() -> Callable[[], None] | None:
    if os.geteuid() != 0:
        return None
    probe = subprocess.run([sys.executable, "-c", "pass"], preexec_fn=_drop_dac_capabilities,
                           capture_output=True, timeout=30, check=False)
    if probe.returncode != 0:
        pytest.skip("cannot drop root's DAC capabilities here")
    return _drop_dac_capabilities


def test_vanished_unreadable_and_unwritable_do_not_stop_it(tmp_path: Path) -> None:
    preexec = _permissions_apply()
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    out.mkdir()
    drop(inbox, "locked.837", variant(1))
    os.chmod(inbox / "locked.837", 0)  # the watcher cannot read it
    drop(inbox, "gone.837", variant(2))
    with watching(tmp_path, preexec=preexec) as w:
        w.wait_for(lambda: any(e["file"] == "gone.837" for e in w.events("file_waiting")),
                   what="gone.837 seen")
        (inbox / "gone.837").unlink()  # taken back by the submitter before it was claimed
        w.wait_for(lambda: (tmp_path / "error" / "locked.837.error.txt").exists(),
                   what="locked.837 in error")
        assert "cannot read" in (tmp_path / "error" / "locked.837.error.txt").read_text()
        os.chmod(out, 0o555)  # now the outputs cannot be written: input kept for a retry
        drop(inbox, "retry.837", variant(3))
        w.wait_for(lambda: w.events("file_retry_later"), what="retry later")
        assert (inbox / "retry.837").exists()
        os.chmod(out, 0o755)
        w.wait_for(lambda: (tmp_path / "archive" / "retry.837").exists(), what="retried")
        drop(inbox, "after.837", variant(4))
        w.wait_for(lambda: (tmp_path / "archive" / "after.837").exists(), what="after.837")
        assert w.proc.poll() is None
        w.proc.send_signal(signal.SIGTERM)
        assert w.wait(20) == 0
    retry = w.events("file_retry_later")[0]
    assert retry["errno_name"] == "EACCES" and retry["file"] == "retry.837"
    assert files(tmp_path / "archive") == ["after.837", "retry.837"]
    assert processed_names(w) == ["after.837", "retry.837"]


def test_a_broken_rules_update_keeps_the_old_pack(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    good = (rules / "edits.toml").read_text()
    inbox = tmp_path / "inbox"
    with watching(tmp_path, "--rules", str(rules)) as w:
        w.started()
        (rules / "edits.toml").write_text("[broken\n")
        w.wait_for(lambda: w.events("rules_reload_failed"), what="reload failed")
        drop(inbox, "during.837", variant(1))
        w.wait_for(lambda: (tmp_path / "archive" / "during.837").exists(), what="processed")
        (rules / "edits.toml").write_text(good)
        w.wait_for(lambda: w.events("rules_reloaded"), what="reloaded")
        drop(inbox, "after.837", variant(2))
        w.wait_for(lambda: (tmp_path / "archive" / "after.837").exists(), what="processed")
        w.proc.send_signal(signal.SIGTERM)
        assert w.wait(20) == 0
    failed = w.events("rules_reload_failed")[0]
    assert "edits.toml" in failed["reason"]
    by_file = {e["file"]: e for e in w.events("file_processed")}
    assert by_file["during.837"]["exit_code"] == by_file["after.837"]["exit_code"] == 0


# -- a full disk ----------------------------------------------------------------------------

@contextmanager
def tiny_tmpfs(mount: Path) -> Iterator[Path]:
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", str(mount)],
            capture_output=True, timeout=10, check=False).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], capture_output=True, timeout=10,
                          check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=10,
                           check=False)


def test_a_full_disk_keeps_the_input_and_retries_it(tmp_path: Path) -> None:
    with tiny_tmpfs(tmp_path / "disk") as disk:
        out = disk / "out"
        out.mkdir()
        filler = disk / "filler"
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 1024)
            except OSError:
                pass  # the disk is full
        name = "full.837"
        drop(tmp_path / "inbox", name, variant(7))
        with watching(tmp_path, "--out", str(out)) as w:
            w.wait_for(lambda: w.events("file_retry_later"), what="ENOSPC")
            event = w.events("file_retry_later")[0]
            assert event["errno_name"] == "ENOSPC" and event["file"] == name
            assert not files(out)  # nothing partial
            assert (tmp_path / "inbox" / name).exists() or [
                n for n in files(tmp_path / "work") if n.startswith(name)]
            filler.unlink()  # space again
            w.wait_for(lambda: (tmp_path / "archive" / name).exists(), what="retried")
            assert (out / f"{name}.277").exists()
            w.proc.send_signal(signal.SIGTERM)
            assert w.wait(20) == 0
        assert [e["file"] for e in w.events("file_processed")] == [name]
