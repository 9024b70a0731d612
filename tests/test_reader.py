from __future__ import annotations

import io

import pytest

from scrub837 import X12ReadError, iter_items, read_claims
from scrub837.claims.model import Claim
from scrub837.claims.reader import EnvelopeProblem, ReadFailure, TransactionEnd
from tests.x12text import CLAIM_P, envelope


def test_claim_fields_and_locations() -> None:
    data = envelope(CLAIM_P).encode()
    claims = list(read_claims(data, "t.837"))
    assert len(claims) == 1
    c = claims[0]
    assert (c.clm01, c.charge, c.facility_code, c.frequency) == ("CLAIM-1", "500", "11", "1")
    assert c.payer_id == "MEDCR1" and c.billing_npi == "1234567893"
    assert [(d.qualifier, d.code, d.position) for d in c.diagnoses] == [
        ("ABK", "C9210", 1), ("ABF", "Z5111", 2)]
    assert [r.get(2) for r in c.prior_auth] == ["AUTH123"]
    drug_line, admin = c.lines
    assert drug_line.code == "J9262" and drug_line.modifiers == ("JZ",)
    assert drug_line.units == "125" and drug_line.dx_pointers == ("1", "2")
    assert drug_line.service_date == "20260215" and drug_line.line_control == "LINE1"
    assert drug_line.drug is not None
    assert (drug_line.drug.qualifier, drug_line.drug.ndc, drug_line.drug.quantity,
            drug_line.drug.unit) == ("N4", "63459017714", "1.25", "ME")
    assert admin.code == "96401" and admin.drug is None
    assert data[c.span[0]:c.span[1]].startswith(b"CLM*CLAIM-1")
    assert c.envelope.kind == "P" and c.envelope.st02 == "0001"


def test_stream_and_bytes_agree() -> None:
    data = envelope(CLAIM_P).encode()
    a = [c.clm01 for c in read_claims(data)]
    b = [c.clm01 for c in read_claims(io.BytesIO(data))]
    assert a == b == ["CLAIM-1"]


def test_text_stream_is_refused_clearly() -> None:
    with pytest.raises(TypeError, match="binary"):
        list(read_claims(io.StringIO("ISA")))  # type: ignore[arg-type]


def test_counts_and_control_numbers_are_checked() -> None:
    good = f"SE*{len(CLAIM_P) + 2}*0001"
    text = envelope(CLAIM_P)
    assert good in text
    text = text.replace(good, f"SE*{len(CLAIM_P) + 3}*0002").replace("GE*1*1", "GE*2*9")
    items = list(iter_items(text.encode(), "t"))
    end = next(i for i in items if isinstance(i, TransactionEnd))
    rules = sorted(f.rule_id for f in end.findings)
    assert rules == ["X12_CONTROL_NUMBER", "X12_COUNT"]
    env = [f.message for i in items if isinstance(i, EnvelopeProblem) for f in i.findings]
    assert any("GE01" in m for m in env) and any("GE02" in m for m in env)


def test_unsupported_transaction_is_a_finding() -> None:
    text = envelope(["BPR*I*100*C*ACH"], version="005010X221A1").replace("ST*837", "ST*835")
    items = list(iter_items(text.encode(), "r.835"))
    end = next(i for i in items if isinstance(i, TransactionEnd))
    assert not end.supported and end.findings[0].rule_id == "X12_UNSUPPORTED"
    assert "'835'" in end.findings[0].message
    assert end.findings[0].location.segment == 3


def test_truncated_file_yields_complete_claims_then_fails() -> None:
    data = envelope(CLAIM_P + ["CLM*CLAIM-2*10***11:B:1*Y*A*Y*Y", "HI*ABK:C9210"]).encode()
    cut = data.index(b"\nSE*")
    with pytest.raises(X12ReadError) as err:
        list(read_claims(data[:cut]))
    assert "truncated" in str(err.value)
    items = list(iter_items(data[:cut], "cut.837"))
    assert [i.clm01 for i in items if isinstance(i, Claim)] == ["CLAIM-1"]
    assert isinstance(items[-1], ReadFailure) and items[-1].file == "cut.837"


def test_several_interchanges_groups_and_transactions() -> None:
    one = envelope(CLAIM_P)
    two = envelope(CLAIM_P, control="000000002", st02="0002", version="005010X222A2")
    claims = list(read_claims((one + two).encode()))
    assert [(c.envelope.isa13, c.envelope.st02, c.envelope.version) for c in claims] == [
        ("000000001", "0001", "005010X222A1"), ("000000002", "0002", "005010X222A2")]
