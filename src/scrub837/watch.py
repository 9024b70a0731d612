"""The drop-folder watcher: inbox -> work (claimed by atomic rename) -> outputs -> archive.

Never loses or duplicates a file:
* a file is picked up only when its size and mtime were the same one interval ago, and never
  when named ``*.part``, ``*.tmp`` or ``.*`` (submitters upload under such a name, then rename);
* it is claimed by ``os.rename`` into the work folder under a name that carries this host and
  pid; of several watchers (one machine or several sharing the folder) only one rename wins;
* outputs are written atomically (pipeline.py) and only then is the input moved to the archive
  (or, when it cannot be read as X12, to the error folder beside a ``.error.txt``);
* a failure to write outputs (disk full, permissions) puts the input back in the inbox to be
  retried later; nothing is ever deleted;
* at start, files left in the work folder by a dead watcher on this host (or older than
  ``stale_after``) are processed again: outputs are idempotent, written by name;
* content already processed (same sha256) is reported as a duplicate and archived under
  ``duplicates/``, not processed twice;
* rule files are reloaded when they change; a broken new pack keeps the old one;
* SIGTERM/SIGINT finish the current file, then the watcher exits 0.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from scrub837.logging import get_logger
from scrub837.pipeline import FileOutcome, OutputOptions, process_stream
from scrub837.rulebook import RulePackError
from scrub837.scrubber import Scrubber

IGNORED_SUFFIXES = (".part", ".tmp")
HOST = socket.gethostname().replace(".", "_")


@dataclass
class WatchConfig:
    inbox: Path
    outbox: Path
    archive: Path
    error: Path
    work: Path
    interval: float = 2.0
    once: bool = False
    stale_after: float = 3600.0
    options: OutputOptions = field(default_factory=OutputOptions)
    rule_files: tuple[Path, ...] = ()


def ignored(name: str) -> bool:
    return name.startswith(".") or name.endswith(IGNORED_SUFFIXES)


def _unique(folder: Path, name: str) -> Path:
    target = folder / name
    n = 1
    while target.exists():
        target = folder / f"{name}.{n}"
        n += 1
    return target


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Watcher:
    def __init__(self, config: WatchConfig, make_scrubber: Callable[[], Scrubber],
                 process: Callable[..., FileOutcome] = process_stream) -> None:
        self.config = config
        self.make_scrubber = make_scrubber
        self.process = process
        self.log = get_logger()
        self.stopping = False
        self._seen: dict[str, tuple[int, int]] = {}
        self._retry_at: dict[str, float] = {}
        self._attempts: dict[str, int] = {}
        for folder in (config.inbox, config.outbox, config.archive, config.error, config.work,
                       config.archive / "duplicates"):
            folder.mkdir(parents=True, exist_ok=True)
        self._hashes_file = config.work / ".processed-sha256"
        self._hashes = self._load_hashes()
        self.scrubber = make_scrubber()
        self._rules_stamp = self._stamp()

    # -- lifecycle -------------------------------------------------------------------------

    def install_signals(self) -> None:
        def stop(signum: int, _frame: object) -> None:
            self.stopping = True
            self.log.info("watch_stopping", reason=signal.Signals(signum).name)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def run(self) -> int:
        cfg = self.config
        self.log.info("watch_started", folder=str(cfg.inbox), interval_s=cfg.interval,
                      pid=os.getpid(), host=HOST)
        self.recover()
        while not self.stopping:
            self.reload_rules()
            busy = self.cycle()
            if cfg.once and not busy and not self._pending():
                break
            if not self.stopping:
                time.sleep(cfg.interval)
        self.log.info("watch_stopped", pid=os.getpid())
        return 0

    def _pending(self) -> bool:
        return any(not ignored(p.name) and p.is_file() for p in self._list(self.config.inbox))

    @staticmethod
    def _list(folder: Path) -> list[Path]:
        try:
            return sorted(folder.iterdir())
        except OSError:
            return []

    # -- one pass over the inbox -----------------------------------------------------------

    def cycle(self) -> bool:
        """Process every stable file once; True when something was processed."""
        busy = False
        now = time.monotonic()
        current: dict[str, tuple[int, int]] = {}
        for path in self._list(self.config.inbox):
            if self.stopping:
                break
            name = path.name
            if ignored(name):
                continue
            try:
                st = path.stat()
            except OSError:
                continue  # vanished (or unreadable metadata): look again next time
            if not os.path.isfile(path):
                continue
            stamp = (st.st_size, st.st_mtime_ns)
            current[name] = stamp
            if self._seen.get(name) != stamp or self._retry_at.get(name, 0) > now:
                continue
            claimed = self.claim(path)
            if claimed is not None:
                self.handle(claimed, name)
                busy = True
        self._seen = current
        return busy

    def claim(self, path: Path) -> Path | None:
        target = self.config.work / f"{path.name}.{HOST}.{os.getpid()}.{secrets.token_hex(3)}"
        try:
            os.rename(path, target)
        except FileNotFoundError:
            return None  # another watcher won, or the submitter took it back
        except OSError as exc:
            self.log.warning("claim_failed", file=path.name, errno=exc.errno,
                             error_type=type(exc).__name__)
            return None
        self.log.info("file_claimed", file=path.name, claimed_as=target.name)
        return target

    def handle(self, claimed: Path, name: str) -> None:
        cfg = self.config
        started = time.monotonic()
        try:
            digest = self._sha256(claimed)
        except OSError as exc:
            self._to_error(claimed, name, f"cannot read the file: {exc.strerror or exc}")
            return
        if digest in self._hashes:
            target = _unique(cfg.archive / "duplicates", name)
            os.rename(claimed, target)
            self.log.warning("file_duplicate", file=name, moved_to=str(target), sha256=digest)
            return
        try:
            with open(claimed, "rb") as source:
                outcome = self.process(source, name, self.scrubber, cfg.outbox, cfg.options)
        except OSError as exc:
            self._give_back(claimed, name, exc)
            return
        except Exception as exc:  # an unexpected failure: keep the input, say why
            self._to_error(claimed, name, f"internal error while scrubbing "
                           f"({type(exc).__name__}); the input is kept for investigation")
            return
        summary = outcome.summary
        if summary.unreadable:
            self._to_error(claimed, name, (cfg.outbox / f"{name}.error.txt").read_text()
                           if (cfg.outbox / f"{name}.error.txt").exists() else
                           "the file cannot be read as X12")
        else:
            target = _unique(cfg.archive, name)
            os.rename(claimed, target)
            self.log.info("file_archived", file=name, moved_to=str(target))
        self._remember(digest, name)
        self._attempts.pop(name, None)
        self.log.info("file_processed", file=name, claims=summary.claims,
                      accepted=summary.accepted, rejected=summary.rejected,
                      warnings=summary.warnings, transactions=summary.transactions,
                      exit_code=outcome.exit_code,
                      duration_ms=round((time.monotonic() - started) * 1000, 1),
                      outputs=[p.name for p in outcome.outputs])

    def _give_back(self, claimed: Path, name: str, exc: OSError) -> None:
        """Outputs could not be written (disk full, permissions): the input goes back to the
        inbox and is retried after a back-off."""
        target = _unique(self.config.inbox, name)
        os.rename(claimed, target)
        attempt = self._attempts.get(target.name, 0) + 1
        self._attempts[target.name] = attempt
        delay = min(300.0, self.config.interval * (2 ** attempt))
        self._retry_at[target.name] = time.monotonic() + delay
        self.log.error("file_retry_later", file=name, errno=exc.errno,
                       reason=errno.errorcode.get(exc.errno or 0, "OSError"),
                       retry_in_s=delay, attempt=attempt)

    def _to_error(self, claimed: Path, name: str, why: str) -> None:
        folder = self.config.error
        target = _unique(folder, name)
        os.rename(claimed, target)
        note = folder / f"{target.name}.error.txt"
        fd = os.open(note, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, self.config.options.mode)
        with os.fdopen(fd, "w") as f:
            f.write(why if why.endswith("\n") else why + "\n")
        self.log.warning("file_errored", file=name, moved_to=str(target))

    # -- duplicates --------------------------------------------------------------------------

    @staticmethod
    def _sha256(path: Path) -> str:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()

    def _load_hashes(self) -> set[str]:
        try:
            return {line.split()[0] for line in self._hashes_file.read_text().splitlines()
                    if line.strip()}
        except FileNotFoundError:
            return set()

    def _remember(self, digest: str, name: str) -> None:
        self._hashes.add(digest)
        with open(self._hashes_file, "a") as f:
            f.write(f"{digest} {int(time.time())}\n")
            f.flush()
            os.fsync(f.fileno())

    # -- crash recovery ----------------------------------------------------------------------

    def recover(self) -> None:
        """Files a dead watcher left in the work folder are processed again."""
        for path in self._list(self.config.work):
            if path.name.startswith(".") or not path.is_file():
                continue
            parts = path.name.rsplit(".", 3)
            if len(parts) != 4:
                continue
            name, host, pid_text, _ = parts
            pid = int(pid_text) if pid_text.isdigit() else -1
            try:
                age = time.time() - path.stat().st_mtime
            except OSError:
                continue
            alive = host == HOST and pid != os.getpid() and _pid_alive(pid)
            if alive and age < self.config.stale_after:
                continue  # a live watcher on this host is working on it
            if host != HOST and age < self.config.stale_after:
                continue  # another machine's watcher may still be working on it
            self.log.warning("file_recovered", file=name, claimed_as=path.name, pid=pid)
            mine = self.config.work / f"{name}.{HOST}.{os.getpid()}.{secrets.token_hex(3)}"
            try:
                os.rename(path, mine)
            except FileNotFoundError:
                continue
            self.handle(mine, name)

    # -- rule reloads ------------------------------------------------------------------------

    def _stamp(self) -> tuple[tuple[str, int, int], ...]:
        out = []
        for root in self.config.rule_files:
            paths = sorted(root.rglob("*")) if root.is_dir() else [root]
            for p in paths:
                try:
                    st = p.stat()
                except OSError:
                    continue
                out.append((str(p), st.st_size, st.st_mtime_ns))
        return tuple(out)

    def reload_rules(self) -> None:
        stamp = self._stamp()
        if stamp == self._rules_stamp:
            return
        self._rules_stamp = stamp
        try:
            fresh = self.make_scrubber()
        except RulePackError as exc:
            self.log.error("rules_reload_failed", reason=f"{exc.file}: {exc.key}: {exc.message}")
            return
        except Exception as exc:
            self.log.error("rules_reload_failed", error_type=type(exc).__name__)
            return
        self.scrubber = fresh
        self.log.info("rules_reloaded", codes=len(fresh.rulebook.codes))


def with_control_state(options: OutputOptions, work: Path) -> OutputOptions:
    """Watcher mode keeps 277CA control numbers in the work folder unless told otherwise."""
    from scrub837.outputs.control import ControlNumbers

    if options.control.state_file is not None:
        return options
    return replace(options, control=ControlNumbers(work / ".control-numbers.json"))


def describe_layout(cfg: WatchConfig) -> dict[str, Any]:
    return {"inbox": str(cfg.inbox), "outbox": str(cfg.outbox), "archive": str(cfg.archive),
            "error": str(cfg.error), "work": str(cfg.work)}
