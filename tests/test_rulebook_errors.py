"""A broken rule file fails loudly, naming the file and the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scrub837.rulebook import RulePackError, check_pack, load_rulebook
from tests.conftest import ROOT

J9262 = "codes/J9262.toml"
A = "payers/example_commercial_a.toml"
B = "payers/example_commercial_b.toml"


@pytest.fixture()
def pack(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", target)
    return target


def broken(pack: Path, file: str, old: str, new: str) -> RulePackError:
    path = pack / file
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RulePackError) as err:
        load_rulebook(pack)
    return err.value


@pytest.mark.parametrize(("file", "old", "new", "key", "message"), [
    # TOML syntax
    ("pack.toml", "[settings]", "[settings\n", "", "not valid TOML"),
    (J9262, "effective = 2014-01-01", "effective = 2014-02-30", "", "not valid TOML"),
    # unknown keys
    (J9262, "verified = true", 'verified = true\ncolour = "red"', "J9262.colour", "unknown key"),
    ("edits.toml", 'title = "JW and JZ on one line"',
     'title = "JW and JZ on one line"\ntitel = "x"',
     "MOD_JW_JZ_BOTH.titel", "unknown key"),
    ("edits.toml", 'title = "JW and JZ on one line"', 'titel = "JW and JZ on one line"',
     "MOD_JW_JZ_BOTH.title", "is required"),
    ("pack.toml", "ctp_units = [", "ctp_unit = [", "settings.ctp_units", "is required"),
    # wrong types
    (J9262, 'amount = "0.01"', 'amount = "x"', "J9262.billing_unit.amount",
     "expected a number, got 'x'"),
    (J9262, 'amount = "0.01"', 'amount = "0"', "J9262.billing_unit.amount", "> 0"),
    (J9262, "verified = true", 'verified = "yes"', "J9262.verified", "expected true or false"),
    (J9262, 'unit = "MG"', 'unit = "mg"', "J9262.billing_unit.unit", "expected one of"),
    (J9262, 'kind = "per"', 'kind = "each"', "J9262.billing_unit.kind", "'per' or 'up_to'"),
    (J9262, "units = 700, mai = 3", "units = 700, mai = 4", "J9262.mue_practitioner.mai",
     "1, 2 or 3"),
    (J9262, "units = 700,", "units = 700.5,", "J9262.mue_practitioner.units", "whole numbers"),
    (J9262, 'type = "single-dose"', 'type = "vial"', "J9262.container.type", "expected one of"),
    (J9262, 'codes = ["C92.1"]', 'codes = ["92.1"]', "J9262.dx_supported.codes",
     "not an ICD-10-CM code"),
    (J9262, 'code = "J9045"', 'code = "J90"', "J9262.lookalikes[0].code", "not a HCPCS code"),
    (J9262, 'code = "J9045"', 'code = "J9262"', "J9262.lookalikes[0].code", "its own look-alike"),
    (J9262, "verified = true", 'verified = true\nctp_units = ["EA"]', "J9262.ctp_units",
     "not in the pack's ctp_units"),
    (J9262, "verified = true", 'verified = true\nreplaced_by = ["J9263"]', "J9262.replaced_by",
     "only a terminated code"),
    (J9262, 'seed_page = "003_4bec8f4ca79412c4.txt"\n', "", "J9262.seed_page", "go together"),
    # dates
    (J9262, "effective = 2014-01-01", 'effective = "2014"', "J9262.effective",
     "expected a date like 2025-07-01"),
    (J9262, "effective = 2014-01-01", "effective = 2014-01-01T08:00:00", "J9262.effective",
     "expected a date"),
    (J9262, "verified = true", "verified = true\nterminated = 2013-12-31", "J9262.terminated",
     "is before 'effective'"),
    ("pack.toml", "icd10_from = 2015-10-01", 'icd10_from = "2015-10-01"', "settings.icd10_from",
     "expected a date"),
    # the settings
    ("pack.toml", 'ctp_units = ["F2",', 'ctp_units = ["EA", "F2",', "settings.ctp_units",
     "subset of"),
    ("pack.toml", 'modifiers_not_on_drug_lines = ["25"]', 'modifiers_not_on_drug_lines = ["259"]',
     "settings.modifiers_not_on_drug_lines", "two-character modifier"),
    ("pack.toml", "icd10_from_source =", "icd10_from_sauce =", "settings.icd10_from_source",
     "is required"),
    # STC composites and severities
    ("edits.toml", 'stc = ["A7:476"]', 'stc = ["A7-476"]', "UNITS_INVALID.stc", "'A7:218'"),
    ("edits.toml", 'stc = ["A7:476"]', 'stc = ["Z7:476"]', "UNITS_INVALID.stc", "category"),
    ("edits.toml", 'stc = ["A7:476"]', 'stc = ["A7:4x6"]', "UNITS_INVALID.stc", "status"),
    ("edits.toml", 'stc = ["A7:476"]', "stc = []", "UNITS_INVALID.stc", "at least one"),
    ("edits.toml", 'stc = ["A6:252:1P"]', 'stc = ["A6:252:1p!"]', "AUTH_MISSING.stc", "entity"),
    ("edits.toml", 'severity = "reject"', 'severity = "maybe"', "UNITS_INVALID.severity",
     "expected 'reject', 'warn', got 'maybe'"),
    # templates: nothing but plain, declared {name} fields
    ("edits.toml", 'message = "{code}: units', 'message = "{code.__class__}: units',
     "UNITS_INVALID.message", "not a plain {name}"),
    ("edits.toml", 'message = "{code}: units', 'message = "{0}: units',
     "UNITS_INVALID.message", "not a plain {name}"),
    ("edits.toml", "units '{units}'", "units '{units!r}'", "UNITS_INVALID.message",
     "not a plain {name}"),
    ("edits.toml", "units '{units}'", "units '{units:>999999}'", "UNITS_INVALID.message",
     "not a plain {name}"),
    ("edits.toml", "units '{units}'", "units '{units[0]}'", "UNITS_INVALID.message",
     "not a plain {name}"),
    ("edits.toml", "units '{units}'", "units '{secret}'", "UNITS_INVALID.message",
     "not one of the rule's fields"),
    ("edits.toml", "units '{units}'", "units '{units'", "UNITS_INVALID.message", "bad template"),
    ("edits.toml", 'fields = ["units"]', 'fields = ["Units"]', "UNITS_INVALID.fields",
     "lower_case"),
    # payer overlays
    (A, 'NDC_NOT_IN_CROSSWALK = "reject"', 'NO_SUCH_RULE = "reject"',
     "payer.severity.NO_SUCH_RULE", "no such rule id"),
    (A, 'NDC_NOT_IN_CROSSWALK = "reject"', 'NDC_NOT_IN_CROSSWALK = "sometimes"',
     "payer.severity.NDC_NOT_IN_CROSSWALK", "'off'"),
    (A, 'prior_auth = ["J9262"', 'prior_auth = ["J9998"', "payer.prior_auth",
     "J9998 is not in the rule pack"),
    (A, 'prior_auth = ["J9262"', 'prior_auth = ["J92"', "payer.prior_auth", "not a HCPCS code"),
    (A, "J2270 = 4", "J9998 = 4", "payer.quantity_limits.J9998", "not in the rule pack"),
    (A, "J2410 = 1", "J2410 = 0", "payer.quantity_limits.J2410", "> 0"),
    (A, 'J2410 = ["19"', 'J2410 = ["A9"', "payer.pos_allowed.J2410", "two-digit"),
    (A, 'ndc_required = true', 'ndc_required = "yes"', "payer.ndc_required", "true or false"),
    (A, "example = true", "example = true\nexpires = 2027-01-01", "payer.expires", "unknown key"),
    (B, '"COMMB"', '"COMMA"', "payer.payer_ids", "already used by"),
    (B, 'payer_ids = ["COMMB"]', "payer_ids = []", "payer.payer_ids", "at least one"),
    ("payers/default.toml", "payer_ids = []", 'payer_ids = ["X"]', "payer.payer_ids",
     "leave payer_ids = []"),
])
def test_broken_rule_files_name_file_and_key(pack: Path, file: str, old: str, new: str,
                                             key: str, message: str) -> None:
    err = broken(pack, file, old, new)
    assert err.file == f"rules/{file}"
    assert err.key == key
    assert message in err.message
    where = f"key {key!r}: " if key else ""
    assert str(err).startswith(f"rules/{file}: {where}")


def test_the_brief_example_message(pack: Path) -> None:
    err = broken(pack, J9262, 'amount = "0.01"', 'amount = "x"')
    assert str(err) == ("rules/codes/J9262.toml: key 'J9262.billing_unit.amount': expected a "
                        "number, got 'x'")


def test_a_code_defined_twice_names_both_files(pack: Path) -> None:
    shutil.copy(pack / J9262, pack / "codes" / "zz_oncology.toml")
    with pytest.raises(RulePackError) as err:
        load_rulebook(pack)
    assert err.value.file == "rules/codes/zz_oncology.toml" and err.value.key == "J9262"
    assert "already defined in rules/codes/J9262.toml" in str(err.value)


def test_a_file_named_after_a_code_holds_only_that_code(pack: Path) -> None:
    path = pack / J9262
    path.write_text(path.read_text() + '\n[J2261]\ndescriptor = "x"\n')
    with pytest.raises(RulePackError) as err:
        load_rulebook(pack)
    assert err.value.file == "rules/codes/J9262.toml" and err.value.key == "J2261"


def test_a_group_file_may_hold_several_codes(pack: Path) -> None:
    group = pack / "codes" / "naloxone.toml"
    group.write_text((pack / "codes" / "J2312.toml").read_text()
                     + (pack / "codes" / "J2313.toml").read_text())
    (pack / "codes" / "J2312.toml").unlink()
    (pack / "codes" / "J2313.toml").unlink()
    rb = load_rulebook(pack)
    files = {code: rule.file for code, rule in rb.codes.items()}
    assert files["J2312"] == files["J2313"] == "rules/codes/naloxone.toml"


def test_a_code_without_billing_unit_must_be_unlisted(pack: Path) -> None:
    err = broken(pack, J9262, 'billing_unit = { amount = "0.01", unit = "MG", kind = "per" }\n',
                 "")
    assert err.key == "J9262.billing_unit" and "unless unlisted" in err.message
    err = broken(pack, "codes/J3490.toml", "unlisted = true",
                 'unlisted = true\nbilling_unit = { amount = "1", unit = "MG", kind = "per" }')
    assert err.key == "J3490.billing_unit" and "no descriptor dosage" in err.message


@pytest.mark.parametrize(("remove", "message"), [
    ("payers/default.toml", "file not found"),
    ("edits.toml", "file not found"),
    ("codes", "no code files"),
])
def test_missing_files(pack: Path, remove: str, message: str) -> None:
    target = pack / remove
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    with pytest.raises(RulePackError, match=message):
        load_rulebook(pack)


def test_check_pack_reports_problems_that_load(pack: Path) -> None:
    text = (pack / "edits.toml").read_text()
    start = text.index("[MOD_JG_TB]")
    end = text.index("\n\n", start)
    (pack / "edits.toml").write_text(text[:start] + text[end + 2:])
    (pack / A).write_text((pack / A).read_text().replace("J2270 = 4", "J2270 = 40"))
    (pack / "codes" / "J1171.toml").unlink()
    j1170 = pack / "codes" / "J1170.toml"
    j1170.write_text(j1170.read_text().replace('replaced_by = ["J1171"]', 'replaced_by = ["J9996"]'))
    report = check_pack(pack)
    assert "edits.toml has no definition for rule id MOD_JG_TB" in report.problems
    assert any("quantity limit 40 for J2270" in p for p in report.problems)
    # a successor must be in the pack or the CMS data (J1171 is in the data; J9996 nowhere)
    assert any("J1170.replaced_by names J9996" in p for p in report.problems)
    assert report.codes == len(load_rulebook().codes) - 1
