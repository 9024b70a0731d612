"""Parsed rule-pack TOML files kept between runs, keyed by the SHA-256 of each file's bytes.

Parsing the shipped pack's ~40 TOML files is ~8 ms of every start-up (``tomllib`` is pure
Python); reading them back from one JSON file is ~2 ms. A file whose bytes changed has another
key, so an edit is always parsed afresh; a file that does not parse is never kept (its error is
raised as before). Values TOML has and JSON has not (dates, times) are tagged. The cache lives
beside the ICD-10-CM index (``$SCRUB837_CACHE``, default ``~/.cache/scrub837``); when it cannot
be read or written the files are simply parsed.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date, datetime, time
from pathlib import Path

FORMAT = 1
_TAG = "\x00scrub837"  # a key no rule file has (a file with it is not kept)
_KEEP = 400  # entries kept at most (beyond: only those this process used)
_state: dict[str, dict[str, object]] = {}  # "known": digest -> tagged, "used": digest -> tagged


def cache_file() -> Path:
    root = Path(os.environ.get("SCRUB837_CACHE") or Path.home() / ".cache" / "scrub837")
    return root / f"rulepack-toml-{FORMAT}.json"


def _known() -> dict[str, object]:
    known = _state.get("known")
    if known is None:
        try:
            raw = json.loads(cache_file().read_text(encoding="utf-8"))
            known = raw["files"] if raw.get("format") == FORMAT else {}
            if not isinstance(known, dict):
                known = {}
        except (OSError, ValueError, AttributeError, KeyError, TypeError):
            known = {}
        _state["known"], _state["used"], _state["added"] = known, {}, {}
    return known


def get(data: bytes) -> dict[str, object] | None:
    """The parsed content of a file with these bytes, when a run has parsed it before."""
    digest = hashlib.sha256(data).hexdigest()
    tagged = _known().get(digest)
    if tagged is None:
        return None
    try:
        value = _decode(tagged)
    except (TypeError, ValueError, KeyError):
        return None  # a damaged entry: parse the file
    if not isinstance(value, dict):
        return None
    _state["used"][digest] = tagged
    return value


def put(data: bytes, parsed: dict[str, object]) -> None:
    """Keep a successful parse for the next runs (written by :func:`save`)."""
    try:
        tagged = _encode(parsed)
    except _Uncacheable:
        return
    digest = hashlib.sha256(data).hexdigest()
    _known()[digest] = tagged
    _state["used"][digest] = tagged
    _state["added"][digest] = tagged


def save() -> None:
    """Write the cache when this process parsed a file it did not have."""
    if not _state.get("added"):
        return
    known = _known()
    files = known if len(known) <= _KEEP else dict(_state["used"])
    path = cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"format": FORMAT, "files": files}), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        return  # no writable cache: parsed again next time
    _state["added"] = {}


class _Uncacheable(Exception):
    pass


def _encode(value: object) -> object:
    if isinstance(value, dict):
        if _TAG in value:
            raise _Uncacheable
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, datetime):  # (before date: a datetime is a date)
        return {_TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {_TAG: "date", "v": value.isoformat()}
    if isinstance(value, time):
        return {_TAG: "time", "v": value.isoformat()}
    if isinstance(value, (str, bool, int, float)):
        return value
    raise _Uncacheable


def _decode(value: object) -> object:
    if isinstance(value, dict):
        kind = value.get(_TAG)
        if kind is None:
            return {k: _decode(v) for k, v in value.items()}
        text = value["v"]
        if kind == "datetime":
            return datetime.fromisoformat(text)
        if kind == "date":
            return date.fromisoformat(text)
        if kind == "time":
            return time.fromisoformat(text)
        raise ValueError(kind)
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value
