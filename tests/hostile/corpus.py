"""The broken-input corpus: each class of bad input with the answer it must get.

Each case builds its bytes (or a chunk generator for very large ones) and names the expected
answer: ``failure`` (the file cannot be read as X12; the message must contain ``expect``), or
``finding`` (the file is read; a finding with rule id ``expect`` must appear).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tests.x12text import CLAIM_P, envelope, isa

GOOD = envelope(CLAIM_P)


def _claim(clm01: str = "CLAIM-2", extra: list[str] | None = None) -> list[str]:
    body = [
        f"CLM*{clm01}*100***11:B:1*Y*A*Y*Y",
        "HI*ABK:C9210",
        "LX*1",
        "SV1*HC:J9262:JZ*100*UN*125***1",
        "DTP*472*D8*20260215",
        "REF*6R*L1",
        "LIN**N4*63459017714",
        "CTP****1.25*ME",
    ]
    return body + (extra or [])


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def _837i_body() -> list[str]:
    return [
        "BHT*0019*00*B2*20260301*1200*CH",
        "NM1*41*2*SUBMITTER*****46*S1",
        "NM1*40*2*RECEIVER*****46*R1",
        "HL*1**20*1",
        "NM1*85*2*HOSPITAL*****XX*1234567893",
        "HL*2*1*22*0",
        "SBR*P*18*******MB",
        "NM1*IL*1*TESTPATIENT*BETA****MI*M2",
        "NM1*PR*2*PAYER*****PI*MEDCR1",
        "CLM*I-1*50***13:A:1**A*Y*Y",
        "DTP*434*RD8*20260201-20260202",
        "HI*ABK:C9210",
        "LX*1",
        "SV2*0636*HC:J9262*50*UN*1",
        "DTP*472*D8*20260201",
    ]


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[], bytes | Iterator[bytes]]
    kind: str  # "failure" | "finding" | "warning"
    expect: str


def _never_ending() -> Iterator[bytes]:
    yield isa().encode() + b"\nGS*HC*S*R*20260301*1200*1*X*005010X222A1~ST*837*0001*005010X222A1~NTE*ADD*"
    block = b"A" * (1 << 20)
    for _ in range(100):  # 100 MB, never terminated
        yield block


def _many_elements() -> bytes:
    return _replace(GOOD, "NM1*40*2*CLEARHOUSE*****46*CH01",
                    "NM1*40" + "*X" * 1_000_000).encode()


def _many_hl() -> bytes:
    body = CLAIM_P[:10]
    subs = []
    for i in range(2, 100_002):
        subs += [f"HL*{i}*1*22*0", "SBR*P*18*******CI", "NM1*IL*1*TESTPATIENT*X****MI*M",
                 "NM1*PR*2*P*****PI*MEDCR1"]
    return envelope(body[:4] + ["HL*1**20*1", body[5]] + subs).encode()


CASES: tuple[Case, ...] = (
    Case("empty file", lambda: b"", "failure", "empty"),
    Case("whitespace only", lambda: b"\n\n   \r\n", "failure", "no 837"),
    Case("plain text", lambda: b"Dear billing office,\nplease find attached our claims.\n",
         "failure", "does not start with an ISA"),
    Case("binary noise", lambda: bytes(range(256)) * 40, "failure", "binary"),
    Case("utf-16 text", lambda: GOOD.encode("utf-16"), "failure", "UTF-16"),
    Case("byte-order mark", lambda: b"\xef\xbb\xbf" + GOOD.encode(), "warning", "X12_IRREGULAR"),
    Case("ISA shorter than 106 bytes (unpadded)",
         lambda: GOOD.replace("SUBMITTER      ", "SUBMITTER").encode(), "warning", "X12_IRREGULAR"),
    Case("ISA cut short", lambda: isa()[:50].encode(), "failure", "ISA segment is incomplete"),
    Case("delimiters collide", lambda: isa(comp="*").encode() + b"GS*HC~", "failure", "collide"),
    Case("alphanumeric delimiter", lambda: isa(term="A").encode(), "failure", "letter, digit"),
    Case("terminator never comes (100 MB segment)", _never_ending, "failure", "longer than"),
    Case("segment with 10^6 elements", _many_elements, "failure", "longer than"),
    Case("10^5 HL loops under one parent", _many_hl, "finding", "ok"),
    Case("repeated ISA without IEA",
         lambda: (GOOD.replace("IEA*1*000000001~\n", "") + GOOD).encode(), "finding",
         "X12_ENVELOPE"),
    Case("IEA02 differs from ISA13", lambda: _replace(GOOD, "IEA*1*000000001", "IEA*1*000000999")
         .encode(), "finding", "X12_CONTROL_NUMBER"),
    Case("IEA01 count wrong", lambda: _replace(GOOD, "IEA*1*", "IEA*3*").encode(), "finding",
         "X12_COUNT"),
    Case("GE01 count wrong", lambda: _replace(GOOD, "GE*1*1", "GE*4*1").encode(), "finding",
         "X12_COUNT"),
    Case("GE02 differs from GS06", lambda: _replace(GOOD, "GE*1*1", "GE*1*2").encode(), "finding",
         "X12_CONTROL_NUMBER"),
    Case("SE01 count wrong", lambda: _replace(GOOD, f"SE*{len(CLAIM_P) + 2}*", "SE*7*").encode(),
         "finding", "X12_COUNT"),
    Case("SE02 differs from ST02", lambda: _replace(GOOD, f"SE*{len(CLAIM_P) + 2}*0001",
                                                    f"SE*{len(CLAIM_P) + 2}*0002").encode(),
         "finding", "X12_CONTROL_NUMBER"),
    Case("an 835 inside the file", lambda: (GOOD + envelope(
        ["BPR*I*100*C*ACH", "TRN*1*1*1"], control="000000002", version="005010X221A1")
        .replace("ST*837", "ST*835")).encode(), "finding", "X12_UNSUPPORTED"),
    Case("a 270 inside the file", lambda: (GOOD + envelope(
        ["BHT*0022*13*1*20260301*1200"], control="000000002", version="005010X279A1")
        .replace("ST*837", "ST*270")).encode(), "finding", "X12_UNSUPPORTED"),
    Case("an 004010 837 inside the file", lambda: (GOOD + envelope(
        CLAIM_P, control="000000002", version="004010X098A1")).encode(), "finding",
        "X12_UNSUPPORTED"),
    Case("837P and 837I in one interchange", lambda: _replace(
        GOOD, "GE*1*1~\n", "GE*1*1~\n" + "\n".join(
            envelope(_837i_body(), version="005010X223A2").split("\n")[1:-2]) + "\n"
    ).replace("IEA*1*", "IEA*2*").encode(), "finding", "ok"),
    Case("invalid date 20250230", lambda: _replace(GOOD, "DTP*472*D8*20260215",
                                                   "DTP*472*D8*20250230").encode(),
         "claim", "CLAIM_DATE_INVALID"),
    Case("CLM02 is not the sum of the lines", lambda: _replace(GOOD, "CLM*CLAIM-1*500",
                                                               "CLM*CLAIM-1*900").encode(),
         "claim", "CLAIM_CHARGE_MISMATCH"),
    Case("duplicate CLM01", lambda: envelope(CLAIM_P + _claim("CLAIM-1")).encode(),
         "claim", "CLAIM_DUPLICATE"),
    Case("duplicate REF*6R", lambda: _replace(GOOD, "REF*6R*LINE2", "REF*6R*LINE1").encode(),
         "claim", "LINE_CONTROL_DUPLICATE"),
    Case("control characters in elements", lambda: _replace(
        GOOD, "NM1*IL*1*TESTPATIENT", "NM1*IL*1*TEST\x07PAT").encode(), "finding", "ok"),
    Case("control character in the claim", lambda: _replace(
        GOOD, "REF*G1*AUTH123", "REF*G1*AU\x01TH").encode(), "claim", "BAD_CHARACTER"),
    Case("non-ASCII byte in the claim", lambda: _replace(
        GOOD, "REF*G1*AUTH123", "REF*G1*AUTH\xe9").encode("latin-1"), "claim", "BAD_CHARACTER"),
    Case("NUL bytes in a segment", lambda: _replace(GOOD, "REF*G1*AUTH123", "REF*G1*A\x00\x00")
         .encode(), "claim", "BAD_CHARACTER"),
    Case("empty segments", lambda: GOOD.replace("~\n", "~~\n", 5).encode(), "finding", "ok"),
    Case("garbage after IEA", lambda: (GOOD + "THIS IS NOT A NEW INTERCHANGE").encode(),
         "failure", "after IEA"),
    Case("only ISA and IEA", lambda: (isa() + "IEA*0*000000001~").encode(), "failure", "no 837"),
    Case("file ends after GE (no IEA)", lambda: GOOD[: GOOD.index("IEA")].encode(), "failure",
         "has no IEA"),
    Case("truncated mid-segment", lambda: GOOD[: GOOD.index("CTP") + 5].encode(), "failure",
         "truncated"),
    Case("ST outside GS", lambda: GOOD.replace("GS*HC*SUBMITTER*CLEARHOUSE*20260301*1200*1*X*"
                                               "005010X222A1~\n", "").encode(),
         "finding", "X12_ENVELOPE"),
    Case("ST inside an open ST", lambda: _replace(GOOD, "HL*1**20*1",
                                                  "ST*837*0009*005010X222A1~\nHL*1**20*1")
         .encode(), "finding", "X12_ENVELOPE"),
    Case("CLM before any HL", lambda: envelope(CLAIM_P[:4] + _claim()).encode(), "finding",
         "X12_STRUCTURE"),
    Case("HL with an unknown level", lambda: _replace(GOOD, "HL*2*1*22*0", "HL*2*1*99*0")
         .encode(), "finding", "X12_STRUCTURE"),
    Case("HL pointing to a missing parent", lambda: _replace(GOOD, "HL*2*1*22*0", "HL*2*7*22*0")
         .encode(), "finding", "X12_STRUCTURE"),
    Case("composite with too many components", lambda: _replace(
        GOOD, "SV1*HC:96401*100", "SV1*HC:96401:25:::::DESC:EXTRA:MORE*100").encode(),
         "finding", "ok"),
    Case("LIN without CTP", lambda: _replace(GOOD, "CTP****1.25*ME~\n", "").replace(
        f"SE*{len(CLAIM_P) + 2}*", f"SE*{len(CLAIM_P) + 1}*").encode(), "claim",
         "NDC_CTP_MISSING"),
    Case("LX without SV1", lambda: _replace(GOOD, "SV1*HC:96401*100*UN*1***1~\n", "").replace(
        f"SE*{len(CLAIM_P) + 2}*", f"SE*{len(CLAIM_P) + 1}*").encode(), "finding", "ok"),
    Case("4010 interchange with U in ISA11", lambda: envelope(
        CLAIM_P, version="004010X098A1", rep="U").encode(), "finding", "X12_UNSUPPORTED"),
    Case("errata version 005010X222A2", lambda: envelope(CLAIM_P, version="005010X222A2")
         .encode(), "finding", "ok"),
    Case("segment terminator is a newline", lambda: envelope(CLAIM_P, term="\n", sep="")
         .encode(), "finding", "ok"),
    Case("CRLF after every terminator", lambda: envelope(CLAIM_P, sep="\r\n").encode(),
         "finding", "ok"),
    Case("very long element value", lambda: _replace(GOOD, "NM1*40*2*CLEARHOUSE",
                                                     "NM1*40*2*" + "C" * 50_000).encode(),
         "finding", "ok"),
)
