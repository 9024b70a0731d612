"""The JSON report against docs/report-schema.md, written down here as a JSON Schema and checked
with a small hand-written validator (type, enum, required, properties, additionalProperties,
items, minimum) — no jsonschema dependency."""

from __future__ import annotations

import io
import json
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from scrub837.outputs.jsonreport import JsonReportWriter
from scrub837.run.pipeline import OutputOptions, scrub_file
from scrub837.verdicts.results import ClaimResult, SummaryBuilder, TransactionResult
from scrub837.scrubber import Scrubber
from tests.conftest import SAMPLES

STR: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer", "minimum": 0}
BOOL: dict[str, Any] = {"type": "boolean"}
SPAN: dict[str, Any] = {"type": "array", "items": INT}


def obj(props: dict[str, Any], *, nullable: bool = False) -> dict[str, Any]:
    return {"type": ["object", "null"] if nullable else "object", "properties": props,
            "required": list(props), "additionalProperties": False}


FINDING = obj({
    "rule_id": STR, "severity": {"type": "string", "enum": ["reject", "warn"]},
    "stc": {"type": "array", "items": {"type": "string", "pattern": "A[0-9]:"}},
    "message": STR, "fix": STR, "source": STR, "line_level": BOOL,
    "location": obj({"file": STR, "isa13": STR, "gs06": STR, "st02": STR, "clm01": STR,
                     "lx": STR, "ref_6r": STR, "segment": INT, "span": SPAN, "path": STR,
                     "element": STR}),
})
LINE = obj({"lx": STR, "ref_6r": STR, "procedure": STR,
            "modifiers": {"type": "array", "items": STR}, "revenue_code": STR, "charge": STR,
            "units": STR, "service_date": STR, "ndc": STR, "ndc_quantity": STR,
            "ndc_unit": STR, "rejects": BOOL, "rule_ids": {"type": "array", "items": STR}})
CLAIM = obj({
    "clm01": STR, "charge": STR, "verdict": {"type": "string", "enum": ["accepted", "rejected"]},
    "segment": INT, "span": SPAN, "payer_id": STR, "billing_provider_npi": STR,
    "patient": obj({"last_name": STR, "first_name": STR, "member_id": STR}),
    "findings": {"type": "array", "items": FINDING},
    "lines": {"type": "array", "items": LINE},
})
TRANSACTION = obj({
    "isa13": STR, "gs06": STR, "st02": STR, "version": STR,
    "kind": {"type": "string", "enum": ["837P", "837I", ""]}, "supported": BOOL, "bht03": STR,
    "findings": {"type": "array", "items": FINDING}, "claims": {"type": "array", "items": CLAIM},
})
SUMMARY = obj({
    "file": STR, "transactions": INT, "unsupported_transactions": INT, "claims": INT,
    "accepted": INT, "rejected": INT, "charges_total": STR, "charges_held": STR,
    "warnings": INT, "reasons": {"type": "array", "items": obj({"rule_id": STR, "claims": INT})},
    "unreadable": BOOL, "failure": obj({"message": STR, "segment": INT}, nullable=True),
    "exit_code": {"type": "integer", "enum": [0, 1, 3]},
    "interchanges": {"type": "array", "items": obj({
        "isa13": STR, "date": STR, "time": STR,
        "ta104": {"type": "string", "enum": ["A", "E", "R"]}, "ta105": STR})},
})
SCHEMA = obj({
    "schema": {"type": "string", "enum": ["scrub837.report/1"]},
    "transactions": {"type": "array", "items": TRANSACTION},
    "envelope_findings": {"type": "array", "items": FINDING},
    "failure": obj({"file": STR, "message": STR, "segment": INT, "offset": INT}, nullable=True),
    "summary": SUMMARY,
})

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def errors(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """The ways ``value`` breaks ``schema`` (the JSON Schema keywords used above)."""
    import re

    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds or []

    def is_kind(kind: str) -> bool:
        if kind == "integer":
            return isinstance(value, int) and not isinstance(value, bool)
        return isinstance(value, _TYPES[kind])

    if kinds and not any(is_kind(k) for k in kinds):
        return [f"{path}: {type(value).__name__} is not {kinds}"]
    out = []
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: {value!r} not in {schema['enum']}")
    if "minimum" in schema and value < schema["minimum"]:
        out.append(f"{path}: {value} < {schema['minimum']}")
    if "pattern" in schema and not re.match(schema["pattern"], value):
        out.append(f"{path}: {value!r} does not match {schema['pattern']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        out += [f"{path}: missing {k}" for k in schema.get("required", []) if k not in value]
        if schema.get("additionalProperties") is False:
            out += [f"{path}: unexpected {k}" for k in value if k not in props]
        for key, sub in props.items():
            if key in value:
                out += errors(value[key], sub, f"{path}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            out += errors(item, schema["items"], f"{path}[{i}]")
    return out


def test_the_validator_catches_what_it_should() -> None:
    assert errors({"a": 1}, obj({"a": STR})) == ["$.a: int is not ['string']"]
    assert errors({}, obj({"a": STR})) == ["$: missing a"]
    assert errors({"a": "x", "b": 1}, obj({"a": STR})) == ["$: unexpected b"]
    assert errors([True], {"type": "array", "items": INT}) == ["$[0]: bool is not ['integer']"]
    assert errors(None, obj({}, nullable=True)) == []


@lru_cache(maxsize=1)
def scrubber() -> Scrubber:
    return Scrubber()


def report(name: str, *, show_phi: bool = False) -> dict[str, Any]:
    out = io.BytesIO()
    writer = JsonReportWriter(out, show_phi=show_phi)
    summary = SummaryBuilder(name)
    for item in scrubber().results((SAMPLES / name).read_bytes(), name):
        summary.add(item)
        writer.add(item)
    writer.close(summary.build())
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


ALL = sorted(p.name for p in SAMPLES.iterdir() if p.suffix in (".837", ".txt", ".x12"))


@pytest.mark.parametrize("name", ALL)
def test_every_sample_report_matches_the_documented_schema(name: str) -> None:
    data = report(name)
    assert errors(data, SCHEMA) == []
    s = data["summary"]
    claims = [c for t in data["transactions"] for c in t["claims"] if t["supported"]]
    assert s["claims"] == len(claims) == s["accepted"] + s["rejected"]
    assert s["rejected"] == sum(c["verdict"] == "rejected" for c in claims)
    for c in claims:
        rejecting_lx = {f["location"]["lx"] for f in c["findings"]
                        if f["line_level"] and f["severity"] == "reject"}
        assert {ln["lx"] for ln in c["lines"] if ln["rejects"]} == rejecting_lx


def test_the_schema_page_names_every_key() -> None:
    page = (Path(__file__).parents[1] / "docs" / "report-schema.md").read_text()

    def keys(schema: dict[str, Any]) -> set[str]:
        found = set(schema.get("properties", {}))
        for sub in schema.get("properties", {}).values():
            found |= keys(sub.get("items", sub))
        return found

    import re

    assert [k for k in sorted(keys(SCHEMA)) if not re.search(rf"\b{k}\b", page)] == []


def test_patient_data_only_with_show_phi() -> None:
    masked = json.dumps(report("837p_clean.837"))
    shown = json.dumps(report("837p_clean.837", show_phi=True))
    for value in ("TESTPATIENT", "MBR100000001", "DEMODEPENDENT"):
        assert value not in masked and value in shown
    patients = [c["patient"] for t in report("837p_clean.837")["transactions"]
                for c in t["claims"]]
    assert all(p["last_name"].startswith(p["last_name"][0]) and "*" in p["last_name"]
               for p in patients)


def test_lines_with_findings_for_a_defect_claim() -> None:
    data = report("837p_defects.837")
    claim = next(c for t in data["transactions"] for c in t["claims"]
                 if c["clm01"] == "DEF-UNITS-NDC-MISMATCH")
    assert claim["lines"] == [{
        "lx": "1", "ref_6r": "DEF-UNITS-NDC-MISMAT-1", "procedure": "J9262",
        "modifiers": ["JZ"], "revenue_code": "", "charge": "1875", "units": "3",
        "service_date": "20260210", "ndc": "63459017714", "ndc_quantity": "3.5",
        "ndc_unit": "ME", "rejects": True,
        "rule_ids": ["UNITS_NDC_MISMATCH", "NDC_NOT_IN_CROSSWALK", "DATA_PERIOD"],
    }]


def test_claims_are_written_before_the_end() -> None:
    out = io.BytesIO()
    writer = JsonReportWriter(out)
    items = list(scrubber().results((SAMPLES / "837p_multi_isa.837").read_bytes(), "m.837"))
    first = next(i for i in items if isinstance(i, TransactionResult))
    writer.add(first)
    written = out.getvalue().decode()
    assert all(f'"clm01":"{c.claim.clm01}"' in written for c in first.claims)
    assert '"summary"' not in written


def test_pipeline_report_matches_the_schema_streamed_and_in_memory(tmp_path: Path) -> None:
    options = OutputOptions(now=datetime(2026, 11, 2, 10, 0))
    for name in ("837p_defects.837", "837i_outpatient.837", "bad_truncated.837"):
        scrub_file(SAMPLES / name, scrubber(), tmp_path, options)
        streamed = json.loads((tmp_path / f"{name}.report.json").read_text())
        assert errors(streamed, SCHEMA) == []
        memory = json.loads(scrubber().scrub((SAMPLES / name).read_bytes(),
                                             str(SAMPLES / name)).report_json)
        assert streamed == memory


@pytest.mark.parametrize("batch", [1, 300, 10 ** 6])
def test_claims_written_in_batches_of_any_size_are_the_same_report(
        batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch may end on a transaction's last claim (no comma left behind) or hold it all."""
    import scrub837.outputs.jsonreport as jsonreport

    items = list(scrubber().results((SAMPLES / "837p_defects.837").read_bytes(), "d.837",
                                    stream_claims=True, slim=True))
    texts = []
    for size in (batch, jsonreport._BATCH):
        monkeypatch.setattr(jsonreport, "_BATCH", size)
        out = io.BytesIO()
        writer = JsonReportWriter(out)
        summary = SummaryBuilder("d.837")
        for item in items:
            if isinstance(item, ClaimResult):
                writer.add_claim(item)
                continue
            summary.add(item)
            writer.add(item)
        writer.close(summary.build())
        texts.append(out.getvalue())
    assert texts[0] == texts[1]
    assert json.loads(texts[0])["transactions"][0]["claims"]


def test_a_claim_without_findings_is_written_without_reading_its_segments() -> None:
    """The JSON and HTML writers take a streamed claim without findings from its CLM, its
    text and its loops: its segments and lines are never built for them (a claim without drug
    lines may come to them unread)."""
    from scrub837.api import iter_items
    from scrub837.claims.model import Claim
    from scrub837.outputs.html import HtmlReportWriter

    json_writer, html = JsonReportWriter(io.BytesIO()), HtmlReportWriter(io.BytesIO())
    claims = [i for i in iter_items((SAMPLES / "837p_clean.837").read_bytes(), "c.837",
                                    lazy=True) if isinstance(i, Claim)]
    assert claims
    for claim in claims:
        json_writer.add_claim(ClaimResult(claim, ()))
        html.add(ClaimResult(claim, ()))
        for name in ("lines", "segments", "diagnoses"):
            with pytest.raises(AttributeError):  # never read: the lazy field is still unset
                object.__getattribute__(claim, name)
