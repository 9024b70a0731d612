"""``extract``'s JSON written from templates is, byte for byte, the JSON encoder's text of
``line_record``: on every sample, every hostile input that can be read, and values that JSON
must escape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from scrub837.api import iter_items
from scrub837.claims._extract_json import LineEncoder, _records_from_text
from scrub837.claims.extract import line_record
from scrub837.claims.model import Claim
from tests.conftest import SAMPLES
from tests.every_input import every_input
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


#: a claim whose loops the text path must tell apart: NTEs in the claim, in a line and in a
#: 2420 loop; a 2310 NM1 and a 2320 SBR with an HI after them (not the claim's); a line with
#: no DTP*472 (the statement dates), a DTP*472 and a REF*6R inside 2420 (not the line's); a
#: 2410 with two CTP, REF*XZ/VY and a 2430 SVD after it; a line with two LIN; a line whose SV1 is not
#: right after its LX; a line without SV1 (read the lines' way)
_LOOPS = [s for s in CLAIM_P if not s.startswith(("LX*2", "SV1*HC:96401", "DTP*472*D8*2026021",
                                                   "REF*6R*LINE2"))]
_LOOPS = _LOOPS[:_LOOPS.index("LX*1")] + [
    "NTE*ADD*CLAIM NOTE", "DTP*434*RD8*20260201-20260228", "HI*ABF:E119",
    "NM1*82*1*DOC*ANNA****XX*1111111111", "HI*ABF:I10", "SBR*S*18", "REF*G1*NOTTHECLAIMS",
    "LX*1", "SV1*HC:J9262:JZ*400*UN*125***1:2", "DTP*472*D8*20260215", "REF*6R*LINE1",
    "REF*G1*LINEAUTH", "NTE*ADD*LINE NOTE", "LIN**N4*63459017714", "CTP****1.25*ME",
    "CTP****9*UN", "REF*XZ*RX9", "REF*VY*LINK7", "SVD*PAYER*10*HC:J9262**1", "DTP*472*D8*20990101",
    "LX*2", "SV1*HC:J2315*90*UN*380***1", "REF*6R*LINE2", "LIN**N4*65757030001",
    "CTP****1*UN", "NM1*DK*1*ORDER*DOC****XX*1111111111", "NTE*ADD*IN 2420",
    "DTP*472*D8*20990102", "REF*6R*NOTTHELINES",
    "LX*3", "SV1*HC:J2315*90*UN*380***1", "LIN**N4*65757030001", "LIN**N4*00703423901",
    "CTP****2*UN",
    "LX*4", "PWK*OZ*BM", "SV1*HC:J0000*1*UN*1***1", "LX*5", "PWK*OZ*BM"]


def _every(tmp: Path) -> list[tuple[str, bytes]]:
    built = every_input(tmp)
    generated = dict(built)["gP"]
    built.append(("uneven", generated.replace(b"~\nLIN", b"~LIN")))  # some segments unbroken
    # a space after the line break before some LX (the lexer passes over it)
    built.append(("spaced", generated.replace(b"~\nLX*2", b"~\n LX*2")))
    built.append(("loops-spaced", envelope(_LOOPS).replace("~\nLX*2", "~\n LX*2")
                  .encode("latin-1")))
    built.append(("loops", envelope(_LOOPS).encode("latin-1")))
    built.append(("loops-crlf", envelope(_LOOPS, sep="\r\n").encode("latin-1")))
    built.append(("loops-flat", envelope(_LOOPS, sep="").encode("latin-1")))
    return built + INPUTS


def test_records_from_text_are_the_records_line_by_line(tmp_path: Path) -> None:
    """``LineEncoder.records`` writes a claim's records from its text when it can; they are
    the bytes ``encode`` writes line by line, for every line, every other line and each
    line alone."""
    from_text = 0
    for name, data in _every(tmp_path):
        fast = LineEncoder()
        exact = LineEncoder()
        for claim, again in zip(_claims(data), _claims(data)):
            n = len(again.procedure_codes())
            for picked in (None, list(range(0, n, 2)), *([i] for i in range(n))):
                text = _records_from_text(fast, claim, picked)
                lines = again.lines if picked is None else [again.lines[i] for i in picked]
                want = [exact.encode(again, line) for line in lines]
                if text is not None:
                    from_text += 1
                    assert text == want, (name, claim.clm01, picked)
                assert fast.records(claim, picked) == want, (name, claim.clm01, picked)
    assert from_text > 3000


def test_the_text_path_leaves_what_it_cannot_read_to_the_lines() -> None:
    claims = list(_claims(envelope(_LOOPS).encode("latin-1")))
    encoder = LineEncoder()
    assert _records_from_text(encoder, claims[0], [0, 1, 2, 3]) is not None
    assert _records_from_text(encoder, claims[0], [4]) is None  # no SV1
    assert _records_from_text(encoder, claims[0], None) is None
    escaped = list(_claims(dict(INPUTS)["escapes"]))
    assert all(_records_from_text(encoder, c, None) is None for c in escaped)
