"""Every drug code from the built-in CMS data (issue 12), on 837s built here: for codes outside
the hand-written pack, a passing and a failing claim from real CMS rows (units through the
crosswalk, NDC-to-code, MUE with MAI 1/2/3, add and termination dates, a biosimilar Q-code, an
837I line with revenue code 0636), and a line with a date span held against the daily MUE times
its days (issue 17 item 2). The CMS rows used are quoted and checked against the data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from scrub837.verdicts.results import TransactionResult
from scrub837.rulebook import load_rulebook
from scrub837.scrubber import Scrubber
from tests.x12text import envelope

TODAY = date(2026, 12, 1)
SCRUBBER = Scrubber(today=TODAY)
RB = SCRUBBER.rulebook


@dataclass(frozen=True)
class L:
    """One service line: code, units, and the 2410 NDC / quantity / unit (or no NDC)."""

    code: str
    units: str
    ndc: str = ""
    qty: str = ""
    uom: str = "UN"
    dos: str = "20260210"
    dates: str = ""  # "D8*..." or "RD8*...-..." (default D8*dos)


def claim_837p(lines: list[L], payer: str = "PAYER01") -> str:
    body = [
        "BHT*0019*00*CMS12*20260301*1200*CH",
        "NM1*41*2*SUBMITTER CLINIC*****46*SUB01", "PER*IC*BILLING*TE*5555550100",
        "NM1*40*2*CLEARHOUSE*****46*CH01",
        "HL*1**20*1", "NM1*85*2*INFUSION CENTER*****XX*1234567893", "N3*1 MAIN ST",
        "N4*SPRINGFIELD*IL*627010001", "REF*EI*123456789",
        "HL*2*1*22*0", "SBR*P*18*******CI", "NM1*IL*1*TESTPATIENT*ALPHA****MI*MEMBER0001",
        "N3*2 ELM ST", "N4*SPRINGFIELD*IL*627010001", "DMG*D8*19600101*F",
        f"NM1*PR*2*TEST PAYER*****PI*{payer}",
        f"CLM*CMS12-1*{100 * len(lines)}***11:B:1*Y*A*Y*Y", "HI*ABK:Z5111",
    ]
    for i, ln in enumerate(lines, start=1):
        body += [f"LX*{i}", f"SV1*HC:{ln.code}*100*UN*{ln.units}***1",
                 f"DTP*472*{ln.dates or 'D8*' + ln.dos}", f"REF*6R*L{i}"]
        if ln.ndc:
            body += [f"LIN**N4*{ln.ndc}", f"CTP****{ln.qty}*{ln.uom}"]
    return envelope(body)


def claim_837i(lines: list[L]) -> str:
    body = [
        "BHT*0019*00*CMS12I*20260301*1200*CH",
        "NM1*41*2*SUBMITTER HOSPITAL*****46*SUB01", "PER*IC*BILLING*TE*5555550100",
        "NM1*40*2*CLEARHOUSE*****46*CH01",
        "HL*1**20*1", "NM1*85*2*GENERAL HOSPITAL*****XX*1234567893", "N3*1 MAIN ST",
        "N4*SPRINGFIELD*IL*627010001", "REF*EI*123456789",
        "HL*2*1*22*0", "SBR*P*18*******MB", "NM1*IL*1*TESTPATIENT*ALPHA****MI*MEMBER0001",
        "N3*2 ELM ST", "N4*SPRINGFIELD*IL*627010001", "DMG*D8*19600101*F",
        "NM1*PR*2*TEST PAYER*****PI*PAYER01",
        f"CLM*CMS12-I*{100 * len(lines)}***13:A:1**A*Y*Y", "DTP*434*RD8*20260210-20260210",
        "CL1*1*1*01", "HI*ABK:K50919",
    ]
    for i, ln in enumerate(lines, start=1):
        body += [f"LX*{i}", f"SV2*0636*HC:{ln.code}*100*UN*{ln.units}",
                 f"DTP*472*D8*{ln.dos}", f"REF*6R*L{i}"]
        if ln.ndc:
            body += [f"LIN**N4*{ln.ndc}", f"CTP****{ln.qty}*{ln.uom}"]
    return envelope(body, version="005010X223A2")


def verdict(text: str) -> tuple[str, set[str], set[str]]:
    """(verdict, rejecting rule ids, warning rule ids) of the one claim in ``text``."""
    claims = [c for item in SCRUBBER.results(text.encode(), "t.837")
              if isinstance(item, TransactionResult) for c in item.claims]
    assert len(claims) == 1
    c = claims[0]
    return c.verdict.value, {f.rule_id for f in c.rejecting}, {f.rule_id for f in c.warnings}


# Real rows of the CMS ASP NDC-HCPCS crosswalk, October 2025 (code, NDC2, drug, PKG SIZE,
# PKG QTY, BILLUNITS) and what a line of them bills; none of these codes is in rules/codes.
XW = [
    ("J9271", "00006-3026-02", "Keytruda", "4", "1", "100"),
    ("Q5103", "00069-0809-01", "Inflectra", "1", "1", "10"),
    ("J9155", "55566-8303-01", "Firmagon", "1", "1", "80"),
    ("J3245", "47335-0177-95", "Ilumya", "1", "1", "100"),
    ("J9204", "42747-0761-01", "Poteligeo", "5", "1", "20"),
    ("J0872", "70594-0060-01", "Daptomycin", "1", "1", "500"),
    ("J9246", "72893-0001-01", "Evomela", "1", "1", "50"),
    ("J0650", "25021-0468-10", "Levothyroxine Sodium", "1", "1", "10"),
    ("J0589", "72960-0112-01", "Daxxify", "1", "1", "100"),
    ("J0402", "59148-0102-80", "Abilify Asimtufii", "2.4", "1", "720"),
    ("J2779", "50242-0078-12", "Susvimo", "0.1", "1", "100"),
    ("J0666", "65250-0133-04", "Exparel", "10", "4", "133"),
    ("J1096", "70382-0204-01", "Dextenza", "1", "1", "4"),
    ("Q2050", "00338-0063-01", "Doxil", "10", "1", "2"),
    ("Q4081", "55513-0126-10", "Epogen", "1", "10", "20"),
    ("J0178", "61755-0005-01", "Eylea", "0.05", "1", "2"),
]


def _ndc(text: str) -> str:
    a, b, c = text.split("-")
    return a.zfill(5) + b.zfill(4) + c.zfill(2)


def test_the_quoted_rows_are_real_crosswalk_rows_and_not_pack_codes() -> None:
    for code, ndc2, drug, size, qty, bu in XW:
        entries = [e for e in RB.crosswalk_for(_ndc(ndc2)) if e.hcpcs == code]
        assert entries, (code, ndc2)
        e = entries[0]
        assert (e.drug_name, e.pkg_size, e.pkg_qty, e.bill_units) == (
            drug, Decimal(size), Decimal(qty), Decimal(bu)), code
        assert code not in RB.codes
    outside = {row[0] for row in XW} | {"J9270", "J0654", "J9997", "J7207", "A9585", "J9286",
                                        "J1580"}
    assert len(outside - set(RB.codes)) >= 20


@pytest.mark.parametrize(("code", "ndc2", "drug", "size", "qty", "bu"), XW,
                         ids=[row[0] for row in XW])
def test_units_through_the_crosswalk(code: str, ndc2: str, drug: str, size: str, qty: str,
                                     bu: str) -> None:
    """One package (CTP 1 UN) is BILLUNITS billing units: billed so it passes; billed as one
    unit per package (the mistake the issue saw with J9271 and Q5103) it is rejected."""
    ndc = _ndc(ndc2)
    assert verdict(claim_837p([L(code, bu, ndc, "1")]))[:2] == ("accepted", set())
    wrong = "1" if bu != "1" else "2"
    got, rules, _ = verdict(claim_837p([L(code, wrong, ndc, "1")]))
    assert got == "rejected" and "UNITS_NDC_MISMATCH" in rules, rules


def test_pembrolizumab_two_vials_are_200_units() -> None:
    """The issue's first case: J9271 2 units with CTP****2*UN of 00006-3026-02."""
    assert verdict(claim_837p([L("J9271", "200", "00006302602", "2")]))[:2] == ("accepted", set())
    assert "UNITS_NDC_MISMATCH" in verdict(claim_837p([L("J9271", "2", "00006302602", "2")]))[1]
    # 4 mL of the 100 mg / 4 mL vial (PKG SIZE 4): 100 units
    assert verdict(claim_837p([L("J9271", "100", "00006302602", "4", "ML")]))[1] == set()


@pytest.mark.parametrize(("code", "ok", "bad", "ctp", "uom"), [
    ("A9585", "75", "7", "7.5", "ML"),  # gadobutrol, per 0.1 ml: 7.5 mL is 75 units
    ("J9286", "1", "2", "2.5", "ME"),  # glofitamab, 2.5 mg: 2.5 mg is 1 unit
    ("J1580", "2", "1", "100", "ME"),  # gentamicin, up to 80 mg: 100 mg rounds up to 2
])
def test_units_from_the_hcpcs_descriptor(code: str, ok: str, bad: str, ctp: str,
                                         uom: str) -> None:
    ndc = next(r[2] for r in RB.data.records("crosswalk")[code] if r[2])
    assert verdict(claim_837p([L(code, ok, ndc, ctp, uom)]))[1] == set()
    assert "UNITS_NDC_MISMATCH" in verdict(claim_837p([L(code, bad, ndc, ctp, uom)]))[1]


def test_ndc_of_another_code() -> None:
    """Q5103 billed with the Keytruda NDC: the crosswalk lists it under J9271."""
    got, rules, _ = verdict(claim_837p([L("Q5103", "40", "00006302602", "1")]))
    assert got == "rejected" and "NDC_HCPCS_MISMATCH" in rules


def test_a_biosimilar_q_code_is_a_drug_line() -> None:
    assert RB.is_drug_code("Q5103") and not RB.is_drug_code("Q0091")  # a Pap smear
    assert verdict(claim_837p([L("Q5103", "40", "00069080901", "4")]))[:2] == ("accepted", set())
    assert "UNITS_NDC_MISMATCH" in verdict(claim_837p([L("Q5103", "4", "00069080901", "4")]))[1]


def test_837i_revenue_code_0636_line() -> None:
    assert verdict(claim_837i([L("Q5103", "40", "00069080901", "4")]))[:2] == (
        "accepted", set())
    got, rules, _ = verdict(claim_837i([L("Q5103", "4", "00069080901", "4")]))
    assert got == "rejected" and "UNITS_NDC_MISMATCH" in rules
    # the outpatient hospital table: Q5103 MUE 150
    over = verdict(claim_837i([L("Q5103", "160", "00069080901", "16")]))[1]
    assert "UNITS_OVER_MAX" in over


def test_termination_and_add_dates() -> None:
    """J9270 (plicamycin) terminated 2025-12-31; J0654 (liothyronine) added 2026-01-01. Payer
    COMMB (the example overlay without the NDC requirement) so no NDC is needed."""
    assert RB.code("J9270").terminated == date(2025, 12, 31)  # type: ignore[union-attr]
    ok = verdict(claim_837p([L("J9270", "1", dos="20251210")], payer="COMMB"))
    assert ok[:2] == ("accepted", set())
    assert "CODE_NOT_EFFECTIVE" in verdict(
        claim_837p([L("J9270", "1", dos="20260210")], payer="COMMB"))[1]
    assert verdict(claim_837p([L("J0654", "10", dos="20260115")], payer="COMMB"))[1] == set()
    assert "CODE_NOT_EFFECTIVE" in verdict(
        claim_837p([L("J0654", "10", dos="20251210")], payer="COMMB"))[1]


def test_a_code_cms_does_not_define() -> None:
    got, rules, _ = verdict(claim_837p([L("J9997", "1")], payer="COMMB"))
    assert got == "rejected" and "CODE_INVALID" in rules
    # after the HCPCS file's quarter it may be a new code: a warning
    got, rules, warns = verdict(claim_837p([L("J9997", "1", dos="20260715")], payer="COMMB"))
    assert (got, rules) == ("accepted", set()) and "CODE_UNKNOWN" in warns
    # the file lists terminated codes back to 2014-06-30: J1550 (gamma globulin, deleted
    # before that; a real 2004 claim in the corpus bills it) is not known to be invalid in 2004
    hcpcs = RB.data.table("hcpcs")
    assert hcpcs is not None and hcpcs.history == date(2014, 6, 30)
    got, rules, warns = verdict(claim_837p([L("J1550", "1", dos="20040711")], payer="COMMB"))
    assert (got, rules) == ("accepted", set()) and "CODE_UNKNOWN" in warns
    assert "CODE_INVALID" in verdict(claim_837p([L("J1550", "1", dos="20150711")],
                                                payer="COMMB"))[1]


def test_mue_mai_3_sums_the_lines_of_a_date() -> None:
    """J9155 (degarelix): practitioner MUE 240, MAI 3; one vial is 80 units."""
    assert RB.max_units("J9155", "P") == (Decimal(240), "CMS NCCI MUE Practitioner Services, "
                                          "effective 2026-04-01, MAI 3")
    ndc = "55566830301"
    ok = [L("J9155", "160", ndc, "2"), L("J9155", "80", ndc, "1")]
    assert verdict(claim_837p(ok))[1] == set()
    bad = [L("J9155", "160", ndc, "2"), L("J9155", "160", ndc, "2")]
    assert "UNITS_OVER_MAX" in verdict(claim_837p(bad))[1]


def test_mue_mai_2_sums_and_mai_1_holds_each_line() -> None:
    eylea = RB.mue("J0178", "P")  # aflibercept: MUE 4, MAI 2
    assert eylea is not None and (eylea.units, eylea.mai) == (4, 2)
    ndc = "61755000501"
    assert verdict(claim_837p([L("J0178", "2", ndc, "1"), L("J0178", "2", ndc, "1")]))[1] == set()
    assert "UNITS_OVER_MAX" in verdict(claim_837p([L("J0178", "2", ndc, "1")] * 3))[1]
    factor = RB.mue("J7207", "P")  # Adynovate, per IU: MUE 22500, MAI 1 (per claim line)
    assert factor is not None and (factor.units, factor.mai) == (22500, 1)
    ndc = "00944462201"
    two = [L("J7207", "15000", ndc, "15000", "F2"), L("J7207", "15000", ndc, "15000", "F2")]
    assert verdict(claim_837p(two))[1] == set()  # 30000 on the day, but each line is in
    assert "UNITS_OVER_MAX" in verdict(claim_837p([L("J7207", "23000", ndc, "23000", "F2")]))[1]


# issue 17 item 2: the TR3 home-infusion example
SPAN_LINE = "SV1*HC:J0696*682.50*UN*56*12**1"
SPAN_DATES = "DTP*472*RD8*20040201-20040207"


def _span_claim(dates: str) -> str:
    text = claim_837p([L("J0696", "56")], payer="COMMB")
    return text.replace("SV1*HC:J0696*100*UN*56***1", SPAN_LINE).replace(
        "DTP*472*D8*20260210", dates).replace("CLM*CMS12-1*100*", "CLM*CMS12-1*682.50*")


def test_a_date_span_is_held_to_the_daily_mue_times_its_days() -> None:
    mue = RB.mue("J0696", "P")
    assert mue is not None and mue.units == 16  # ceftriaxone, per 250 mg: 16 a day
    text = _span_claim(SPAN_DATES)
    assert SPAN_LINE in text and SPAN_DATES in text
    got, rules, _ = verdict(text)
    assert "UNITS_OVER_MAX" not in rules and got == "accepted", rules  # 56 over 7 days: 8 a day
    two_days = verdict(_span_claim("DTP*472*RD8*20040201-20040202"))[1]
    assert "UNITS_OVER_MAX" in two_days  # 56 over 2 days: 28 a day
    one_day = verdict(_span_claim("DTP*472*D8*20040201"))[1]
    assert "UNITS_OVER_MAX" in one_day


def test_findings_cite_the_cms_tables() -> None:
    items = list(SCRUBBER.results(claim_837p([L("J9271", "2", "00006302602", "2")]).encode()))
    findings = [f for item in items if isinstance(item, TransactionResult)
                for c in item.claims for f in c.findings]
    mismatch = next(f for f in findings if f.rule_id == "UNITS_NDC_MISMATCH")
    assert "CMS HCPCS Level II, January 2026" in mismatch.source
    period = next(f for f in findings if f.rule_id == "DATA_PERIOD")
    assert "CMS ASP NDC-HCPCS crosswalk, October 2025" in period.message
    assert "CMS NCCI MUE Practitioner Services, effective 2026-04-01" in period.message
    assert all("REFERENCE" not in f.source for f in findings)


def test_a_pack_overlay_keeps_its_judgement_over_the_cms_facts() -> None:
    rb = load_rulebook()
    j9262 = rb.code("J9262")
    assert j9262 is not None and j9262.container == "single-dose" and j9262.dx_supported
    assert j9262.source == "CMS HCPCS Level II, January 2026" and j9262.in_cms
    assert rb.codes["J9262"].file == "rules/codes/J9262.toml"


def test_extract_sees_priced_codes_and_prefix_still_narrows(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    path = tmp_path / "q.837"
    path.write_text(claim_837p([L("Q5103", "40", "00069080901", "4"), L("J9271", "200",
                                                                        "00006302602", "2")]))
    def codes(*extra: str) -> list[str]:
        proc = subprocess.run([sys.executable, "-m", "scrub837", "extract", str(path), *extra],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return [json.loads(x)["line"]["code"] for x in proc.stdout.splitlines()]
    assert codes() == ["Q5103", "J9271"]
    assert codes("--prefix", "J") == ["J9271"]


def test_a_terminated_code_names_the_hcpcs_cross_reference() -> None:
    """J9010 (alemtuzumab) terminated 2015-12-31; the HCPCS file cross-references J0202."""
    items = SCRUBBER.results(claim_837p([L("J9010", "1")], payer="COMMB").encode())
    found = [f for item in items if isinstance(item, TransactionResult) for c in item.claims
             for f in c.findings if f.rule_id == "CODE_NOT_EFFECTIVE"]
    assert len(found) == 1 and "use J0202" in found[0].message
    assert "CMS HCPCS Level II, January 2026" in found[0].message
