"""The watcher's mechanics in process (fast): the sha256 index, no-clobber moves, claim names,
crash recovery, retries, duplicates, output names, and the command's folder checks. The real
pipeline runs in each of them; only the failures are injected."""

from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest

import scrub837.watch._fs as wfs
from scrub837.watch._fs import ClaimName, move_noclobber
from scrub837.watch._index import HashIndex
from scrub837.cli import run
from scrub837.logging import configure_logging
from scrub837.run.pipeline import FileOutcome, OutputOptions, process_stream
from scrub837.scrubber import Scrubber
from scrub837.watch.watcher import WatchConfig, Watcher
from tests.conftest import SAMPLES

BASE = (SAMPLES / "837p_clean.837").read_text()
D1, D2, D3 = "a" * 64, "b" * 64, "c" * 64


def variant(i: int) -> str:
    return BASE.replace("CLEAN0001", f"U{i:07d}").replace("CLEAN-J", f"U{i:04d}-J")


@pytest.fixture(scope="module")
def scrubber() -> Scrubber:
    return Scrubber()


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("debug", json=True, stream=stream)
    yield stream


def make(root: Path, scrubber: Scrubber, process: Any = process_stream, **kw: Any) -> Watcher:
    cfg = WatchConfig(inbox=root / "inbox", outbox=root / "out", archive=root / "archive",
                      error=root / "error", work=root / "work", interval=0.01, settle=0,
                      options=OutputOptions(), **kw)
    return Watcher(cfg, lambda: scrubber, process)


def put(root: Path, name: str, text: str) -> Path:
    (root / "inbox").mkdir(parents=True, exist_ok=True)
    path = root / "inbox" / name
    path.write_text(text)
    return path


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def twice(w: Watcher) -> None:
    w.cycle()  # first sight
    w.cycle()  # unchanged for one interval: claimed and processed


# -- the sha256 index -----------------------------------------------------------------------

def test_index_claim_done_duplicate_and_release(tmp_path: Path) -> None:
    a, b = HashIndex(tmp_path / "idx"), HashIndex(tmp_path / "idx")  # two watchers, one file
    first = a.begin(D1, "h.1.1.x", "f.837")
    assert not first.duplicate and first.stem == "f.837"
    assert b.begin(D1, "h.2.1.y", "g.837").duplicate  # being processed by the other: a copy
    a.done(D1, "h.1.1.x")
    assert b.begin(D1, "h.2.1.z", "g.837").duplicate
    second = b.begin(D2, "h.2.1.y", "f.837")
    assert not second.duplicate and second.stem == "f.837"  # D1 is done: the name is free
    b.release(D2, "h.2.1.y")  # back to the inbox (disk full): not a duplicate when retried
    again = a.begin(D2, "h.1.1.w", "f.837")
    assert not again.duplicate and again.stem == "f.837"


def test_index_in_flight_stems_and_outbox_names(tmp_path: Path) -> None:
    idx = HashIndex(tmp_path / "idx")
    assert idx.begin(D1, "c1", "x.837").stem == "x.837"
    assert idx.begin(D2, "c2", "x.837").stem == "x.837.1"  # x.837 is in flight
    idx.done(D1, "c1")
    idx.done(D2, "c2")
    assert idx.begin(D3, "c3", "x.837").stem == "x.837"  # done, its outputs collected
    taken = {"y.837", "y.837.1"}
    assert idx.begin("d" * 64, "c4", "y.837", stem_taken=taken.__contains__).stem == "y.837.2"


def test_index_recovery_takes_over_the_previous_claim(tmp_path: Path) -> None:
    idx = HashIndex(tmp_path / "idx")
    idx.begin(D1, "dead.1.1.x", "z.837")
    assert HashIndex(tmp_path / "idx").begin(D1, "new.2.2.y", "z.837").duplicate
    taken = HashIndex(tmp_path / "idx").begin(D1, "new.2.2.y", "z.837", previous="dead.1.1.x")
    assert not taken.duplicate and taken.stem == "z.837"
    # a claim whose watcher is gone (its file moved back into the inbox by hand) does not make
    # the content a duplicate forever
    idx.begin(D2, "gone.3.3.z", "q.837")
    assert not idx.begin(D2, "new.4.4.w", "q.837", alive=lambda claim: False).duplicate


def test_index_is_bounded_and_survives_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    idx = HashIndex(path, limit=10)
    digests = [f"{i:064x}" for i in range(40)]
    for i, d in enumerate(digests):
        idx.begin(d, f"c{i}", f"n{i}")
        idx.done(d, f"c{i}")
    lines = path.read_text().splitlines()
    assert len(lines) <= 2 * 10 + 2
    fresh = HashIndex(path, limit=10)
    assert digests[-1] in fresh and digests[-10] in fresh and digests[0] not in fresh
    with open(path, "ab") as f:
        f.write(b"f" * 64 + b" cla")  # a crash mid-append
    other = HashIndex(path, limit=10)
    assert not other.begin(D3, "c", "t").duplicate
    assert D3 in HashIndex(path, limit=10)


# -- moves and claim names ------------------------------------------------------------------

@pytest.mark.parametrize("noreplace", [True, False])
def test_moves_never_replace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             noreplace: bool) -> None:
    if not noreplace:
        monkeypatch.setattr(wfs, "_renameat2", None)  # the hard-link fallback
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "a.837").write_text("old")
    (dest / "a.837.1").write_text("older")
    src = tmp_path / "a.837"
    src.write_text("new")
    target = move_noclobber(src, dest, "a.837")
    assert target.name == "a.837.2" and not src.exists()
    assert [(dest / n).read_text() for n in ("a.837", "a.837.1", "a.837.2")] == [
        "old", "older", "new"]


def test_claim_names_round_trip() -> None:
    cn = ClaimName.new("weird.name.with.dots 837")
    parsed = ClaimName.parse(cn.file_name)
    assert parsed == cn and parsed.pid == os.getpid()
    assert ClaimName.parse("plain.837") is None


# -- the watcher ----------------------------------------------------------------------------

def test_only_stable_complete_files_are_taken(tmp_path: Path, scrubber: Scrubber,
                                              log: io.StringIO) -> None:
    w = make(tmp_path, scrubber)
    put(tmp_path, "up.837.part", variant(1))
    put(tmp_path, ".hidden.837", variant(2))
    put(tmp_path, "x.tmp", variant(3))
    growing = put(tmp_path, "growing.837", variant(4)[:500])
    (tmp_path / "inbox" / "sub").mkdir()
    os.symlink(SAMPLES / "837p_clean.837", tmp_path / "inbox" / "link.837")
    w.cycle()
    with open(growing, "a") as f:
        f.write(variant(4)[500:])
    w.cycle()
    assert names(tmp_path / "archive") == []  # it changed since the last look
    w.cycle()
    assert names(tmp_path / "archive") == ["growing.837"]
    assert names(tmp_path / "inbox") == [".hidden.837", "link.837", "up.837.part", "x.tmp"]


def test_disk_full_puts_the_input_back_and_retries(tmp_path: Path, scrubber: Scrubber,
                                                   log: io.StringIO) -> None:
    calls: list[str] = []

    def full_once(source: BinaryIO, name: str, *rest: Any) -> FileOutcome:
        calls.append(name)
        if len(calls) == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return process_stream(source, name, *rest)

    put(tmp_path, "full.837", variant(1))
    w = make(tmp_path, scrubber, full_once)
    twice(w)
    assert names(tmp_path / "inbox") == ["full.837"] and names(tmp_path / "out") == []
    assert '"file_retry_later"' in log.getvalue() and "ENOSPC" in log.getvalue()
    twice(w)
    assert len(calls) == 1  # in back-off
    deadline = time.monotonic() + 5
    while not names(tmp_path / "archive") and time.monotonic() < deadline:
        w.cycle()
        time.sleep(0.01)
    assert names(tmp_path / "archive") == ["full.837"] and len(calls) == 2
    assert "full.837.277" in names(tmp_path / "out")


def test_vanished_file_and_internal_error(tmp_path: Path, scrubber: Scrubber,
                                          log: io.StringIO) -> None:
    def broken(*args: Any) -> FileOutcome:
        raise RuntimeError("an edit blew up")

    w = make(tmp_path, scrubber, broken)
    gone = put(tmp_path, "gone.837", variant(1))
    gone.unlink()  # listed, then gone before the claim
    assert w.claim(gone) is None
    put(tmp_path, "boom.837", variant(2))
    twice(w)
    assert names(tmp_path / "error") == ["boom.837", "boom.837.error.txt"]
    note = (tmp_path / "error" / "boom.837.error.txt").read_text()
    assert "internal error" in note and "RuntimeError" in note and "blew up" not in note
    assert '"error_type": "RuntimeError"' in log.getvalue()
    w.process = process_stream  # fixed: the same content moved back in is processed
    os.rename(tmp_path / "error" / "boom.837", tmp_path / "inbox" / "boom.837")
    assert {"boom.837.error.txt", "boom.837.done"} <= set(names(tmp_path / "out"))  # answered
    twice(w)
    # a new upload: its answer does not replace the first one's, and carries the input's name
    assert names(tmp_path / "archive") == ["boom.837.1"]
    assert "boom.837.1.277" in names(tmp_path / "out")


def test_duplicates_and_reused_names(tmp_path: Path, scrubber: Scrubber,
                                     log: io.StringIO) -> None:
    w = make(tmp_path, scrubber)
    put(tmp_path, "daily.837", variant(1))
    twice(w)
    put(tmp_path, "daily.837", variant(2))  # the same name again, new content
    put(tmp_path, "copy.837", variant(1))  # content already processed
    twice(w)
    assert names(tmp_path / "archive") == ["daily.837", "daily.837.1"]
    assert names(tmp_path / "archive" / "duplicates") == ["copy.837"]
    out = names(tmp_path / "out")
    assert "daily.837.277" in out and "daily.837.1.277" in out  # the first answer is kept
    # the duplicate's one answer says which upload it repeats and where that answer is
    assert [n for n in out if n.startswith("copy")] == ["copy.837.done", "copy.837.duplicate.json"]
    note = json.loads((tmp_path / "out" / "copy.837.duplicate.json").read_text())
    assert note["duplicate_of"] == "daily.837" and "daily.837.277" in note["answer"]
    assert note["answer_done"] == "daily.837.done"
    done = json.loads((tmp_path / "out" / "copy.837.done").read_text())
    assert done["outputs"] == ["copy.837.duplicate.json"] and done["duplicate_of"] == "daily.837"
    assert '"file_duplicate"' in log.getvalue()


def _leave_in_work(root: Path, name: str, text: str, cn: ClaimName) -> Path:
    (root / "work").mkdir(parents=True, exist_ok=True)
    path: Path = root / "work" / cn.file_name
    path.write_text(text)
    return path


def test_sweep_recovers_only_what_no_live_watcher_holds(tmp_path: Path, scrubber: Scrubber,
                                                        log: io.StringIO) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "scrub837"])
    try:
        now = int(time.time())
        host = wfs.HOST
        _leave_in_work(tmp_path, "a", variant(1), ClaimName("dead.837", host, dead.pid, now, "t"))
        _leave_in_work(tmp_path, "b", variant(2), ClaimName("live.837", host, live.pid, now, "t"))
        _leave_in_work(tmp_path, "c", variant(3), ClaimName("fresh.837", "otherhost", 1, now,
                                                            "t"))
        _leave_in_work(tmp_path, "d", variant(4), ClaimName("stale.837", "otherhost", 1,
                                                            now - 7200, "t"))
        w = make(tmp_path, scrubber)
        w.sweep()
        assert names(tmp_path / "archive") == ["dead.837", "stale.837"]
        left = sorted(str(getattr(ClaimName.parse(n), "name", n))
                      for n in names(tmp_path / "work") if not n.startswith("."))
        assert left == ["fresh.837", "live.837"]
        assert log.getvalue().count('"file_recovered"') == 2
    finally:
        live.kill()
        live.wait(timeout=10)


def test_the_command_checks_its_folders(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    inbox = tmp_path / "inbox"
    code = run(["watch", str(inbox), "--out", str(inbox), "--once"], out, err)
    assert code == 2 and "same folder" in err.getvalue()
    (tmp_path / "afile").write_text("x")
    err = io.StringIO()
    code = run(["watch", str(inbox), "--out", str(tmp_path / "afile"), "--once"], out, err)
    assert code == 2 and "is a file" in err.getvalue()
    err = io.StringIO()
    assert run(["watch", str(inbox), "--out", str(tmp_path / "o"), "--interval", "0"],
               out, err) == 2


def test_control_numbers_continue_across_runs(tmp_path: Path) -> None:
    def once(i: int) -> str:
        put(tmp_path, f"r{i}.837", variant(i))
        err = io.StringIO()
        code = run(["watch", str(tmp_path / "inbox"), "--out", str(tmp_path / "out"),
                    "--interval", "0.01", "--settle", "0.01", "--once", "--log-format", "json"],
                   io.StringIO(), err)
        assert code == 0, err.getvalue()
        return (tmp_path / "out" / f"r{i}.837.277").read_text().split("*")[13]  # ISA13

    first, second = once(1), once(2)
    assert first != second and int(second) > int(first)
    assert (tmp_path / "work" / ".control-numbers.json").exists()


def test_the_watch_commands_defaults_are_the_watchers() -> None:
    """``scrub837.commands.watch`` repeats two defaults so that building the parser (every
    command's start-up) does not import the watcher."""
    from scrub837.watch import watcher as watch
    from scrub837.commands import watch as command

    assert (command.SETTLE, command.INCOMPLETE_AFTER) == (watch.SETTLE, watch.INCOMPLETE_AFTER)
