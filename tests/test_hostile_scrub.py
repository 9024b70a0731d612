"""Broken and hostile inputs through the whole scrub: every file gets an answer (a 277CA or an
error report), every claim exactly one verdict, no traceback, and the input is kept."""

from __future__ import annotations

import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scrub837.api import read_claims
from scrub837.scrubber import Scrubber
from tests.conftest import SAMPLES
from tests.hostile.corpus import CASES, Case

SMALL = [c for c in CASES if c.name not in (
    "terminator never comes (100 MB segment)", "10^5 HL loops under one parent",
    "segment with 10^6 elements")]


@lru_cache(maxsize=1)
def scrubber() -> Scrubber:
    return Scrubber()


def _bytes(case: Case) -> bytes:
    built = case.build()
    return built if isinstance(built, bytes) else b"".join(built)


@pytest.mark.parametrize("case", SMALL, ids=[c.name for c in SMALL])
def test_every_class_gets_an_answer(case: Case) -> None:
    data = _bytes(case)
    result = scrubber().scrub(data, "hostile.837")  # must not raise
    s = result.summary
    assert s.claims == s.accepted + s.rejected
    if case.kind == "failure":
        assert s.exit_code == 3
    elif case.kind == "claim":
        rules = {f.rule_id for t in result.transactions for c in t.claims for f in c.findings}
        assert case.expect in rules
        assert s.rejected >= 1
    else:
        assert s.exit_code in (0, 1) or case.expect == "X12_UNSUPPORTED"
    if s.transactions:
        assert result.ack_277.startswith(b"ISA")
    assert b"<html" in result.render_html()


@pytest.mark.parametrize("name", ["terminator never comes (100 MB segment)",
                                  "segment with 10^6 elements"])
def test_huge_inputs_through_the_cli_keep_the_input(tmp_path: Path, name: str) -> None:
    case = next(c for c in CASES if c.name == name)
    src = tmp_path / "in.837"
    with open(src, "wb") as f:
        built = case.build()
        for chunk in ([built] if isinstance(built, bytes) else built):
            f.write(chunk)
    size = src.stat().st_size
    proc = subprocess.run([sys.executable, "-m", "scrub837", "scrub", str(src), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    assert "longer than" in (tmp_path / "out" / "in.837.error.txt").read_text()
    assert src.stat().st_size == size  # the input is kept as it was


MUTABLE = [(SAMPLES / n).read_bytes() for n in ("837p_clean.837", "837i_outpatient.837",
                                                "837p_delims.837")]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_samples_never_raise_and_each_claim_gets_one_verdict(data: st.DataObject) -> None:
    base = bytearray(data.draw(st.sampled_from(MUTABLE)))
    for _ in range(data.draw(st.integers(1, 6))):
        op = data.draw(st.sampled_from(["flip", "delete", "insert", "dup", "cut"]))
        pos = data.draw(st.integers(0, max(0, len(base) - 1)))
        if op == "flip" and base:
            base[pos] = data.draw(st.integers(0, 255))
        elif op == "delete":
            del base[pos:pos + data.draw(st.integers(1, 40))]
        elif op == "insert":
            base[pos:pos] = data.draw(st.sampled_from([b"~", b"*", b":", b"\x00", b"HL*9*1*22*0~",
                                                      b"CLM*X*1***11:B:1~", b"LX*1~", b"\xff"]))
        elif op == "dup":
            end = min(len(base), pos + data.draw(st.integers(1, 300)))
            base[pos:pos] = base[pos:end]
        elif op == "cut":
            base = base[:pos]
    blob = bytes(base)
    result = scrubber().scrub(blob, "fuzz.837")
    claims = [c for t in result.transactions for c in t.claims]
    assert len(claims) == result.summary.claims == result.summary.accepted + result.summary.rejected
    try:
        read = sum(1 for _ in read_claims(blob))
    except Exception:  # X12ReadError after the complete claims
        read = None
    if read is not None:
        assert read >= len(claims)
