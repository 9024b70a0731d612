"""The accepted/rejected 837 split beyond tests/test_outputs.py: line-break styles, original
envelopes only where they carry claims, HL renumbering, and a property test that also runs
pyx12 on both halves."""

from __future__ import annotations

import io
from functools import lru_cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scrub837.api import read_claims
from scrub837.findings import Finding, Location, Severity
from scrub837.outputs.split import SplitWriter
from scrub837.verdicts.results import ClaimResult, TransactionResult
from scrub837.scrubber import Scrubber
from scrub837.x12.lexer import Segment, iter_segments_bytes
from scrub837.x12.pyx12_adapter import validate_837
from tests.conftest import SAMPLES

REJECT = (Finding("TEST", Severity.REJECT, "test", Location()),)


@lru_cache(maxsize=1)
def scrubber() -> Scrubber:
    return Scrubber()


@lru_cache(maxsize=16)
def results(data: bytes) -> tuple[TransactionResult, ...]:
    return tuple(t for t in scrubber().results(data, "x.837") if isinstance(t, TransactionResult))


def split(data: bytes, reject: set[int]) -> tuple[bytes, bytes]:
    """Split ``data`` with the claims whose index (in file order) is in ``reject`` rejected."""
    acc, rej = io.BytesIO(), io.BytesIO()
    writer = SplitWriter(acc, rej)
    index = 0
    for t in results(data):
        claims = []
        for c in t.claims:
            claims.append(ClaimResult(c.claim, REJECT if index in reject else ()))
            index += 1
        writer.add(TransactionResult(t.envelope, t.header, t.se, tuple(claims), (), t.supported))
    writer.close()
    return acc.getvalue(), rej.getvalue()


def claim_texts(data: bytes) -> list[tuple[str, ...]]:
    """Each claim's segments as text (CLM to its last segment)."""
    return [tuple(s.text() for s in c.segments) for c in read_claims(data)] if data else []


def segs(data: bytes) -> list[Segment]:
    return list(iter_segments_bytes(data))


def crlf(data: bytes) -> bytes:
    return data.replace(b"~\n", b"~\r\n")


def test_line_break_style_follows_the_input() -> None:
    lf = (SAMPLES / "837p_clean.837").read_bytes()
    for data, brk in ((lf, b"~\n"), (crlf(lf), b"~\r\n"),
                      ((SAMPLES / "837p_delims.837").read_bytes(), None)):
        acc, rej = split(data, {0, 2})
        for part in (acc, rej):
            assert part
            if brk is None:
                assert b"\n" not in part
            else:
                assert part.count(brk) == part.count(brk[:1]) == len(segs(part))
                assert part.endswith(brk)
        assert claim_texts(acc) + claim_texts(rej) != []
    acc, rej = split(crlf(lf), {1})
    assert validate_837(acc).ok and validate_837(rej).ok


def test_mixed_line_breaks_in_one_transaction_take_the_first_claims_style() -> None:
    """Claims are kept as joined text with their own line break; a half takes the style of its
    first claim and re-joins the others exactly (no segment lost, merged or split)."""
    lf = (SAMPLES / "837p_clean.837").read_text("latin-1")
    second = lf.index("CLM*", lf.index("CLM*") + 1)
    for brk in (b"", b"\r\n"):
        data = (lf[:second] + lf[second:].replace("~\n", "~" + brk.decode())).encode("latin-1")
        texts = claim_texts(data)
        assert len(texts) >= 3
        for reject, acc_brk, rej_brk in ((set(), b"\n", None), ({0}, brk, b"\n"),
                                         ({1}, b"\n", brk)):
            acc, rej = split(data, reject)
            assert claim_texts(acc) == [t for i, t in enumerate(texts) if i not in reject]
            assert claim_texts(rej) == [t for i, t in enumerate(texts) if i in reject]
            for part, style in ((acc, acc_brk), (rej, rej_brk)):
                if style is None:
                    assert part == b""
                    continue
                end = b"~" + style
                assert part.count(end) == part.count(b"~") == len(segs(part))
                assert part.endswith(end)
                assert part.count(b"\n") == (part.count(end) if style else 0)
                assert part.count(b"\r") == (part.count(end) if style == b"\r\n" else 0)
                assert validate_837(part).ok


def test_envelopes_only_where_they_carry_claims_with_original_control_numbers() -> None:
    data = (SAMPLES / "837p_multi_isa.837").read_bytes()
    everything = results(data)
    per_st = [(t.envelope.isa13, t.envelope.gs06, t.envelope.st02, len(t.claims))
              for t in everything]
    last = sum(n for *_, n in per_st[:-1])  # the claims of the last transaction (second ISA)
    rejected = set(range(last, last + per_st[-1][3]))
    acc, rej = split(data, rejected)
    ids = [(s.id, s.get(13) if s.id == "ISA" else s.get(6) if s.id == "GS" else s.get(2))
           for s in segs(rej) if s.id in ("ISA", "GS", "ST")]
    isa13, gs06, st02, _ = per_st[-1]
    assert ids == [("ISA", isa13), ("GS", gs06), ("ST", st02)]
    acc_isas = {s.get(13) for s in segs(acc) if s.id == "ISA"}
    assert isa13 not in acc_isas and acc_isas == {p[0] for p in per_st[:-1]}
    _check_counts_and_hl(acc)
    _check_counts_and_hl(rej)


def test_all_accepted_leaves_the_rejected_half_empty() -> None:
    data = (SAMPLES / "837p_clean.837").read_bytes()
    acc, rej = split(data, set())
    assert rej == b"" and acc == data  # nothing rejected: the input, byte for byte


def _check_counts_and_hl(part: bytes) -> None:
    seen: dict[str, str] = {}
    isa = gs = st = 0
    groups = transactions = 0
    for i, s in enumerate(segs(part)):
        if s.id == "ISA":
            isa, groups = i, 0
        elif s.id == "GS":
            gs, transactions, groups = i, 0, groups + 1
        elif s.id == "ST":
            st, seen, transactions = i, {}, transactions + 1
        elif s.id == "HL":
            assert s.get(1) == str(len(seen) + 1)  # renumbered 1, 2, 3 ...
            assert s.get(2) == "" or s.get(2) in seen
            seen[s.get(1)] = s.get(3)
        elif s.id == "SE":
            assert s.get(1) == str(i - st + 1)
        elif s.id == "GE":
            assert s.get(1) == str(transactions) and gs > isa
        elif s.id == "IEA":
            assert s.get(1) == str(groups)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_split_is_lossless_counted_and_pyx12_valid(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(["837p_clean.837", "837p_multi_isa.837",
                                      "837i_outpatient.837", "837p_delims.837"]))
    raw = (SAMPLES / name).read_bytes()
    original = claim_texts(raw)
    reject = data.draw(st.sets(st.integers(0, len(original) - 1)))
    acc, rej = split(raw, reject)
    assert claim_texts(acc) == [c for i, c in enumerate(original) if i not in reject]
    assert claim_texts(rej) == [c for i, c in enumerate(original) if i in reject]
    for part in (acc, rej):
        if part:
            _check_counts_and_hl(part)
            result = validate_837(part)
            assert result.ok, [(i.seg_id, i.message) for i in result.issues[:5]]
