"""SIGTERM/SIGINT for the watcher: ``watch_stopping`` at once, exit 0 however many come.

The Python handler only sets a flag (logging there could deadlock on the log's lock). The
C-level wakeup fd (``signal.set_wakeup_fd``) wakes a small thread that logs ``watch_stopping``
the moment the first signal arrives, while the main thread finishes the current file. After a
stop signal the handlers are set to ignore: more signals, before or after ``watch_stopped``, do
not change the exit code.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from types import FrameType

from structlog.typing import FilteringBoundLogger


class StopSignals:
    """Mixed into :class:`scrub837.watch.watcher.Watcher` (which sets ``log``)."""

    log: FilteringBoundLogger
    stopping: bool
    _signal: str

    def _init_signals(self) -> None:
        self._old_handlers: dict[int, object] = {}
        self._wakeup: tuple[socket.socket, socket.socket] | None = None
        self._old_wakeup = -1
        self._announced = False
        self._announce_lock = threading.Lock()

    def install_signals(self, previous: dict[int, object] | None = None,
                        early: list[int] | None = None) -> None:
        """SIGTERM/SIGINT stop the watcher. The handler only sets a flag; the C-level wakeup
        fd wakes a thread that logs ``watch_stopping`` at once (logging in a handler could
        deadlock on the log's lock). ``previous``: the handlers to restore (when a caller
        caught signals while the watcher was built); ``early``: signals caught meanwhile."""
        def stop(signum: int, _frame: FrameType | None) -> None:
            self.stopping = True
            self._signal = self._signal or signal.Signals(signum).name

        reader, writer = socket.socketpair()
        writer.setblocking(False)
        self._wakeup = (reader, writer)
        self._old_wakeup = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        for signum in (signal.SIGTERM, signal.SIGINT):
            old = signal.signal(signum, stop)
            self._old_handlers[signum] = (previous or {}).get(signum, old)
        threading.Thread(target=self._announcer, args=(reader,), daemon=True,
                         name="scrub837-watch-signals").start()
        if early:
            stop(early[0], None)
            self._announce(self._signal)

    def _announcer(self, reader: socket.socket) -> None:
        while True:
            try:
                data = reader.recv(1)
            except OSError:
                return
            if not data:
                return
            try:
                name = signal.Signals(data[0]).name
            except ValueError:
                continue
            self._announce(name)

    def _announce(self, reason: str) -> None:
        with self._announce_lock:
            if self._announced:
                return
            self._announced = True
        self.log.info("watch_stopping", reason=reason, pid=os.getpid())

    def _restore_signals(self) -> None:
        for signum, handler in self._old_handlers.items():
            # after a stop signal, more signals are ignored (exit 0 however many come);
            # otherwise (run() in-process, --once) the previous handlers come back
            signal.signal(signum, signal.SIG_IGN if self._signal else handler)  # type: ignore[arg-type]
        if self._wakeup is not None:
            signal.set_wakeup_fd(self._old_wakeup)
            for sock in self._wakeup:
                sock.close()
            self._wakeup = None



__all__ = ["StopSignals"]
