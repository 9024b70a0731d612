"""CMS files as CMS publishes them (crosswalk, MUE), MUE overrides and billing-unit arithmetic."""

from __future__ import annotations

import csv
import time
from decimal import Decimal
from pathlib import Path

import pytest

from scrub837.rulebook import (
    BillingUnit,
    RulePackError,
    load_crosswalk,
    load_mue,
    load_rulebook,
    ndc11,
    read_crosswalk,
)
from scrub837.scrubber import Scrubber, iter_findings
from tests.conftest import SAMPLES

EXTRACTS = Path(__file__).parents[2] / "shared" / "domain" / "cms_extracts"
needs_extracts = pytest.mark.skipif(
    not EXTRACTS.is_dir(),
    reason=f"CMS extracts not found at {EXTRACTS} (CI keeps ../shared beside the repo)")

HEADER = ["_2026_CODE", "Short Description", "LABELER NAME", "NDC2", "Drug Name",
          "HCPCS dosage", "PKG SIZE", "PKG QTY", "BILLUNITS", "BILLUNITSPKG"]
BANNER = [["January 2026 ASP NDC - HCPCS Crosswalk for Medicare Part B Drugs"],
          ["Effective January 1, 2026 through March 31, 2026"], [],
          ["Notes:\nNDCs are listed in 5-4-2 format", "", ""], [], [], [], []]


def cms_crosswalk(path: Path, rows: list[list[str]], header: list[str] = HEADER,
                  encoding: str = "cp1252") -> Path:
    """A crosswalk in the CMS layout: 8 banner rows (one with a multi-line cell), the header,
    CRLF line ends."""
    with open(path, "w", newline="", encoding=encoding) as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerows(BANNER)
        w.writerow(header)
        w.writerows(rows)
    return path


def cms_mue(path: Path, title: str, rows: list[list[str]], code_header: str = "HCPCS/\nCPT Code",
            ) -> Path:
    """An MUE table in the CMS layout: the AMA copyright notice as one multi-line cell, then the
    header with a line break inside the first cell."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow([("CPT codes, descriptions and other data only are copyright 2025 American "
                     "Medical Association.\nAll rights reserved.\n\nApplicable FARS/DFARS apply.")])
        w.writerow([code_header, title, "MUE Adjudication Indicator", "MUE Rationale"])
        w.writerows(rows)
    return path


SYNRIBO = ["J9262", "Inj, omacetaxine mep, 0.01mg", "Teva Pharmaceuticals USA, Inc.",
           "63459-0177-14", "Synribo\n", "0.01 MG", "3.5", "1", "350", "350"]


def test_crosswalk_in_full_cms_layout_cp1252(tmp_path: Path) -> None:
    path = cms_crosswalk(tmp_path / "xw.csv", [
        SYNRIBO,
        ["J2260", "Inj milrinone", "Caf\u00e9 Labs \u2013 \u201cUSA\u201d", "00143-9326-10",
         "Milrinone", "5 MG", "20", "10", "4", "40"],
        ["J2260", "Inj milrinone", "Short Labeler", "0143-9373-10", "Milrinone", "5 MG", "10",
         "10", "2", "20"],
        ["J1100", "Dexamethasone", "X", "ALT-ID-123", "Dexa", "1 MG", "", "", "", ""],
        ["J1100", "Dexamethasone", "X", "0143932610", "Dexa", "1 MG", "", "", "", ""],
        [], ["", "", "", "", "", "", "", "", "", ""],
        ["J7050", "Normal saline", "Big Labeler", "00338-0049-04", "Saline", "250 CC",
         "1,000", "1", "4", "4"],
    ])
    assert b"\x96" in path.read_bytes()  # really Windows-1252 (en dash)
    table = read_crosswalk(path)
    xw = table.entries
    entry = xw["63459017714"][0]
    assert (entry.hcpcs, entry.drug_name, entry.hcpcs_dosage) == ("J9262", "Synribo", "0.01 MG")
    assert (entry.pkg_size, entry.pkg_qty, entry.bill_units, entry.bill_units_pkg) == (
        Decimal("3.5"), Decimal(1), Decimal(350), Decimal(350))
    assert xw["00143932610"][0].labeler == "Caf\u00e9 Labs \u2013 \u201cUSA\u201d"
    assert xw["00143937310"][0].labeler == "Short Labeler"  # 4-4-2 zero-padded
    assert xw["00338004904"][0].pkg_size == Decimal(1000)
    assert table.skipped == 2  # the alternate id and the bare 10 digits (ambiguous): kept
    assert len(table.records) == 6 and {e.alternate_id for e in table.alternates} == {
        r[1] for r in table.records if not r[2]} and all(e.ndc11 == "" for e in table.alternates)
    assert set(xw) == {"63459017714", "00143932610", "00143937310", "00338004904"}
    assert load_crosswalk(path) == xw


def test_crosswalk_long_column_names_and_utf8_bom(tmp_path: Path) -> None:
    header = ["HCPCS Code", "Short Descriptor", "Code Dosage Descriptor", "Labeler Name",
              "11-Digit NDC or Alternate ID", "Drug Name", "Package Size", "Package Quantity",
              "Billable Units", "Billable Units Per Package"]
    path = cms_crosswalk(tmp_path / "xw.csv", [
        ["J9299", "Injection, nivolumab", "1 MG", "E.R. Squibb & Sons, L.L.C.", "00003-3734-13",
         "Opdivo", "24", "1", "240", "240"]], header=header, encoding="utf-8-sig")
    entry = load_crosswalk(path)["00003373413"][0]
    assert (entry.hcpcs, entry.labeler, entry.hcpcs_dosage) == (
        "J9299", "E.R. Squibb & Sons, L.L.C.", "1 MG")
    assert (entry.pkg_size, entry.bill_units, entry.bill_units_pkg) == (
        Decimal(24), Decimal(240), Decimal(240))


@needs_extracts
def test_the_cms_crosswalk_extract_loads() -> None:
    table = read_crosswalk(EXTRACTS / "asp_crosswalk_2025Q4.csv")
    entries = [e for rows in table.entries.values() for e in rows]
    assert len(entries) == 465 and table.skipped == 0
    assert [e.hcpcs for e in table.entries["00143932610"]] == ["J2260"]
    assert sum(e.hcpcs == "J3301" for e in entries) == 39  # seven with multi-line drug names


def test_a_full_size_crosswalk_loads_quickly(tmp_path: Path) -> None:
    rows = [[f"J{i % 9000:04d}", "Drug", "Labeler, Inc.", f"{i:05d}-{i % 10000:04d}-{i % 100:02d}",
             "Name\nline two" if i % 50 == 0 else "Name", "1 MG", "10", "1", "10", "10"]
            for i in range(1, 9001)]
    path = cms_crosswalk(tmp_path / "big.csv", rows)
    start = time.perf_counter()
    xw = load_crosswalk(path)
    assert time.perf_counter() - start < 5
    assert sum(len(v) for v in xw.values()) == 9000


@pytest.mark.parametrize(("rows", "line", "message"), [
    ([["J2260", "x", "y", "00143-9326-10", "z", "5 MG", "20", "10", "four", "40"]], 11,
     "column BILLUNITS: 'four' is not a number"),
    ([SYNRIBO, ["J2260", "x", "y", "00143-9326-10", "z", "5 MG", "-1", "10", "4", "40"]], 13,
     "column PKG SIZE: '-1' is not a number >= 0"),
    ([["NOT A CODE", "x", "y", "00143-9326-10", "z", "5 MG", "20", "10", "4", "40"]], 11,
     "is not a HCPCS or CPT code"),
])
def test_malformed_crosswalk_rows_name_file_and_line(tmp_path: Path, rows: list[list[str]],
                                                      line: int, message: str) -> None:
    """Lines count physical lines: the banner's multi-line cell puts the header on line 10
    and the first row on line 11; Synribo's multi-line drug name makes the next row line 13."""
    path = cms_crosswalk(tmp_path / "xw.csv", rows)
    with pytest.raises(RulePackError) as err:
        load_crosswalk(path)
    assert err.value.file == str(path) and err.value.line == line
    assert message in str(err.value) and f"xw.csv: line {line}:" in str(err.value)


@pytest.mark.parametrize("content", [
    "no header here\n1,2,3\n",
    "_2025_CODE,Short Description,BILLUNITS\nJ2260,x,4\n",  # no NDC column
    "",
])
def test_crosswalk_without_header(tmp_path: Path, content: str) -> None:
    path = tmp_path / "xw.csv"
    path.write_text(content)
    with pytest.raises(RulePackError, match="no crosswalk header row") as err:
        load_crosswalk(path)
    assert err.value.file == str(path)


def test_crosswalk_with_an_unterminated_quote(tmp_path: Path) -> None:
    path = tmp_path / "xw.csv"
    path.write_text('_2025_CODE,NDC2,BILLUNITS\nJ2260,"00143-9326-10,4\n')
    with pytest.raises(RulePackError, match="not valid CSV") as err:
        load_crosswalk(path)
    assert err.value.line == 2


def test_mue_in_cms_layout(tmp_path: Path) -> None:
    path = cms_mue(tmp_path / "p.csv", "Practitioner Services MUE Values", [
        ["J2410", "5", "3 Date of Service Edit: Clinical", "Clinical: Data"],
        ["J9262", "700", "3 Date of Service Edit: Clinical", "Prescribing Information"],
        ["99213", "1", "2 Date of Service Edit: Policy", "CMS Policy"]])
    kind, table = load_mue(path)
    assert kind == "practitioner"
    assert (table["J2410"].value, table["J2410"].mai, table["J2410"].rationale) == (
        5, 3, "Clinical: Data")
    assert table["99213"].mai == 2
    out = cms_mue(tmp_path / "o.csv", "Outpatient Hospital Services MUE Values",
                  [["J2260", "16", "3 Date of Service Edit: Clinical", "Clinical: Data"]])
    assert load_mue(out)[0] == "outpatient"


@needs_extracts
@pytest.mark.parametrize(("name", "kind"), [("mue_practitioner_2026Q2.csv", "practitioner"),
                                            ("mue_outpatient_hospital_2026Q2.csv", "outpatient")])
def test_the_cms_mue_extracts_load(name: str, kind: str) -> None:
    got_kind, table = load_mue(EXTRACTS / name)
    assert got_kind == kind and len(table) == 25 and table["J9262"].value == 700


@pytest.mark.parametrize(("row", "message"), [
    (["J2410", "two", "3 Date of Service Edit: Clinical", "x"], "MUE value 'two'"),
    (["J2410", "2.5", "3 Date of Service Edit: Clinical", "x"], "MUE value '2.5'"),
    (["J2410", "2", "Date of Service Edit", "x"], "adjudication indicator"),
    (["J2410", "2", "4 Something", "x"], "adjudication indicator"),
    (["J-410", "2", "3 Date of Service Edit: Clinical", "x"], "is not a HCPCS or CPT code"),
])
def test_malformed_mue_rows_name_file_and_line(tmp_path: Path, row: list[str],
                                                message: str) -> None:
    path = cms_mue(tmp_path / "mue.csv", "Practitioner Services MUE Values",
                   [["J9262", "700", "3 Date of Service Edit: Clinical", "x"], row])
    with pytest.raises(RulePackError) as err:
        load_mue(path)
    # the copyright cell spans lines 1-4, the header lines 5-6, the first row line 7
    assert err.value.line == 8 and message in str(err.value)
    assert str(err.value).startswith(f"{path}: line 8: ")


def test_mue_header_problems(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(RulePackError, match="no MUE header"):
        load_mue(tmp_path / "x.csv")
    dme = cms_mue(tmp_path / "dme.csv", "DME Supplier Services MUE Values",
                  [["E0100", "1", "3 Date of Service Edit: Clinical", "CMS Policy"]])
    assert load_mue(dme)[0] == "dme"
    other = cms_mue(tmp_path / "other.csv", "Ambulance Services MUE Values", [])
    with pytest.raises(RulePackError, match="has no 'Practitioner Services MUE Values'"):
        load_mue(other)
    twice = cms_mue(tmp_path / "twice.csv", "Practitioner Services MUE Values", [
        ["J2410", "2", "3 x", ""], ["J2410", "3", "3 x", ""]])
    with pytest.raises(RulePackError, match="second row"):
        load_mue(twice)


def test_a_loaded_mue_file_beats_the_data(tmp_path: Path) -> None:
    path = cms_mue(tmp_path / "mue.csv", "Practitioner Services MUE Values",
                   [["J2410", "5", "3 Date of Service Edit: Clinical", "Clinical: Data"]],
                   code_header="HCPCS/CPT Code")  # the extract spelling
    pack = load_rulebook()
    assert pack.max_units("J2410", "P") is not None
    assert pack.max_units("J2410", "P")[0] == 2  # type: ignore[index]
    rb = load_rulebook(mue=[path])
    got = rb.max_units("J2410", "P")
    assert got is not None and got[0] == 5 and "mue.csv" in got[1] and got[1].endswith("MAI 3")
    assert rb.max_units("J9262", "P") is None  # not in the loaded table: no MUE
    assert rb.max_units("J2410", "I") == pack.max_units("J2410", "I")  # no outpatient file
    data = (SAMPLES / "837p_defects.837").read_bytes()
    over = [f for f in iter_findings(data, Scrubber(mue=[path]))
            if f.location.clm01 == "DEF-UNITS-OVER-MAX" and f.rule_id == "UNITS_OVER_MAX"]
    assert over == []  # 3 units is within the loaded MUE of 5
    with pytest.raises(RulePackError, match="a second practitioner MUE table"):
        load_rulebook(mue=[path, path])


def test_the_crosswalk_option_replaces_the_data(tmp_path: Path) -> None:
    path = cms_crosswalk(tmp_path / "xw.csv", [SYNRIBO])
    rb = load_rulebook(crosswalk=path)
    assert [e.hcpcs for e in rb.crosswalk_for("63459017714")] == ["J9262"]
    assert rb.crosswalk_for("00006302602") == ()  # the built-in crosswalk is replaced
    info = rb.data.table("crosswalk")
    assert info is not None and info.source == "xw.csv" and info.label == (
        "CMS ASP NDC-HCPCS crosswalk, January 2026")
    assert [e.hcpcs for e in load_rulebook().crosswalk_for("00006302602")] == ["J9271"]


@pytest.mark.parametrize(("amount", "unit", "kind", "qty", "ctp", "units"), [
    ("0.01", "MG", "per", "3.5", "ME", "350"),  # J9262: 3.5 mg -> 350 units
    ("5", "MG", "per", "10", "ME", "2"),  # J2260: 10 mg -> 2 units
    ("5", "MG", "per", "12", "ME", "2.4"),  # per-codes do not round
    ("250", "MG", "up_to", "300", "ME", "2"),  # J2700: up to 250 mg, 300 mg -> 2 units
    ("250", "MG", "up_to", "0.3", "GR", "2"),  # grams convert to mg
    ("250", "MG", "up_to", "250", "ME", "1"),
    ("0.5", "MG", "per", "600", "MCG", None),  # MCG is not a CTP05-1 unit
    ("250", "ML", "per", "500", "ML", "2"),  # J7050 saline 250 cc
    ("5", "MG", "per", "10", "ML", None),  # mL of a drug billed per mg: needs the crosswalk
    ("5", "MG", "per", "2", "UN", None),  # a count of packages: needs the crosswalk
    ("1000", "UNITS", "per", "5000", "F2", "5"),
    ("500", "MCG", "per", "1", "ME", "2"),
])
def test_billing_unit_conversion(amount: str, unit: str, kind: str, qty: str, ctp: str,
                                 units: str | None) -> None:
    got = BillingUnit(Decimal(amount), unit, kind).convert(Decimal(qty), ctp)
    assert (None if got is None else format(got.normalize(), "f")) == units


def test_billing_units_of_the_shipped_codes() -> None:
    rb = load_rulebook()

    def convert(code: str, qty: str, ctp: str) -> Decimal | None:
        rule = rb.code(code)
        assert rule is not None and rule.billing_unit is not None
        return rule.billing_unit.convert(Decimal(qty), ctp)

    assert convert("J9262", "3.5", "ME") == 350
    assert convert("J2260", "10", "ME") == 2
    assert convert("J2700", "300", "ME") == 2
    assert str(rb.code("J2700").billing_unit) == "up to 250 mg"  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "expected"), [
    ("00143-9326-10", "00143932610"), ("0143-9326-10", "00143932610"),
    ("50242-040-62", "50242004062"), ("60575-4112-1", "60575411201"),
    ("00143932610", "00143932610"), (" 00143-9326-10 ", "00143932610"),
    ("0143932610", None), ("ALT-ID-123", None), ("00143-9326-100", None), ("", None),
    ("\uff10" * 11, None),
])
def test_ndc11(text: str, expected: str | None) -> None:
    assert ndc11(text) == expected
