"""Issue 17: real claims a payer would pay are not rejected, and broken interchanges get one
answer. Each test is built from the segment the issue quotes (items 1, 3, 4, 5, 7, 9, 10)."""

from __future__ import annotations

import shutil
import stat
from functools import lru_cache
from pathlib import Path

import pytest

from scrub837.findings import Finding, Severity
from scrub837.run.pipeline import ScrubResult
from scrub837.rulebook import RulePackError, load_rulebook
from scrub837.scrubber import Scrubber
from tests.compare import assert_same_outputs
from tests.conftest import ROOT, SAMPLES, SHARED
from tests.test_cli import cli
from tests.x12text import CLAIM_P, envelope


@lru_cache(maxsize=2)
def scrubber(reject_pre_errata: bool = False) -> Scrubber:
    return Scrubber(reject_pre_errata=reject_pre_errata)


def _scrub(text: str, **kw: bool) -> ScrubResult:
    return scrubber(**kw).scrub(text.encode("latin-1"), "t.837")


def _findings(result: ScrubResult) -> list[Finding]:
    return [f for t in result.transactions for c in t.claims for f in c.findings]


def _rules(result: ScrubResult) -> set[str]:
    return {f.rule_id for f in _findings(result)}


def _837i(dates: list[str]) -> list[str]:
    return [
        "BHT*0019*00*B2*20260301*1200*CH",
        "NM1*41*2*SUBMITTER*****46*S1",
        "NM1*40*2*RECEIVER*****46*R1",
        "HL*1**20*1",
        "NM1*85*2*HOSPITAL*****XX*1234567893",
        "HL*2*1*22*0",
        "SBR*P*18*******CI",
        "NM1*IL*1*TESTPATIENT*BETA****MI*M2",
        "NM1*PR*2*PAYER*****PI*PAYER1",
        "CLM*I-1*150***11:A:1**A*Y*Y",
        *dates,
        "HI*ABK:C9210",
        "LX*1",
        "SV2*0300*HC:85025*150*UN*1",
        "DTP*472*D8*20050617",
    ]


# -- item 1: every DTP qualifier takes the formats the TR3 allows for it ------------------------

def test_837i_admission_hour_and_discharge_hour_are_dates_not_errors() -> None:
    # LinuxForHealth 837_005010X223A3/out-of-network-repriced-claim.837i, ppo-repriced-claim.837i
    result = _scrub(envelope(_837i(["DTP*434*RD8*20050617-20050618", "DTP*435*DT*200506170800",
                                    "DTP*096*TM*0900"]), version="005010X223A2"))
    assert "CLAIM_DATE_INVALID" not in _rules(result)
    assert result.summary.accepted == 1


@pytest.mark.parametrize("dtp", ["DTP*435*DT*200506172500",  # hour 25
                                 "DTP*435*DT*20050617",  # DT needs CCYYMMDDHHMM
                                 "DTP*096*TM*0960",  # minute 60
                                 "DTP*096*D8*20050618",  # 837I 096 is the discharge hour (TM)
                                 "DTP*434*RD8*20050618-20050617",  # range out of order
                                 "DTP*435*TM*0800"])  # an admission is a date
def test_837i_dates_in_a_format_the_tr3_does_not_allow_for_the_qualifier(dtp: str) -> None:
    result = _scrub(envelope(_837i([dtp]), version="005010X223A2"))
    bad = [f for f in _findings(result) if f.rule_id == "CLAIM_DATE_INVALID"]
    assert len(bad) == 1 and bad[0].location.path.endswith("/DTP03")
    assert dtp.split("*")[1] in bad[0].message


def test_837p_discharge_is_a_date() -> None:
    body = CLAIM_P[:CLAIM_P.index("HI*ABK:C9210*ABF:Z5111")] + ["DTP*096*D8*20260214"] + \
        CLAIM_P[CLAIM_P.index("HI*ABK:C9210*ABF:Z5111"):]
    assert "CLAIM_DATE_INVALID" not in _rules(_scrub(envelope(body)))
    tm = [s.replace("DTP*096*D8*20260214", "DTP*096*TM*0900") for s in body]
    assert "CLAIM_DATE_INVALID" in _rules(_scrub(envelope(tm)))


@pytest.mark.parametrize("name", ["out-of-network-repriced-claim.837i", "ppo-repriced-claim.837i"])
def test_the_linuxforhealth_repriced_837i_files_have_no_date_finding(name: str) -> None:
    path = SHARED / "corpus" / "linuxforhealth-x12" / "837_005010X223A3" / name
    if not path.is_file():
        pytest.skip("../shared/corpus is absent")
    result = scrubber().scrub(path.read_bytes(), name)
    assert "CLAIM_DATE_INVALID" not in _rules(result)
    assert result.summary.rejected == 0


# -- item 3: an unlisted drug's description as people write it; an NDC in 2410 counts -----------

def _noc(description: str, lin: bool = True) -> str:
    body = [s for s in CLAIM_P if not s.startswith(("LIN", "CTP"))]
    at = body.index("SV1*HC:J9262:JZ*400*UN*125***1:2")
    body[at] = f"SV1*HC:J3490:::::{description}*67.69*UN*1***1"
    body[body.index("CLM*CLAIM-1*500***11:B:1*Y*A*Y*Y")] = "CLM*CLAIM-1*167.69***11:B:1*Y*A*Y*Y"
    if lin:
        body[at + 3:at + 3] = ["LIN**N4*00338004938", "CTP****7*UN"]
    return envelope(body)


@pytest.mark.parametrize("description", ["Sod Chl 0.9%see NDC#", "Sod Chl 0.9% see NDC#"])
def test_noc_description_with_the_ndc_in_2410(description: str) -> None:
    # demo.drug.example10.3.837: SV1*HC:J3490:::::Sod Chl 0.9%see NDC#... with LIN**N4*00338004938
    result = _scrub(_noc(description))
    assert not {"NOC_DESCRIPTION_MISSING", "NOC_NDC_MISSING"} & _rules(result)


def test_noc_without_2410_still_needs_the_ndc_and_a_dose_is_still_required() -> None:
    no_lin = _findings(_scrub(_noc("Sod Chl 0.9%see NDC#", lin=False)))
    desc = [f for f in no_lin if f.rule_id == "NOC_DESCRIPTION_MISSING"]
    assert len(desc) == 1 and desc[0].message.endswith("; missing NDC")
    assert "NOC_NDC_MISSING" in {f.rule_id for f in no_lin}
    no_dose = [f for f in _findings(_scrub(_noc("Hep Lock see NDC#")))
               if f.rule_id == "NOC_DESCRIPTION_MISSING"]
    assert len(no_dose) == 1 and "dose" in no_dose[0].message
    assert "missing NDC" not in no_dose[0].message and ", NDC" not in no_dose[0].message


# -- item 4: the claim filing indicator (SBR09) decides the NDC default --------------------------

def _cob(sbr09: str, ndc: str | None = None) -> str:
    # the TR3's payer-to-payer COB example line: SV1*HC:J3301*21.04*UN*1***1:2, no 2410
    body = [s for s in CLAIM_P if not s.startswith(("LIN", "CTP"))]
    at = body.index("SV1*HC:J9262:JZ*400*UN*125***1:2")
    body[at] = "SV1*HC:J3301*21.04*UN*1***1:2"
    body[body.index("CLM*CLAIM-1*500***11:B:1*Y*A*Y*Y")] = "CLM*CLAIM-1*121.04***11:B:1*Y*A*Y*Y"
    body[body.index("SBR*P*18*******CI")] = f"SBR*P*18*******{sbr09}"
    if ndc is not None:
        body[at + 3:at + 3] = [f"LIN**N4*{ndc}", "CTP****1*UN"]
    return envelope(body)


@pytest.mark.parametrize(("sbr09", "rejected"), [("CI", True), ("MB", False), ("MC", True)])
def test_ndc_required_by_claim_filing_indicator(sbr09: str, rejected: bool) -> None:
    result = _scrub(_cob(sbr09))
    assert ("NDC_MISSING" in _rules(result)) is rejected
    assert result.summary.rejected == int(rejected)


def test_the_tr3_cob_example_is_accepted_as_medicare_part_b() -> None:
    path = SHARED / "corpus" / "linuxforhealth-x12" / "837_005010X222A2" / \
        "demo.cob.example3.A.837"
    if not path.is_file():
        pytest.skip("../shared/corpus is absent")
    data = path.read_bytes()
    assert b"SBR*P********CI~" in data and b"SV1*HC:J3301*21.04*UN*1.00***1:2~" in data
    commercial = scrubber().scrub(data, path.name)
    assert "NDC_MISSING" in _rules(commercial)  # the pack default for commercial plans
    part_b = scrubber().scrub(data.replace(b"SBR*P********CI~", b"SBR*P********MB~"), path.name)
    assert "NDC_MISSING" not in _rules(part_b) and part_b.summary.rejected == 0


def test_medicare_part_b_ndc_when_present_must_still_be_valid() -> None:
    assert "NDC_FORMAT" in _rules(_scrub(_cob("MB", ndc="70121-1049-02")))


def test_a_payer_overlay_wins_over_the_filing_indicator(tmp_path: Path) -> None:
    (tmp_path / "no_ndc.toml").write_text(
        '[payer]\nname = "Medicaid plan without NDC"\npayer_ids = ["MEDCR1"]\n'
        'source = "test"\nndc_required = false\n')
    result = Scrubber(payer_overlays=tmp_path).scrub(_cob("MC").encode(), "t.837")
    assert "NDC_MISSING" not in _rules(result)


def test_filing_indicator_defaults_are_data_with_sources() -> None:
    classes = load_rulebook().filing_classes
    assert classes["MC"].ndc_required is True and "Deficit Reduction Act of 2005 §6002" in \
        classes["MC"].source
    assert classes["MB"].ndc_required is False and classes["MB"].claim_kinds == {"P"}
    assert "CI" not in classes  # commercial: the pack default and the payer overlays


# -- item 5: pre-errata versions are scrubbed with a warning ------------------------------------

def test_pre_errata_837p_is_scrubbed_with_a_version_warning() -> None:
    result = _scrub(envelope(CLAIM_P, version="005010X222"))
    warning = [f for t in result.transactions for f in t.findings]
    assert [f.rule_id for f in warning] == ["X12_VERSION_PRE_ERRATA"]
    assert warning[0].severity is Severity.WARN and "005010X222A1" in warning[0].message
    assert result.summary.exit_code == 0 and result.summary.accepted == 1
    assert b"STC*A1:20" in result.ack_277


def test_pre_errata_837i_and_the_option_that_rejects_it() -> None:
    text = envelope(_837i([]), version="005010X223")
    assert _scrub(text).summary.accepted == 1
    strict = _scrub(text, reject_pre_errata=True)
    assert strict.summary.rejected == 1 and strict.summary.exit_code == 1
    assert "X12_VERSION_PRE_ERRATA" in _rules(strict)


def test_pre_errata_on_the_command_line(tmp_path: Path) -> None:
    src = tmp_path / "old.837"
    src.write_text(envelope(CLAIM_P, version="005010X222"))
    loose = cli("scrub", str(src), "--out", str(tmp_path / "a"))
    assert loose.returncode == 0, loose.stderr
    current = _scrub(envelope(CLAIM_P)).summary.warnings  # the same claim as 005010X222A1
    assert "1 accepted, 0 rejected" in loose.stdout
    assert f"{current + 1} warnings" in loose.stdout
    strict = cli("scrub", str(src), "--out", str(tmp_path / "b"), "--reject-pre-errata")
    assert strict.returncode == 1 and "0 accepted, 1 rejected" in strict.stdout
    validated = cli("scrub", str(src), "--out", str(tmp_path / "v"), "--validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr  # pyx12's X222A1 map
    assert b"IK5*A" in (tmp_path / "v" / "old.837.999").read_bytes()
    src.write_text(envelope(CLAIM_P, version="004010X098A1"))
    old = cli("scrub", str(src), "--out", str(tmp_path / "c"))
    assert old.returncode == 3 and "'004010X098A1' is not supported" in old.stderr


# -- item 7: TA1 for an interchange envelope problem -------------------------------------------

def _molina() -> str:
    """Four claims; IEA02 000001770 after ISA13 000001508 (a real mock file's envelope)."""
    claims = []
    for n in range(1, 5):
        claims += [s.replace("CLAIM-1", f"CLAIM-{n}").replace("LINE1", f"L{n}A")
                   .replace("LINE2", f"L{n}B") for s in CLAIM_P[CLAIM_P.index(
                       "CLM*CLAIM-1*500***11:B:1*Y*A*Y*Y"):]]
    body = CLAIM_P[:CLAIM_P.index("CLM*CLAIM-1*500***11:B:1*Y*A*Y*Y")] + claims
    text = envelope(body, control="000001508")
    return text.replace("IEA*1*000001508", "IEA*1*000001770")


def _ta1_segments(data: bytes) -> list[list[str]]:
    return [s.strip().split("*") for s in data.decode("ascii").split("~") if s.strip()]


def test_iea02_not_isa13_gets_a_ta1_and_every_output_agrees(tmp_path: Path) -> None:
    src = tmp_path / "molina.837"
    src.write_text(_molina())
    proc = cli("scrub", str(src), "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr  # the four claims were accepted
    assert "4 claims, 4 accepted, 0 rejected" in proc.stdout
    assert "interchange 000001508 accepted with errors (TA1 E 001" in proc.stdout
    ta1 = tmp_path / "out" / "molina.837.ta1"
    assert stat.S_IMODE(ta1.stat().st_mode) == 0o600
    segs = _ta1_segments(ta1.read_bytes())
    assert [s[0] for s in segs] == ["ISA", "TA1", "IEA"]
    isa, answer, iea = segs
    assert len(isa) == 17 and isa[8].strip() == "SUBMITTER" and isa[14] == "0"  # no TA1 back
    assert answer[1:] == ["000001508", "260301", "1200", "E", "001"]  # ISA13, ISA09, ISA10
    assert iea == ["IEA", "0", isa[13]]
    ack = (tmp_path / "out" / "molina.837.277").read_bytes()
    assert ack.count(b"STC*A1:20") == 4
    accepted = (tmp_path / "out" / "molina.837.accepted.837").read_bytes()
    assert accepted.count(b"CLM*") == 4
    assert not (tmp_path / "out" / "molina.837.rejected.837").exists()


def test_wrong_iea01_count_is_ta105_021() -> None:
    result = _scrub(envelope(CLAIM_P).replace("IEA*1*", "IEA*2*"))
    assert [(a.status, a.note) for a in result.summary.interchanges] == [("E", "021")]
    assert _ta1_segments(result.ta1)[1][4:] == ["E", "021"]
    assert result.summary.exit_code == 0


def test_an_interchange_cut_before_its_first_se_is_rejected() -> None:
    text = envelope(CLAIM_P)
    cut = text[:text.index("SE*")]
    result = _scrub(cut)
    assert [(a.status, a.note) for a in result.summary.interchanges] == [("R", "023")]
    assert result.summary.exit_code == 3 and result.summary.claims == 0


def test_only_the_interchange_with_a_problem_is_answered() -> None:
    good = envelope(CLAIM_P, control="000000001")
    bad = envelope([s.replace("CLAIM-1", "CLAIM-9") for s in CLAIM_P], control="000000002")
    result = _scrub(good + bad.replace("IEA*1*000000002", "IEA*1*000000003"))
    got = [(a.isa13, a.status, a.note) for a in result.summary.interchanges]
    assert got == [("000000002", "E", "001")]
    assert result.summary.accepted == 2


def test_a_clean_file_gets_no_ta1() -> None:
    result = _scrub(envelope(CLAIM_P))
    assert result.summary.interchanges == () and result.ta1 == b""


# -- item 9: control characters in the loops a claim belongs to --------------------------------

def test_nul_and_bel_in_the_subscriber_name_reject_the_claim() -> None:
    body = [s.replace("NM1*IL*1*TESTPATIENT", "NM1*IL*1*VA\x00\x07UGHN") for s in CLAIM_P]
    found = [f for f in _findings(_scrub(envelope(body))) if f.rule_id == "BAD_CHARACTER"]
    assert len(found) == 1 and found[0].rejects
    assert "0x00" in found[0].message
    assert found[0].location.path == "2000A/2000B/2010BA/NM103"
    assert found[0].location.clm01 == "CLAIM-1"


def test_bad_character_in_the_billing_provider_loop() -> None:
    body = [s.replace("N3*1 MAIN ST", "N3*1 MAIN\x1bST") for s in CLAIM_P]
    found = [f for f in _findings(_scrub(envelope(body))) if f.rule_id == "BAD_CHARACTER"]
    assert [f.location.path for f in found] == ["2000A/2010AA/N301"]


# -- item 10: PAYER_POS_NOT_ALLOWED names the place of service ---------------------------------

def test_payer_pos_not_allowed_is_status_249_place_of_service() -> None:
    definition = load_rulebook().edit("PAYER_POS_NOT_ALLOWED")
    assert definition is not None and [str(s) for s in definition.stc] == ["A8:249"]
    # the sample claim billing J2410 in POS 11 to payer COMMA (POS 19/21/22/23 only)
    data = (SAMPLES / "837p_defects.837").read_bytes()
    result = scrubber().scrub(data, "837p_defects.837")
    claim = next(c for t in result.transactions for c in t.claims
                 if c.claim.clm01 == "DEF-POS-NOT-ALLOWED")
    pos = [f for f in claim.findings if f.rule_id == "PAYER_POS_NOT_ALLOWED"]
    assert len(pos) == 1 and [str(s) for s in pos[0].stc] == ["A8:249"]
    ack = result.ack_277.decode()
    answer = ack[ack.index("TRN*2*DEF-POS-NOT-ALLOWED"):].split("TRN*2*")[1]
    assert "A8:249" in answer and "A8:507" not in answer


def test_an_interchange_that_asks_for_a_ta1_gets_one() -> None:
    text = envelope(CLAIM_P)
    at = text.index("*0*P*:")  # ISA14 0 -> 1: acknowledgment requested
    result = _scrub(text[:at] + "*1*P*:" + text[at + 6:])
    assert [(a.status, a.note) for a in result.summary.interchanges] == [("A", "000")]
    assert _ta1_segments(result.ta1)[1][4:] == ["A", "000"]


def test_a_requested_ta1_in_parts_is_the_one_of_one_process(tmp_path: Path) -> None:
    src = tmp_path / "multi.837"  # two interchanges, both asking for a TA1 (ISA14 1)
    src.write_bytes((SAMPLES / "837p_multi_isa.837").read_bytes().replace(b"*0*T*:", b"*1*T*:"))
    one = cli("scrub", str(src), "--out", str(tmp_path / "one"))
    two = cli("scrub", str(src), "--out", str(tmp_path / "two"), "--jobs", "2",
              "--split-min-mb", "0")
    assert one.returncode == two.returncode == 1 and one.stdout == two.stdout
    assert "multi.837.ta1" in assert_same_outputs(tmp_path / "one", tmp_path / "two")
    answers = [s[1:] for s in _ta1_segments((tmp_path / "two" / "multi.837.ta1").read_bytes())
               if s[0] == "TA1"]
    assert [a[3:] for a in answers] == [["A", "000"], ["A", "000"]]
    assert answers[0][0] != answers[1][0]


@pytest.mark.parametrize(("old", "new", "key", "message"), [
    ('claim_kinds = ["P"]', 'claim_kinds = ["X"]', "MB.claim_kinds", "claim kinds"),
    ("[MB]", "[M-B]", "M-B", "claim filing indicator"),
    ("ndc_required = false", 'ndc_required = false\nndc_requried = true', "MB.ndc_requried",
     "unknown key"),
])
def test_a_broken_filing_indicator_file_names_the_file_and_key(tmp_path: Path, old: str,
                                                               new: str, key: str,
                                                               message: str) -> None:
    pack = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", pack)
    path = pack / "filing_indicators.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RulePackError) as err:
        load_rulebook(pack)
    assert "filing_indicators.toml" in str(err.value) and key in str(err.value)
    assert message in str(err.value)


def test_a_pack_without_filing_indicators_uses_the_pack_default(tmp_path: Path) -> None:
    pack = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", pack)
    (pack / "filing_indicators.toml").unlink()
    result = Scrubber(pack).scrub(_cob("MB").encode(), "t.837")
    assert "NDC_MISSING" in _rules(result)
