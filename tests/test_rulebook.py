from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from scrub837.rulebook import (
    BUILTIN_RULE_IDS,
    RulePackError,
    check_pack,
    load_crosswalk,
    load_mue,
    load_rulebook,
)
from scrub837.scrubber import Scrubber, iter_findings
from tests.conftest import ROOT, SAMPLES, SHARED

REQUIRED = ("J2260 J2700 J2320 J9262 J2311 J2410 J2315 J2270 J2274 J1950 J3490 J1170 J3010 "
            "J2765 J2310 J0570 J0592 J9045 J9299 J9301 J3590 J9999").split()
EXTRACTS = SHARED / "domain" / "cms_extracts"


def test_whole_pack_loads_and_covers_the_codes() -> None:
    rb = load_rulebook()
    assert set(REQUIRED) <= set(rb.codes)
    assert all(r in rb.edits for r in BUILTIN_RULE_IDS)
    assert check_pack().problems == ()
    assert rb.code("J3490").unlisted and rb.code("J9999").unlisted
    j2311 = rb.code("J2311")
    assert j2311.terminated.isoformat() == "2025-06-30" and "zimhi" in j2311.descriptor.lower()
    assert "naltrexone" in j2311.seed_says


def test_pack_ships_in_the_wheel(tmp_path: Path) -> None:
    import subprocess
    import sys
    import zipfile

    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel = next(tmp_path.glob("scrub837-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("pack.toml", "edits.toml", "codes.toml", "crosswalk_sample.csv",
                 "payers/default.toml"):
        assert f"scrub837/rules/{name}" in names


@pytest.mark.skipif(not EXTRACTS.is_dir(), reason="../shared/domain/cms_extracts not present")
def test_pack_values_equal_the_cms_extracts() -> None:
    rb = load_rulebook()
    for row in csv.DictReader(open(EXTRACTS / "hcpcs_2026Q1.csv", encoding="utf-8")):
        rule = rb.code(row["HCPC"])
        if rule is None:
            continue
        assert rule.descriptor == row["LONG DESCRIPTION"]
        assert rule.effective.strftime("%Y%m%d") == row["ADD DT"]
        assert (rule.terminated.strftime("%Y%m%d") if rule.terminated else "") == row["TERM DT"]
    for file, kind in (("mue_practitioner_2026Q2.csv", "P"),
                       ("mue_outpatient_hospital_2026Q2.csv", "I")):
        for row in csv.reader(open(EXTRACTS / file, encoding="utf-8")):
            if row[0] in rb.codes:
                assert rb.max_units(row[0], kind)[0] == Decimal(row[1])


def _cms_crosswalk(path: Path, rows: list[list[str]]) -> Path:
    header = ["_2026_CODE", "Short Description", "LABELER NAME", "NDC2", "Drug Name",
              "HCPCS dosage", "PKG SIZE", "PKG QTY", "BILLUNITS", "BILLUNITSPKG"]
    with open(path, "w", newline="", encoding="cp1252") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(["January 2026 ASP NDC - HCPCS Crosswalk"])
        w.writerow(["Effective January 1, 2026 through March 31, 2026"])
        for _ in range(6):
            w.writerow([])
        w.writerow(header)
        for r in rows:
            w.writerow(r)
    return path


def test_crosswalk_in_cms_layout(tmp_path: Path) -> None:
    path = _cms_crosswalk(tmp_path / "xw.csv", [
        ["J9262", "Inj, omacetaxine", "Teva Pharmaceuticals USA, Inc.", "63459-0177-14",
         "Synribo\n", "0.01 MG", "3.5", "1", "350", "350"],
        ["J2260", "Inj milrinone", "Caf\u00e9 Labs", "0143-9326-10", "Milrinone", "5 MG", "20",
         "10", "4", "40"],
        ["J1100", "Dexamethasone", "X", "ALT-ID-123", "Dexa", "1 MG", "", "", "", ""],
    ])
    xw = load_crosswalk(path)
    assert xw["63459017714"][0].bill_units == Decimal(350)
    assert xw["63459017714"][0].drug_name == "Synribo"
    assert xw["00143932610"][0].labeler == "Caf\u00e9 Labs"  # cp1252
    assert len(xw) == 2  # the alternate id is not an NDC


def test_crosswalk_option_changes_verdicts(tmp_path: Path) -> None:
    path = _cms_crosswalk(tmp_path / "xw.csv", [
        ["J9262", "Inj, omacetaxine", "Teva", "63459-0177-14", "Synribo", "0.01 MG", "3.5", "1",
         "350", "350"]])
    data = (SAMPLES / "837p_clean.837").read_bytes()
    default = {f.rule_id for f in iter_findings(data, Scrubber())}
    loaded = {f.rule_id for f in iter_findings(data, Scrubber(crosswalk=path))}
    assert "NDC_NOT_IN_CROSSWALK" in default
    assert {"NDC_NOT_IN_CROSSWALK"} & loaded == set() or "NDC_HCPCS_MISMATCH" not in loaded


def _mue(path: Path, title: str, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["CPT codes, descriptions and other data only are copyright 2025 American "
                    "Medical Association.\nAll rights reserved."])
        w.writerow(["HCPCS/\nCPT Code", title, "MUE Adjudication Indicator", "MUE Rationale"])
        for r in rows:
            w.writerow(r)
    return path


def test_mue_in_cms_layout_overrides_the_pack(tmp_path: Path) -> None:
    path = _mue(tmp_path / "mue.csv", "Practitioner Services MUE Values",
                [["J2410", "5", "3 Date of Service Edit: Clinical", "Clinical: Data"]])
    kind, table = load_mue(path)
    assert kind == "practitioner" and table["J2410"].value == 5 and table["J2410"].mai == 3
    rb = load_rulebook(mue=[path])
    assert rb.max_units("J2410", "P")[0] == 5 and "mue.csv" in rb.max_units("J2410", "P")[1]
    data = (SAMPLES / "837p_defects.837").read_bytes()
    rules = [f for f in iter_findings(data, Scrubber(mue=[path]))
             if f.location.clm01 == "DEF-UNITS-OVER-MAX" and f.rule_id == "UNITS_OVER_MAX"]
    assert rules == []  # 3 units is within the loaded MUE of 5


def _pack(tmp_path: Path) -> Path:
    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "rules", pack)
    return pack


@pytest.mark.parametrize(("file", "old", "new", "where"), [
    ("pack.toml", "[settings]", "[settings\n", "pack.toml"),
    ("edits.toml", 'severity = "reject"', 'severity = "maybe"', "severity"),
    ("edits.toml", 'stc = ["A7:476"]', 'stc = ["A7-476"]', "UNITS_INVALID.stc"),
    ("edits.toml", 'title = "JW and JZ on one line"', 'title = "JW and JZ on one line"\ntitel = "x"',
     "MOD_JW_JZ_BOTH.titel"),
    ("edits.toml", 'message = "{code}: units', 'message = "{code.__class__}: units',
     "UNITS_INVALID.message"),
    ("codes.toml", "effective = 2014-01-01", 'effective = "2014"', "J9262.effective"),
    ("codes.toml", 'amount = "0.01"', 'amount = "x"', "billing_unit.amount"),
    ("payers/example_commercial_a.toml", "NDC_NOT_IN_CROSSWALK = \"reject\"",
     "NO_SUCH_RULE = \"reject\"", "NO_SUCH_RULE"),
    ("payers/example_commercial_b.toml", '"COMMB"', '"COMMA"', "payer_ids"),
])
def test_broken_rule_files_name_file_and_key(tmp_path: Path, file: str, old: str, new: str,
                                             where: str) -> None:
    pack = _pack(tmp_path)
    target = pack / file
    text = target.read_text()
    assert old in text
    target.write_text(text.replace(old, new, 1))
    with pytest.raises(RulePackError) as err:
        load_rulebook(pack)
    assert Path(file).name in str(err.value) and where in str(err.value)


@pytest.mark.parametrize(("content", "where"), [
    ("no header here\n1,2,3\n", "header"),
    ("_2025_CODE,NDC2,BILLUNITS\nJ2260,00143-9326-10,four\n", "line 2"),
])
def test_broken_crosswalk(tmp_path: Path, content: str, where: str) -> None:
    path = tmp_path / "xw.csv"
    path.write_text(content)
    with pytest.raises(RulePackError) as err:
        load_crosswalk(path)
    assert "xw.csv" in str(err.value) and where in str(err.value)


def test_broken_mue(tmp_path: Path) -> None:
    path = _mue(tmp_path / "mue.csv", "Practitioner Services MUE Values",
                [["J2410", "two", "3 Date of Service Edit: Clinical", "x"]])
    with pytest.raises(RulePackError) as err:
        load_mue(path)
    assert "mue.csv" in str(err.value) and "line 5" in str(err.value)
    (tmp_path / "x.csv").write_text("a,b\n")
    with pytest.raises(RulePackError, match="no MUE header"):
        load_mue(tmp_path / "x.csv")


def test_every_edit_has_a_failing_and_a_passing_case_in_real_837_text() -> None:
    """Each built-in rule id fires on some claim of the defect samples (real 837 text) and on
    none of the clean sample's claims."""
    scrubber = Scrubber()
    failing: set[str] = set()
    for name in ("837p_defects.837", "837p_ig_invalid.837", "837i_outpatient.837"):
        failing |= {f.rule_id for f in iter_findings((SAMPLES / name).read_bytes(), scrubber)}
    clean = {f.rule_id for f in iter_findings((SAMPLES / "837p_clean.837").read_bytes(),
                                              scrubber)}
    missing = set(BUILTIN_RULE_IDS) - failing
    assert missing == set(), missing
    assert clean <= {"NDC_NOT_IN_CROSSWALK"}


def test_overlays_are_chosen_by_payer_id() -> None:
    rb = load_rulebook()
    assert rb.overlay_for("COMMA").name == "Example Commercial A"
    assert rb.overlay_for("COMMB").ndc_required is False
    assert rb.overlay_for("ANYONE").name == "default"
    assert rb.edit("DX_NOT_BILLABLE", rb.overlay_for("COMMB")) is None  # switched off
    assert rb.edit("NDC_NOT_IN_CROSSWALK", rb.overlay_for("COMMA")).severity.value == "reject"


@pytest.mark.parametrize(("code", "qty", "unit", "units"), [
    ("J9262", "3.5", "ME", "350"), ("J2260", "10", "ME", "2"), ("J2700", "300", "ME", "2"),
    ("J2700", "0.3", "GR", "2"), ("J2260", "10", "ML", None)])
def test_billing_unit_conversion(code: str, qty: str, unit: str, units: str | None) -> None:
    bu = load_rulebook().code(code).billing_unit
    got = bu.convert(Decimal(qty), unit)
    assert (None if got is None else format(got.normalize(), "f")) == units


def test_findings_catalogue_is_in_sync_with_the_pack() -> None:
    from scrub837.rulebook._catalog import render

    assert (ROOT / "docs" / "findings.md").read_text() == render()
