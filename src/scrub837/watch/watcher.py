"""The drop-folder watcher: inbox -> work (claimed by atomic rename) -> outputs -> archive.

Every upload gets exactly one answer in the outbox, and no input is lost (docs/watcher.md):

* a file is picked up only when it is complete -- it ends with an IEA closing its last ISA
  (:mod:`scrub837.watch._ready`) -- and its size, mtime and inode have not changed for
  ``settle`` seconds; a file that stays incomplete is taken (and answered as truncated) once
  unchanged for ``incomplete_after``; never a ``*.part``, ``*.tmp`` or ``.*`` name, a link or
  a folder;
* it is claimed by ``os.rename`` into the work folder as ``NAME.HOST.PID.CLAIMTIME.TOKEN``; of
  several watchers only one rename wins; a file changed between the last look and the claim, or
  during its scrub, goes back to the inbox (its outputs taken back), never split;
* the answer (:mod:`scrub837.watch._answer`): a ticket in the work folder pins the output stem,
  the 277CA's control numbers and creation time, so a re-scrub after a crash is byte-identical;
  the outputs, then ``STEM.done``; then the input moves to ``archive/STEM`` (``error/STEM``);
  a duplicate (same sha256, :mod:`scrub837.watch._index`) is answered by
  ``STEM.duplicate.json`` naming the first upload's answer;
* a failure to write the outputs (disk full, permissions on OUTBOX) puts the input back in the
  inbox, retried with a back-off (interval * 2^attempt, at most 5 minutes);
* files left in the work folder by a dead watcher (same host, pid gone) or claimed by another
  host longer than ``stale_after`` ago are recovered at start and every ``sweep_every`` seconds,
  and temporary files of dead processes are removed (:mod:`scrub837.watch._clean`);
* rule files are reloaded when their mtimes change; a broken new pack keeps the old one;
* SIGTERM/SIGINT: ``watch_stopping`` is logged at once, the current file is finished, then
  :meth:`Watcher.run` returns 0; further signals are ignored.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scrub837.watch import _clean as clean
from scrub837.watch._answer import DUPLICATES, FileHandling, Processor, Stamp, stamp_of
from scrub837.watch._fs import (
    HOST,
    ClaimName,
    claim_alive,
    errno_name,
    files_stamp,
    ignored,
    same_filesystem,
)
from scrub837.watch._index import HashIndex
from scrub837.watch._ready import complete
from scrub837.watch._signals import StopSignals
from scrub837.logging import get_logger
from scrub837.run.pipeline import OutputOptions, process_stream
from scrub837.rulebook import RulePackError
from scrub837.scrubber import Scrubber

MAX_BACKOFF = 300.0
INDEX_NAME = ".sha256-index"
SETTLE = 10.0
INCOMPLETE_AFTER = 1800.0

__all__ = ["DUPLICATES", "INCOMPLETE_AFTER", "SETTLE", "WatchConfig", "WatchSetupError",
           "Watcher"]


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
    settle: float = SETTLE  # a complete file must be unchanged this long
    incomplete_after: float = INCOMPLETE_AFTER  # an incomplete one this long (then: truncated)


@dataclass
class _Look:
    stamp: Stamp
    since: float  # monotonic time this stamp was first seen
    checked: bool = False
    complete: bool | None = None  # computed once per stamp, after the settle time


class Watcher(FileHandling, StopSignals):
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
        self._seen: dict[str, _Look] = {}
        self._retry_at: dict[str, float] = {}
        self._attempts: dict[str, int] = {}
        self._check_folders()
        self.index = HashIndex(config.work / INDEX_NAME, config.index_limit)
        self.scrubber = make_scrubber()
        self._rules_stamp = self._stamp()
        self._next_sweep = 0.0
        self._init_signals()
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

    def run(self) -> int:
        cfg = self.config
        self.log.info("watch_started", folder=str(cfg.inbox), outbox=str(cfg.outbox),
                      interval_s=cfg.interval, settle_s=cfg.settle,
                      incomplete_after_s=cfg.incomplete_after, pid=os.getpid(), host=HOST,
                      codes=len(self.scrubber.rulebook.codes))
        self.sweep()
        while not self.stopping:
            self.reload_rules()
            busy = self.cycle()
            if not cfg.once and time.monotonic() >= self._next_sweep:
                self.sweep()
            if cfg.once and not busy and not self._waiting():
                break
            self._sleep(cfg.interval)
        if cfg.once and not self.stopping:
            self.sweep()  # the final sweep: temporary files of dead processes
        self._announce(self._signal or ("stopped" if self.stopping
                                        else "inbox empty (--once)"))
        self.log.info("watch_stopped", pid=os.getpid())
        self._restore_signals()
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

    def _ready(self, path: Path, look: _Look, now: float) -> bool:
        """Complete and settled; or incomplete and unchanged for ``incomplete_after`` (or
        settled, with ``--once``: the operator says the drop is finished)."""
        cfg = self.config
        age = now - look.since
        if age < cfg.settle:
            return False
        if not look.checked:
            look.complete, look.checked = complete(path), True
        if look.complete or look.complete is None:  # complete, or it cannot be opened
            return True
        if cfg.once or age >= cfg.incomplete_after:
            self.log.warning("file_incomplete", file=path.name, bytes=look.stamp[0],
                             age_s=round(age, 1))
            return True
        return False

    def cycle(self) -> bool:
        """Take every file that is ready; True when one was."""
        busy = False
        current: dict[str, _Look] = {}
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
            now = time.monotonic()
            look = self._seen.get(name)
            if look is None or look.stamp != stamp_of(st):
                # --once: a file already untouched for a while counts as settled (its mtime)
                age = max(0.0, time.time() - st.st_mtime) if self.config.once else 0.0
                current[name] = _Look(stamp_of(st), now - age)
                self.log.debug("file_waiting", file=name, bytes=st.st_size)
                continue
            current[name] = look
            if self._retry_at.get(name, 0) > now or not self._ready(path, look, now):
                continue
            claim = self.claim(path)
            if claim is not None:
                self._handle_safely(*claim, stamp=look.stamp)
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
        if recovered is not None:  # the token names the ticket: kept
            cn = ClaimName(name, cn.host, cn.pid, cn.claimed_at, recovered.token)
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

    def _handle_safely(self, claimed: Path, cn: ClaimName, previous: str | None,
                       stamp: Stamp | None = None) -> None:
        try:
            self.handle(claimed, cn, previous, stamp)
        except Exception as exc:  # noqa: BLE001 -- never crash: the input stays in work
            self.log.error("watch_error", file=cn.name, claimed_as=cn.file_name,
                           error_type=type(exc).__name__)

    def _delay(self, name: str) -> float:
        return min(MAX_BACKOFF, self.config.interval * 2.0 ** self._attempts.get(name, 1))

    def _backoff(self, name: str) -> None:
        self._attempts[name] = self._attempts.get(name, 0) + 1
        self._retry_at[name] = time.monotonic() + self._delay(name)

    # -- crash recovery ----------------------------------------------------------------------

    def sweep(self) -> None:
        """Remove temporary files of dead processes; recover files left in the work folder by
        a dead watcher on this host, by this process (a move that failed), or by another host
        longer than ``stale_after`` ago."""
        cfg = self.config
        self._next_sweep = time.monotonic() + cfg.sweep_every
        self._clean()
        for path in self._list(cfg.work):
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
            if claim_alive(cn.claim_id, cfg.stale_after):
                continue  # a live watcher here, or another host's recent claim
            claim = self.claim(path, recovered=cn)
            if claim is not None:
                self._handle_safely(*claim)
        self._clean()

    def _clean(self) -> None:
        cfg = self.config
        state = cfg.options.control.state_file
        removed = clean.sweep_temps(cfg.outbox, [cfg.work, cfg.error], self.index, state,
                                    self.tickets, cfg.stale_after)
        if removed:
            self.log.warning("temp_removed", files=removed, folder=str(cfg.outbox))

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
