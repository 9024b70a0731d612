"""The one module that imports pyx12: implementation-guide validation of 837s and 277CAs.

pyx12 is slow (~100 µs a segment) and raises on inputs it has no map for, on odd composites
and on non-ASCII bytes, so every call is wrapped: an exception becomes an :class:`IgResult`
with ``crashed`` set, never a traceback. The 005010X222A2 / 005010X223A3 errata carried by real
files have no pyx12 map; they are validated against the X222A1 / X223A2 maps with a note.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass

_ERRATA = {b"005010X222A2": b"005010X222A1", b"005010X223A3": b"005010X223A2"}
_PRE_ERRATA = {b"005010X222": b"005010X222A1", b"005010X223": b"005010X223A2"}


@dataclass(frozen=True, slots=True)
class IgIssue:
    segment: int  # ordinal in the file (pyx12 cur_line)
    seg_id: str
    path: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class IgResult:
    ok: bool
    issues: tuple[IgIssue, ...]
    ack: bytes  # the 999 pyx12 wrote (empty when it crashed)
    crashed: str | None
    note: str | None


def pyx12_version() -> str:
    import pyx12

    return str(pyx12.__version__)


def _issues(doc: object) -> list[IgIssue]:
    out: list[IgIssue] = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            seg_id = str(node.get("seg_id", node.get("id", "")))
            for err in node.get("errors", []) if isinstance(node.get("errors"), list) else []:
                if isinstance(err, dict):
                    out.append(IgIssue(
                        segment=int(err.get("cur_line") or node.get("cur_line") or 0),
                        seg_id=seg_id,
                        path=str(node.get("path", path)),
                        code=str(err.get("code", err.get("err_cde", ""))),
                        message=str(err.get("msg", err.get("err_str", err))),
                    ))
            for key, value in node.items():
                if key != "errors":
                    walk(value, path)
        elif isinstance(node, list):
            for value in node:
                walk(value, path)

    walk(doc, "")
    return out


def _validate(data: bytes, versions: tuple[bytes, ...]) -> IgResult:
    note = None
    for bad, good in _ERRATA.items():
        if bad in data:
            data = data.replace(b"*" + bad, b"*" + good).replace(b"|" + bad, b"|" + good)
            note = (f"validated GS08 {bad.decode()} against the {good.decode()} map "
                    "(pyx12 has no map for the errata version)")
    for bad, good in _PRE_ERRATA.items():  # a whole GS08/ST03 value, not a prefix of X222A1
        data, found = re.subn(rb"(?<=[^A-Za-z0-9])" + bad + rb"(?![A-Za-z0-9])", good, data)
        if found:
            note = (f"validated GS08 {bad.decode()} (pre-errata) against the {good.decode()} "
                    "map")
    try:
        data.decode("ascii")
    except UnicodeDecodeError as exc:
        return IgResult(False, (IgIssue(0, "", "", "non-ascii",
                                        f"byte {exc.start} is not ASCII; X12 uses the ASCII "
                                        "basic/extended character sets"),), b"", None, note)
    import pyx12.errors
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    params = pyx12.params.params()
    fd, path = tempfile.mkstemp(prefix=".scrub837-ig-", suffix=".x12")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        ack, errors = io.StringIO(), io.StringIO()
        try:
            ok = pyx12.x12n_document.x12n_document(params, path, ack, None, fd_json=errors)
        except pyx12.errors.EngineError as exc:
            message = str(exc)
            if "Map not found" in message:
                return IgResult(False, (IgIssue(0, "GS", "", "no-map",
                                                f"no implementation-guide map: {message}"),),
                                b"", None, note)
            return IgResult(False, (), b"", f"pyx12 raised EngineError: {message}", note)
        except Exception as exc:  # pyx12 raises IndexError etc. on odd input
            return IgResult(False, (), b"", f"pyx12 raised {type(exc).__name__}: {exc}", note)
        try:
            doc = json.loads(errors.getvalue() or "{}")
        except ValueError:
            doc = {}
        issues = tuple(_issues(doc))
        return IgResult(bool(ok) and not issues, issues, ack.getvalue().encode("ascii", "replace"),
                        None, note)
    finally:
        os.unlink(path)


def validate_837(data: bytes) -> IgResult:
    """Full 837P/837I implementation-guide validation (writes a 999 into ``ack``)."""
    return _validate(data, (b"005010X222A1", b"005010X223A2"))


def validate_277ca(data: bytes) -> IgResult:
    """Validate a 277CA (005010X214) with pyx12's own map."""
    return _validate(data, (b"005010X214",))
