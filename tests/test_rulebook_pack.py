"""The shipped rule pack: it loads, covers the codes, and its CMS facts equal the CMS extracts."""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path

import pytest

from scrub837.findings import Severity
from scrub837.rulebook.icd10 import status as icd10_status
from scrub837.rulebook import (
    BUILTIN_RULE_IDS,
    BillingUnit,
    CodeRule,
    Rulebook,
    check_pack,
    default_pack,
    explain_code,
    load_rulebook,
)
from tests.conftest import ROOT, SAMPLES

SHARED = Path(__file__).parents[2] / "shared"
EXTRACTS = SHARED / "domain" / "cms_extracts"
needs_extracts = pytest.mark.skipif(
    not EXTRACTS.is_dir(),
    reason=f"CMS extracts not found at {EXTRACTS} (CI keeps ../shared beside the repo)")

REQUIRED = ["J2260", "J2700", "J2320", "J9262", "J2311", "J2410", "J2315", "J2270", "J2274",
            "J1950", "J3490", "J1170", "J3010", "J2765", "J2310", "J0570", "J0592", "J9045",
            "J9299", "J9301", "J3590", "J9999", "J2312", "J2313",
            "J1100", "J0696", "J9035", "J2506", "J0897", "J1885", "J3301", "J7050"]


@pytest.fixture(scope="module")
def rb() -> Rulebook:
    return load_rulebook()


def rule(rb: Rulebook, code: str) -> CodeRule:
    """The pack's own entry (rules/codes), before the CMS data is laid under it."""
    found = rb.codes.get(code)
    assert found is not None, code
    return found


def _csv(name: str) -> list[dict[str, str]]:
    with open(EXTRACTS / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_shipped_pack_loads_and_covers_the_codes(rb: Rulebook) -> None:
    assert set(REQUIRED) <= set(rb.codes)
    assert "J1550" not in rb.codes  # not in HCPCS 2026
    assert all(r in rb.edits for r in BUILTIN_RULE_IDS)
    report = check_pack()
    assert report.problems == ()
    assert report.codes == len(rb.codes) and report.payers == 3
    assert {c for c, r in rb.codes.items() if r.unlisted} == {"J3490", "J3590", "J9999"}
    for code in REQUIRED:
        assert rule(rb, code).file == f"rules/codes/{code}.toml"


def _unit_from_descriptor(text: str) -> tuple[str, str, str] | None:
    """'Injection, oxacillin sodium, up to 250 mg' -> ('250', 'MG', 'up_to'), independently of
    the pack: the dosage is the descriptor's last comma-separated part."""
    m = re.search(r",\s*(up to |per )?([0-9.]+)\s*(mg|cc|ml)$", text, re.IGNORECASE)
    if m is None:
        return None
    unit = {"mg": "MG", "cc": "ML", "ml": "ML"}[m.group(3).lower()]
    return m.group(2), unit, "up_to" if m.group(1) == "up to " else "per"


@needs_extracts
def test_code_facts_equal_the_cms_hcpcs_extract(rb: Rulebook) -> None:
    rows = _csv("hcpcs_2026Q1.csv")
    assert len(rows) == 32
    for row in rows:
        r = rule(rb, row["HCPC"])
        assert r.verified, r.code
        assert "HCPC2026_JAN_ANWEB_01122026" in r.source and "2026Q1" in r.source
        assert (r.descriptor, r.short) == (row["LONG DESCRIPTION"], row["SHORT DESCRIPTION"])
        assert r.effective is not None and r.effective.strftime("%Y%m%d") == row["ADD DT"]
        assert r.action_effective is not None
        assert r.action_effective.strftime("%Y%m%d") == row["ACT EFF DT"]
        assert (r.terminated.strftime("%Y%m%d") if r.terminated else "") == row["TERM DT"]
        expected = _unit_from_descriptor(row["LONG DESCRIPTION"])
        if expected is None:
            assert r.unlisted and r.billing_unit is None, r.code
        else:
            assert r.billing_unit == BillingUnit(Decimal(expected[0]), expected[1], expected[2])


@needs_extracts
@pytest.mark.parametrize(("file", "kind", "attr"), [
    ("mue_practitioner_2026Q2.csv", "P", "mue_practitioner"),
    ("mue_outpatient_hospital_2026Q2.csv", "I", "mue_outpatient")])
def test_mue_values_equal_the_cms_mue_extracts(rb: Rulebook, file: str, kind: str,
                                               attr: str) -> None:
    rows = {row["HCPCS/CPT Code"]: row for row in _csv(file)}
    assert len(rows) == 25
    value_col = next(c for c in next(iter(rows.values())) if c.endswith("MUE Values"))
    for code, r in rb.codes.items():
        mue = getattr(r, attr)
        row = rows.get(code)
        if row is None:  # terminated, NOC, J0570, J1171: no MUE row in the extract
            assert mue is None, code
            continue
        assert mue.units == Decimal(row[value_col])
        assert mue.mai == int(row["MUE Adjudication Indicator"][0])
        assert mue.rationale == row["MUE Rationale"]
        assert "eff. 2026-04-01" in mue.source and "2026Q2" in mue.source
        got = rb.max_units(code, kind)  # the full CMS table agrees with the extract
        assert got is not None and got[0] == Decimal(row[value_col]) and got[1].endswith("MAI 3")
        assert "effective 2026-04-01" in got[1]
    assert set(rows) <= set(rb.codes)


def _catalogue() -> dict[str, tuple[str, list[str]]]:
    out = {}
    for line in (ROOT / "docs" / "rule_ids.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"[A-Z][A-Z0-9_]+", cells[0]):
            out[cells[0]] = (cells[1], [s.strip() for s in cells[2].split(",")])
    return out


def test_edits_match_the_rule_id_catalogue(rb: Rulebook) -> None:
    catalogue = _catalogue()
    assert len(catalogue) >= 38
    engine_only = {"ENGINE_ERROR"}  # defined by the engine itself
    assert set(rb.edits) == set(catalogue) - engine_only
    assert set(BUILTIN_RULE_IDS) == set(catalogue) - engine_only
    for rule_id, (severity, stc) in catalogue.items():
        if rule_id in engine_only:
            continue
        d = rb.edits[rule_id]
        assert d.severity is Severity(severity), rule_id
        assert [str(s) for s in d.stc] == stc, rule_id
        assert d.title and d.message and d.fix and d.source and d.example, rule_id


def test_rendered_findings_leave_no_template_field_unfilled() -> None:
    """Each rule's declared fields are what the built-in edits supply: no finding from the
    sample corpus keeps a literal {field}."""
    from scrub837.scrubber import Scrubber, iter_findings

    scrubber = Scrubber()
    seen = set()
    for name in ("837p_defects.837", "837i_outpatient.837", "837p_ig_invalid.837",
                 "837p_clean.837"):
        for f in iter_findings((SAMPLES / name).read_bytes(), scrubber):
            seen.add(f.rule_id)
            assert not re.search(r"\{[a-z_]+\}", f.message + " " + f.fix), (f.rule_id, f.message)
    assert len(seen & set(BUILTIN_RULE_IDS)) >= 30


def test_every_builtin_rule_fires_on_the_defect_samples_and_not_on_the_clean_one() -> None:
    from scrub837.scrubber import Scrubber, iter_findings

    scrubber = Scrubber()
    failing: set[str] = set()
    for name in ("837p_defects.837", "837p_ig_invalid.837", "837i_outpatient.837"):
        failing |= {f.rule_id for f in iter_findings((SAMPLES / name).read_bytes(), scrubber)}
    clean = {f.rule_id for f in iter_findings((SAMPLES / "837p_clean.837").read_bytes(),
                                              scrubber)}
    assert set(BUILTIN_RULE_IDS) - failing == set()
    # DATA_PERIOD: the samples' dates (2026-02) are outside the shipped MUE tables' quarter
    assert clean <= {"NDC_NOT_IN_CROSSWALK", "DATA_PERIOD"}


def test_findings_catalogue_is_in_sync_with_the_pack() -> None:
    from scrub837.rulebook._catalog import render

    assert (ROOT / "docs" / "findings.md").read_text() == render()


def test_seed_page_disagreements_are_kept_beside_the_cms_facts(rb: Rulebook) -> None:
    wrong = {"J2260": ("milrinone", "oxymorphone", "J2410"),
             "J2700": ("oxacillin", "oxymorphone", "J2410"),
             "J2320": ("nandrolone", "naltrexone", "J2315"),
             "J2311": ("naloxone", "naltrexone", "J2315"),
             "J2765": ("metoclopramide", "naloxone", "J2312"),
             "J0570": ("implant", "injection", "J0592"),
             "J2274": ("epidural", "morphine", "J2270")}
    for code, (cms, page, right) in wrong.items():
        r = rule(rb, code)
        assert cms in r.descriptor.lower() and page in r.seed_says.lower(), code
        assert r.seed_page.endswith(".txt") and right in {look.code for look in r.lookalikes}
    j2311 = rule(rb, "J2311")
    assert j2311.verified and j2311.terminated is not None
    assert j2311.terminated.isoformat() == "2025-06-30" and j2311.replaced_by == ("J2313",)
    assert "J2312" in j2311.note and "naltrexone" in j2311.note
    assert rule(rb, "J9262").seed_says.startswith("J9262 is omacetaxine")
    assert rule(rb, "J1170").replaced_by == ("J1171",)
    assert rule(rb, "J1171").verified  # its CMS facts: the built-in HCPCS Jan 2026 data


# The team's background notes (../shared/domain/REFERENCE.md, cms_extracts/SOURCES.md) are not
# the product's sources: users do not have them. Rule sources, docs and README cite the CMS
# files and public documents the notes stand for.
_NOTE_CITATIONS = re.compile(r"REFERENCE\.md|REFERENCE\s*§|cms_extracts|SOURCES\.md|shared/domain")


def _note_keys() -> set[str]:
    """The bracketed source keys of the notes' source list ([HHS-JZ], [PABAU], ...), when the
    notes are beside the repository."""
    notes = SHARED / "domain" / "REFERENCE.md"
    if not notes.is_file():
        return set()
    text = notes.read_text(encoding="utf-8")
    return set(re.findall(r"\[([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)\]", text.split("## 7. Sources")[-1]))


def _shipped_texts() -> list[Path]:
    pack = default_pack()
    files = [p for p in sorted(pack.rglob("*")) if p.is_file()]
    files += [p for p in sorted((ROOT / "rules").rglob("*")) if p.is_file()]
    files += sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]
    files += [p for p in sorted((ROOT / "src" / "scrub837").rglob("*"))
              if p.is_file() and p.suffix in (".py", ".toml", ".md", ".json", ".html", ".css")]
    return list(dict.fromkeys(p.resolve() for p in files))  # the pack is ROOT/rules in a checkout


def test_no_shipped_text_cites_the_internal_notes(rb: Rulebook) -> None:
    files = _shipped_texts()
    assert len(files) > 40 and any(p.name == "pack.toml" for p in files)
    keys = _note_keys()
    bad: list[str] = []
    for path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            cited = _NOTE_CITATIONS.findall(line) + [f"[{k}]" for k in keys if f"[{k}]" in line]
            if cited:
                bad.append(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:"
                           f"{n}: {', '.join(cited)}")
    assert not bad, "internal notes cited as sources:\n" + "\n".join(bad)
    # what `rules check` and `rules show` print: every setting, edit, code and payer source
    report = check_pack()
    shown = [*report.unverified, *(explain_code(rb, code) for code in sorted(rb.codes))]
    shown += [e.source for e in rb.edits.values()] + list(rb.settings.sources.values())
    assert not [t for t in shown if _NOTE_CITATIONS.search(t)]


def test_j1171_overlay_holds_judgement_only(rb: Rulebook) -> None:
    """The CMS facts of J1171 come from the built-in HCPCS Jan 2026 and MUE 2026-04-01 data; its
    overlay restates only the keys every code file must have, and they agree with the data."""
    own = rule(rb, "J1171")
    assert own.verified and own.mue_practitioner is None and own.mue_outpatient is None
    assert own.short == "" and own.action_effective is None and own.terminated is None
    assert [look.code for look in own.lookalikes] == ["J1170"] and "J1170" in own.note
    assert not [p for p in check_pack().problems if "J1171" in p]
    shown = explain_code(rb, "J1171")
    assert "Inj, hydromorphone, 0.1 mg" in shown  # the short descriptor: from the CMS data only
    assert "MUE practitioner: 240 (MAI 3" in shown and "extract" not in shown


def test_judgement_entries_are_flagged_unverified(rb: Rulebook) -> None:
    unverified = rb.unverified()
    for r in rb.codes.values():
        assert r.container in ("single-dose", "multi-dose", "unknown")
        if r.container != "unknown":
            assert not r.container_verified and "judgement" in r.container_source
            assert any(u.startswith(f"{r.code}: container") for u in unverified)
        if r.dx_supported:
            assert not r.dx_verified and "FDA label" in r.dx_source
    assert rule(rb, "J2320").container == "unknown"  # the page's JW advice is about naltrexone
    assert {c for c, r in rb.codes.items() if r.dx_supported} == {"J9262", "J2315"}
    assert rule(rb, "J9262").dx_supported == ("C92.1",)
    assert rule(rb, "J2315").dx_supported == ("F10", "F11")
    assert sum("is an example" in u for u in unverified) == 2


def test_diagnosis_prefixes_are_icd10cm_codes(rb: Rulebook) -> None:
    for r in rb.codes.values():
        for dx in r.dx_supported:
            assert icd10_status(dx) != "invalid", (r.code, dx)


def test_overlays_are_chosen_by_payer_id(rb: Rulebook) -> None:
    a, b = rb.overlay_for("COMMA"), rb.overlay_for("COMMB")
    assert (a.name, b.name, rb.overlay_for("ANYONE").name) == (
        "Example Commercial A", "Example Commercial B", "default")
    assert rb.overlay_for("") is rb.default_payer
    assert a.example and b.example and not rb.default_payer.example
    assert a.prior_auth >= {"J9262", "J2315"} and b.prior_auth == {"J9299", "J9301"}
    assert a.pos_allowed["J2410"] == {"19", "21", "22", "23"}
    assert b.ndc_required is False and rb.default_payer.ndc_required is None
    for code, limit in a.quantity_limits.items():
        mue = rb.max_units(code, "P")
        assert mue is not None and limit < mue[0]
    edit = rb.edit("NDC_NOT_IN_CROSSWALK", a)
    assert edit is not None and edit.severity is Severity.REJECT
    default = rb.edit("NDC_NOT_IN_CROSSWALK", rb.default_payer)
    assert default is not None and default.severity is Severity.WARN
    assert rb.edit("DX_NOT_BILLABLE", b) is None  # switched off
    assert rb.edit("NO_SUCH_RULE") is None


def test_drug_codes_by_prefix(rb: Rulebook) -> None:
    assert rb.is_drug_code("J9262") and rb.is_drug_code("J0135")
    assert not rb.is_drug_code("99213") and not rb.is_drug_code("")


def test_explain_code(rb: Rulebook) -> None:
    text = explain_code(rb, "J2260")
    for part in ("milrinone", "oxymorphone", "J2410", "5 mg per unit", "(837P practitioner): 4",
                 "(837I outpatient hospital): 16", "container: unknown", "UNITS_OVER_MAX",
                 "A7:476", "00143932610"):
        assert part in text, part
    assert "MOD_WASTE_MISSING" not in text  # unknown container: no waste-modifier edit
    j2311 = explain_code(rb, "J2311")
    assert "through 2025-06-30 (terminated)" in j2311 and "replaced by J2313" in j2311
    j9262 = explain_code(rb, "J9262")
    assert "MOD_WASTE_MISSING" in j9262 and "DX_NOT_SUPPORTED" in j9262 and "C92.1" in j9262
    assert "AUTH_MISSING" in j9262 and "Example Commercial A [COMMA] (EXAMPLE" in j9262
    assert "unlisted (NOC)" in explain_code(rb, "J3490")
    assert "not in CMS HCPCS Level II, January 2026" in explain_code(rb, "J0000")


def test_pack_ships_in_the_wheel(tmp_path: Path) -> None:
    import subprocess
    import sys
    import zipfile

    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel = next(tmp_path.glob("scrub837-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {str(p.relative_to(ROOT)) for p in (ROOT / "rules").rglob("*") if p.is_file()}
    assert {"rules/pack.toml", "rules/codes/J9262.toml", "rules/payers/default.toml"} <= shipped
    assert {f"scrub837/{name}" for name in shipped} <= names
    data = ROOT / "src" / "scrub837" / "data"
    built_in = {f"scrub837/data/{p.name}" for p in data.iterdir() if p.is_file()}
    assert "scrub837/data/manifest.json" in built_in and built_in <= names
    info = zipfile.ZipFile(wheel)
    assert sum(info.getinfo(n).file_size for n in built_in) < 4_000_000  # a few MB at most
