from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scrub837.x12.lexer import Lexer, X12SyntaxError, iter_segments_bytes
from tests.x12text import CLAIM_P, envelope, isa


def _lex_chunks(data: bytes, cuts: list[int]) -> list[tuple[object, ...]]:
    lexer = Lexer()
    out = []
    prev = 0
    for cut in sorted(set(c for c in cuts if 0 < c < len(data))) + [len(data)]:
        out.extend(lexer.feed(data[prev:cut]))
        prev = cut
    out.extend(lexer.close())
    return [tuple(s[:4]) for s in out]


SAMPLE = (envelope(CLAIM_P) + envelope(CLAIM_P, control="000000002", elem="|", comp=">",
                                       rep="{", term="!", sep="\r\n")).encode()


def test_segments_have_ordinals_spans_and_elements() -> None:
    segs = iter_segments_bytes(SAMPLE)
    assert [s.ordinal for s in segs] == list(range(1, len(segs) + 1))
    for s in segs:
        raw = SAMPLE[s.start : s.end].decode()
        assert raw[:-1] == s.text()
        assert raw[-1] in "~!"
    second_isa = [s for s in segs if s.id == "ISA"][1]
    assert second_isa.delims.element == "|" and second_isa.delims.segment == "!"
    sv1 = [s for s in segs if s.id == "SV1"][0]
    assert sv1.comp(1, 2) == "J9262" and sv1.comp(1, 3) == "JZ" and sv1.get(4) == "125"


def test_one_byte_at_a_time_equals_whole() -> None:
    whole = _lex_chunks(SAMPLE, [])
    lexer = Lexer()
    out = []
    for i in range(len(SAMPLE)):
        out.extend(lexer.feed(SAMPLE[i : i + 1]))
    out.extend(lexer.close())
    assert [tuple(s[:4]) for s in out] == whole


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(SAMPLE) - 1), max_size=40))
def test_any_chunking_gives_the_same_segments(cuts: list[int]) -> None:
    assert _lex_chunks(SAMPLE, cuts) == _lex_chunks(SAMPLE, [])


@pytest.mark.parametrize("sep", ["", "\n", "\r\n", "\r"])
def test_line_breaks_after_terminators_are_skipped(sep: str) -> None:
    segs = iter_segments_bytes(envelope(CLAIM_P, sep=sep).encode())
    assert [s.id for s in segs][:3] == ["ISA", "GS", "ST"]
    assert all("\n" not in s.text() and "\r" not in s.text() for s in segs)


def test_newline_as_segment_terminator_with_crlf() -> None:
    text = envelope(CLAIM_P, term="\n", sep="").replace("\n", "\r\n")
    segs = iter_segments_bytes(text.encode())
    assert segs[-1].id == "IEA" and segs[-1].get(2) == "000000001"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"hello world, this is not an X12 file at all" * 4, "does not start with an ISA"),
        ("\ufeffhello".encode("utf-16"), "UTF-16"),
        (isa()[:60].encode(), "ISA segment is incomplete"),
        (isa(comp="*").encode() + b"GS*HC~", "collide"),
        (envelope(CLAIM_P).encode()[:-30], "file ends inside a segment"),
    ],
)
def test_unreadable_inputs_raise_with_a_clear_message(data: bytes, message: str) -> None:
    with pytest.raises(X12SyntaxError) as err:
        iter_segments_bytes(data)
    assert message in str(err.value)


def test_segment_that_never_ends_is_bounded() -> None:
    lexer = Lexer(max_segment=10_000)
    lexer.feed(isa().encode() + b"GS*HC")
    with pytest.raises(X12SyntaxError, match="longer than"):
        for _ in range(100):
            lexer.feed(b"*" * 1000)


def test_bom_and_unpadded_isa_are_read_with_notices() -> None:
    text = envelope(CLAIM_P).replace("SUBMITTER      ", "SUBMITTER")
    lexer = Lexer()
    segs = lexer.feed(b"\xef\xbb\xbf" + text.encode()) + lexer.close()
    assert segs[0].id == "ISA" and segs[-1].id == "IEA"
    messages = [m for _, _, m in lexer.notices]
    assert any("byte-order mark" in m for m in messages)
    assert any("not 106" in m for m in messages)


@pytest.mark.parametrize("chunk", [1 << 12, 1 << 16, 1 << 20, 1 << 22])
def test_the_segment_size_bound_does_not_depend_on_chunking(chunk: int) -> None:
    data = (isa() + "GS*HC*S*R*20260301*1200*1*X*005010X222A1~" + "NTE" + "*X" * 600_000
            + "~").encode()
    lexer = Lexer()
    with pytest.raises(X12SyntaxError, match="longer than"):
        for i in range(0, len(data), chunk):
            lexer.feed(data[i : i + chunk])
        lexer.close()
