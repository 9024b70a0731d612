"""One claimed input, from the work folder to exactly one answer in the outbox (docs/watcher.md).

The steps, each safe to repeat after a crash at any point:

1. hash the input; under the index lock decide duplicate-or-not and the output stem (free in
   the outbox, archive, ``archive/duplicates`` and error folders, and among in-flight tickets)
   and write the ticket (:mod:`scrub837.watch._ticket`);
2. a duplicate is answered by ``STEM.duplicate.json`` then ``STEM.done``, and archived in
   ``archive/duplicates/STEM``;
3. otherwise the pipeline writes the outputs (control numbers and creation time from the
   ticket), then the input is checked unchanged since pickup, then ``STEM.done`` is written;
4. the input moves to ``archive/STEM`` (or ``error/STEM``), the index gets its "done" line and
   the ticket is removed.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from structlog.typing import FilteringBoundLogger

from scrub837.watch._fs import (
    ClaimName,
    claim_alive,
    errno_name,
    move_noclobber,
    read_note,
    sha256_file,
    write_atomic,
)
from scrub837.watch._index import Begin, HashIndex
from scrub837.watch._ready import complete
from scrub837.watch._ticket import (
    DONE,
    DUPLICATE,
    TICKET_PREFIX,
    ReplayedNumbers,
    Ticket,
    new_now,
    read_done,
    write_done,
    write_duplicate,
)
from scrub837.run.pipeline import SUFFIXES, FileOutcome, OutputOptions
from scrub837.scrubber import Scrubber

if TYPE_CHECKING:
    from scrub837.watch.watcher import WatchConfig

DUPLICATES = "duplicates"
#: a file of at least this many bytes logs ``file_progress`` events while it is scrubbed,
#: one every PROGRESS_EVERY_S seconds and one at the end (the CLI's bar starts at 4 MB too)
PROGRESS_MIN_BYTES = 4 << 20
PROGRESS_EVERY_S = 10.0


def progress_events(log: FilteringBoundLogger, name: str,
                    total: int) -> Callable[[int, int], None]:
    """An ``OutputOptions.progress`` callback that logs counts only (bytes, claims)."""
    last = time.monotonic()

    def report(done: int, claims: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY_S or done >= total:
            last = now
            log.info("file_progress", file=name, bytes=done, total_bytes=total, claims=claims)

    return report
Stamp = tuple[int, int, int]  # size, mtime_ns, inode
Processor = Callable[[BinaryIO, str, Scrubber, Path, OutputOptions], FileOutcome]


def stamp_of(st: os.stat_result) -> Stamp:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


class FileHandling:
    """The per-file half of :class:`scrub837.watch.watcher.Watcher` (which sets these attributes)."""

    config: WatchConfig
    index: HashIndex
    scrubber: Scrubber
    process: Processor
    log: FilteringBoundLogger
    _attempts: dict[str, int]

    def _backoff(self, name: str) -> None:  # pragma: no cover - defined by the Watcher
        raise NotImplementedError

    def _delay(self, name: str) -> float:  # pragma: no cover - defined by the Watcher
        raise NotImplementedError

    # -- names --------------------------------------------------------------------------------

    def tickets(self) -> list[Ticket]:
        out = []
        try:
            listing = list(self.config.work.iterdir())
        except OSError:
            return []
        for path in listing:
            if path.name.startswith(TICKET_PREFIX) and path.name.endswith(".json"):
                ticket = Ticket.load(path)
                if ticket is not None:
                    out.append(ticket)
        return out

    def stem_taken(self, stem: str) -> bool:
        cfg = self.config
        names = [cfg.outbox / f"{stem}{s}" for s in (*SUFFIXES, DONE, DUPLICATE)]
        names += [cfg.archive / stem, cfg.archive / DUPLICATES / stem, cfg.error / stem]
        if any(os.path.lexists(p) for p in names):
            return True
        return any(t.stem == stem for t in self.tickets())

    def free_stem(self, name: str) -> str:
        n = 0
        while self.stem_taken(stem := name if n == 0 else f"{name}.{n}"):
            n += 1
        return stem

    def pending(self, claim_id: str) -> bool:
        """May this claim still be answered: its watcher is alive, or its file is still in
        the work folder (a sweep will recover it under the same token)?"""
        if claim_alive(claim_id, self.config.stale_after):
            return True
        token = claim_id.rsplit(".", 1)[-1]
        return Ticket.path_for(self.config.work, token).exists() or any(
            p.name.endswith(f".{token}") for p in self._work_files())

    def _work_files(self) -> list[Path]:
        try:
            return [p for p in self.config.work.iterdir() if not p.name.startswith(".")]
        except OSError:
            return []

    def answered(self, stem: str, digest: str) -> bool:
        done = read_done(self.config.outbox, stem)
        return (done is not None and done.get("sha256") == digest) or \
            os.path.lexists(self.config.archive / stem)

    # -- the steps ----------------------------------------------------------------------------

    def handle(self, claimed: Path, cn: ClaimName, previous: str | None = None,
               stamp: Stamp | None = None) -> None:
        cfg, name = self.config, cn.name
        started = time.monotonic()
        ticket_path = Ticket.path_for(cfg.work, cn.token)
        try:
            digest = sha256_file(claimed)
        except OSError as exc:
            stem = self.free_stem(name)
            self._to_error(claimed, name, stem, "cannot_read",
                           f"file: {name}\nproblem: the watcher cannot read the file "
                           f"({exc.strerror or errno_name(exc)}); fix its permissions and "
                           "move it back into the inbox\n", answer=True)
            ticket_path.unlink(missing_ok=True)
            return
        ticket = Ticket.load(ticket_path) if previous else None
        if ticket is not None and ticket.sha256 != digest:
            ticket.remove()  # changed after its claim: decided again
            ticket = None
        try:
            if ticket is None:
                ticket = self._new_ticket(ticket_path, digest, cn, previous)
            elif ticket.duplicate_of is None:
                self.index.claim(digest, cn.claim_id, ticket.stem)
        except OSError as exc:
            self._give_back(claimed, name, exc)
            ticket_path.unlink(missing_ok=True)
            return
        if ticket.duplicate_of is not None:
            self._answer_duplicate(claimed, ticket)
            return
        if stamp is not None and self._changed(claimed, stamp):
            self._changed_back(claimed, ticket, cn, [])
            return
        done = read_done(cfg.outbox, ticket.stem)
        answered = done is not None and done.get("sha256") == digest
        if previous is not None and not answered:
            # recovered: an upload that is still incomplete (a writer may still be at it) is
            # not answered now; it goes back to the inbox and waits like any other file
            if complete(claimed) is False and not cfg.once:
                partial = [cfg.outbox / f"{ticket.stem}{s}" for s in SUFFIXES]
                self._changed_back(claimed, ticket, cn, partial)
                return
            stamp = stamp_of(claimed.stat())
        if done is not None and answered:
            raw = done.get("outputs")
            unreadable = isinstance(raw, list) and f"{ticket.stem}.error.txt" in raw
            self.log.info("file_answered_before", file=name, stem=ticket.stem)
            self._finish(claimed, ticket, cn, unreadable)
            return
        outcome = self._scrub(claimed, ticket, cn, recovered=previous is not None)
        if outcome is None:
            return
        written = [p.name for p in outcome.outputs]
        if stamp is not None and self._changed(claimed, stamp):
            self._changed_back(claimed, ticket, cn, list(outcome.outputs))
            return
        try:
            write_done(cfg.outbox, ticket.stem, name, digest, written, cfg.options.mode)
        except OSError as exc:  # outputs without a marker are no answer: taken back, retried
            for path in outcome.outputs:
                path.unlink(missing_ok=True)
            self._give_back(claimed, name, exc)
            self._index(self.index.release, digest, cn)
            ticket.remove()
            return
        self._finish(claimed, ticket, cn, outcome.summary.unreadable)
        summary = outcome.summary
        self.log.info("file_processed", file=name, stem=ticket.stem, claims=summary.claims,
                      accepted=summary.accepted, rejected=summary.rejected,
                      warnings=summary.warnings, transactions=summary.transactions,
                      exit_code=outcome.exit_code,
                      duration_ms=round((time.monotonic() - started) * 1000, 1),
                      outputs=written + [f"{ticket.stem}{DONE}"])

    def _new_ticket(self, path: Path, digest: str, cn: ClaimName,
                    previous: str | None) -> Ticket:
        """Decide (under the index lock) and write the ticket. The index unusable: decided
        without it, names still free. The ticket cannot be written (a full work folder): the
        OSError goes up and the input back to the inbox."""
        made: list[Ticket] = []
        saving: list[bool] = []

        def chosen(begin: Begin) -> None:
            ticket = Ticket(path, cn.name, digest, begin.stem, new_now(), begin.duplicate_of)
            saving.append(True)
            ticket.save()
            made.append(ticket)

        try:
            self.index.begin(digest, cn.claim_id, cn.name, previous=previous,
                             stem_taken=self.stem_taken, alive=self.pending,
                             answered=lambda stem: self.answered(stem, digest), chosen=chosen)
        except OSError as exc:
            if saving and not made:
                raise
            self.log.error("index_failed", errno=exc.errno, errno_name=errno_name(exc))
            if not made:
                chosen(Begin(False, self.free_stem(cn.name)))
        return made[0]

    def _scrub(self, claimed: Path, ticket: Ticket, cn: ClaimName,
               recovered: bool) -> FileOutcome | None:
        cfg = self.config
        options = dataclasses.replace(cfg.options, now=ticket.created,
                                      control=ReplayedNumbers(cfg.options.control, ticket))
        try:
            with open(claimed, "rb") as source:
                size = os.fstat(source.fileno()).st_size
                if size >= PROGRESS_MIN_BYTES:
                    options = dataclasses.replace(
                        options, progress=progress_events(self.log, cn.name, size))
                outcome = self.process(source, ticket.stem, self.scrubber, cfg.outbox, options)
        except OSError as exc:  # no output was written (the pipeline is all-or-nothing)
            self._give_back(claimed, cn.name, exc)
            self._index(self.index.release, ticket.sha256, cn)
            ticket.remove()
            return None
        except Exception as exc:  # noqa: BLE001 -- a bug in an edit or plugin: keep the input
            self._to_error(claimed, cn.name, ticket.stem, "internal_error",
                           f"file: {cn.name}\nproblem: internal error while scrubbing "
                           f"({type(exc).__name__}); the input is kept here for investigation; "
                           "move it back into the inbox to try again\n", type(exc).__name__,
                           answer=True, digest=ticket.sha256)
            self._index(self.index.release, ticket.sha256, cn)
            ticket.remove()
            return None
        if recovered:  # a partial set from before the crash, not part of this answer
            kept = {p.name for p in outcome.outputs}
            for suffix in SUFFIXES:
                if f"{ticket.stem}{suffix}" not in kept:
                    (cfg.outbox / f"{ticket.stem}{suffix}").unlink(missing_ok=True)
        return outcome

    def _finish(self, claimed: Path, ticket: Ticket, cn: ClaimName, unreadable: bool) -> None:
        cfg, name = self.config, ticket.name
        if unreadable:
            note = cfg.outbox / f"{ticket.stem}.error.txt"
            self._to_error(claimed, name, ticket.stem, "unreadable_x12", read_note(note, name))
        else:
            target = move_noclobber(claimed, cfg.archive, ticket.stem)
            self.log.info("file_archived", file=name, moved_to=str(target))
        self._index(self.index.done, ticket.sha256, cn)
        ticket.remove()
        self._attempts.pop(name, None)

    def _answer_duplicate(self, claimed: Path, ticket: Ticket) -> None:
        cfg, first = self.config, ticket.duplicate_of or ""
        try:
            note = write_duplicate(cfg.outbox, ticket.stem, ticket.name, ticket.sha256, first,
                                   cfg.options.mode)
            write_done(cfg.outbox, ticket.stem, ticket.name, ticket.sha256, [note.name],
                       cfg.options.mode, duplicate_of=first)
        except OSError as exc:
            self._give_back(claimed, ticket.name, exc)
            ticket.remove()
            return
        target = move_noclobber(claimed, cfg.archive / DUPLICATES, ticket.stem)
        ticket.remove()
        self.log.warning("file_duplicate", file=ticket.name, moved_to=str(target),
                         sha256=ticket.sha256, first_stem=first, stem=ticket.stem)

    # -- changes after pickup, retries, errors ------------------------------------------------

    @staticmethod
    def _changed(claimed: Path, stamp: Stamp) -> bool:
        try:
            return stamp_of(claimed.stat()) != stamp
        except OSError:
            return True

    def _changed_back(self, claimed: Path, ticket: Ticket, cn: ClaimName,
                      outputs: list[Path]) -> None:
        """The upload was still being written: its outputs are taken back (no done marker was
        written) and it goes back to the inbox under its name, to be picked up when complete."""
        for path in outputs:
            path.unlink(missing_ok=True)
        target = move_noclobber(claimed, self.config.inbox, ticket.name)
        self._index(self.index.release, ticket.sha256, cn)
        ticket.remove()
        self.log.warning("file_changed", file=ticket.name, moved_to=str(target))

    def _index(self, step: Callable[[str, str], None], digest: str, cn: ClaimName) -> None:
        try:
            step(digest, cn.claim_id)
        except OSError as exc:
            self.log.error("index_failed", errno=exc.errno, errno_name=errno_name(exc))

    def _give_back(self, claimed: Path, name: str, exc: OSError) -> None:
        """Outputs could not be written (disk full, permissions): back to the inbox, retried
        after a back-off. The inbox name may get a suffix if a new file took the name."""
        target = move_noclobber(claimed, self.config.inbox, name)
        self._backoff(target.name)
        self.log.error("file_retry_later", file=name, moved_to=str(target), errno=exc.errno,
                       errno_name=errno_name(exc), attempt=self._attempts[target.name],
                       retry_in_s=self._delay(target.name))

    def _to_error(self, claimed: Path, name: str, stem: str, reason: str, why: str,
                  error_type: str | None = None, *, answer: bool = False,
                  digest: str = "") -> None:
        """The input to ``error/STEM`` beside ``STEM.error.txt``; with ``answer`` the note is
        also the upload's answer in the outbox (with its done marker)."""
        cfg = self.config
        if answer:
            try:
                write_atomic(cfg.outbox / f"{stem}.error.txt", why, cfg.options.mode)
                write_done(cfg.outbox, stem, name, digest, [f"{stem}.error.txt"],
                           cfg.options.mode)
            except OSError as exc:
                self.log.error("move_failed", file=name, errno=exc.errno,
                               errno_name=errno_name(exc))
        target = move_noclobber(claimed, cfg.error, stem)
        try:
            write_atomic(cfg.error / f"{target.name}.error.txt", why, cfg.options.mode)
        except OSError as exc:  # the input is safe in the error folder; only the note is lost
            self.log.error("move_failed", file=name, errno=exc.errno, errno_name=errno_name(exc))
        extra = {"error_type": error_type} if error_type else {}
        self.log.warning("file_errored", file=name, moved_to=str(target), reason=reason, **extra)


