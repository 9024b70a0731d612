"""``extract``'s JSON written from templates is, byte for byte, the JSON encoder's text of
``line_record``: on every sample, every hostile input that can be read, and values that JSON
must escape."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from scrub837.api import iter_items
from scrub837.claims._extract_json import LineEncoder
from scrub837.claims.extract import line_record
from scrub837.claims.model import Claim
from tests.conftest import SAMPLES
from tests.hostile.corpus import CASES
from tests.x12text import CLAIM_P, envelope

_JSON = json.JSONEncoder(separators=(",", ":")).encode


def _claims(data: bytes) -> Iterator[Claim]:
    for item in iter_items(data, "f.837"):
        if isinstance(item, Claim):
            yield item


def _inputs() -> Iterator[tuple[str, bytes]]:
    for p in sorted(SAMPLES.iterdir()):
        if p.suffix in (".837", ".x12", ".txt"):
            yield p.name, p.read_bytes()
    for case in CASES:
        built = case.build()
        if isinstance(built, bytes) and len(built) < (1 << 20):
            yield case.name, built
    odd = [s.replace("TESTPATIENT", 'TEST"PATIENT\\É') for s in CLAIM_P]
    odd = [s.replace("REF*6R*LINE1", "REF*6R*LI\tNE1").replace("CLM*CLAIM-1", "CLM*CLÄIM-1")
           for s in odd]
    odd += ["NTE*ADD*A NOTE \x7f", "LX*3", "SV1*HC:J9999:JW:JZ:KX:XY:A DRUG*10*UN*1***1:2:3",
            "NTE*ADD*LINE\x01NOTE", "LIN**N4*123\"45", "CTP****2*M\u00e9", "REF*VY*7",
            "REF*XZ*RX1"]
    yield "escapes", envelope(odd).encode("latin-1")


INPUTS = list(_inputs())


@pytest.mark.parametrize("show_phi", [False, True])
def test_templates_write_what_the_encoder_writes(show_phi: bool) -> None:
    records = 0
    for name, data in INPUTS:
        encoder = LineEncoder(show_phi=show_phi)
        for claim in _claims(data):
            for line in claim.lines:
                got = encoder.encode(claim, line)
                assert got == _JSON(line_record(claim, line, show_phi=show_phi)), name
                records += 1
    assert records > 100


def test_values_that_need_escapes_are_escaped() -> None:
    data = dict(INPUTS)["escapes"]
    text = "\n".join(LineEncoder(show_phi=True).encode(c, ln) for c in _claims(data)
                     for ln in c.lines)
    assert '\\"PATIENT\\\\\\u00c9' in text and "\\t" in text and "CL\\u00c4IM" in text
    assert "\\u0001" in text and '123\\"45' in text
    assert all(json.loads(row) for row in text.splitlines())
