"""Structured logs (structlog): JSON lines when not on a terminal, readable on one.

No patient data may reach a log line: names, member ids, dates of birth, CLM01, claim or line
values, segment text and finding messages (which quote values) all stay out. An allow-list
processor enforces it: only the keys below pass; any other key is dropped and its *name* is
reported under ``dropped_keys`` so a careless call is visible without leaking its value.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

ALLOWED_KEYS = frozenset({
    "event", "level", "timestamp", "logger",
    "file", "claimed_as", "moved_to", "outputs", "folder",
    "claims", "accepted", "rejected", "warnings", "transactions", "exit_code", "duration_ms",
    "reason", "error_type", "errno", "segment", "retry_in_s", "files", "pid", "host",
    "interval_s", "rules", "codes", "rule_ids", "sha256", "dropped_keys", "attempt",
})


def _allow_list(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    dropped = sorted(k for k in event if k not in ALLOWED_KEYS)
    for key in dropped:
        del event[key]
    if dropped:
        event["dropped_keys"] = dropped
    return event


def configure_logging(level: str = "info", *, json: bool | None = None,
                      stream: TextIO | None = None) -> None:
    out = stream or sys.stderr
    if json is None:
        json = not out.isatty()
    renderer: Any = (structlog.processors.JSONRenderer() if json
                     else structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _allow_list,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            getattr(logging, level.upper(), logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )


def get_logger() -> Any:
    return structlog.get_logger("scrub837")
