"""The drop-folder watcher: inbox -> work (claimed by atomic rename) -> outputs -> archive.

No input is ever deleted, lost or processed twice:

* a file is picked up only when its size, mtime and inode were the same one interval ago, and
  never when named ``*.part``, ``*.tmp`` or ``.*`` (submitters upload under such a name, then
  rename); symbolic links and folders in the inbox are left alone;
* it is claimed by ``os.rename`` into the work folder as ``NAME.HOST.PID.CLAIMTIME.TOKEN``; of
  several watchers (one machine, or several sharing the folder) only one rename wins, the others
  get FileNotFoundError and skip it;
* content already processed (same sha256, :mod:`scrub837._watch_index`) is a duplicate: moved
  to ``ARCHIVE/duplicates/``, not processed;
* the outputs are written atomically by the pipeline, and only then is the input moved to the
  archive (or, when it cannot be read as X12, to the error folder beside ``NAME.error.txt``);
  moves never replace a file (a ``.1`` suffix on a clash);
* a file that cannot be read (permissions, I/O error) goes to the error folder with the reason;
  an unexpected exception while scrubbing does too;
* a failure to write the outputs (disk full, permissions on OUTBOX) puts the input back in the
  inbox, retried with a back-off (interval * 2^attempt, at most 5 minutes);
* files left in the work folder by a dead watcher (same host, pid gone) or claimed by another
  host longer than ``stale_after`` ago are recovered at start and every ``sweep_every`` seconds:
  processed again under the same output name (outputs are written atomically by name);
* rule files are reloaded when their mtimes change; a broken new pack keeps the old one;
* SIGTERM/SIGINT finish the current file, then :meth:`Watcher.run` returns 0.
"""

from __future__ import annotations

import os
import signal
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import BinaryIO

from scrub837._watch_fs import (
    HOST,
    ClaimName,
    claim_alive,
    errno_name,
    files_stamp,
    ignored,
    move_noclobber,
    read_note,
    remove_orphan_temps,
    same_filesystem,
    sha256_file,
    write_atomic,
)
from scrub837._watch_index import Begin, HashIndex
from scrub837.logging import get_logger
from scrub837.pipeline import SUFFIXES, FileOutcome, OutputOptions, process_stream
from scrub837.rulebook import RulePackError
from scrub837.scrubber import Scrubber

MAX_BACKOFF = 300.0
INDEX_NAME = ".sha256-index"
DUPLICATES = "duplicates"

Processor = Callable[[BinaryIO, str, Scrubber, Path, OutputOptions], FileOutcome]


class WatchSetupError(Exception):
    """The folders cannot be used (overlapping, or on different filesystems)."""


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
    sweep_every: float = 60.0
    options: OutputOptions = field(default_factory=OutputOptions)
    rule_files: tuple[Path, ...] = ()
    index_limit: int = 100_000


class Watcher:
    """One watcher process. ``make_scrubber`` builds the rule book and edits (called again when
    the rule files change); ``process`` is the pipeline (a test may wrap it)."""

    def __init__(self, config: WatchConfig, make_scrubber: Callable[[], Scrubber],
                 process: Processor = process_stream) -> None:
        self.config = config
        self.make_scrubber = make_scrubber
        self.process = process
        self.log = get_logger()
        self.stopping = False
        self._signal = ""
        self._seen: dict[str, tuple[int, int, int]] = {}
        self._retry_at: dict[str, float] = {}
        self._attempts: dict[str, int] = {}
        self._check_folders()
        self.index = HashIndex(config.work / INDEX_NAME, config.index_limit)
        self.scrubber = make_scrubber()
        self._rules_stamp = self._stamp()
        self._next_sweep = 0.0
        self._old_handlers: dict[int, object] = {}
        self._inbox_failed = False

    def _check_folders(self) -> None:
        cfg = self.config
        folders = {"inbox": cfg.inbox, "outbox": cfg.outbox, "archive": cfg.archive,
                   "error": cfg.error, "work": cfg.work}
        for label, folder in folders.items():
            if folder.exists() and not folder.is_dir():
                raise WatchSetupError(f"{label} {folder}: is a file, not a folder")
            folder.mkdir(parents=True, exist_ok=True)
        resolved: dict[Path, str] = {}
        for label, folder in folders.items():
            other = resolved.setdefault(folder.resolve(), label)
            if other != label:
                raise WatchSetupError(f"{label} and {other} are the same folder ({folder})")
        (cfg.archive / DUPLICATES).mkdir(exist_ok=True)
        if not same_filesystem(cfg.inbox, cfg.work, cfg.archive, cfg.error):
            raise WatchSetupError("inbox, work, archive and error folders must be on one "
                                  "filesystem (files move between them by rename)")

    # -- lifecycle -------------------------------------------------------------------------

    def install_signals(self) -> None:
        def stop(signum: int, _frame: FrameType | None) -> None:
            self.stopping = True  # no logging here: the main thread may hold the log's lock
            self._signal = signal.Signals(signum).name

        for signum in (signal.SIGTERM, signal.SIGINT):
            self._old_handlers[signum] = signal.signal(signum, stop)

    def run(self) -> int:
        cfg = self.config
        self.log.info("watch_started", folder=str(cfg.inbox), outbox=str(cfg.outbox),
                      interval_s=cfg.interval, pid=os.getpid(), host=HOST,
                      codes=len(self.scrubber.rulebook.codes))
        self.sweep()
        reason = "inbox empty (--once)"
        while not self.stopping:
            self.reload_rules()
            busy = self.cycle()
            if not cfg.once and time.monotonic() >= self._next_sweep:
                self.sweep()
            if cfg.once and not busy and not self._waiting():
                break
            self._sleep(cfg.interval)
        if self.stopping:
            reason = self._signal or "stopped"
        self.log.info("watch_stopping", reason=reason, pid=os.getpid())
        self.log.info("watch_stopped", pid=os.getpid())
        for signum, handler in self._old_handlers.items():  # run() in-process (tests)
            signal.signal(signum, handler)  # type: ignore[arg-type]
        return 0

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.stopping and (left := end - time.monotonic()) > 0:
            time.sleep(min(left, 0.1))

    def _waiting(self) -> bool:
        """Is a file in the inbox waiting for its first try (not one in back-off)?"""
        now = time.monotonic()
        for path in self._list(self.config.inbox):
            if not ignored(path.name) and self._retry_at.get(path.name, 0) <= now:
                try:
                    if stat.S_ISREG(path.lstat().st_mode):
                        return True
                except OSError:
                    continue
        return False

    def _list_inbox(self) -> list[Path]:
        """The inbox, sorted by name; an inbox that cannot be listed is logged once (until it
        can be again) and looks empty: the watcher keeps going."""
        try:
            listing = sorted(self.config.inbox.iterdir())
        except OSError as exc:
            if not self._inbox_failed:
                self.log.error("watch_error", folder=str(self.config.inbox), errno=exc.errno,
                               errno_name=errno_name(exc))
            self._inbox_failed = True
            return []
        self._inbox_failed = False
        return listing

    @staticmethod
    def _list(folder: Path) -> list[Path]:
        try:
            return sorted(folder.iterdir())
        except OSError:
            return []

    # -- one pass over the inbox -----------------------------------------------------------

    def cycle(self) -> bool:
        """Process every file that has been stable for one interval; True when one was."""
        busy = False
        now = time.monotonic()
        current: dict[str, tuple[int, int, int]] = {}
        for path in self._list_inbox():
            if self.stopping:
                break
            name = path.name
            if ignored(name):
                continue
            try:
                st = path.lstat()
            except OSError:
                continue  # vanished between listing and looking: nothing to do
            if not stat.S_ISREG(st.st_mode):
                continue  # folders, links, pipes: never followed or claimed
            stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
            current[name] = stamp
            if self._seen.get(name) != stamp:
                self.log.debug("file_waiting", file=name, bytes=st.st_size)
                continue
            if self._retry_at.get(name, 0) > now:
                continue
            claim = self.claim(path)
            if claim is not None:
                self._handle_safely(*claim)
                busy = True
        self._seen = current
        for name in set(self._retry_at) - set(current):
            self._retry_at.pop(name, None)
            self._attempts.pop(name, None)
        return busy

    def claim(self, path: Path, *, recovered: ClaimName | None = None
              ) -> tuple[Path, ClaimName, str | None] | None:
        name = recovered.name if recovered else path.name
        cn = ClaimName.new(name)
        target = self.config.work / cn.file_name
        try:
            os.rename(path, target)
        except FileNotFoundError:
            self.log.debug("file_vanished", file=name)  # another watcher won, or it was taken
            return None
        except OSError as exc:
            self._backoff(name)
            self.log.warning("claim_failed", file=name, errno=exc.errno,
                             errno_name=errno_name(exc), retry_in_s=self._delay(name))
            return None
        if recovered is not None:
            self.log.warning("file_recovered", file=name, claimed_as=cn.file_name,
                             claimed_by=recovered.claim_id)
        else:
            self.log.info("file_claimed", file=name, claimed_as=cn.file_name)
        return target, cn, recovered.claim_id if recovered else None

    def _handle_safely(self, claimed: Path, cn: ClaimName, previous: str | None) -> None:
        try:
            self.handle(claimed, cn, previous)
        except Exception as exc:  # noqa: BLE001 -- never crash: the input stays in work
            self.log.error("watch_error", file=cn.name, claimed_as=cn.file_name,
                           error_type=type(exc).__name__)

    def handle(self, claimed: Path, cn: ClaimName, previous: str | None = None) -> None:
        cfg, name = self.config, cn.name
        started = time.monotonic()
        try:
            digest = sha256_file(claimed)
        except OSError as exc:
            self._to_error(claimed, name, "cannot_read",
                           f"file: {name}\nproblem: the watcher cannot read the file "
                           f"({exc.strerror or errno_name(exc)}); fix its permissions and "
                           "move it back into the inbox\n")
            return
        begin = self._begin(digest, cn, previous)
        if begin.duplicate:
            target = move_noclobber(claimed, cfg.archive / DUPLICATES, name)
            self.log.warning("file_duplicate", file=name, moved_to=str(target), sha256=digest,
                             first_stem=begin.stem)
            return
        try:
            with open(claimed, "rb") as source:
                outcome = self.process(source, begin.stem, self.scrubber, cfg.outbox,
                                       cfg.options)
        except OSError as exc:  # no output was written (the pipeline is all-or-nothing)
            self._give_back(claimed, name, exc)
            self._index(self.index.release, digest, cn)
            return
        except Exception as exc:  # noqa: BLE001 -- a bug in an edit or plugin: keep the input
            self._to_error(claimed, name, "internal_error",
                           f"file: {name}\nproblem: internal error while scrubbing "
                           f"({type(exc).__name__}); the input is kept here for investigation; "
                           "move it back into the inbox to try again\n", type(exc).__name__)
            self._index(self.index.release, digest, cn)
            return
        summary = outcome.summary
        if summary.unreadable:
            note = next((p for p in outcome.outputs if p.name.endswith(".error.txt")), None)
            self._to_error(claimed, name, "unreadable_x12", read_note(note, name))
        else:
            target = move_noclobber(claimed, cfg.archive, begin.stem)
            self.log.info("file_archived", file=name, moved_to=str(target))
        self._index(self.index.done, digest, cn)
        self._attempts.pop(name, None)
        self.log.info("file_processed", file=name, stem=begin.stem, claims=summary.claims,
                      accepted=summary.accepted, rejected=summary.rejected,
                      warnings=summary.warnings, transactions=summary.transactions,
                      exit_code=outcome.exit_code,
                      duration_ms=round((time.monotonic() - started) * 1000, 1),
                      outputs=[p.name for p in outcome.outputs])

    def _begin(self, digest: str, cn: ClaimName, previous: str | None) -> Begin:
        outbox = self.config.outbox
        try:
            return self.index.begin(digest, cn.claim_id, cn.name, previous=previous,
                                    stem_taken=lambda s: (outbox / f"{s}.report.json").exists(),
                                    alive=lambda c: claim_alive(c, self.config.stale_after))
        except OSError as exc:  # the index is unusable (disk full?): process without it
            self.log.error("index_failed", errno=exc.errno, errno_name=errno_name(exc))
            return Begin(False, cn.name)

    def _index(self, step: Callable[[str, str], None], digest: str, cn: ClaimName) -> None:
        try:
            step(digest, cn.claim_id)
        except OSError as exc:
            self.log.error("index_failed", errno=exc.errno, errno_name=errno_name(exc))

    def _delay(self, name: str) -> float:
        return min(MAX_BACKOFF, self.config.interval * 2.0 ** self._attempts.get(name, 1))

    def _backoff(self, name: str) -> None:
        self._attempts[name] = self._attempts.get(name, 0) + 1
        self._retry_at[name] = time.monotonic() + self._delay(name)

    def _give_back(self, claimed: Path, name: str, exc: OSError) -> None:
        """Outputs could not be written (disk full, permissions): back to the inbox, retried
        after a back-off. The inbox name may get a suffix if a new file took the name."""
        target = move_noclobber(claimed, self.config.inbox, name)
        self._backoff(target.name)
        self.log.error("file_retry_later", file=name, moved_to=str(target), errno=exc.errno,
                       errno_name=errno_name(exc), attempt=self._attempts[target.name],
                       retry_in_s=self._delay(target.name))

    def _to_error(self, claimed: Path, name: str, reason: str, why: str,
                  error_type: str | None = None) -> None:
        folder = self.config.error
        target = move_noclobber(claimed, folder, name)
        try:
            write_atomic(folder / f"{target.name}.error.txt", why, self.config.options.mode)
        except OSError as exc:  # the input is safe in the error folder; only the note is lost
            self.log.error("move_failed", file=name, errno=exc.errno, errno_name=errno_name(exc))
        extra = {"error_type": error_type} if error_type else {}
        self.log.warning("file_errored", file=name, moved_to=str(target), reason=reason, **extra)

    # -- crash recovery ----------------------------------------------------------------------

    def sweep(self) -> None:
        """Recover files left in the work folder: by a dead watcher on this host, by this
        process (a move that failed), or by another host longer than ``stale_after`` ago."""
        self._next_sweep = time.monotonic() + self.config.sweep_every
        removed = remove_orphan_temps(self.config.outbox, SUFFIXES, self.config.stale_after)
        if removed:
            self.log.warning("temp_removed", files=removed, folder=str(self.config.outbox))
        for path in self._list(self.config.work):
            if self.stopping:
                return
            cn = ClaimName.parse(path.name)
            if path.name.startswith(".") or cn is None:
                continue
            try:
                if not stat.S_ISREG(path.lstat().st_mode):
                    continue
            except OSError:
                continue
            if claim_alive(cn.claim_id, self.config.stale_after):
                continue  # a live watcher here, or another host's recent claim
            claim = self.claim(path, recovered=cn)
            if claim is not None:
                self._handle_safely(*claim)

    # -- rule reloads ------------------------------------------------------------------------

    def _stamp(self) -> tuple[tuple[str, int, int], ...]:
        return files_stamp(self.config.rule_files)

    def reload_rules(self) -> bool:
        """Reload when a rule file changed; True when the new pack is in use."""
        stamp = self._stamp()
        if stamp == self._rules_stamp:
            return False
        self._rules_stamp = stamp
        try:
            fresh = self.make_scrubber()
        except RulePackError as exc:
            self.log.error("rules_reload_failed", reason=str(exc), error_type="RulePackError")
            return False
        except Exception as exc:  # noqa: BLE001 -- a plugin, a bad file: keep the old pack
            self.log.error("rules_reload_failed", error_type=type(exc).__name__)
            return False
        self.scrubber = fresh
        self.log.info("rules_reloaded", codes=len(fresh.rulebook.codes))
        return True
