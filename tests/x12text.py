"""Small helpers that write 837 text for tests (real X12, built segment by segment)."""

from __future__ import annotations


def isa(control: str = "000000001", *, elem: str = "*", comp: str = ":", rep: str = "^",
        term: str = "~") -> str:
    fields = ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SUBMITTER".ljust(15), "ZZ",
              "CLEARHOUSE".ljust(15), "260301", "1200", rep, "00501", control, "0", "P", comp]
    return elem.join(fields) + term


def envelope(body: list[str], *, control: str = "000000001", st02: str = "0001",
             version: str = "005010X222A1", elem: str = "*", comp: str = ":", rep: str = "^",
             term: str = "~", sep: str = "\n") -> str:
    """An interchange with one group and one transaction around ``body`` segments."""
    segs = [
        f"GS*HC*SUBMITTER*CLEARHOUSE*20260301*1200*1*X*{version}",
        f"ST*837*{st02}*{version}",
        *body,
    ]
    count = len(segs) - 1 + 1  # ST..SE
    segs.append(f"SE*{count}*{st02}")
    segs.append("GE*1*1")
    segs.append(f"IEA*1*{control}")
    text = [s.replace("*", elem).replace(":", comp) for s in segs]
    return isa(control, elem=elem, comp=comp, rep=rep, term=term) + sep + (term + sep).join(text) + term + sep


CLAIM_P = [
    "BHT*0019*00*BATCH1*20260301*1200*CH",
    "NM1*41*2*SUBMITTER CLINIC*****46*SUB01",
    "PER*IC*BILLING*TE*5555550100",
    "NM1*40*2*CLEARHOUSE*****46*CH01",
    "HL*1**20*1",
    "NM1*85*2*ONCOLOGY GROUP*****XX*1234567893",
    "N3*1 MAIN ST",
    "N4*SPRINGFIELD*IL*627010001",
    "REF*EI*123456789",
    "HL*2*1*22*0",
    "SBR*P*18*******CI",
    "NM1*IL*1*TESTPATIENT*ALPHA****MI*MEMBER0001",
    "N3*2 ELM ST",
    "N4*SPRINGFIELD*IL*627010001",
    "DMG*D8*19600101*F",
    "NM1*PR*2*MEDICARE TEST*****PI*MEDCR1",
    "CLM*CLAIM-1*500***11:B:1*Y*A*Y*Y",
    "REF*G1*AUTH123",
    "HI*ABK:C9210*ABF:Z5111",
    "LX*1",
    "SV1*HC:J9262:JZ*400*UN*125***1:2",
    "DTP*472*D8*20260215",
    "REF*6R*LINE1",
    "LIN**N4*63459017714",
    "CTP****1.25*ME",
    "LX*2",
    "SV1*HC:96401*100*UN*1***1",
    "DTP*472*D8*20260215",
    "REF*6R*LINE2",
]
