"""Structured logs (structlog): JSON lines when not on a terminal, readable text on one.

No patient data may reach a log line, at any level: no names, member ids, dates of birth,
CLM01, claim or line values, segment text, finding messages (they quote values) or exception
messages (they can too). A processor enforces it, so a careless call cannot leak:

* the event name must be one of :data:`EVENTS`, else it becomes ``unlisted_event``;
* only the keys in :data:`ALLOWED_KEYS` pass; any other key is dropped and its *name* is listed
  under ``dropped_keys`` (so the careless call is visible without its value);
* values must be numbers, booleans, short strings or lists of those; anything else (a claim,
  a finding, an exception) is replaced by its type name; strings are cut at 300 characters;
* exception tracebacks (``exc_info``) are dropped: log ``error_type`` instead.

Records of the standard ``logging`` module (third-party libraries) are passed on as a
``library_log`` event carrying the logger name and level, never the message.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from structlog.typing import FilteringBoundLogger

EVENTS = frozenset({
    "watch_started", "watch_stopping", "watch_stopped", "watch_error",
    "file_waiting", "file_vanished", "file_claimed", "claim_failed", "file_processed",
    "file_archived", "file_errored", "file_duplicate", "file_recovered", "file_retry_later",
    "move_failed", "index_failed", "temp_removed", "file_incomplete", "file_changed",
    "file_answered_before", "file_progress",
    "rules_reloaded", "rules_reload_failed",
    "library_log", "unlisted_event",
})

ALLOWED_KEYS = frozenset({
    "event", "level", "timestamp", "logger",
    # file names and folders are chosen by the operator and the submitter (never patient data:
    # the submitter convention in docs/watcher.md says so)
    "file", "claimed_as", "moved_to", "outputs", "folder", "outbox", "stem", "first_stem",
    # counts and measures
    "claims", "accepted", "rejected", "warnings", "transactions", "exit_code", "duration_ms",
    "bytes", "total_bytes", "codes", "edits", "files", "attempt", "retry_in_s", "interval_s",
    # what happened, as codes
    "reason", "error_type", "errno", "errno_name", "signal", "pid", "host", "claimed_by",
    "sha256", "rules", "library_logger", "library_level", "dropped_keys", "age_s",
    "settle_s", "incomplete_after_s",
})
_MAX_TEXT = 300
_Scalar = (str, int, float, bool, type(None))


def _clean(value: object) -> object:
    if isinstance(value, str):
        return value if len(value) <= _MAX_TEXT else value[:_MAX_TEXT] + "..."
    if isinstance(value, _Scalar):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, _Scalar) for v in value):
        return [_clean(v) for v in value[:50]]
    return f"<{type(value).__name__}>"


def enforce_allow_list(_: object, __: str,
                       event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The structlog processor that keeps patient data out of every log line."""
    name = event.get("event")
    if name not in EVENTS:
        event["event"] = "unlisted_event"
    dropped = sorted(k for k in event if k not in ALLOWED_KEYS)
    for key in dropped:
        del event[key]
    for key, value in event.items():
        event[key] = _clean(value)
    if dropped:
        event["dropped_keys"] = [k if k.isidentifier() and len(k) < 40 else "<key>"
                                 for k in dropped]
    return event


class _LibraryHandler(logging.Handler):
    """Standard-library log records become ``library_log`` events, without their message."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            structlog.get_logger("scrub837").warning(
                "library_log", library_logger=record.name, library_level=record.levelname)
        except Exception:  # noqa: BLE001 -- a log line must never break the watcher
            self.handleError(record)


def configure_logging(level: str = "info", *, json: bool | None = None,
                      stream: TextIO | None = None) -> None:
    """JSON lines (``json=True``, or by default when ``stream`` is not a terminal) or readable
    text, at ``level`` (debug, info, warning, error), on ``stream`` (default standard error)."""
    out = stream or sys.stderr
    if json is None:
        json = not (hasattr(out, "isatty") and out.isatty())
    renderer: Any = (structlog.processors.JSONRenderer(sort_keys=False) if json
                     else structlog.dev.ConsoleRenderer(colors=False))
    numeric = getattr(logging, level.upper(), logging.INFO)
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            enforce_allow_list,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _LibraryHandler)]:
        root.removeHandler(handler)
    handler = _LibraryHandler(level=max(numeric, logging.WARNING))
    root.addHandler(handler)


def get_logger() -> FilteringBoundLogger:
    logger: FilteringBoundLogger = structlog.get_logger("scrub837")
    return logger
