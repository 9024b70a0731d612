"""Outputs on the real samples and rule pack: golden 277CAs (each validated by pyx12's own
277CA map), the 837 split (pyx12-valid, claims byte for byte), the JSON report schema, the HTML
report, file modes."""

from __future__ import annotations

import io
import json
import os
import stat
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import pytest
from freezegun import freeze_time
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import html as lhtml

from scrub837.claims.model import Claim
from scrub837.outputs.ack277 import Ack277Writer, AckConfig
from scrub837.outputs.control import ControlNumbers
from scrub837.outputs.split import SplitWriter
from scrub837.run.pipeline import OutputOptions, process_stream, scrub_file
from scrub837.verdicts.results import ClaimResult, TransactionResult
from scrub837.scrubber import Scrubber, iter_findings
from scrub837.api import read_claims
from scrub837.x12.pyx12_adapter import validate_277ca, validate_837
from tests.conftest import SAMPLES

GOLDEN = Path(__file__).parent / "golden"
GOOD = ["837p_clean.837", "837p_defects.837", "837i_outpatient.837", "837p_multi_isa.837",
        "837p_delims.837", "837p_ig_invalid.837", "bad_count_mismatch.837"]


@lru_cache(maxsize=1)
def scrubber() -> Scrubber:
    return Scrubber()


@freeze_time("2026-11-02 10:00:00")
def _ack(name: str) -> bytes:
    out = io.BytesIO()
    writer = Ack277Writer(out, AckConfig(), ControlNumbers(), datetime.now())
    for item in scrubber().results((SAMPLES / name).read_bytes(), name):
        if isinstance(item, TransactionResult):
            writer.add(item)
    writer.close()
    return out.getvalue()


@pytest.mark.parametrize("name", GOOD)
def test_golden_277ca_is_valid_and_unchanged(name: str) -> None:
    ack = _ack(name)
    result = validate_277ca(ack)
    assert result.crashed is None
    assert result.ok, [i.message for i in result.issues[:5]]
    golden = GOLDEN / f"{name}.277"
    if os.environ.get("SCRUB837_REGEN_GOLDEN"):
        golden.write_bytes(ack)
    assert ack == golden.read_bytes()


def test_277ca_content_for_the_page_example() -> None:
    text = _ack("837p_defects.837").decode()
    assert "TRN*2*DEF-UNITS-NDC-MISMATCH~" in text
    block = text.split("TRN*2*DEF-UNITS-NDC-MISMATCH~")[1].split("HL*")[0]
    assert "STC*A8:476*20261102*U*1875******A8:724**UNITS_NDC_MISMATCH" in block
    assert "SVC*HC:J9262:JZ*1875*****3~" in block  # 2220D: SVC07 = the units billed
    assert "REF*FJ*DEF-UNITS-NDC-MISMAT-1~" in block
    clean = text.split("TRN*2*WARN-CODE-UNKNOWN~")[1].split("HL*")[0]
    assert "STC*A1:20*20261102*WQ*2500" in clean and "SVC" not in clean  # warnings never reject


def test_broken_277ca_is_rejected_by_the_validator() -> None:
    ack = _ack("837p_clean.837").replace(b"HL*2*1*21*1", b"HL*2*1*99*1")
    assert not validate_277ca(ack).ok


def _split(name: str, reject: set[int] | None = None) -> tuple[bytes, bytes, list[Claim]]:
    acc, rej = io.BytesIO(), io.BytesIO()
    writer = SplitWriter(acc, rej)
    claims: list[Claim] = []
    for item in scrubber().results((SAMPLES / name).read_bytes(), name):
        if isinstance(item, TransactionResult):
            if reject is not None:
                fake = []
                for c in item.claims:
                    idx = len(claims) + len(fake)
                    bad = idx in reject
                    fake.append(ClaimResult(c.claim, _rejecting(c) if bad else ()))
                item = TransactionResult(item.envelope, item.header, item.se, tuple(fake), (),
                                         True)
            writer.add(item)
            claims += [c.claim for c in item.claims]
    writer.close()
    return acc.getvalue(), rej.getvalue(), claims


def _rejecting(c: ClaimResult) -> tuple:  # type: ignore[type-arg]
    from scrub837.findings import Finding, Location, Severity
    return (Finding("TEST", Severity.REJECT, "test", Location()),)


def _claim_bytes(data: bytes) -> list[bytes]:
    return [data[c.span[0]:c.span[1]] for c in read_claims(data)] if data else []


@pytest.mark.parametrize("name", ["837p_defects.837", "837i_outpatient.837",
                                  "837p_multi_isa.837", "837p_delims.837"])
def test_split_files_pass_pyx12(name: str) -> None:
    acc, rej, _ = _split(name)
    for part in (acc, rej):
        if part:
            result = validate_837(part)
            assert result.ok, [i.message for i in result.issues[:5]]


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_split_keeps_every_claim_byte_for_byte(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(["837p_clean.837", "837p_multi_isa.837",
                                      "837i_outpatient.837", "837p_delims.837"]))
    total = len(list(read_claims((SAMPLES / name).read_bytes())))
    reject = set(data.draw(st.lists(st.integers(0, total - 1), max_size=total)))
    acc, rej, claims = _split(name, reject)
    original = _claim_bytes((SAMPLES / name).read_bytes())
    kept = {i: b for i, b in enumerate(original) if i not in reject}
    assert _claim_bytes(acc) == list(kept.values())
    assert _claim_bytes(rej) == [b for i, b in enumerate(original) if i in reject]
    for part in (acc, rej):
        if part:
            items = list(iter_findings(part, scrubber()))
            assert not [f for f in items if f.rule_id.startswith("X12_")], "counts/envelopes"


@freeze_time("2026-11-02 10:00:00")
def test_pipeline_writes_outputs_0600_and_reports(tmp_path: Path) -> None:
    outcome = scrub_file(SAMPLES / "837p_defects.837", scrubber(), tmp_path, OutputOptions())
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(f"837p_defects.837{s}" for s in (
        ".277", ".report.json", ".report.html", ".accepted.837", ".rejected.837"))
    for p in tmp_path.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert outcome.exit_code == 1
    report = json.loads((tmp_path / "837p_defects.837.report.json").read_text())
    _check_schema(report)
    assert report["summary"]["rejected"] == 32 and report["summary"]["accepted"] == 2
    page = lhtml.fromstring((tmp_path / "837p_defects.837.report.html").read_bytes())
    assert not page.xpath("//script") and not page.xpath("//*[@src]")
    marks = page.xpath("//section[@id][.//h2[contains(., 'DEF-UNITS-NDC-MISMATCH')]]//mark")
    assert [m.text for m in marks if m.get("class") == "reject"] == ["3"]  # SV104
    assert [m.text for m in marks if m.get("class") == "warn"] == ["20260210", "63459017714"]  # DATA_PERIOD, NDC
    assert "J9262 is billed per 0.01 mg: 3.5 mg is 350 units, not 3" in page.text_content()
    text = (tmp_path / "837p_defects.837.report.html").read_text()
    assert "TESTPATIENT" not in text and "MBR100000001" not in text and "19560312" not in text


def test_show_phi_unmasks_the_html(tmp_path: Path) -> None:
    scrub_file(SAMPLES / "837p_defects.837", scrubber(), tmp_path, OutputOptions(show_phi=True))
    # rejected claims are shown with their hierarchy, subscriber included
    text = (tmp_path / "837p_defects.837.report.html").read_text()
    assert "TESTPATIENT" in text and "MBR100000001" in text


def test_unreadable_input_gets_an_error_report(tmp_path: Path) -> None:
    outcome = scrub_file(SAMPLES / "bad_truncated.837", scrubber(), tmp_path, OutputOptions())
    assert outcome.exit_code == 3
    err = (tmp_path / "bad_truncated.837.error.txt").read_text()
    assert "bad_truncated.837" in err and "segment 58" in err and "truncated" in err
    assert not (tmp_path / "bad_truncated.837.277").exists()


def test_a_failing_output_leaves_nothing_behind(tmp_path: Path) -> None:
    class Boom(io.BytesIO):
        def read(self, size: int = -1) -> bytes:
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        process_stream(Boom(), "x.837", scrubber(), tmp_path, OutputOptions())
    assert list(tmp_path.iterdir()) == []


def _check_schema(report: dict) -> None:  # type: ignore[type-arg]
    """The JSON report against docs/report-schema.md (hand-written check)."""
    assert report["schema"] == "scrub837.report/1"
    assert set(report) == {"schema", "transactions", "envelope_findings", "failure", "summary"}
    summary_keys = {"file", "transactions", "unsupported_transactions", "claims", "accepted",
                    "rejected", "charges_total", "charges_held", "warnings", "reasons",
                    "unreadable", "failure", "exit_code", "interchanges"}
    assert set(report["summary"]) == summary_keys
    for t in report["transactions"]:
        assert set(t) == {"isa13", "gs06", "st02", "version", "kind", "supported", "bht03",
                          "findings", "claims"}
        for c in t["claims"]:
            assert set(c) == {"clm01", "charge", "verdict", "segment", "span", "payer_id",
                              "billing_provider_npi", "patient", "findings", "lines"}
            assert c["verdict"] in ("accepted", "rejected")
            for f in c["findings"]:
                assert set(f) == {"rule_id", "severity", "stc", "message", "fix", "source",
                                  "line_level", "location"}
                assert f["location"]["segment"] > 0
                assert f["location"]["file"]


@pytest.mark.parametrize("name", GOOD)
def test_streamed_pipeline_matches_the_golden_277ca(tmp_path: Path, name: str) -> None:
    """The pipeline streams claims and keeps slim ones; its answer is the same."""
    options = OutputOptions(control=ControlNumbers(), now=datetime(2026, 11, 2, 10, 0))
    scrub_file(SAMPLES / name, scrubber(), tmp_path, options)
    assert (tmp_path / f"{name}.277").read_bytes() == (GOLDEN / f"{name}.277").read_bytes()
    acc, rej, _ = _split(name)
    for suffix, expected in ((".accepted.837", acc), (".rejected.837", rej)):
        path = tmp_path / f"{name}{suffix}"
        assert (path.read_bytes() if path.exists() else b"") == expected


def test_hostile_values_are_escaped_in_the_html() -> None:
    text = (SAMPLES / "837p_defects.837").read_text().replace(
        "CLM*DEF-NDC-MISSING*1800***11:B:1*Y*A*Y*Y~",
        "CLM*DEF-NDC-MISSING*1800***11:B:1*Y*A*Y*Y~\nNTE*ADD*<script>alert(1)</script>&\"'<img src=x>~")
    html = scrubber().scrub(text.encode(), "x.837").render_html()
    page = lhtml.fromstring(html)
    assert not page.xpath("//script") and not page.xpath("//img")
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;&amp;" in html
    assert "<script>alert(1)</script>" in page.text_content()
