"""Write the sample 837 files in this folder (run: python x12_samples/make_samples.py).

Every name, member id and date of birth here is invented. NDCs come from the rule pack's sample
crosswalk (rules/crosswalk_sample.csv, CMS ASP NDC-HCPCS crosswalk Oct 2025) with quantities
that agree with the CMS billable units, so clean claims are really clean.
"""

from __future__ import annotations

from datetime import datetime
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent


def npi(base9: str) -> str:
    """A 10-digit NPI with its Luhn check digit (prefix 80840)."""
    digits = "80840" + base9
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return base9 + str((10 - total % 10) % 10)


@dataclass
class Line:
    code: str
    units: str
    charge: str
    mods: tuple[str, ...] = ()
    pointers: str = "1"
    dos: str = "20260210"
    ndc: str | None = None
    qty: str = ""
    uom: str = ""
    lin02: str = "N4"
    desc: str = ""
    rev: str = "0636"
    basis: str = "UN"
    pos: str = ""
    auth: str = ""
    ref6r: str | None = None
    extra: list[str] = field(default_factory=list)


@dataclass
class Claim:
    clm01: str
    lines: list[Line]
    dx: list[tuple[str, str]] = field(default_factory=lambda: [("ABK", "Z5111")])
    pos: str = "11"
    auth: str = ""
    charge: str | None = None
    statement: str = "20260210-20260210"
    note: str = ""


@dataclass
class Person:
    last: str
    first: str
    member: str
    dob: str
    payer: str = "MEDCR1"
    payer_name: str = "MEDICARE PART B TEST"
    patient: "Person | None" = None  # a dependent (2000C) when set


@dataclass
class Provider:
    name: str
    npi: str
    tin: str


def _line(ln: Line, n: int, claim: Claim, kind: str) -> list[str]:
    """Loop 2400 (+2410) for an 837P (SV1) or 837I (SV2) line."""
    comp = ":".join(["HC", ln.code, *ln.mods]) if not ln.desc else ":".join(
        ["HC", ln.code, *(list(ln.mods) + [""] * (4 - len(ln.mods))), ln.desc])
    if kind == "P":
        sv = f"SV1*{comp}*{ln.charge}*{ln.basis}*{ln.units}*{ln.pos}**{ln.pointers}"
    else:
        sv = f"SV2*{ln.rev}*{comp}*{ln.charge}*{ln.basis}*{ln.units}"
    segs = [f"LX*{n}", sv]
    if ln.dos:
        segs.append(f"DTP*472*D8*{ln.dos}")
    segs.append(f"REF*6R*{ln.ref6r or f'{claim.clm01[:20]}-{n}'}")
    if ln.auth and kind == "P":  # line-level prior auth exists in the 837P only
        segs.append(f"REF*G1*{ln.auth}")
    if ln.ndc is not None:
        segs.append(f"LIN**{ln.lin02}*{ln.ndc}")
        if ln.qty:
            segs.append(f"CTP****{ln.qty}*{ln.uom}")
    return segs + ln.extra


def _total(claim: Claim) -> str:
    if claim.charge is not None:
        return claim.charge
    cents = sum(round(float(ln.charge) * 100) for ln in claim.lines)
    return f"{cents // 100}.{cents % 100:02d}" if cents % 100 else str(cents // 100)


def _claim_p(claim: Claim) -> list[str]:
    segs = [f"CLM*{claim.clm01}*{_total(claim)}***{claim.pos}:B:1*Y*A*Y*Y"]
    if claim.auth:
        segs.append(f"REF*G1*{claim.auth}")
    if claim.note:
        segs.append(f"NTE*ADD*{claim.note}")
    segs.append("HI*" + "*".join(f"{q}:{c}" for q, c in claim.dx))
    for n, ln in enumerate(claim.lines, start=1):
        segs += _line(ln, n, claim, "P")
    return segs


def _claim_i(claim: Claim) -> list[str]:
    segs = [f"CLM*{claim.clm01}*{_total(claim)}***13:A:1**A*Y*Y",
            f"DTP*434*RD8*{claim.statement}", "CL1*1*9*01"]
    if claim.auth:
        segs.append(f"REF*G1*{claim.auth}")
    for quals in (("ABK", "BK"), ("ABJ",), ("APR",), ("ABN",), ("ABF", "BF")):
        group = [(q, c) for q, c in claim.dx if q in quals]
        if group:  # 837I: one HI per kind (principal, admitting, reason, external, other)
            segs.append("HI*" + "*".join(f"{q}:{c}" for q, c in group))
    segs.append("NM1*71*1*ATTENDING*ALEX****XX*" + npi("112345678"))
    for n, ln in enumerate(claim.lines, start=1):
        segs += _line(ln, n, claim, "I")
    return segs


def transaction(st02: str, bht03: str, kind: str, tree: list[tuple[Provider, list[tuple[Person, list[Claim]]]]],
                version: str) -> list[str]:
    segs = [f"ST*837*{st02}*{version}",
            f"BHT*0019*00*{bht03}*20260301*1200*CH",
            "NM1*41*2*SAMPLE BILLING SERVICE*****46*SUBMIT01",
            "PER*IC*BILLING DESK*TE*5555550100",
            "NM1*40*2*SCRUB837 CLEARINGHOUSE*****46*CLRHOUSE"]
    hl = 0
    for prov, subscribers in tree:
        hl += 1
        prov_hl = hl
        segs += [f"HL*{hl}**20*1", "PRV*BI*PXC*207RH0003X" if kind == "P" else "PRV*BI*PXC*282N00000X",
                 f"NM1*85*2*{prov.name}*****XX*{prov.npi}", "N3*100 SAMPLE WAY",
                 "N4*SPRINGFIELD*IL*627010001", f"REF*EI*{prov.tin}"]
        for sub, claims in subscribers:
            hl += 1
            sub_hl = hl
            child = sub.patient is not None
            segs += [f"HL*{hl}*{prov_hl}*22*{1 if child else 0}",
                     f"SBR*P*{'' if child else '18'}*******{'MB' if sub.payer == 'MEDCR1' else 'CI'}",
                     f"NM1*IL*1*{sub.last}*{sub.first}****MI*{sub.member}",
                     "N3*200 EXAMPLE STREET", "N4*SPRINGFIELD*IL*627010002",
                     f"DMG*D8*{sub.dob}*F", f"NM1*PR*2*{sub.payer_name}*****PI*{sub.payer}"]
            if child:
                pat = sub.patient
                assert pat is not None
                hl += 1
                segs += [f"HL*{hl}*{sub_hl}*23*0", "PAT*19",
                         f"NM1*QC*1*{pat.last}*{pat.first}", "N3*200 EXAMPLE STREET",
                         "N4*SPRINGFIELD*IL*627010002", f"DMG*D8*{pat.dob}*M"]
            for claim in claims:
                segs += _claim_p(claim) if kind == "P" else _claim_i(claim)
    segs.append(f"SE*{len(segs) + 1}*{st02}")
    return segs


def isa(control: str, elem: str = "*", comp: str = ":", rep: str = "^", term: str = "~") -> str:
    f = ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SUBMIT01".ljust(15), "ZZ",
         "CLRHOUSE".ljust(15), "260301", "1200", rep, "00501", control, "0", "T", comp]
    return elem.join(f) + term


def interchange(control: str, groups: list[tuple[str, str, list[list[str]]]], *, elem: str = "*",
                comp: str = ":", rep: str = "^", term: str = "~", sep: str = "\n") -> str:
    """groups: (gs06, version, transactions)."""
    segs: list[str] = []
    for gs06, version, txns in groups:
        segs.append(f"GS*HC*SUBMIT01*CLRHOUSE*20260301*1200*{gs06}*X*{version}")
        for t in txns:
            segs += t
        segs.append(f"GE*{len(txns)}*{gs06}")
    segs.append(f"IEA*{len(groups)}*{control}")
    if elem != "*" or comp != ":":
        segs = [s.replace("*", elem).replace(":", comp) for s in segs]
    return isa(control, elem, comp, rep, term) + sep + "".join(s + term + sep for s in segs)


ONCO = Provider("RIVERSIDE ONCOLOGY ASSOCIATES", npi("123456789"), "371234567")
CLINIC = Provider("LAKESIDE FAMILY CLINIC", npi("223456789"), "372234567")
HOSP = Provider("MERCY SAMPLE HOSPITAL", npi("323456789"), "373234567")

P1 = Person("TESTPATIENT", "ALPHA", "MBR100000001", "19560312")
P2 = Person("SAMPLEPERSON", "BRAVO", "MBR100000002", "19620704")
P3 = Person("EXAMPLEONE", "CHARLIE", "MBR100000003", "19700101", "COMMA", "EXAMPLE COMMERCIAL A")
P4 = Person("DEMOSUBSCRIBER", "DELTA", "MBR100000004", "19801120", "COMMB", "EXAMPLE COMMERCIAL B",
            patient=Person("DEMODEPENDENT", "ECHO", "", "20100505"))

# Clean claims: quantities follow the CMS crosswalk billable units.
CLEAN = [
    (ONCO, [(P1, [
        Claim("CLEAN-J9262-001", [Line("J9262", "125", "1875", ("JZ",), "1:2", ndc="63459017714",
                                       qty="1.25", uom="ME"),
                                  Line("96401", "1", "120", pointers="1")],
              dx=[("ABK", "C9210"), ("ABF", "Z5111")]),
        Claim("CLEAN-J9299-002", [Line("J9299", "200", "5200", pointers="1", ndc="00003373413",
                                       qty="20", uom="ML"),
                                  Line("J9299", "40", "1040", ("JW",), "1", ndc="00003373413",
                                       qty="4", uom="ML"),
                                  Line("96413", "1", "300")],
              dx=[("ABK", "C3490")]),
    ]), (P2, [
        Claim("CLEAN-J0897-003", [Line("J0897", "60", "1800", ("JZ",), ndc="55513071001", qty="1",
                                       uom="UN"), Line("96372", "1", "40")],
              dx=[("ABK", "M810")]),
        Claim("CLEAN-J2506-004", [Line("J2506", "12", "4200", ("JZ",), "1:2", ndc="55513019001",
                                       qty="0.6", uom="ML")],
              dx=[("ABK", "D701"), ("ABF", "Z5111")]),
    ])]),
    (CLINIC, [(P3, [
        Claim("CLEAN-J2315-005", [Line("J2315", "380", "1600", ("JZ",), ndc="65757030001", qty="1",
                                       uom="UN"), Line("99213", "1", "110", ("25",))],
              dx=[("ABK", "F1120")], auth="PA-778812"),
    ]), (P4, [
        Claim("CLEAN-J9045-006", [Line("J9045", "12", "360", ndc="00703423901", qty="60", uom="ML"),
                                  Line("J2260", "4", "160", ndc="00143932610", qty="20", uom="ML")],
              dx=[("ABK", "C561"), ("ABF", "I5022")]),
    ])]),
]


def _d(clm01: str, line: Line, **kw: object) -> Claim:
    return Claim(clm01, [line], **kw)  # type: ignore[arg-type]


DENO = dict(ndc="55513071001", qty="1", uom="UN")

DEFECTS: list[tuple[Claim, list[str]]] = [
    (_d("DEF-UNITS-INVALID", Line("J0897", "0", "1800", ("JZ",), **DENO), dx=[("ABK", "M810")]),
     ["UNITS_INVALID"]),
    (_d("DEF-UNITS-FRACTIONAL", Line("J9262", "125.5", "1875", ("JZ",), ndc="63459017714",
                                     qty="1.255", uom="ME"), dx=[("ABK", "C9211")]),
     ["UNITS_FRACTIONAL"]),
    (_d("DEF-UNITS-BASIS", Line("J0897", "60", "1800", ("JZ",), basis="MJ", **DENO),
        dx=[("ABK", "M810")]), ["UNITS_BASIS"]),
    (_d("DEF-UNITS-OVER-MAX", Line("J2410", "3", "90", ndc="00000000000", qty="3", uom="ME"),
        dx=[("ABK", "G8918")]), ["UNITS_OVER_MAX"]),
    (_d("DEF-UNITS-NDC-MISMATCH", Line("J9262", "3", "1875", ("JZ",), ndc="63459017714", qty="3.5",
                                       uom="ME"), dx=[("ABK", "C9210")]), ["UNITS_NDC_MISMATCH"]),
    (Claim("DEF-MOD-JW-JZ-BOTH", [Line("J0897", "50", "1500", ndc="55513071001", qty="50", uom="ME"),
                                  Line("J0897", "10", "300", ("JW", "JZ"), ndc="55513071001",
                                       qty="10", uom="ME")], dx=[("ABK", "M810")]),
     ["MOD_JW_JZ_BOTH"]),
    (_d("DEF-MOD-WASTE-MISSING", Line("J0897", "60", "1800", **DENO), dx=[("ABK", "M810")]),
     ["MOD_WASTE_MISSING"]),
    (Claim("DEF-MOD-JW-MULTIDOSE", [Line("J3301", "4", "40", ndc="70121104902", qty="40", uom="ME"),
                                    Line("J3301", "1", "10", ("JW",), ndc="70121104902", qty="10",
                                         uom="ME")], dx=[("ABK", "M1711")]),
     ["MOD_JW_MULTIDOSE"]),
    (_d("DEF-MOD-JW-ORPHAN", Line("J9299", "40", "1040", ("JW",), ndc="00003373413", qty="4",
                                  uom="ML"), dx=[("ABK", "C3490")]), ["MOD_JW_ORPHAN"]),
    (_d("DEF-MOD-25-ON-DRUG", Line("J0897", "60", "1800", ("JZ", "25"), **DENO),
        dx=[("ABK", "M810")]), ["MOD_NOT_FOR_DRUG"]),
    (_d("DEF-MOD-JG-TB", Line("J0897", "60", "1800", ("JZ", "JG", "TB"), **DENO),
        dx=[("ABK", "M810")]), ["MOD_JG_TB"]),
    (_d("DEF-NDC-FORMAT", Line("J0897", "60", "1800", ("JZ",), ndc="55513-0710-01", qty="1",
                               uom="UN"), dx=[("ABK", "M810")]), ["NDC_FORMAT"]),
    (_d("DEF-NDC-QUALIFIER", Line("J0897", "60", "1800", ("JZ",), lin02="UP", ndc="012345678905",
                                  qty="1", uom="UN"), dx=[("ABK", "M810")]), ["NDC_QUALIFIER"]),
    (_d("DEF-NDC-QTY-ZERO", Line("J0897", "60", "1800", ("JZ",), ndc="55513071001", qty="0",
                                 uom="UN"), dx=[("ABK", "M810")]), ["NDC_QTY_INVALID"]),
    (_d("DEF-NDC-HCPCS-MISMATCH", Line("J2260", "4", "160", ndc="00409113403", qty="20", uom="ML"),
        dx=[("ABK", "I5022")]), ["NDC_HCPCS_MISMATCH"]),
    (_d("DEF-DX-POINTER", Line("J0897", "60", "1800", ("JZ",), "1:4", **DENO),
        dx=[("ABK", "M810"), ("ABF", "Z79899")]), ["DX_POINTER_INVALID"]),
    (_d("DEF-DX-INVALID", Line("J0897", "60", "1800", ("JZ",), **DENO), dx=[("ABK", "M8199")]),
     ["DX_CODE_INVALID"]),
    (_d("DEF-DX-NOT-BILLABLE", Line("J9262", "125", "1875", ("JZ",), ndc="63459017714",
                                    qty="1.25", uom="ME"), dx=[("ABK", "C921")]),
     ["DX_NOT_BILLABLE"]),
    (_d("DEF-DX-ICD9", Line("J0897", "60", "1800", ("JZ",), **DENO), dx=[("BK", "73300")]),
     ["DX_ICD9_QUALIFIER"]),
    (_d("DEF-DX-NOT-SUPPORTED", Line("J9262", "125", "1875", ("JZ",), ndc="63459017714",
                                     qty="1.25", uom="ME"), dx=[("ABK", "C9100")]),
     ["DX_NOT_SUPPORTED"]),
    (_d("DEF-NOC-NO-DESCRIPTION", Line("J3490", "1", "250", ndc="12345678901", qty="50",
                                       uom="ME"), dx=[("ABK", "M810")]),
     ["NOC_DESCRIPTION_MISSING"]),
    (_d("DEF-NOC-NO-NDC", Line("J3490", "1", "250", desc="NEWDRUGINE 50MG NDC 12345678901"),
        dx=[("ABK", "M810")]), ["NOC_NDC_MISSING"]),
    (_d("DEF-CODE-TERMINATED", Line("J2311", "2", "60", ("JZ",), dos="20250915",
                                    ndc="78670014002", qty="2", uom="ME"), dx=[("ABK", "T401X1A")]),
     ["CODE_NOT_EFFECTIVE", "NDC_HCPCS_MISMATCH"]),
    (_d("DEF-CODE-J1170-2025", Line("J1170", "1", "20", dos="20250110", ndc="00409131101",
                                    qty="2", uom="ME"), dx=[("ABK", "G8929")]),
     ["CODE_NOT_EFFECTIVE"]),
    (_d("DEF-CHARGE-MISMATCH", Line("J0897", "60", "1800", ("JZ",), **DENO), dx=[("ABK", "M810")],
        charge="2500"), ["CLAIM_CHARGE_MISMATCH"]),
    (Claim("DEF-LINE-6R-DUP", [Line("J0897", "60", "1800", ("JZ",), ref6r="SAME6R", **DENO),
                               Line("96372", "1", "40", ref6r="SAME6R")], dx=[("ABK", "M810")]),
     ["LINE_CONTROL_DUPLICATE"]),
    (_d("DEF-DOS-FUTURE", Line("J0897", "60", "1800", ("JZ",), dos="20991215", **DENO),
        dx=[("ABK", "M810")]), ["DOS_FUTURE"]),
    # J9997 is no HCPCS code (CMS HCPCS Level II, January 2026 covers the date of service)
    (_d("DEF-CODE-INVALID", Line("J9997", "1", "100", ndc="00074433902", qty="40", uom="ME"),
        dx=[("ABK", "C9210")]), ["CODE_INVALID"]),
]
# Payer COMMA (SBR09 CI, an overlay that requires the NDC): a Medicare Part B (MB) professional
# claim needs no NDC (rules/filing_indicators.toml), so the missing-NDC defect is billed here.
DEFECTS_COMMA: list[tuple[Claim, list[str]]] = [
    (_d("DEF-NDC-MISSING", Line("J0897", "60", "1800", ("JZ",)), dx=[("ABK", "M810")]),
     ["NDC_MISSING"]),
    (_d("DEF-AUTH-MISSING", Line("J2315", "380", "1600", ("JZ",), ndc="65757030001", qty="1",
                                 uom="UN"), dx=[("ABK", "F1020")]), ["AUTH_MISSING"]),
    (_d("DEF-POS-NOT-ALLOWED", Line("J2410", "1", "30", pos="11", auth="PA-1",
                                    ndc="00000000000", qty="1", uom="ME"), dx=[("ABK", "G8918")]),
     ["PAYER_POS_NOT_ALLOWED", "NDC_NOT_IN_CROSSWALK"]),
]
WARN_ONLY: list[tuple[Claim, list[str]]] = [
    # J9996 is no HCPCS code; dated after the HCPCS file's quarter it may be a new one
    (_d("WARN-CODE-UNKNOWN", Line("J9996", "1", "2500", dos="20260415", ndc="00074433902",
                                  qty="40", uom="ME"), dx=[("ABK", "M0579")]), []),
]
DUPLICATE = Claim("DEF-DUPLICATE-CLM01", [Line("J0897", "60", "1800", ("JZ",), **DENO)],
                  dx=[("ABK", "M810")])

IG_INVALID: list[tuple[Claim, list[str]]] = [
    (_d("IG-CTP-MISSING", Line("J0897", "60", "1800", ("JZ",), ndc="55513071001"),
        dx=[("ABK", "M810")]), ["NDC_CTP_MISSING"]),
    (_d("IG-UOM-EA", Line("J0897", "60", "1800", ("JZ",), ndc="55513071001", qty="1", uom="EA"),
        dx=[("ABK", "M810")]), ["NDC_UOM_INVALID"]),
    (_d("IG-DATE-20260230", Line("J0897", "60", "1800", ("JZ",), dos="20260230", **DENO),
        dx=[("ABK", "M810")]), ["CLAIM_DATE_INVALID"]),
    (_d("IG-NO-SERVICE-DATE", Line("J0897", "60", "1800", ("JZ",), dos="", **DENO),
        dx=[("ABK", "M810")]), ["LINE_DATE_MISSING"]),
    (_d("IG-BAD-CHARACTER", Line("J0897", "60", "1800", ("JZ",), **DENO), dx=[("ABK", "M810")],
        note="CALL BACK\x07"), ["BAD_CHARACTER"]),
]

INST = [
    Claim("OP-CLEAN-J9299-01", [Line("J9299", "240", "6240", ("JZ",), dos="20260212",
                                     ndc="00003373413", qty="24", uom="ML"),
                                Line("J2506", "12", "4100", ("JZ",), dos="20260212",
                                     ndc="55513019001", qty="0.6", uom="ML")],
          dx=[("ABK", "C3490"), ("APR", "R53.83".replace(".", "")), ("ABF", "Z5111")],
          statement="20260212-20260212"),
    Claim("OP-CLEAN-J2260-02", [Line("J2260", "8", "320", dos="", ndc="00143932610", qty="40",
                                     uom="ML")],
          dx=[("ABK", "I5023"), ("ABJ", "R0602")], statement="20260214-20260215"),
    Claim("OP-DEF-MUE-03", [Line("J2260", "20", "800", dos="20260216", ndc="00143932610",
                                 qty="100", uom="ML")],
          dx=[("ABK", "I5023")], statement="20260216-20260216"),
    Claim("OP-DEF-NDC-MISSING-04", [Line("J0897", "60", "1800", ("JZ",), dos="20260217")],
          dx=[("ABK", "M810")], statement="20260217-20260217"),
]


def main() -> None:
    out = HERE
    p_clean = transaction("0001", "CLEAN0001", "P", CLEAN, "005010X222A1")
    (out / "837p_clean.837").write_text(interchange("000000101", [("101", "005010X222A1", [p_clean])]))

    defects_tree = [(ONCO, [(P1, [c for c, _ in DEFECTS] + [DUPLICATE, DUPLICATE]
                             + [c for c, _ in WARN_ONLY]),
                            (P3, [c for c, _ in DEFECTS_COMMA])])]
    p_def = transaction("0001", "DEFECTS01", "P", defects_tree, "005010X222A1")
    (out / "837p_defects.837").write_text(interchange("000000102", [("102", "005010X222A1", [p_def])]))

    ig_tree = [(CLINIC, [(P2, [c for c, _ in IG_INVALID])])]
    p_ig = transaction("0001", "IGBAD0001", "P", ig_tree, "005010X222A1")
    (out / "837p_ig_invalid.837").write_text(interchange("000000103", [("103", "005010X222A1", [p_ig])]))

    inst = transaction("0001", "INSTOP001", "I", [(HOSP, [(P1, INST[:2]), (P2, INST[2:])])],
                       "005010X223A2")
    (out / "837i_outpatient.837").write_text(
        interchange("000000104", [("104", "005010X223A2", [inst])], sep="\r\n"), newline="")

    t1 = transaction("0001", "MULTI0001", "P", [(ONCO, [(P1, CLEAN[0][1][0][1][:1])])], "005010X222A1")
    t2 = transaction("0002", "MULTI0002", "P", [(ONCO, [(P2, CLEAN[0][1][1][1])])], "005010X222A1")
    t3 = transaction("0003", "MULTI0003", "P", [(CLINIC, [(P3, CLEAN[1][1][0][1])])], "005010X222A2")
    t4 = transaction("0004", "MULTI0004", "P", [(ONCO, [(P1, [DEFECTS[6][0]])])], "005010X222A1")
    first = interchange("000000105", [("105", "005010X222A1", [t1, t2]), ("106", "005010X222A2", [t3])])
    second = interchange("000000106", [("107", "005010X222A1", [t4])])
    (out / "837p_multi_isa.837").write_text(first + second)

    t5 = transaction("0001", "DELIM0001", "P", [(ONCO, [(P2, CLEAN[0][1][1][1])])], "005010X222A1")
    (out / "837p_delims.837").write_text(
        interchange("000000107", [("108", "005010X222A1", [t5])], elem="|", comp=">", rep="{",
                    term="!", sep=""))

    clean_text = (out / "837p_clean.837").read_text()
    cut = clean_text.index("CLM*CLEAN-J0897-003")
    (out / "bad_truncated.837").write_text(clean_text[: cut + 30])
    (out / "bad_not_x12.txt").write_text(
        "Claims for March are attached as a spreadsheet.\nPlease call the billing desk.\n")
    (out / "bad_empty.837").write_text("")
    remit = ["ST*835*0001", "BPR*I*1800*C*ACH*CCP*01*999999992*DA*123456*1512345678**01*999988880*DA*98765*20260310",
             "TRN*1*12345*1512345678", "DTM*405*20260310", "N1*PR*MEDICARE PART B TEST",
             "N3*1 PAYER PLAZA", "N4*CHICAGO*IL*60601", "N1*PE*RIVERSIDE ONCOLOGY ASSOCIATES*XX*"
             + ONCO.npi, "CLP*CLEAN-J0897-003*1*1800*1440**MB*260310000001*11*1",
             "SVC*HC>J0897>JZ*1800*1440**60".replace(">", ":"), "DTM*472*20260210"]
    remit.append(f"SE*{len(remit) + 1}*0001")
    segs = ["GS*HP*PAYER01*SUBMIT01*20260310*0900*201*X*005010X221A1", *remit, "GE*1*201",
            "IEA*1*000000201"]
    (out / "bad_835.x12").write_text(isa("000000201") + "\n" + "".join(s + "~\n" for s in segs))
    old = clean_text.replace("005010X222A1", "004010X098A1").replace("*00501*", "*00401*")
    (out / "bad_4010.837").write_text(old.replace("ISA*00*          *00*          *ZZ*SUBMIT01       *ZZ*CLRHOUSE       *260301*1200*^*",
                                                  "ISA*00*          *00*          *ZZ*SUBMIT01       *ZZ*CLRHOUSE       *260301*1200*U*"))
    se = [s for s in clean_text.split("~\n") if s.startswith("SE*")][0]
    count = int(se.split("*")[1])
    (out / "bad_count_mismatch.837").write_text(clean_text.replace(se, f"SE*{count + 3}*0001"))


def _dated(claim: Claim, institutional: bool) -> bool:
    """A drug line with a valid date of service: outside the shipped CMS tables' periods
    (the MUE tables are effective 2026-04-01, the crosswalk is October 2025), so DATA_PERIOD."""
    def valid(text: str) -> bool:
        try:
            datetime.strptime(text, "%Y%m%d")
        except ValueError:
            return False
        return True
    return any(ln.code.startswith("J") and valid(
        ln.dos or (claim.statement.split("-")[0] if institutional else "")) for ln in claim.lines)


def _claims_toml(rows: list[tuple[str, str, list[str], list[str]]]) -> str:
    out = []
    for clm01, verdict, rules, warns in rows:
        if clm01 in DATED:
            warns = sorted({*warns, "DATA_PERIOD"})
        out.append("[[file.claims]]\n" + f'clm01 = "{clm01}"\nverdict = "{verdict}"\n'
                   f"rules = {rules!r}\nwarnings = {warns!r}\n".replace("'", '"'))
    return "".join(out)


def _clean(claims: list[Claim], warn: dict[str, list[str]] | None = None) -> list[
        tuple[str, str, list[str], list[str]]]:
    return [(c.clm01, "accepted", [], (warn or {}).get(c.clm01, [])) for c in claims]


def manifest() -> str:
    global DATED
    everything = [c for _, subs in CLEAN for _, cs in subs for c in cs] + [
        c for c, _ in DEFECTS + WARN_ONLY + DEFECTS_COMMA + IG_INVALID] + INST + [DUPLICATE]
    DATED = {c.clm01 for c in everything if _dated(c, c in INST)}
    xw = "NDC_NOT_IN_CROSSWALK"
    j9262 = {"CLEAN-J9262-001": [xw]}
    clean_claims = [c for _, subs in CLEAN for _, cs in subs for c in cs]
    not_in_xw = {"DEF-UNITS-FRACTIONAL", "DEF-UNITS-OVER-MAX", "DEF-UNITS-NDC-MISMATCH",
                 "DEF-CODE-INVALID", "DEF-DX-NOT-BILLABLE", "DEF-DX-NOT-SUPPORTED",
                 "DEF-NOC-NO-DESCRIPTION", "DEF-CODE-J1170-2025"}
    defects = [(c.clm01, "rejected", r, [xw] if c.clm01 in not_in_xw else []) for c, r in DEFECTS]
    defects += [(DUPLICATE.clm01, "accepted", [], []),
                (DUPLICATE.clm01, "rejected", ["CLAIM_DUPLICATE"], [])]
    defects += [(c.clm01, "accepted", [], ["CODE_UNKNOWN", xw]) for c, _ in WARN_ONLY]
    defects += [(c.clm01, "rejected", r, []) for c, r in DEFECTS_COMMA]
    multi = [CLEAN[0][1][0][1][0], *CLEAN[0][1][1][1], *CLEAN[1][1][0][1]]
    files = [
        ("837p_clean.837", "837P", "clean 837P: two billing providers, four subscribers (one "
         "with a dependent patient, 2000C), six claims, drug lines with 2410 NDCs whose "
         "quantities agree with the CMS crosswalk, a JW waste line, LF after terminators",
         True, 1, 6, 10, _claims_toml(_clean(clean_claims, j9262))),
        ("837p_defects.837", "837P", "one claim per drug-line defect the IG allows (claim ids "
         "name the defect); payer COMMA claims exercise the example commercial overlay",
         True, 1, 34, 35, _claims_toml(defects)),
        ("837p_ig_invalid.837", "837P", "drug-line defects the implementation guide itself "
         "forbids (no CTP, CTP05-1 EA, 20260230): pyx12 rejects the file", False, 1, 3, 3,
         _claims_toml([(c.clm01, "rejected", r, []) for c, r in IG_INVALID])),
        ("837i_outpatient.837", "837I", "837I outpatient hospital (CLM05 13:A:1), revenue code "
         "0636 drug lines, HI with ABK/ABJ/APR/ABF, statement dates DTP*434, a line without "
         "DTP*472, CRLF after terminators", True, 1, 4, 5, _claims_toml(
             [(INST[0].clm01, "accepted", [], []), (INST[1].clm01, "accepted", [], []),
              (INST[2].clm01, "rejected", ["UNITS_OVER_MAX"], []),
              (INST[3].clm01, "rejected", ["NDC_MISSING"], [])])),
        ("837p_multi_isa.837", "837P", "two interchanges, two groups in the first (one with "
         "the 005010X222A2 errata), two transactions in one group", True, 4, 5, 5,
         _claims_toml(_clean(multi, j9262) + [
             ("DEF-MOD-WASTE-MISSING", "rejected", ["MOD_WASTE_MISSING"], [])])),
        ("837p_delims.837", "837P", "non-default delimiters: element |, component >, "
         "repetition {, terminator !, no line breaks", True, 1, 2, 2,
         _claims_toml(_clean(CLEAN[0][1][1][1]))),
    ]
    out = ["# Expected outcome of every sample (written by make_samples.py from its intent lists).",
           "# transactions/claims/drug_lines are counts in the file; rules = rejecting rule ids,",
           "# warnings = warning rule ids, per claim in file order.", ""]
    def drug_lines(claims: list[Claim]) -> int:
        return sum(1 for c in claims for ln in c.lines if ln.code.startswith("J"))

    defect_claims = ([c for c, _ in DEFECTS] + [DUPLICATE, DUPLICATE] + [c for c, _ in WARN_ONLY]
                     + [c for c, _ in DEFECTS_COMMA])
    counts = {"837p_clean.837": clean_claims, "837p_defects.837": defect_claims,
              "837p_ig_invalid.837": [c for c, _ in IG_INVALID], "837i_outpatient.837": INST,
              "837p_multi_isa.837": multi + [DEFECTS[6][0]],
              "837p_delims.837": CLEAN[0][1][1][1]}
    files = [(n, k, d, ig, t, len(counts[n]), drug_lines(counts[n]), b)
             for n, k, d, ig, t, _c, _dl, b in files]
    for name, kind, desc, ig, txns, claims, drugs, body in files:
        out.append(f'[[file]]\nname = "{name}"\nkind = "{kind}"\ndescription = "{desc}"\n'
                   f"ig_valid = {str(ig).lower()}\ntransactions = {txns}\nclaim_count = {claims}\n"
                   f"drug_lines = {drugs}\nexit_code = {1 if 'rejected' in body else 0}\n")
        out.append(body)
    bad = [("bad_truncated.837", "the file is truncated (cut inside a claim)", "truncated", 3),
           ("bad_not_x12.txt", "plain text", "does not start with an ISA", 3),
           ("bad_empty.837", "0 bytes", "empty", 3),
           ("bad_835.x12", "an 835 remittance, not a claim file", "'835' is not an 837", 3),
           ("bad_4010.837", "an 837 in the retired 004010 version", "004010X098A1", 3),
           ("bad_count_mismatch.837", "SE01 is wrong: every claim of the transaction is "
            "rejected", "SE01", 1)]
    for name, desc, message, code in bad:
        out.append(f'[[file]]\nname = "{name}"\nkind = "bad"\ndescription = "{desc}"\n'
                   f'ig_valid = false\nexpect_message = "{message}"\nexit_code = {code}\n')
    return "\n".join(out)


DATED: set[str] = set()

if __name__ == "__main__":
    main()
    (HERE / "MANIFEST.toml").write_text(manifest())
