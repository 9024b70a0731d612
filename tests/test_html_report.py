"""The HTML report as a work tool, read as a tree: the worklist and its links, the reasons with
their counts, money, masking, a bounded page for any input (the same with ``--jobs`` parts),
and a report that shows only what the 277CA answers (issue 17 item 8). The real-browser checks
are in tests/test_html_browser.py."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import pytest
from lxml import html as lhtml

from scrub837.outputs import html as html_mod
from scrub837.outputs._html_claim import mask_id, mask_name
from scrub837.outputs._html_page import BUILTIN_TITLES
from scrub837.run.parts import join_parts, plan, scrub_part
from scrub837.run.pipeline import OutputOptions, scrub_file
from scrub837.verdicts.results import dollars
from scrub837.rulebook._catalog import ENVELOPE
from scrub837.scrubber import Scrubber
from tests.compare import assert_same_outputs
from tests.conftest import ROOT, SAMPLES

GEN = ROOT / "benchmarks" / "generate.py"


@lru_cache(maxsize=1)
def scrubber() -> Scrubber:
    return Scrubber()


def _report(tmp_path: Path, name: str, **options: object) -> tuple[lhtml.HtmlElement, str, dict]:  # type: ignore[type-arg]
    scrub_file(SAMPLES / name, scrubber(), tmp_path, OutputOptions(**options))  # type: ignore[arg-type]
    text = (tmp_path / f"{name}.report.html").read_text()
    report = json.loads((tmp_path / f"{name}.report.json").read_text())
    return lhtml.fromstring(text), text, report


def _rows(page: lhtml.HtmlElement, table: int = 0) -> list[lhtml.HtmlElement]:
    tables = page.xpath("//table[contains(@class,'worklist')]")
    return tables[table].xpath("./tbody/tr") if len(tables) > table else []


def _links_resolve(page: lhtml.HtmlElement) -> int:
    """Every in-page link has its target; returns how many links there are."""
    ids = set(page.xpath("//@id"))
    hrefs = [h[1:] for h in page.xpath("//a/@href")]
    missing = [h for h in hrefs if h not in ids]
    assert not missing, missing[:5]
    return len(hrefs)


def test_money_reads_as_money() -> None:
    assert dollars(Decimal("42390")) == "$42,390.00"
    assert dollars(Decimal("276588007")) == "$276,588,007.00"
    assert dollars(Decimal("-12.5")) == "-$12.50"
    assert dollars(Decimal("0.005")) == "$0.01"
    assert dollars(Decimal(0)) == "$0.00"


def test_the_worklist_lists_every_rejected_claim_and_links_to_it(tmp_path: Path) -> None:
    page, text, report = _report(tmp_path, "837p_defects.837")
    rejected = [c for t in report["transactions"] for c in t["claims"]
                if c["verdict"] == "rejected"]
    rows = _rows(page)
    assert len(rows) == len(rejected) == 32
    assert _links_resolve(page) > 31
    for row, claim in zip(rows, rejected, strict=True):
        cells = row.xpath("./td")
        assert cells[1].text_content() == claim["clm01"]
        target = page.get_element_by_id(cells[1].xpath(".//a/@href")[0][1:])
        assert target.tag == "section" and claim["clm01"] in target.xpath("./h2")[0].text_content()
        assert "REJECTED" in target.xpath("./h2")[0].text_content()
        assert cells[5].text_content() == dollars(Decimal(claim["charge"]))
        first = next(f["rule_id"] for f in claim["findings"] if f["severity"] == "reject")
        assert cells[6].text_content().startswith(first)
        assert "reject" in row.get("class").split()
    assert cells[4].text_content() == "02/10/2026"
    # warnings look different: their own table, rows of class warn
    warned = _rows(page, 1)
    assert warned and all("warn" in r.get("class").split() for r in warned)
    assert "$42,490.00 held back" in page.text_content()


def test_every_reason_is_listed_with_its_count_and_filters_the_worklist(tmp_path: Path) -> None:
    page, text, report = _report(tmp_path, "837p_defects.837")
    reasons = page.xpath("//table[contains(@class,'reasons')]/tbody/tr")
    rejects = [(r.xpath("./td[2]")[0].text_content(), int(r.xpath("./td[4]")[0].text_content()))
               for r in reasons if "REJECTS" in r.xpath("./td[1]")[0].text_content()]
    summary = [(r["rule_id"], r["claims"]) for r in report["summary"]["reasons"]]
    assert rejects == summary and len(rejects) > 10  # all of them, not the first 10
    assert all(r.xpath("./td[3]")[0].text_content() for r in reasons)  # each described
    assert any("WARNING" in r.text_content() for r in reasons)
    warns = [(r.xpath("./td[2]")[0].text_content(), int(r.xpath("./td[4]")[0].text_content()))
             for r in reasons if "WARNING" in r.xpath("./td[1]")[0].text_content()]
    assert ("NDC_NOT_IN_CROSSWALK", 9) in warns  # and it rejects one claim (payer COMMA)
    css = page.xpath("//style")[0].text
    for prefix, row_prefix, items in (("only", "r", rejects), ("warn", "v", warns)):
        for rule, n in items:
            href = page.xpath(f"//table[contains(@class,'reasons')]//a[.='{rule}']"
                              f"[starts-with(@href,'#{prefix}-')]/@href")[0]
            assert page.get_element_by_id(href[1:]).get("class") == "filter"
            cls = href[len(f"#{prefix}-"):]
            assert f"{href}:target~table tr.w:not(.{row_prefix}-{cls}){{display:none}}" in css
            having = [r for r in _rows(page) + _rows(page, 1)
                      if f"{row_prefix}-{cls}" in r.get("class").split()]
            assert len(having) == n, rule


def test_masks_have_a_fixed_width_and_no_delimiter(tmp_path: Path) -> None:
    assert mask_name("TESTPATIENT") == mask_name("TE") == "T\u2022\u2022\u2022"
    assert mask_id("MBR100000001") == mask_id("1") == "\u2022\u2022\u2022\u2022"
    page, text, _ = _report(tmp_path, "837p_defects.837")
    nm1 = {td.text_content() for td in page.xpath("//td[@class='seg']")
           if td.text_content().startswith("NM1*IL*")}
    assert "NM1*IL*1*T\u2022\u2022\u2022*A\u2022\u2022\u2022****MI*\u2022\u2022\u2022\u2022~" in nm1
    # each name element is a letter and three bullets, the id four bullets: the mask says
    # nothing of the lengths, and the element separators stay readable
    assert all(re.fullmatch(r"NM1\*IL\*1\*\w\u2022{3}\*\w\u2022{3}\*{4}MI\*\u2022{4}~", s)
               for s in nm1), nm1
    assert "TESTPATIENT" not in text and "MBR100000001" not in text and "19560312" not in text
    assert "T\u2022\u2022\u2022, A\u2022\u2022\u2022" in [r.xpath("./td[3]")[0].text_content()
                                                        for r in _rows(page)]
    _, shown, _ = _report(tmp_path / "phi", "837p_defects.837", show_phi=True)
    assert "TESTPATIENT" in shown and "MBR100000001" in shown


def test_envelope_rules_have_a_description() -> None:
    assert {rule for rule, *_ in ENVELOPE} <= set(BUILTIN_TITLES)
    assert all(title.strip() for title in BUILTIN_TITLES.values())


def test_a_truncated_transaction_is_not_shown_as_answered(tmp_path: Path) -> None:
    page, text, report = _report(tmp_path, "bad_truncated.837")
    assert not page.xpath("//section")
    assert "ACCEPTED" not in text
    assert "Claims not answered" in text and "none of the 2 claims" in text
    err = (tmp_path / "bad_truncated.837.error.txt").read_text()
    assert "were answered" not in err and "no claim was answered" in err
    assert not (tmp_path / "bad_truncated.837.277").exists()


def test_a_wrong_se01_shows_every_claim_rejected(tmp_path: Path) -> None:
    page, text, report = _report(tmp_path, "bad_count_mismatch.837")
    badges = {b.text_content() for b in page.xpath("//section//span[contains(@class,'badge')]"
                                                   "[ancestor::h2]")}
    assert badges == {"REJECTED", "ALL CLAIMS REJECTED"}
    assert not page.xpath("//section[contains(@class,'warned')]")
    rows = _rows(page)
    assert len(rows) == report["summary"]["rejected"] == 6
    assert all(r.xpath(".//a/@href") for r in rows)  # to the claim, or to its transaction
    _links_resolve(page)
    reason = page.xpath("//table[contains(@class,'reasons')]//tr[.//a[.='X12_COUNT']]/td[3]")
    assert reason[0].text_content() == BUILTIN_TITLES["X12_COUNT"]


def test_hostile_values_are_escaped_in_the_worklist() -> None:
    text = (SAMPLES / "837p_defects.837").read_text().replace(
        "CLM*DEF-NDC-MISSING*", "CLM*<b>X</b>&\"'*")
    out = scrubber().scrub(text.encode(), "x.837").render_html()
    page = lhtml.fromstring(out)
    assert not page.xpath("//b") and b"&lt;b&gt;X&lt;/b&gt;&amp;" in out
    assert "<b>X</b>&\"'" in [r.xpath("./td[2]")[0].text_content() for r in _rows(page)]


def _generate(path: Path, claims: int, per_st: int) -> Path:
    subprocess.run([sys.executable, str(GEN), "--kind", "P", "--claims", str(claims),
                    "--claims-per-st", str(per_st), "--seed", "5", "--out", str(path)],
                   check=True, timeout=120)
    return path


SMALL = html_mod.ReportLimits(rejected_full=12, rejected_rows=30, warned_full=5, warned_rows=9,
                              transactions=2)


def test_a_large_input_gives_a_bounded_page_that_says_what_it_left_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With small limits: the page holds the first rows and sections, says where the rest is,
    every link resolves, and a --jobs run (the file cut into parts) writes the same page."""
    monkeypatch.setattr(html_mod, "LIMITS", SMALL)
    src = _generate(tmp_path / "big.837", 2400, 300)
    options = replace(OutputOptions(), now=datetime(2026, 11, 2, 10, 0))
    one = tmp_path / "one"
    outcome = scrub_file(src, scrubber(), one, options)
    assert outcome.summary.rejected > 30
    page = lhtml.fromstring((one / "big.837.report.html").read_bytes())
    rows = _rows(page)
    assert len(rows) == 30
    linked = [r for r in rows if r.xpath(".//a/@href")]
    assert len(linked) == 12  # the first 12 rejected claims are shown in full
    assert len(page.xpath("//section[contains(@class,'rejected')]")) == 12
    assert len(page.xpath("//section[contains(@class,'warned')]")) <= 5
    assert len(_rows(page, 1)) <= 9
    note = page.xpath("//p[contains(@class,'left-out')]")[0].text_content()
    assert f"first 30 of the {outcome.summary.rejected:,} rejected claims" in note
    assert "big.837.report.json" in note
    _links_resolve(page)
    two = tmp_path / "two"
    two.mkdir()
    with open(src, "rb") as f:
        parts = list(plan(f, str(src), 1))
    assert len(parts) == 8
    outcomes = [scrub_part(src, str(src), p, scrubber(), two, options, "t") for p in parts]
    join_parts(str(src), outcomes, two, options)
    assert_same_outputs(one, two)


def test_a_rejected_transaction_past_the_limits_links_nothing_missing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Wrong SE01s in several transactions: every claim rejected, transaction blocks bounded,
    every row's link has its target, one process or parts."""
    monkeypatch.setattr(html_mod, "LIMITS", SMALL)
    data = _generate(tmp_path / "g.837", 120, 20).read_bytes()
    data = re.sub(rb"SE\*(\d+)\*", lambda m: b"SE*" + str(int(m.group(1)) + 1).encode() + b"*",
                  data)
    src = tmp_path / "se.837"
    src.write_bytes(data)
    options = replace(OutputOptions(), now=datetime(2026, 11, 2, 10, 0))
    outcome = scrub_file(src, scrubber(), tmp_path / "one", options)
    assert outcome.summary.rejected == outcome.summary.claims == 120
    page = lhtml.fromstring((tmp_path / "one" / "se.837.report.html").read_bytes())
    assert len(page.xpath("//section[starts-with(@id,'txn-')]")) == 2
    _links_resolve(page)
    assert not page.xpath("//section[contains(@class,'warned')]")
    two = tmp_path / "two"
    two.mkdir()
    parts = list(plan(io.BytesIO(data), str(src), 1))
    outcomes = [scrub_part(src, str(src), p, scrubber(), two, options, "t") for p in parts]
    join_parts(str(src), outcomes, two, options)
    assert_same_outputs(tmp_path / "one", two)


@pytest.mark.parametrize("name", ["837p_defects.837", "bad_count_mismatch.837",
                                  "837p_multi_isa.837", "837i_outpatient.837"])
def test_the_library_page_is_the_streamed_page(tmp_path: Path, name: str) -> None:
    """``Scrubber.scrub().render_html()`` (whole claims, final findings) writes the page the
    file pipeline writes from streamed claims and slim transaction results."""
    src = SAMPLES / name
    scrub_file(src, scrubber(), tmp_path, OutputOptions())
    streamed = (tmp_path / f"{name}.report.html").read_text()
    streamed = streamed.replace(f"scrub837 report: {name}", "T").replace(
        f"{name}.report.json", "the JSON report")
    whole = scrubber().scrub(src.read_bytes(), str(src)).render_html().decode()
    assert whole.replace(f"scrub837 report: {src}", "T") == streamed
