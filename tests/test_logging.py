"""Structured logs: JSON off a terminal, text on one, and no patient data whatever the caller
passes."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from scrub837.claims.model import Claim
from scrub837.logging import ALLOWED_KEYS, EVENTS, configure_logging, get_logger


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    yield
    configure_logging("warning", json=True, stream=io.StringIO())


def test_json_lines_off_a_terminal_and_text_on_one() -> None:
    out = io.StringIO()
    configure_logging("info", stream=out)
    get_logger().info("file_archived", file="a.837", moved_to="/srv/archive/a.837")
    [event] = lines(out)
    assert event["event"] == "file_archived" and event["level"] == "info"
    assert event["file"] == "a.837" and "timestamp" in event
    tty = _Tty()
    configure_logging("info", stream=tty)
    get_logger().info("file_archived", file="a.837")
    text = tty.getvalue()
    assert "file_archived" in text and "a.837" in text and not text.startswith("{")
    forced = _Tty()
    configure_logging("info", json=True, stream=forced)
    get_logger().info("watch_started", pid=1)
    assert lines(forced)[0]["pid"] == 1


def test_levels_filter() -> None:
    out = io.StringIO()
    configure_logging("warning", json=True, stream=out)
    get_logger().info("file_claimed", file="a")
    get_logger().debug("file_waiting", file="a")
    get_logger().error("watch_error", error_type="X")
    assert [e["event"] for e in lines(out)] == ["watch_error"]


def test_a_careless_call_cannot_leak_patient_data() -> None:
    out = io.StringIO()
    configure_logging("debug", json=True, stream=out)
    log = get_logger()
    log.info("file_processed", file="a.837", claims=3, clm01="ZZMARKERCLM",
             member_id="ZZMARKERID99", patient={"last": "ZZMARKERLAST"}, dob="19010101")
    log.info("claim ZZMARKERCLM rejected for ZZMARKERLAST")  # an f-string as the event
    log.warning("file_errored", file="b.837", reason=Claim.__new__(Claim))  # an object
    try:
        raise ValueError("bad value ZZMARKERID99")
    except ValueError:
        log.exception("watch_error", error_type="ValueError")
    log.info("file_processed", outputs=["a.277", {"clm01": "ZZMARKERCLM"}])
    text = out.getvalue()
    for marker in ("ZZMARKERCLM", "ZZMARKERID99", "ZZMARKERLAST", "19010101", "Traceback"):
        assert marker not in text, marker
    first, second, third, fourth, fifth = lines(out)
    assert first["claims"] == 3
    assert first["dropped_keys"] == ["clm01", "dob", "member_id", "patient"]
    assert second["event"] == "unlisted_event"
    assert third["reason"] == "<Claim>"
    assert fourth["event"] == "watch_error" and fourth["dropped_keys"] == ["exc_info"]
    assert fifth["outputs"] == "<list>"


def test_long_text_is_cut() -> None:
    out = io.StringIO()
    configure_logging("info", json=True, stream=out)
    get_logger().error("rules_reload_failed", reason="x" * 5000)
    assert len(lines(out)[0]["reason"]) < 400  # type: ignore[arg-type]


def test_library_records_keep_their_name_not_their_message() -> None:
    out = io.StringIO()
    configure_logging("info", json=True, stream=out)
    logging.getLogger("somelib.parser").warning("segment NM1*IL*1*ZZMARKERLAST rejected")
    [event] = lines(out)
    assert event["event"] == "library_log" and event["library_logger"] == "somelib.parser"
    assert "ZZMARKERLAST" not in out.getvalue()
    configure_logging("info", json=True, stream=out)  # configuring twice adds no second handler
    logging.getLogger("x").error("again")
    assert out.getvalue().count('"event": "library_log"') == 2


def test_every_event_the_watcher_logs_is_registered() -> None:
    import re
    from pathlib import Path

    from scrub837.watch import watcher as watch

    here = Path(watch.__file__).parent  # the watcher and its private modules
    source = "".join(p.read_text() for p in here.glob("*.py"))
    used = set(re.findall(r'\.(?:debug|info|warning|error)\(\s*"([a-z_]+)"', source))
    assert used and used <= EVENTS, used - EVENTS
    keys = set(re.findall(r"\b([a-z_]+)=", source))
    logged = {k for k in keys if k in ALLOWED_KEYS}
    assert {"file", "claims", "accepted", "rejected", "warnings", "duration_ms",
            "exit_code", "outputs"} <= logged
