"""The 277CA writer beyond the golden files: settings, counts, values that carry delimiters,
unsupported and rejected transactions, 837I lines, control numbers across processes. Every
277CA written here is checked with pyx12's 277CA map."""

from __future__ import annotations

import io
import json
import multiprocessing
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import pytest

from scrub837.findings import Finding, Location, Severity, Stc
from scrub837.outputs.ack277 import STC12_MAX, Ack277Writer, AckConfig, _fix_text
from scrub837.outputs.control import ControlNumbers
from scrub837.verdicts.results import ClaimResult, TransactionResult
from scrub837.scrubber import Scrubber
from scrub837.x12.pyx12_adapter import validate_277ca
from tests.conftest import SAMPLES
from tests.x12text import CLAIM_P, envelope

NOW = datetime(2026, 11, 2, 10, 0)


@lru_cache(maxsize=1)
def scrubber() -> Scrubber:
    return Scrubber()


def transactions(data: bytes, name: str = "x.837") -> list[TransactionResult]:
    return [t for t in scrubber().results(data, name) if isinstance(t, TransactionResult)]


def write(items: list[TransactionResult], config: AckConfig | None = None,
          control: ControlNumbers | None = None) -> bytes:
    out = io.BytesIO()
    writer = Ack277Writer(out, config or AckConfig(), control or ControlNumbers(), NOW)
    for t in items:
        writer.add(t)
    writer.close()
    return out.getvalue()


def valid(ack: bytes) -> bytes:
    result = validate_277ca(ack)
    assert result.crashed is None
    assert result.ok, [(i.seg_id, i.message) for i in result.issues[:5]]
    return ack


def segments(ack: bytes) -> list[list[str]]:
    return [s.strip().split("*") for s in ack.decode("ascii").split("~") if s.strip()]


def sample(name: str) -> list[TransactionResult]:
    return transactions((SAMPLES / name).read_bytes(), name)


@pytest.mark.parametrize("name", ["837p_defects.837", "837i_outpatient.837",
                                  "837p_multi_isa.837", "bad_count_mismatch.837"])
def test_counts_totals_and_hierarchy_are_consistent(name: str) -> None:
    items = sample(name)
    segs = segments(valid(write(items)))
    assert segs[0][0] == "ISA" and segs[-1] == ["IEA", "1", segs[0][13]]
    assert segs[-2] == ["GE", str(sum(1 for s in segs if s[0] == "ST")), segs[1][6]]
    st = 0
    claims = iter(c for t in items if t.supported for c in t.claims)
    for i, seg in enumerate(segs):
        if seg[0] == "ST":
            st, hls = i, {"": ""}
        elif seg[0] == "HL":
            assert seg[2] in hls  # the parent came before
            hls[seg[1]] = seg[3]
        elif seg[0] == "SE":
            assert seg[1] == str(i - st + 1) and seg[2] == segs[st][2]
            body = segs[st:i]
            qty = {s[1]: int(s[2]) for s in body if s[0] == "QTY" and s[1] in ("90", "AA")}
            stc04 = Decimal(next(s for s in body if s[0] == "STC")[4])
            amts = [Decimal(s[2]) for s in body if s[0] == "AMT"][:2]
            assert sum(amts) == stc04
            patients = [j for j, s in enumerate(body) if s[0] == "HL" and s[3] == "PT"]
            assert qty["90"] + qty["AA"] == len(patients)
            for j in patients:
                c = next(claims)
                trn, stc = body[j + 2], body[j + 3]
                assert trn == ["TRN", "2", c.claim.clm01]
                assert stc[3] == ("U" if c.rejected else "WQ")
                assert stc[4] == format(c.charge.normalize(), "f")
    assert next(claims, None) is None


def test_other_settings_payer_source_no_newlines() -> None:
    config = AckConfig(sender_id="PAYER01", sender_qualifier="30", receiver_id="CLINIC9",
                       receiver_qualifier="ZZ", source_name="EXAMPLE PLAN", source_id="12345",
                       source_entity="PR", source_id_qualifier="PI", newline=False)
    ack = valid(write(sample("837p_defects.837"), config))
    assert b"\n" not in ack
    isa = ack.decode()[:106]
    assert isa[32:34] == "30" and isa[35:50] == "PAYER01".ljust(15)
    assert isa[51:53] == "ZZ" and isa[54:69] == "CLINIC9".ljust(15) and isa[105] == "~"
    assert "NM1*PR*2*EXAMPLE PLAN*****PI*12345~" in ack.decode()
    assert "STC*A1:19:PR*" in ack.decode()
    with pytest.raises(ValueError):
        AckConfig(source_entity="41")


def test_values_carrying_delimiters_are_made_safe() -> None:
    text = envelope(CLAIM_P, elem="|", comp=">", rep="{").replace(
        "SUBMITTER CLINIC", "A*B:C^D").replace("CLAIM-1", "C*1:2^3").replace(
        "TESTPATIENT", "O*NEIL:JR")
    ts = transactions(text.encode())
    assert ts[0].claims[0].claim.clm01 == "C*1:2^3" and not ts[0].findings
    body_text = valid(write(ts)).decode()
    assert "NM1*41*2*A B C D*****46*SUB01~" in body_text
    assert "TRN*2*C 1 2 3~" in body_text
    assert "NM1*QC*1*O NEIL JR*ALPHA****MI*MEMBER0001~" in body_text


def test_dependent_patient_name_with_the_subscriber_member_id() -> None:
    text = write(sample("837p_clean.837")).decode()
    assert "NM1*QC*1*DEMODEPENDENT*ECHO****MI*MBR100000004~" in text
    assert "NM1*QC*1*TESTPATIENT*ALPHA****MI*MBR100000001~" in text


def test_unsupported_transactions_get_no_277() -> None:
    other = envelope(CLAIM_P, control="000000002", version="004010X098A1")
    assert write(transactions(other.encode())) == b""  # nothing at all: no 277 to send
    both = envelope(CLAIM_P) + other
    ack = valid(write(transactions(both.encode())))
    assert ack.count(b"ST*277*") == 1 and b"GE*1*" in ack


def test_a_rejected_transaction_says_u_at_2200b_and_2200c() -> None:
    segs = segments(valid(write(sample("bad_count_mismatch.837"))))
    hl21 = next(i for i, s in enumerate(segs) if s[0] == "HL" and s[3] == "21")
    stc = segs[hl21 + 3]
    assert stc[0] == "STC" and stc[3] == "U" and stc[1].startswith("A")
    assert all(s[3] == "U" for s in segs if s[0] == "STC")  # 2200C and every claim too


def _reject_line(t: TransactionResult, lx: str, stc: tuple[Stc, ...]) -> TransactionResult:
    c = t.claims[0]
    f = Finding("TEST_LINE", Severity.REJECT, "test", Location(lx=lx), stc=stc,
                fix="fix it", line_level=True)
    return replace(t, claims=(ClaimResult(c.claim, (f,)), *t.claims[1:]))


def test_837i_lines_revenue_code_bill_type_and_revenue_only_lines() -> None:
    data = (SAMPLES / "837i_outpatient.837").read_bytes()
    first = transactions(data)[0]
    line = first.claims[0].claim.lines[0]
    assert line.code and line.revenue_code
    ack = valid(write([_reject_line(first, line.line_number, (Stc("A7", "454"),))]))
    text = ack.decode()
    assert f"SVC*HC:{line.code}" in text and f"**{line.revenue_code}***{line.units}~" in text
    assert "REF*BLT*131~" in text
    sv2 = next(s for s in line.segments if s.id == "SV2")
    raw = sv2.text()
    parts = raw.split("*")
    stripped = data.replace(raw.encode(), "*".join([parts[0], parts[1], "", *parts[3:]]).encode())
    first = transactions(stripped)[0]
    line = first.claims[0].claim.lines[0]
    assert not line.code
    text = valid(write([_reject_line(first, line.line_number, (Stc("A7", "455"),))])).decode()
    assert f"SVC*NU:{line.revenue_code}*" in text and "STC*A7:455*20261102*U~" in text


def test_stc12_lists_the_fixes_within_264_characters() -> None:
    def finding(rule: str, fix: str) -> Finding:
        return Finding(rule, Severity.REJECT, "m", Location(), stc=(Stc("A7", "476"),), fix=fix)

    two = _fix_text([finding("A_RULE", "do a*b:c~d^e"), finding("B_RULE", "do <x>"),
                     finding("A_RULE", "again")])
    assert two == "A_RULE - do a b c d e; B_RULE - do x"
    long = _fix_text([finding("LONG", "word " * 100), finding("NEXT", "x")])
    assert len(long) <= STC12_MAX and long.endswith("...") and "NEXT" not in long
    many = _fix_text([finding(f"RULE_{i}", "fix " * 10) for i in range(20)])
    assert len(many) <= STC12_MAX and many.count(";") < 19
    for seg in segments(write(sample("837p_defects.837"))):
        if seg[0] == "STC" and len(seg) > 12:
            assert 0 < len(seg[12]) <= STC12_MAX


def test_control_numbers_are_unique_in_a_run() -> None:
    control = ControlNumbers()
    one = segments(write(sample("837p_defects.837"), control=control))
    two = segments(write(sample("837p_clean.837"), control=control))
    assert one[0][13] != two[0][13]
    traces = [s[2] for s in one + two if s[0] == "REF" and s[1] == "D9"]
    assert len(traces) == len(set(traces)) == 40  # claims of the samples (837p_defects has 35)
    numbers = [s[13] for s in (one[0], two[0])] + [s[6] for s in (one[1], two[1])]
    numbers += [s[2] for s in one + two if s[0] == "ST" or (s[0] == "TRN" and s[1] == "1")]
    numbers += traces
    assert len({int(n) for n in numbers}) == len(numbers)


def test_control_numbers_wrap_at_nine_digits() -> None:
    control = ControlNumbers(start=999_999_998)
    assert control.reserve(3) == (999_999_998, 999_999_999, 1)


def _take_many(state: str) -> list[int]:
    control = ControlNumbers(Path(state))
    return [n for _ in range(25) for n in control.reserve(3)]


def test_control_state_never_repeats_across_processes(tmp_path: Path) -> None:
    state = tmp_path / "state" / "control.json"
    with multiprocessing.get_context("fork").Pool(4) as pool:
        taken = pool.map(_take_many, [str(state)] * 4)
    numbers = [n for chunk in taken for n in chunk]
    assert len(numbers) == len(set(numbers)) == 300
    assert json.loads(state.read_text()) == {"next": 301}
    assert not [p for p in state.parent.iterdir() if p.name.endswith(".tmp")]


def test_claims_out_of_provider_order_are_listed_under_their_provider() -> None:
    """A hand-built result whose claims interleave billing providers (the reader never gives
    one) gets the 277 of the same claims in provider order: grouped in memory, not streamed."""
    (t,) = sample("837p_clean.837")
    keys = [c.claim.provider.hl.ordinal for c in t.claims]
    assert len(set(keys)) == 2
    first = [c for c in t.claims if c.claim.provider.hl.ordinal == keys[0]]
    second = [c for c in t.claims if c.claim.provider.hl.ordinal != keys[0]]
    mixed = [first[0], second[0], *first[1:], *second[1:]]
    grouped = first + second
    assert [c.claim.provider.hl.ordinal for c in mixed] != sorted(keys)
    ack = write([replace(t, claims=tuple(mixed))])
    assert ack == write([replace(t, claims=tuple(grouped))])
    valid(ack)
