"""The watcher under chaos, as operators run it: two real ``python -m scrub837 watch`` processes
on one inbox, ten real SIGKILLs at seeded random moments (half of them fired the moment an
input's outputs start to appear, before its ``.done``: with strace slowing each rename, inside
the output renames), a slow uploader that pauses 1 s between
writes without ``.part``, one that reopens the file for every write, an upload abandoned half
way, duplicates and a reused name. Checked by content at the end. Bounded: 60 uploads, 10
kills, every wait has a deadline; the whole test takes well under a minute."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from scrub837.watch._fs import ClaimName
from tests.conftest import ROOT, SAMPLES

BASE = (SAMPLES / "837p_clean.837").read_text()
SEED = 15
KILLS = 10
STATE_FILES = {".sha256-index", ".sha256-index.lock", ".control-numbers.json",
               ".control-numbers.json.lock"}


def variant(i: int) -> bytes:
    return (BASE.replace("CLEAN0001", f"K{i:07d}").replace("CLEAN-J", f"K{i:04d}-J")
            .replace("000000101", f"{i + 500:09d}")).encode()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _strace() -> list[str]:
    """``strace`` delaying every rename by 25 ms, when it can trace here: the watcher's output
    renames then take ~125 ms, so a kill fired when the first output appears lands among
    them. Without strace the test is the same, the kills only less likely to land there."""
    tool = shutil.which("strace")
    if tool is None:
        return []
    cmd = [tool, "-f", "--seccomp-bpf", "-qq", "-o", "/dev/null",
           "-e", "trace=rename,renameat,renameat2",
           "-e", "inject=rename,renameat,renameat2:delay_exit=25000"]
    try:
        probe = subprocess.run([*cmd, sys.executable, "-c", "pass"], capture_output=True,
                               timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return cmd if probe.returncode == 0 else []


class Fleet:
    """Two watcher processes; a killed one is replaced at once. Signals go to the watcher's
    own pid (from its ``watch_started`` line), not to strace."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.prefix = _strace()
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []
        self.log_of: dict[int, Path] = {}
        self.lock = threading.Lock()
        self.started = 0
        for _ in range(2):
            self.procs.append(self._start())

    def _start(self, *extra: str) -> subprocess.Popen[bytes]:
        self.started += 1
        log = self.root / f"watch{self.started}.log"
        self.logs.append(log)
        args = [*self.prefix, sys.executable, "-m", "scrub837", "watch", str(self.root / "inbox"),
                "--out", str(self.root / "out"), "--interval", "0.05", "--settle", "0.4",
                "--incomplete-after", "4", "--log-format", "json", "--log-level", "debug",
                *extra]
        with open(log, "w") as f:
            proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=f, cwd=ROOT)
        self.log_of[proc.pid] = log
        return proc

    def pid(self, proc: subprocess.Popen[bytes]) -> int:
        """The watcher's pid, once it has logged watch_started (bounded wait)."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for line in self.log_of[proc.pid].read_text().splitlines():
                if '"watch_started"' in line and line.endswith("}"):
                    return int(json.loads(line)["pid"])
            if proc.poll() is not None:
                raise AssertionError(f"watcher exited early: {self.text()}")
            time.sleep(0.02)
        raise AssertionError(f"no watch_started: {self.text()}")

    def kill(self, pid: int | None, rng: random.Random) -> int:
        with self.lock:
            pids = [self.pid(p) for p in self.procs]
            idx = pids.index(pid) if pid in pids else rng.randrange(len(self.procs))
            os.kill(pids[idx], signal.SIGKILL)
            self.procs[idx].wait(timeout=10)
            self.procs[idx] = self._start()
            return pids[idx]

    def stop(self) -> list[int]:
        codes = []
        with self.lock:
            for p in self.procs:  # a process still importing Python has no handler yet
                os.kill(self.pid(p), signal.SIGTERM)
            for p in self.procs:
                try:
                    codes.append(p.wait(timeout=30))
                except subprocess.TimeoutExpired:
                    p.kill()
                    codes.append(p.wait(timeout=10))
        return codes

    def once(self) -> int:
        proc = self._start("--once")
        try:
            return proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)

    def text(self) -> str:
        return "\n".join(f"== {p.name}\n{p.read_text()[-2500:]}" for p in self.logs[-4:])


class Observer(threading.Thread):
    """Polls the outbox every few milliseconds: every version of every 277 it ever sees, the
    first moment each name appears, and (for the in-rename kills) a stem whose outputs are
    appearing while its .done is not there yet."""

    def __init__(self, out: Path) -> None:
        super().__init__(daemon=True)
        self.out = out
        self.seen_277: dict[str, set[str]] = {}
        self.first_seen: dict[str, float] = {}
        self.partial = threading.Event()
        self.partial_stem = ""
        self.halt = threading.Event()

    def run(self) -> None:
        versions: set[tuple[str, int, int]] = set()
        while not self.halt.is_set():
            try:
                entries = list(os.scandir(self.out))
            except OSError:
                entries = []
            now = time.monotonic()
            names = {e.name for e in entries}
            for entry in entries:
                name = entry.name
                self.first_seen.setdefault(name, now)
                if not name.endswith(".277") or name.startswith("."):
                    continue
                if f"{name[:-4]}.done" not in names:
                    self.partial_stem = name[:-4]
                    self.partial.set()
                try:
                    st = entry.stat()
                    key = (name, st.st_ino, st.st_mtime_ns)
                    if key not in versions:
                        versions.add(key)
                        self.seen_277.setdefault(name, set()).add(
                            sha((self.out / name).read_bytes()))
                except OSError:
                    continue
            time.sleep(0.002)


def slow_writer(path: Path, data: bytes, reopen: bool, finished: dict[str, float]) -> None:
    """Four writes one second apart, never a ``.part`` name."""
    step = len(data) // 4 + 1
    chunks = [data[i:i + step] for i in range(0, len(data), step)]
    for i, chunk in enumerate(chunks):
        if i:
            time.sleep(1.0)
        if reopen:
            with open(path, "ab") as f:
                f.write(chunk)
        else:
            if i == 0:
                kept = open(path, "wb", buffering=0)  # noqa: SIM115 -- closed below
            kept.write(chunk)
    finished[path.name] = time.monotonic()  # complete from this moment
    if not reopen:
        kept.close()


def drop(inbox: Path, name: str, data: bytes) -> None:
    part = inbox / f"{name}.part"
    part.write_bytes(data)
    os.rename(part, inbox / name)


def test_chaos_every_upload_gets_exactly_one_answer(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    out.mkdir()
    uploads: dict[str, bytes] = {}  # upload name -> content
    plain = [(f"c{i:02d}.837", variant(i)) for i in range(52)]
    dups = [(f"dup{i}.837", variant(i * 7)) for i in range(3)]  # the same bytes, another name
    reuse = [("reuse.837", variant(90)), ("reuse.837", variant(91))]  # one name, twice
    slow, reopen = variant(80) * 1, variant(81)
    half = variant(82)[:1700]  # abandoned: never completed
    finished: dict[str, float] = {}
    observer = Observer(out)
    observer.start()
    fleet = Fleet(tmp_path)
    killed: list[int] = []
    in_answer = in_renames = 0
    try:
        writers = [threading.Thread(target=slow_writer, args=(inbox / n, d, r, finished))
                   for n, d, r in (("slow.837", slow, False), ("reopen.837", reopen, True))]
        for t in writers:
            t.start()
        uploads["slow.837"], uploads["reopen.837"] = slow, reopen
        (inbox / "half.837").write_bytes(half)
        uploads["half.837"] = half
        schedule = sorted(rng.uniform(0.3, 9.0) for _ in range(KILLS))
        items = plain + dups
        rng.shuffle(items)
        start = time.monotonic()
        reuse_second = False
        for kill_at in schedule:
            while time.monotonic() - start < kill_at:  # drop files until the next kill
                if items:
                    name, data = items.pop()
                    drop(inbox, name, data)
                    uploads[name] = data
                if not reuse_second and (out / "reuse.837.done").exists():
                    drop(inbox, "reuse.837", reuse[1][1])
                    uploads["reuse.837#2"] = reuse[1][1]
                    reuse_second = True
                if "reuse.837" not in uploads and time.monotonic() - start > 2:
                    drop(inbox, "reuse.837", reuse[0][1])
                    uploads["reuse.837"] = reuse[0][1]
                time.sleep(rng.uniform(0.02, 0.15))
            pid = None
            if len(killed) % 2:  # every other kill: the moment an answer starts to appear
                observer.partial.clear()
                if observer.partial.wait(timeout=3):
                    stem = observer.partial_stem
                    for p in (tmp_path / "work").iterdir():
                        cn = ClaimName.parse(p.name)
                        if cn is not None and (cn.name == stem or stem.startswith(cn.name)):
                            pid = cn.pid
                    in_answer += pid is not None
            killed.append(fleet.kill(pid, rng))
            if pid is not None:  # temporaries of the stem still there: killed mid-renames
                stem = observer.partial_stem
                in_renames += any(n.startswith(f".{stem}.") and n.endswith(".tmp")
                                  for n in os.listdir(out)) and not (out / f"{stem}.done").exists()
        while items:
            name, data = items.pop()
            drop(inbox, name, data)
            uploads[name] = data
        for t in writers:
            t.join(timeout=15)
        if not reuse_second:
            deadline = time.monotonic() + 20
            while not (out / "reuse.837.done").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            drop(inbox, "reuse.837", reuse[1][1])
            uploads["reuse.837#2"] = reuse[1][1]
        deadline = time.monotonic() + 30
        while len(list(out.glob("*.done"))) < len(uploads) and time.monotonic() < deadline:
            time.sleep(0.1)
        codes = fleet.stop()
        assert codes == [0, 0], fleet.text()
        assert fleet.once() == 0, fleet.text()  # the final sweep
    finally:
        observer.halt.set()
        observer.join(timeout=5)
        for p in fleet.procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
    assert len(killed) == KILLS and len(uploads) == 60
    if fleet.prefix:  # renames slowed: the answer-time kills do land among the renames
        assert in_renames >= 1, fleet.text()
    try:
        check(tmp_path, uploads, observer, finished)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nkills inside an answer: {in_answer}\n"
                             f"{fleet.text()}") from None
    print(f"chaos: {KILLS} kills ({in_answer} while an answer was appearing, {in_renames} "
          f"inside its renames), {fleet.started} watcher processes, "
          f"renames slowed by strace: {bool(fleet.prefix)}")


def check(root: Path, uploads: dict[str, bytes], observer: Observer,
          finished: dict[str, float]) -> None:
    out, archive, error = root / "out", root / "archive", root / "error"
    # nothing left in the inbox or the work folder, no temporary file anywhere
    assert os.listdir(root / "inbox") == []
    assert set(os.listdir(root / "work")) <= STATE_FILES, os.listdir(root / "work")
    for folder in (out, archive, archive / "duplicates", error):
        assert not [n for n in os.listdir(folder) if n.startswith(".")], folder
    # each input archived exactly once (the duplicates in archive/duplicates, the abandoned
    # upload in the error folder): the archived contents are exactly the uploaded ones
    kept: Counter[str] = Counter()
    for folder in (archive, archive / "duplicates", error):
        for p in folder.iterdir():
            if p.is_file() and not p.name.endswith(".error.txt"):
                kept[sha(p.read_bytes())] += 1
    assert kept == Counter(sha(d) for d in uploads.values())
    # exactly one answer set per upload: one .done each, naming outputs that exist, and each
    # input carries the name of its answers
    dones = {p.name[:-5]: json.loads(p.read_text()) for p in out.glob("*.done")}
    assert Counter(d["sha256"] for d in dones.values()) == kept
    for stem, done in dones.items():
        for name in done["outputs"]:
            assert (out / name).exists(), (stem, name)
        where = archive / "duplicates" if "duplicate_of" in done else (
            error if f"{stem}.error.txt" in done["outputs"] else archive)
        assert sha((where / stem).read_bytes()) == done["sha256"], stem
    stems = {n for n in dones}
    answered = {p.name.split(".837")[0] + ".837" for p in out.iterdir()}
    assert answered == {n.split("#")[0] for n in uploads}  # no stray answer names
    assert {s for s in stems if s.startswith("reuse")} == {"reuse.837", "reuse.837.1"}
    # never two different 277CAs for one name; one 277 per distinct content; ISA13 unique
    assert all(len(v) == 1 for v in observer.seen_277.values()), observer.seen_277
    firsts = [d for d in dones.values() if "duplicate_of" not in d]
    assert len({d["sha256"] for d in firsts}) == len(firsts)
    isa13 = [(out / n).read_text().split("*")[13] for n in os.listdir(out) if n.endswith(".277")]
    assert len(isa13) == len(set(isa13))
    for dup in (d for d in dones.values() if "duplicate_of" in d):
        note = json.loads((out / f"{dup['stem']}.duplicate.json").read_text())
        assert dones[note["duplicate_of"]]["sha256"] == dup["sha256"]
    # the slow uploads: no output before the upload was complete, one whole answer
    for name in ("slow.837", "reopen.837"):
        seen = [t for n, t in observer.first_seen.items() if n.startswith(name)]
        assert seen and min(seen) >= finished[name], name
        report = json.loads((out / f"{name}.report.json").read_text())
        assert report["summary"]["claims"] == 6, name
        assert not any(n.startswith(f"{name}.1") for n in os.listdir(out))
    # the abandoned upload: answered once, as truncated, after the longer wait
    assert (out / "half.837.error.txt").exists() and (error / "half.837").exists()
