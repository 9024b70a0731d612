"""A claim without drug lines is checked and split from its text (``Claim.plain_scan``,
``claims/_build.scan_plain``), never split into segments. What the scan says must be what the
segments say, on every claim of every input we have: the samples, the public corpus, the
hostile cases and generated 837P/837I files with each line-break style."""

from __future__ import annotations

from pathlib import Path

import pytest

from scrub837.api import iter_items
from scrub837.claims.model import Claim
from scrub837.edits import EditContext, Hit
from scrub837.edits.structure import charges_balance, dates, line_controls
from scrub837.claims._build import evenly_broken
from scrub837.outputs.split import _entry
from tests.conftest import SAMPLES
from tests.every_input import every_input


def _claims(data: bytes) -> list[tuple[Claim, Claim]]:
    """Each claim twice: read lazily (the scan's) and read whole (the segments')."""
    lazy = [c for c in iter_items(data, "x", lazy=True) if isinstance(c, Claim)]
    whole = [c for c in iter_items(data, "x") if isinstance(c, Claim)]
    assert len(lazy) == len(whole)
    return list(zip(lazy, whole))


def test_the_scan_says_what_the_segments_say(tmp_path: Path) -> None:
    scanned = 0
    for name, data in every_input(tmp_path):
        for lazy, whole in _claims(data):
            assert lazy.procedure_codes() == [ln.code for ln in whole.lines], name
            plain = lazy.plain_scan()
            if plain is None:  # irregular text (read segment by segment) or a white terminator
                continue
            scanned += 1
            segs = whole.segments
            sep = whole.clm.delims.element
            where = f"{name} {whole.clm01}"
            assert plain.dtps == [sep.join(s.elements) for s in segs if s.id == "DTP"], where
            assert plain.segment_count == len(segs), where
            assert (plain.last if plain.segment_count > 1 else whole.clm) == segs[-1], where
            if plain.charges is not None:
                assert plain.charges == [ln.charge for ln in whole.lines], where
            if len(segs) > 1:
                assert plain.gap == segs[1].start - segs[0].end, where
            assert plain.dates == [ln.dtp_472.get(3) if ln.dtp_472 else None
                                   for ln in whole.lines], where
            assert {ln.line_control for ln in whole.lines if ln.line_control} <= set(
                plain.controls), where
            assert lazy.date_range() == whole.date_range(), where
            assert lazy.slim().segments == whole.slim().segments, where
    assert scanned > 3000


def _hits(hits: list[Hit]) -> list[tuple[object, ...]]:
    return [(h.rule_id, h.line.index if h.line else None, h.segment, h.element, dict(h.values))
            for h in hits]


def test_the_checks_from_the_text_find_what_the_segments_find(tmp_path: Path) -> None:
    """dates, charges_balance and line_controls on a claim without drug lines: the same hits
    from the text as from the segments (inputs with each kind of hit included)."""
    from scrub837.rulebook import load_rulebook

    rb = load_rulebook()
    compared = 0
    for name, data in every_input(tmp_path):
        for lazy, whole in _claims(data):
            ctx = EditContext(rb, rb.overlay_for(whole.payer_id), whole.kind or "P", (),
                              __import__("datetime").date(2026, 6, 1))
            for edit in (dates, charges_balance, line_controls):
                assert _hits(edit(lazy, ctx)) == _hits(edit(whole, ctx)), (
                    f"{name} {whole.clm01} {edit}")
            compared += 1
    assert compared > 3000


@pytest.mark.parametrize("brk", ["\n", "\r\n", ""])
def test_the_split_writes_a_claim_from_its_text_as_from_its_segments(brk: str) -> None:
    from scrub837.outputs.split import _Body

    text = SAMPLES.joinpath("837p_drug_lines.837").read_bytes() if SAMPLES.joinpath(
        "837p_drug_lines.837").exists() else None
    if text is None:
        text = next(p for p in sorted(SAMPLES.iterdir()) if p.suffix == ".837").read_bytes()
    data = text.replace(b"~\r\n", b"~").replace(b"~\n", b"~").replace(b"~", b"~" + brk.encode())
    bodies = 0
    for lazy, whole in _claims(data):
        end = lazy.clm.delims.segment + brk
        body = _entry(lazy, ([None, None], [None, None], [None, None])).body
        assert body == _Body.of(whole.segments, end)
        bodies += evenly_broken(lazy.text, end[0], brk, body.n)  # written from its text
    assert bodies
