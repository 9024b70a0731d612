"""payers/*.toml: the default overlay and one overlay per payer (chosen by 2010BB payer id)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

from scrub837.findings import Severity
from scrub837.rulebook._errors import RulePackError
from scrub837.rulebook._model import CodeRule, EditDef, PayerOverlay
from scrub837.rulebook._tables import Table, code_of, severity_of

_POS = re.compile(r"[0-9]{2}")
_PAYER_ID = re.compile(r"[!-~]([ -~]{0,78}[!-~])?")  # NM109: 2-80 printable characters


def load_overlay(data: dict[str, object], file: str, edits: Mapping[str, EditDef],
                 codes: Mapping[str, CodeRule], *, default: bool = False) -> PayerOverlay:
    """One overlay file: a ``[payer]`` table. Codes it names must be in the pack; rule ids in
    ``[payer.severity]`` must be in edits.toml."""
    root = Table(data, file, "")
    t = root.table("payer", required=True)
    assert t is not None

    def known(table: Table, key: str, code: object) -> str:
        checked = code_of(table, key, code)
        if checked not in codes:
            raise table.fail(key, f"{checked} is not in the rule pack (rules/codes)")
        return checked

    payer_ids = t.strings("payer_ids", required=not default)
    if default and payer_ids:
        raise t.fail("payer_ids", "the default overlay applies to every other payer; leave "
                     "payer_ids = []")
    if not default and not payer_ids:
        raise t.fail("payer_ids", "needs at least one 2010BB payer id (NM1*PR NM109)")
    for pid in payer_ids:
        if not _PAYER_ID.fullmatch(pid):
            raise t.fail("payer_ids", f"{pid!r} is not a payer id (1-80 printable characters, "
                         "no leading or trailing space)")
    prior = frozenset(known(t, "prior_auth", c) for c in t.strings("prior_auth"))
    limits: dict[str, Decimal] = {}
    qt = t.table("quantity_limits")
    if qt is not None:
        for code in list(qt.data):
            known(qt, code, code)
            limit = qt.number(code, required=True, positive=True)
            assert limit is not None
            limits[code] = limit
        qt.done()
    pos: dict[str, frozenset[str]] = {}
    pt = t.table("pos_allowed")
    if pt is not None:
        for code in list(pt.data):
            known(pt, code, code)
            places = pt.strings(code, required=True)
            if not places or not all(_POS.fullmatch(p) for p in places):
                raise pt.fail(code, f"needs two-digit place-of-service codes, got {places!r}")
            pos[code] = frozenset(places)
        pt.done()
    severity: dict[str, Severity | None] = {}
    sv = t.table("severity")
    if sv is not None:
        for rule_id in list(sv.data):
            if rule_id not in edits:
                raise sv.fail(rule_id, "no such rule id in edits.toml")
            severity[rule_id] = severity_of(sv, rule_id, allow_off=True)
        sv.done()
    overlay = PayerOverlay(
        name=t.text("name", required=True),
        payer_ids=payer_ids,
        ndc_required=t.optional_flag("ndc_required"),
        prior_auth=prior,
        quantity_limits=limits,
        pos_allowed=pos,
        severity=severity,
        source=t.text("source", required=True),
        file=file,
        example=t.flag("example"),
    )
    t.done()
    root.done()
    return overlay


def index_overlays(overlays: list[PayerOverlay]) -> dict[str, PayerOverlay]:
    """payer id -> overlay; an id claimed by two overlays is an error naming both files."""
    out: dict[str, PayerOverlay] = {}
    for overlay in overlays:
        for pid in overlay.payer_ids:
            if pid in out:
                raise RulePackError(overlay.file, "payer.payer_ids",
                                    f"payer id {pid!r} is already used by {out[pid].file}")
            out[pid] = overlay
    return out
