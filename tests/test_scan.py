"""The scanning lexer and the reader built on it answer what the segment-by-segment lexer
answers: the same segments (ordinal, span, elements) in every claim, HL block, header and
line, whatever the chunking, line breaks, empty segments or delimiters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scrub837.api import iter_items
from scrub837.claims.model import Claim
from scrub837.claims.reader import _KEYS, ClaimReader, TransactionEnd
from scrub837.x12.lexer import Lexer, Scan, Segment, iter_segments_bytes, segments_of
from tests.x12text import CLAIM_P, envelope

SECOND = [s for s in CLAIM_P if not s.startswith("BHT")]
SECOND = ["BHT*0019*00*BATCH2*20260301*1200*CH", *SECOND[:-4], "CLM*CLAIM-2*75***11:B:1",
          "LX*1", "NTE*ADD*LX*NOT A SEGMENT", "SV1*HC:J1100*75*UN*10***1", "LX*2", "LX*3",
          "DTP*472*D8*20260216", "SV1*HC:J1100:JW*5*UN*1***1"]

LAZY = [True]  # the reader's mode for the tests below: both are run


@pytest.fixture(autouse=True, params=[True, False], ids=["lazy", "whole"])
def _mode(request: pytest.FixtureRequest) -> Iterator[None]:
    LAZY[0] = request.param
    yield
    LAZY[0] = True


TEXTS = {
    "plain": envelope(CLAIM_P),
    "no line breaks": envelope(CLAIM_P, sep=""),
    "crlf": envelope(CLAIM_P, sep="\r\n"),
    "two interchanges": envelope(CLAIM_P) + envelope(SECOND, control="000000002", elem="|",
                                                     comp=">", rep="{", term="!", sep="\r\n"),
    "empty segments": envelope(CLAIM_P).replace("~\nLX*2", "~\n~~ \n~LX*2").replace(
        "~\nHI*", "~~\nHI*"),
    "newline terminator": envelope(CLAIM_P, term="\n", sep="").replace("\n", "\r\n"),
    "spaces before segments": envelope(CLAIM_P, sep="\n  "),
}


def _lex(data: bytes, cuts: list[int]) -> list[Scan]:
    lexer = Lexer(keys=_KEYS)
    out: list[Scan] = []
    prev = 0
    for cut in sorted(set(c for c in cuts if 0 < c < len(data))) + [len(data)]:
        out.extend(lexer.scan(data[prev:cut]))
        prev = cut
    out.extend(lexer.close_scan())
    return out


def _rows(segs: "list[Segment] | tuple[Segment, ...]") -> list[tuple[object, ...]]:
    return [tuple(s[:4]) for s in segs]


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_scans_hold_every_segment_as_the_lexer_builds_it(name: str) -> None:
    data = TEXTS[name].encode("latin-1")
    whole = iter_segments_bytes(data)
    for cuts in ([], list(range(1, len(data))), [7, 300, 301, 900]):
        got: list[Segment] = []
        for scan in _lex(data, cuts):
            assert all(k.elements[0] in _KEYS for _, k in scan.keys)
            got.extend(segments_of(scan.text, scan.offset, scan.ordinal, scan.delims))
        assert _rows(got) == _rows(whole), cuts


def _expected(data: bytes) -> list[list[tuple[object, ...]]]:
    """Each claim's segments, cut from the whole lexer's segments as the reader cuts them."""
    claims: list[list[tuple[object, ...]]] = []
    current: list[Segment] | None = None
    for seg in iter_segments_bytes(data):
        if seg.id in ("HL", "CLM", "SE", "GE", "IEA", "ISA", "GS", "ST"):
            if current is not None:
                claims.append(_rows(current))
            current = [seg] if seg.id == "CLM" else None
        elif current is not None:
            current.append(seg)
    return claims


def _read(data: bytes, cuts: list[int]) -> list[Claim]:
    reader = ClaimReader("t.837", lazy=LAZY[0])
    items = []
    prev = 0
    for cut in sorted(set(c for c in cuts if 0 < c < len(data))) + [len(data)]:
        items.extend(reader.feed(data[prev:cut]))
        prev = cut
    items.extend(reader.close())
    assert any(isinstance(i, TransactionEnd) for i in items)
    return [i for i in items if isinstance(i, Claim)]


def _check_claims(data: bytes, claims: list[Claim]) -> None:
    assert [_rows(c.segments) for c in claims] == _expected(data)
    for c in claims:
        lines = [s for s in c.segments if s.id == "LX"]
        assert [ln.lx for ln in c.lines] == lines
        for line in c.lines:
            assert line.segments[0] is line.lx
        assert c.span == (c.segments[0].start, c.segments[-1].end)
        assert c.text == data[c.span[0] : len(c.text) + c.span[0]].decode("latin-1")


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_claims_hold_the_segments_the_lexer_builds(name: str) -> None:
    data = TEXTS[name].encode("latin-1")
    for cuts in ([], list(range(1, len(data), 3)), [50, 777]):
        claims = _read(data, cuts)
        assert claims
        _check_claims(data, claims)


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_a_lines_code_read_alone_is_the_code_read_with_the_line(name: str) -> None:
    data = TEXTS[name].encode("latin-1")
    quick = [[(ln.code, ln.modifiers, ln.is_institutional) for ln in c.lines]
             for c in _read(data, [])]
    full = []
    for c in _read(data, []):
        for ln in c.lines:
            assert ln.sv is None or ln.sv.id in ("SV1", "SV2")  # read the whole line first
        full.append([(ln.code, ln.modifiers, ln.is_institutional) for ln in c.lines])
    assert quick == full
    assert any(code for claim in quick for code, _, _ in claim)


def test_segments_outside_a_transaction_are_located_as_before() -> None:
    text = envelope(CLAIM_P).replace("GS*HC", "JUNK*1~\nMORE~\nGS*HC", 1)
    data = text.encode()
    reader = ClaimReader("t.837", lazy=LAZY[0])
    items = reader.feed(data) + reader.close()
    problems = [f for i in items if not isinstance(i, (Claim, TransactionEnd))
                for f in getattr(i, "findings", ())]
    whole = iter_segments_bytes(data)
    junk = [s for s in whole if s.id in ("JUNK", "MORE")]
    assert [(f.location.segment, f.location.span) for f in problems] == [
        (s.ordinal, (s.start, s.end)) for s in junk]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(TEXTS)),
       st.lists(st.integers(min_value=1, max_value=4000), max_size=12),
       st.lists(st.integers(min_value=0, max_value=10_000), max_size=4),
       st.sampled_from(["~", "~\n", "~ ~", "\n"]))
def test_any_chunking_and_empty_segments_read_alike(name: str, cuts: list[int],
                                                    where: list[int], junk: str) -> None:
    text = TEXTS[name]
    term = "!" if name == "two interchanges" else ("\n" if "newline" in name else "~")
    if term == "\n":
        junk = "\r\n"
    ends = [i + 1 for i, ch in enumerate(text) if ch == term][2:-1]  # after ISA and GS
    for w in sorted({ends[w % len(ends)] for w in where}, reverse=True):
        text = text[:w] + junk.replace("~", term) + text[w:]
    data = text.encode("latin-1")
    _check_claims(data, _read(data, cuts))


def test_claims_and_lines_pickle_read_or_not() -> None:
    import pickle

    data = TEXTS["plain"].encode()
    for read_first in (False, True):
        claim = _read(data, [])[0]
        if read_first:
            claim.lines[0].sv  # noqa: B018  (read one line, leave the other)
        again = pickle.loads(pickle.dumps(claim))
        assert _rows(again.segments) == _rows(claim.segments)
        assert [ln.code for ln in again.lines] == [ln.code for ln in claim.lines]
        slim = pickle.loads(pickle.dumps(claim.slim(frozenset({"1"}))))
        assert [ln.line_control for ln in slim.lines] == ["LINE1"]
        assert slim.span_dates == claim.date_range()


def _claim_values(claim: Claim) -> tuple[object, ...]:
    return (claim.segments, [ln.fields() for ln in claim.lines],
            [(ln.index, ln.proc, ln.is_institutional) for ln in claim.lines], claim.diagnoses,
            claim.prior_auth, claim.statement_dates)


def test_a_claim_read_whole_at_once_is_the_claim_read_a_line_at_a_time(
        tmp_path: Path) -> None:
    """The reader reads a claim with drug lines whole (its ``segments`` first: the text split
    once, its loops read in one pass); asked for its lines first, a claim reads a line at a
    time. Both must give the same claim, on every input the tests have."""
    from tests.every_input import every_input
    at_once = 0
    for name, data in every_input(tmp_path, claims=200):
        first = [c for c in iter_items(data, name, lazy=True) if isinstance(c, Claim)]
        by_line = [c for c in iter_items(data, name, lazy=True) if isinstance(c, Claim)]
        for whole, lines in zip(first, by_line, strict=True):
            regular = whole._regular and whole._head is not None
            whole.segments  # noqa: B018  (the claim read whole at once)
            lines.lines  # noqa: B018  (the lines first, then each line, then the rest)
            for ln in lines.lines:
                ln.segments  # noqa: B018
            assert _claim_values(whole) == _claim_values(lines), (name, whole.clm01)
            at_once += regular
    assert at_once > 1500
