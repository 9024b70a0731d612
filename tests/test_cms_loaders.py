"""Loaders for the CMS files as CMS publishes them (../shared/cms), broken layouts written here,
the built-in dataset (equal to what ``data import`` builds, no CPT rows), ``data info``,
``rules check`` / ``rules show`` over the data, and the billing-unit parser."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest

from scrub837.rulebook import RulePackError, check_pack, load_mue, load_rulebook, read_crosswalk
from scrub837.rulebook._asp import read_pricing
from scrub837.rulebook._dataset import LEVEL2, Dataset, builtin_dir
from scrub837.rulebook._hcpcs import read_hcpcs
from scrub837.rulebook._units import parse_unit

ROOT = Path(__file__).resolve().parents[1]
CMS = ROOT.parent / "shared" / "cms"
needs_cms = pytest.mark.skipif(not CMS.is_dir(), reason=f"needs the CMS files in {CMS} "
                               "(../shared/cms beside the repo; CI has it)")
TXT = CMS / "hcpcs" / "HCPC2026_JAN_ANWEB_01122026.txt"
ZIP = CMS / "hcpcs" / "january-2026-alpha-numeric-hcpcs-file.zip"
XW = CMS / "asp" / "asp_crosswalk_oct2025.csv"
ASP = CMS / "asp" / "asp_pricing_oct2025.csv"
MUE = sorted((CMS / "mue").glob("MCR_MUE_*.csv")) if CMS.is_dir() else []


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scrub837", *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})


@needs_cms
def test_hcpcs_file_and_zip() -> None:
    name, recs = read_hcpcs(TXT)
    assert read_hcpcs(ZIP) == (name, recs) and name == TXT.name
    j = {c: r for c, r in recs.items() if c.startswith("J")}
    assert len(j) == 1209 and sum(1 for r in j.values() if r[5]) == 133
    assert recs["J9270"][3:7] == ("19840101", "20260101", "20251231", "D")
    assert recs["J0654"][3] == "20260101"
    # a long description continued in record-4 lines, joined
    assert recs["J7631"][1] == ("Cromolyn sodium, inhalation solution, fda-approved final "
                                "product, non-compounded, administered through dme, unit dose "
                                "form, per 10 milligrams")


def _record(code: str, rid: str = "3", text: str = "Injection, test, 1 mg",
            added: str = "20200101", term: str = "") -> str:
    rec = list(code.ljust(5) + "00100" + rid + text.ljust(80) + " " * 229)
    rec[268:276] = added.ljust(8)
    rec[284:292] = term.ljust(8)
    rec[292] = "N"
    return "".join(rec[:320])


@pytest.mark.parametrize(("lines", "line", "message"), [
    ([_record("J0001"), _record("J0002")[:250]], 2, "a record is 250 bytes"),
    ([_record("J0001") + "EXTRA"], 1, "a record is 325 bytes"),
    (["", _record("J0001", rid="4")], 2, "continuation record for J0001 before its first"),
    ([_record("J0001", added="20201340")], 1, "add date '20201340' is not a date"),
    ([_record("J0001", rid="5")], 1, "record id '5'"),
    ([_record("J0001"), _record("J0001")], 2, "J0001 has a second first record"),
])
def test_broken_hcpcs_records_name_file_and_line(tmp_path: Path, lines: list[str], line: int,
                                                 message: str) -> None:
    path = tmp_path / "HCPC2026_JAN_ANWEB_test.txt"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="cp1252", newline="")
    with pytest.raises(RulePackError) as err:
        read_hcpcs(path)
    assert err.value.line == line and message in str(err.value)
    assert str(err.value).startswith(f"{path}: line {line}: ")


def test_hcpcs_zip_without_the_anweb_file(tmp_path: Path) -> None:
    path = tmp_path / "hcpcs.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "no records")
    with pytest.raises(RulePackError, match="expected one HCPC"):
        read_hcpcs(path)
    good = tmp_path / "HCPC2026_APR_ANWEB_x.txt"
    good.write_text(_record("J0001", text="Injection, test, per 5 mg") + "\r\n" +
                    _record("J0001", rid="4", text="continued") + "\r\n", newline="")
    assert read_hcpcs(good)[1]["J0001"][1] == "Injection, test, per 5 mg continued"


@needs_cms
def test_asp_pricing_file() -> None:
    table = read_pricing(ASP)
    assert len(table.records) == 1012
    assert sum(1 for c in table.records if c.startswith("J")) == 746
    assert table.period == (date(2025, 10, 1), date(2025, 12, 31))
    assert table.records["J9271"][2:] == ("1 MG", "60.291")
    assert table.records["A9606"][3] == ""  # "N/A": priced another way


def test_broken_asp_pricing(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("Payment Allowance Limits\nHCPCS Code,Short Description,HCPCS Code Dosage,"
                    "Payment Limit\nJ9271,Inj pembrolizumab,1 MG,sixty\n")
    with pytest.raises(RulePackError, match="line 3: column Payment Limit: 'sixty'"):
        read_pricing(path)
    path.write_text("a,b\n")
    with pytest.raises(RulePackError, match="no ASP pricing header"):
        read_pricing(path)


@needs_cms
def test_the_crosswalk_keeps_every_row() -> None:
    table = read_crosswalk(XW)
    assert len(table.records) == 8245 and len({r[0] for r in table.records}) == 974
    assert len({r[0] for r in table.records if r[0].startswith("J")}) == 741
    assert table.skipped == len(table.alternates) == 1284
    j7331 = [e for e in table.alternates if e.hcpcs == "J7331"]
    assert [(e.alternate_id, e.ndc11, e.bill_units) for e in j7331] == [
        ("888867413689", "", 20)]
    assert table.period == (date(2025, 10, 1), date(2025, 12, 31))


@needs_cms
def test_the_three_mue_tables() -> None:
    got = {kind: table for kind, table in (load_mue(p) for p in MUE)}
    assert {k: len(t) for k, t in got.items()} == {
        "practitioner": 15095, "outpatient": 15045, "dme": 3083}
    assert {e.mai for e in got["practitioner"].values()} == {1, 2, 3}
    assert got["practitioner"]["J9271"].value == 400


@needs_cms
def test_the_built_in_dataset_is_what_data_import_builds(tmp_path: Path) -> None:
    out = tmp_path / "data"
    proc = cli("data", "import", "--hcpcs", str(ZIP), "--asp", str(ASP), "--crosswalk", str(XW),
               *[a for p in MUE for a in ("--mue", str(p))], "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "CMS HCPCS Level II, January 2026: 8623 rows" in proc.stdout
    built = sorted(p.name for p in out.iterdir())
    assert built == sorted(p.name for p in builtin_dir().iterdir())
    for name in built:
        assert (out / name).read_bytes() == (builtin_dir() / name).read_bytes(), name


def test_the_built_in_dataset_has_no_cpt_rows() -> None:
    data = Dataset(builtin_dir())
    for name in ("hcpcs", "asp", "crosswalk", "mue_practitioner", "mue_outpatient", "mue_dme"):
        assert data.table(name) is not None
        assert all(LEVEL2.fullmatch(code) for code in data.records(name)), name
    practitioner = data.table("mue_practitioner")
    assert practitioner is not None and "CPT rows dropped" in practitioner.notes
    assert practitioner.label == "CMS NCCI MUE Practitioner Services, effective 2026-04-01"


def test_data_info_and_selecting_a_dataset(tmp_path: Path) -> None:
    proc = cli("data", "info")
    assert proc.returncode == 0, proc.stderr
    assert "CMS ASP NDC-HCPCS crosswalk, October 2025: 8218 rows, 966 codes" in proc.stdout
    assert "1284 rows with an alternate id" in proc.stdout
    assert len(proc.stdout.splitlines()) == 7  # the folder and six tables
    # a dataset of next quarter's HCPCS file alone, chosen by --data and by the environment
    mine = tmp_path / "q2"
    shutil.copytree(builtin_dir(), mine)
    (mine / "hcpcs.tsv").write_text((mine / "hcpcs.tsv").read_text().replace(
        "Injection, pembrolizumab, 1 mg", "Injection, pembrolizumab, 2 mg"))
    assert "2 mg" in load_rulebook(data=mine).code("J9271").descriptor  # type: ignore[union-attr]
    shown = cli("rules", "show", "J9271", env={"SCRUB837_DATA": str(mine)})
    assert shown.returncode == 0 and "pembrolizumab, 2 mg" in shown.stdout
    missing = cli("data", "info", "--data", str(tmp_path / "none"))
    assert missing.returncode == 2 and "no CMS dataset here" in missing.stderr


def test_rules_show_any_code() -> None:
    proc = cli("rules", "show", "J9271")
    assert proc.returncode == 0, proc.stderr
    for text in ("Injection, pembrolizumab, 1 mg", "CMS HCPCS Level II, January 2026",
                 "00006302602  Keytruda", "BILLUNITS 100",
                 "MUE practitioner: 400 (MAI 3", "CMS NCCI MUE DME Supplier Services"):
        assert text in proc.stdout, text
    seed = cli("rules", "show", "J2260")  # an overlay with a seed page that is wrong
    assert "seed page" in seed.stdout and "CMS says: Injection, milrinone lactate, 5 mg" in \
        seed.stdout
    unknown = cli("rules", "show", "J9997")
    # exit 2 (usage), not 1 ("a claim was rejected")
    assert unknown.returncode == 2 and "not in CMS HCPCS Level II, January 2026" in unknown.stderr


@needs_cms
def test_rules_check_with_the_cms_files() -> None:
    proc = cli("rules", "check", "--hcpcs", str(TXT), "--asp", str(ASP), "--crosswalk", str(XW),
               *[a for p in MUE for a in ("--mue", str(p))])
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[1].startswith("CMS HCPCS Level II, January 2026: 8623 rows, 8623 codes")
    assert any(x.startswith("CMS ASP NDC-HCPCS crosswalk, October 2025: 8245 rows, 974 codes")
               and "1284 rows with an alternate id" in x for x in lines)
    assert any(x.startswith("CMS NCCI MUE Practitioner Services, effective 2026-04-01: 15095 "
                            "rows") for x in lines)


def test_rules_check_reports_a_toml_fact_the_data_contradicts(tmp_path: Path) -> None:
    pack = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", pack)
    j9262 = pack / "codes" / "J9262.toml"
    j9262.write_text(j9262.read_text().replace("effective = 2014-01-01", "effective = 2015-01-01"))
    problems = check_pack(pack).problems
    assert any("J9262.effective = 2015-01-01, CMS HCPCS Level II, January 2026 says 2014-01-01"
               in p for p in problems), problems
    # the data wins
    assert load_rulebook(pack).code("J9262").effective == date(2014, 1, 1)  # type: ignore[union-attr]
    assert check_pack().problems == ()


@pytest.mark.parametrize(("text", "kind", "amount", "unit"), [
    ("Injection, pembrolizumab, 1 mg", "per", "1", "MG"),
    ("Injection, ceftriaxone sodium, per 250 mg", "per", "250", "MG"),
    ("Injection, methyldopate hcl, up to 250 mg", "up_to", "250", "MG"),
    ("Injection, epoetin alfa, (for non-esrd use), 1000 units", "per", "1000", "UNITS"),
    ("Injection, octreotide, non-depot form, 25 mcg", "per", "25", "MCG"),
    ("Injection, penicillin g benzathine, 100,000 units", "per", "100000", "UNITS"),
    ("Injection, factor viii, per 250,000 iu", "per", "250000", "IU"),
    ("Infusion, normal saline solution, 1000 cc", "per", "1000", "ML"),
    ("Injection, buprenorphine, 0.01 mg", "per", "0.01", "MG"),
    ("Injection, aldesleukin, per single use vial", "per_item", "1", "VIAL"),
    ("Bcg (intravesical) per treatment", "per_item", "1", "TREATMENT"),
    ("Injection, testosterone cypionate, 1 cc, 200 mg", "none", None, ""),
    ("Injection, aztreonam/avibactam, 7.5 mg/2.5 mg (10 mg)", "none", None, ""),
    ("Unclassified drugs", "none", None, ""),
    ("UP TO 0.50 MG", "up_to", "0.50", "MG"),
    ("Per Dose", "per_item", "1", "DOSE"),
])
def test_billing_unit_forms(text: str, kind: str, amount: str | None, unit: str) -> None:
    got = parse_unit(text)
    assert (got.kind, None if got.amount is None else str(got.amount), got.unit) == (
        kind, amount, unit)
    if kind == "none":
        assert got.raw == text and got.billing_unit() is None  # kept, never guessed


def test_j_codes_with_a_convertible_unit() -> None:
    """The README's count: J-codes of the January 2026 file whose descriptor gives a unit a
    CTP quantity converts to (mass, volume, IU)."""
    data = Dataset(builtin_dir())
    j = [rows[0] for code, rows in data.records("hcpcs").items() if code.startswith("J")]
    assert len(j) == 1209
    parsed = [parse_unit(r[1]) for r in j]
    assert [p.fields() for p in parsed] == [tuple(r[8:11]) for r in j]  # stored as parsed
    assert sum(p.convertible for p in parsed) == 1111
    kinds = {k: sum(1 for p in parsed if p.kind == k) for k in ("per", "up_to", "per_item",
                                                                "none")}
    assert kinds == {"per": 1012, "up_to": 105, "per_item": 25, "none": 67}


def test_scrub_with_hcpcs_and_asp_files_given_by_option(tmp_path: Path) -> None:
    """--hcpcs / --asp replace the dataset's tables for one run (--crosswalk and --mue too)."""
    import json

    from tests.test_cms_codes import L, claim_837p

    hcpcs = tmp_path / "HCPC2026_APR_ANWEB_test.txt"
    hcpcs.write_text(_record("J9271", text="Injection, pembrolizumab, 1 mg") + "\r\n",
                     newline="")
    asp = tmp_path / "asp.csv"
    asp.write_text("Payment Allowance Limits for Medicare Part B Drugs\n"
                   "Effective April 1, 2026 through June 30, 2026\n"
                   "HCPCS Code,Short Description,HCPCS Code Dosage,Payment Limit\n"
                   "Q9970,Test drug,1 MG,1.000\n")
    claim = tmp_path / "c.837"
    claim.write_text(claim_837p([L("J9271", "200", "00006302602", "2"), L("Q9970", "1")],
                                payer="COMMB").replace("20260210", "20260410"))
    proc = cli("scrub", str(claim), "--hcpcs", str(hcpcs), "--asp", str(asp),
               "--format", "json")
    rows = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    found = {(f["rule_id"], f["location"]["lx"]) for r in rows for f in r.get("findings", ())}
    # Q9970 is a drug line only because the given ASP file prices it; the given HCPCS file
    # (April 2026, its quarter holds the date of service) does not list it
    assert ("CODE_INVALID", "2") in found, found
    assert not any(rule == "CODE_INVALID" and lx == "1" for rule, lx in found)
    assert proc.returncode == 1, proc.stderr


def test_data_import_replaces_only_a_dataset_folder(tmp_path: Path) -> None:
    hcpcs = tmp_path / "HCPC2026_APR_ANWEB_test.txt"
    hcpcs.write_text(_record("J0001") + "\r\n", newline="")
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    proc = cli("data", "import", "--hcpcs", str(hcpcs), "--out", str(other))
    assert proc.returncode == 2 and "is not a scrub837 dataset folder" in proc.stderr
    assert [p.name for p in other.iterdir()] == ["keep.txt"]
    out = tmp_path / "data"
    for _ in range(2):  # a second import replaces the first
        proc = cli("data", "import", "--hcpcs", str(hcpcs), "--out", str(out))
        assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["hcpcs.tsv", "manifest.json"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left
    info = Dataset(out).table("hcpcs")
    assert info is not None and info.label == "CMS HCPCS Level II, April 2026"
    bad = tmp_path / "HCPC2026_APR_ANWEB_bad.txt"
    bad.write_text(_record("J0001")[:100] + "\r\n", newline="")
    proc = cli("data", "import", "--hcpcs", str(bad), "--out", str(tmp_path / "d2"))
    assert proc.returncode == 2 and f"{bad}: line 1: a record is 100 bytes" in proc.stderr
    assert not (tmp_path / "d2").exists()


@needs_cms
def test_the_record_positions_are_cms_record_layout() -> None:
    """The positions the HCPCS loader reads are those CMS's record layout gives by name."""
    import re

    text = (CMS / "hcpcs" / "HCPC2026_recordlayout.txt").read_text(encoding="cp1252")
    fields = {m.group(1).strip(): (int(m.group(3)), int(m.group(4))) for m in re.finditer(
        r"^\s+\d+\.\s+(.+?)\s*(?:CHAR|NUM|GRP)?\s*\n\s+(\d+)\s+(\d+)\s+(\d+)", text, re.M)}
    assert fields["HCPCS Record Identification Code"] == (11, 11)
    assert fields["HCPCS Long Description"] == (12, 91)
    assert fields["HCPCS Short Description"] == (92, 119)
    assert fields["HCPCS Cross Reference Code"] == (205, 209)  # occurs 5 times: 205-229
    assert fields["HCPCS Code Added Date"] == (269, 276)
    assert fields["HCPCS Action Effective Date"] == (277, 284)
    assert fields["HCPCS Termination Date"] == (285, 292)
    assert fields["HCPCS Action Code"] == (293, 293)


def test_hcpcs_bytes_cp1252_does_not_define_are_read_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "HCPC2026_JAN_ANWEB_odd.txt"
    record = _record("J0001", text="Injection, odd \x81 byte, 1 mg").encode("latin-1")
    path.write_bytes(record + b"\r\n" + b"\x00\xff" * 10 + b"\r\n")
    with pytest.raises(RulePackError, match="line 2: a record is 20 bytes"):
        read_hcpcs(path)
    path.write_bytes(record + b"\r\n")
    assert read_hcpcs(path)[1]["J0001"][1] == "Injection, odd \ufffd byte, 1 mg"
