"""Issue 15 in process: readiness of an upload, one answer per upload, byte-identical answers
after a crash, duplicates after a crash, names, and temporary files of dead processes. The real
pipeline and the real filesystem; only the crashes are injected (a BaseException that nothing
in the watcher catches, as a SIGKILL would stop it at that point)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from scrub837.watch._fs import HOST, temp_name
from scrub837.watch._ready import complete
from scrub837.logging import configure_logging
from scrub837.outputs.control import ControlNumbers
from scrub837.run.pipeline import FileOutcome, OutputOptions, process_stream
from scrub837.scrubber import Scrubber
from scrub837.watch.watcher import WatchConfig, Watcher
from tests.conftest import SAMPLES

BASE = (SAMPLES / "837p_clean.837").read_bytes()


class Crash(BaseException):
    """Stands for a SIGKILL: the watcher does not catch it."""


def variant(i: int) -> bytes:
    return BASE.replace(b"CLEAN0001", b"A%07d" % i).replace(b"CLEAN-J", b"A%04d-J" % i)


@pytest.fixture(scope="module")
def scrubber() -> Scrubber:
    return Scrubber()


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("debug", json=True, stream=stream)
    yield stream


def make(root: Path, scrubber: Scrubber, process: Any = process_stream, **kw: Any) -> Watcher:
    kw.setdefault("settle", 0)
    options = OutputOptions(control=ControlNumbers(root / "work" / ".control-numbers.json"))
    cfg = WatchConfig(inbox=root / "inbox", outbox=root / "out", archive=root / "archive",
                      error=root / "error", work=root / "work", interval=0.01,
                      options=options, **kw)
    return Watcher(cfg, lambda: scrubber, process)


def put(root: Path, name: str, data: bytes) -> Path:
    (root / "inbox").mkdir(parents=True, exist_ok=True)
    path = root / "inbox" / name
    path.write_bytes(data)
    return path


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.exists() else []


def twice(w: Watcher) -> None:
    w.cycle()
    w.cycle()


# -- readiness ------------------------------------------------------------------------------

def test_complete_means_an_iea_closing_the_last_isa(tmp_path: Path) -> None:
    f = tmp_path / "f"

    def ready(data: bytes) -> bool | None:
        f.write_bytes(data)
        return complete(f)

    other = BASE.replace(b"000000101", b"000000102")
    assert ready(BASE) and ready(BASE + b"\r\n\n  ") and ready(BASE.replace(b"~\n", b"~"))
    assert ready(BASE + other)  # two interchanges, both closed
    assert not ready(BASE + other[:-30])  # the second one is still arriving
    # a terminated IEA whose number is wrong: complete (an envelope error, not an upload
    # still arriving); without the terminator the number must be whole
    assert ready(BASE + other.replace(b"IEA*1*000000102", b"IEA*1*000000101"))
    unterminated = BASE.rstrip(b"\n~")
    assert ready(unterminated) and not ready(unterminated[:-1])
    assert not ready(unterminated[:-1] + b"2")  # 000000102 is not 000000101
    loose = BASE.replace(b"SUBMIT01       *", b"SUBMIT01*").replace(b"*          *", b"* *")
    assert loose[105:106] != b"~" and ready(loose)  # an ISA that is not fixed-width
    assert not ready(loose[:-40])
    assert not any(ready(BASE[:n]) for n in range(0, len(BASE) - 2, 97))  # every cut
    assert not ready(BASE + b"ISA")  # something after the IEA
    assert not ready(b"") and not ready(b"not an 837 at all\n" * 20)
    f.write_bytes(BASE)
    os.chmod(f, 0)
    if os.geteuid() != 0:
        assert complete(f) is None  # cannot be opened: waiting will not help
    assert complete(tmp_path / "missing") is None


def test_an_incomplete_upload_waits_then_is_answered_as_truncated(
        tmp_path: Path, scrubber: Scrubber, log: io.StringIO) -> None:
    w = make(tmp_path, scrubber, incomplete_after=3600)
    up = put(tmp_path, "up.837", BASE[:1500])
    for _ in range(3):
        w.cycle()
    assert names(tmp_path / "inbox") == ["up.837"] and names(tmp_path / "out") == []
    with open(up, "ab") as f:
        f.write(BASE[1500:])  # the rest arrives: complete
    twice(w)
    assert names(tmp_path / "archive") == ["up.837"]
    assert json.loads((tmp_path / "out" / "up.837.report.json").read_text())[
        "summary"]["claims"] == 6
    w.config.incomplete_after = 0  # an upload that never completes is answered, as truncated
    put(tmp_path, "half.837", variant(2)[:1500])
    twice(w)
    assert names(tmp_path / "error") == ["half.837", "half.837.error.txt"]
    assert "half.837.done" in names(tmp_path / "out")
    assert '"file_incomplete"' in log.getvalue()


def test_a_file_that_changes_during_its_scrub_goes_back_whole(
        tmp_path: Path, scrubber: Scrubber, log: io.StringIO) -> None:
    cut = BASE.index(b"IEA")
    put(tmp_path, "grow.837", BASE[:cut] + b"IEA*1*000000101~")  # looks complete
    claimed: list[Path] = []

    def writer_still_going(source: BinaryIO, name: str, *rest: Any) -> FileOutcome:
        outcome = process_stream(source, name, *rest)
        if not claimed:  # the uploader appends to the same (moved) file meanwhile
            path = next(p for p in (tmp_path / "work").iterdir() if p.name.startswith("grow"))
            claimed.append(path)
            with open(path, "ab") as f:
                f.write(b"\n")
        return outcome

    w = make(tmp_path, scrubber, writer_still_going)
    twice(w)
    assert claimed and names(tmp_path / "inbox") == ["grow.837"]  # back, under its name
    assert names(tmp_path / "out") == [] and names(tmp_path / "archive") == []
    assert '"file_changed"' in log.getvalue()
    twice(w)
    assert names(tmp_path / "archive") == ["grow.837"]
    assert names(tmp_path / "out") == ["grow.837.277", "grow.837.accepted.837", "grow.837.done",
                                       "grow.837.report.html", "grow.837.report.json"]


# -- one answer per upload, after a crash ---------------------------------------------------

def test_a_rescrub_after_a_crash_gives_byte_identical_outputs(
        tmp_path: Path, scrubber: Scrubber, log: io.StringIO) -> None:
    put(tmp_path, "a.837", variant(1))

    def killed_after_outputs(source: BinaryIO, name: str, *rest: Any) -> FileOutcome:
        process_stream(source, name, *rest)
        raise Crash  # after the renames, before a.837.done and the archive

    with pytest.raises(Crash):
        twice(make(tmp_path, scrubber, killed_after_outputs))
    out = tmp_path / "out"
    first = {n: (out / n).read_bytes() for n in names(out)}
    assert "a.837.277" in first and "a.837.done" not in first
    state = (tmp_path / "work" / ".control-numbers.json").read_text()
    tickets = [n for n in os.listdir(tmp_path / "work") if n.startswith(".ticket.")]
    assert len(tickets) == 1
    w = make(tmp_path, scrubber)
    w.sweep()  # the claim's process (this one, standing for a dead one) is not working on it
    assert names(tmp_path / "archive") == ["a.837"]
    again = {n: (out / n).read_bytes() for n in names(out)}
    assert {n: again[n] for n in first} == first  # the same 277CA, reports and 837s
    assert (tmp_path / "work" / ".control-numbers.json").read_text() == state  # replayed
    done = json.loads((out / "a.837.done").read_text())
    assert done["outputs"] == ["a.837.277", "a.837.accepted.837", "a.837.report.json",
                               "a.837.report.html"]  # the documented order
    assert not [n for n in os.listdir(tmp_path / "work") if n.startswith(".ticket.")]


def test_a_crash_after_the_done_marker_keeps_the_answer(
        tmp_path: Path, scrubber: Scrubber, log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scrub837.watch._answer as answer

    put(tmp_path, "b.837", variant(2))
    real = answer.move_noclobber

    def crash_on_archive(src: Path, folder: Path, name: str) -> Path:
        if folder.name == "archive":
            raise Crash
        return real(src, folder, name)

    monkeypatch.setattr(answer, "move_noclobber", crash_on_archive)
    with pytest.raises(Crash):
        twice(make(tmp_path, scrubber))
    monkeypatch.setattr(answer, "move_noclobber", real)
    before = {n: (tmp_path / "out" / n).stat().st_ino for n in names(tmp_path / "out")}
    make(tmp_path, scrubber).sweep()
    assert names(tmp_path / "archive") == ["b.837"]
    after = {n: (tmp_path / "out" / n).stat().st_ino for n in names(tmp_path / "out")}
    assert after == before  # recognised as complete: not scrubbed again
    assert '"file_answered_before"' in log.getvalue()


def test_a_duplicate_after_a_crash_before_the_index_line_is_answered(
        tmp_path: Path, scrubber: Scrubber, log: io.StringIO) -> None:
    put(tmp_path, "c.837", variant(3))
    w = make(tmp_path, scrubber)

    def crash(*_: object) -> None:
        raise Crash

    w.index.done = crash  # type: ignore[method-assign]  # killed between archive and "done"
    with pytest.raises(Crash):
        twice(w)
    assert names(tmp_path / "archive") == ["c.837"]
    put(tmp_path, "again.837", variant(3))  # the same content, sent again
    w2 = make(tmp_path, scrubber)
    w2.sweep()  # removes the dead claim's ticket
    twice(w2)
    assert names(tmp_path / "archive" / "duplicates") == ["again.837"]
    out = tmp_path / "out"
    assert not (out / "again.837.277").exists()
    note = json.loads((out / "again.837.duplicate.json").read_text())
    assert note["duplicate_of"] == "c.837" and "c.837.277" in note["answer"]
    assert json.loads((out / "again.837.done").read_text())["duplicate_of"] == "c.837"


def test_a_recovered_upload_that_is_still_incomplete_goes_back_to_wait(
        tmp_path: Path, scrubber: Scrubber, log: io.StringIO) -> None:
    put(tmp_path, "late.837", variant(7)[:2000])

    def killed_after_outputs(source: BinaryIO, name: str, *rest: Any) -> FileOutcome:
        process_stream(source, name, *rest)
        raise Crash

    with pytest.raises(Crash):  # taken as incomplete (the long wait passed), then killed
        twice(make(tmp_path, scrubber, killed_after_outputs, incomplete_after=0))
    assert "late.837.report.json" in names(tmp_path / "out")
    w = make(tmp_path, scrubber)  # the default long wait
    w.sweep()
    assert names(tmp_path / "inbox") == ["late.837"]  # back, whole, under its name
    assert names(tmp_path / "out") == []  # the partial answer (no .done) taken back
    assert '"file_changed"' in log.getvalue()
    with open(tmp_path / "inbox" / "late.837", "ab") as f:
        f.write(variant(7)[2000:])  # the uploader finishes
    twice(w)
    assert names(tmp_path / "archive") == ["late.837"] and "late.837.done" in names(
        tmp_path / "out")


def test_a_full_work_folder_or_outbox_gives_the_input_back_with_no_answer(
        tmp_path: Path, scrubber: Scrubber, log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import scrub837.watch._answer as answer
    from scrub837.watch._ticket import Ticket

    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    put(tmp_path, "w.837", variant(8))
    w = make(tmp_path, scrubber)
    with monkeypatch.context() as m:
        m.setattr(Ticket, "save", full)  # the work folder is full
        twice(w)
    assert names(tmp_path / "inbox") == ["w.837"] and names(tmp_path / "out") == []
    with monkeypatch.context() as m:
        m.setattr(answer, "write_done", full)  # the outbox fills up after the outputs
        w._retry_at.clear()
        twice(w)
    assert names(tmp_path / "inbox") == ["w.837"]
    assert names(tmp_path / "out") == []  # outputs without a .done are taken back
    assert log.getvalue().count('"file_retry_later"') == 2
    w._retry_at.clear()
    twice(w)
    assert names(tmp_path / "archive") == ["w.837"] and "w.837.done" in names(tmp_path / "out")


# -- names ----------------------------------------------------------------------------------

def test_an_answer_is_never_overwritten_and_the_input_carries_its_name(
        tmp_path: Path, scrubber: Scrubber, log: io.StringIO) -> None:
    out, archive = tmp_path / "out", tmp_path / "archive"
    out.mkdir()
    (out / "A.837.277").write_text("an earlier answer not yet collected")
    w = make(tmp_path, scrubber)
    w.index.path.mkdir(parents=True)  # the index cannot be used (a folder in its place)
    put(tmp_path, "A.837", variant(4))
    twice(w)
    assert (out / "A.837.277").read_text() == "an earlier answer not yet collected"
    assert names(archive) == ["A.837.1"] and (out / "A.837.1.277").exists()
    assert '"index_failed"' in log.getvalue()
    w.index.path.rmdir()
    archive.joinpath("D.837").write_bytes(variant(5))  # its answers were collected
    put(tmp_path, "D.837", variant(6))
    twice(w)
    assert names(archive) == ["A.837.1", "D.837", "D.837.1"]
    assert (out / "D.837.1.277").exists() and (out / "D.837.1.done").exists()
    assert not (out / "D.837.277").exists()


# -- temporary files of dead processes ------------------------------------------------------

def test_temporary_files_of_dead_processes_are_removed_at_start(
        tmp_path: Path, scrubber: Scrubber, log: io.StringIO) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    work, out = tmp_path / "work", tmp_path / "out"
    for folder in (work, out, tmp_path / "error"):
        folder.mkdir(parents=True, exist_ok=True)
    orphans = [out / ".x.837.277.1a2b3c4d.tmp", out / ".x.837.report.json.1a2b3c4d.tmp",
               work / "..control-numbers.json.4242.tmp", work / "..sha256-index.9f8e7d6c.tmp",
               out / f".x.837.done.w~{HOST}~{dead.pid}~00ff00ff.tmp",
               work / f".ticket.t.json.w~{HOST}~{dead.pid}~00ff00ff.tmp",
               work / ".ticket.deadbeefdeadbeef.json"]  # its input already archived
    (work / ".ticket.deadbeefdeadbeef.json").write_text(json.dumps(
        {"name": "x.837", "sha256": "0" * 64, "stem": "x.837", "now": "2026-01-01T00:00:00"}))
    for p in orphans:
        if not p.exists():
            p.write_text("claim data")
    mine = out / temp_name("y.837.done")  # this process is alive: kept
    mine.write_text("x")
    keep = out / ".y.837.277.11111111.tmp.keep"
    keep.write_text("not a temporary name")
    w = make(tmp_path, scrubber)
    w.sweep()
    assert [p for p in orphans if p.exists()] == []
    assert mine.exists() and keep.exists()
    assert '"temp_removed"' in log.getvalue()


# -- progress -------------------------------------------------------------------------------

def test_a_long_file_logs_progress_events_with_counts_only(
        tmp_path: Path, scrubber: Scrubber, log: io.StringIO,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import scrub837.watch._answer as answer

    put(tmp_path, "small.837", BASE)
    twice(make(tmp_path, scrubber))
    assert "small.837.done" in names(tmp_path / "out")
    assert '"file_progress"' not in log.getvalue()  # under PROGRESS_MIN_BYTES: no events
    monkeypatch.setattr(answer, "PROGRESS_MIN_BYTES", 1)
    monkeypatch.setattr(answer, "PROGRESS_EVERY_S", 0.0)
    put(tmp_path, "long.837", variant(1))
    twice(make(tmp_path, scrubber))
    events = [json.loads(line) for line in log.getvalue().splitlines()]
    progress = [e for e in events if e["event"] == "file_progress"]
    assert progress and all(e["file"] == "long.837" for e in progress)
    assert progress[-1]["bytes"] == progress[-1]["total_bytes"] == len(variant(1))
    assert progress[-1]["claims"] == 6
    assert set(progress[-1]) <= {"event", "level", "timestamp", "logger", "file", "bytes",
                                 "total_bytes", "claims"}
    assert "TESTPATIENT" not in log.getvalue() and "MBR1000" not in log.getvalue()
