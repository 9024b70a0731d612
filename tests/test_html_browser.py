"""The HTML report in a real browser: Debian's headless Chromium, driven by selenium through
Debian's chromedriver, the page opened from file:// with the network switched off. The worklist
links land on the right claim, a reason lists only its claims (CSS :target, no script), and the
screenshots are not blank. Screenshots go to the test's tmp folder (and to
$SCRUB837_SCREENSHOTS when set, to look at them).

Skipped, with one line, only when Chromium or chromedriver is not installed (.ci/run installs
them)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import pytest

from scrub837.outputs import html as html_mod
from scrub837.run.pipeline import OutputOptions, scrub_file
from scrub837.scrubber import Scrubber
from tests.conftest import ROOT, SAMPLES

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not (os.access(CHROMIUM, os.X_OK) and os.access(DRIVER, os.X_OK)):
    pytest.skip("Chromium not installed (apt-get install chromium chromium-driver): the "
                "browser tests of the HTML report are skipped", allow_module_level=True)

from PIL import Image  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000")


@lru_cache(maxsize=1)
def scrubber() -> Scrubber:
    return Scrubber()


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    profile = tempfile.mkdtemp(prefix="scrub837-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        driver.set_page_load_timeout(120)
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0})
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _open(driver: webdriver.Chrome, page: Path) -> None:
    driver.get(page.as_uri())
    assert driver.execute_script("return document.readyState") == "complete"


def _screenshot(driver: webdriver.Chrome, path: Path) -> None:
    """Save the viewport and check it is a picture of a page, not a blank one."""
    png = driver.get_screenshot_as_png()
    path.write_bytes(png)
    keep = os.environ.get("SCRUB837_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size[0] >= 1000
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 100, path.name  # text, badges, marks
    white = max(colours)[0] / (image.size[0] * image.size[1])
    assert white < 0.97, (path.name, white)


def _target(driver: webdriver.Chrome) -> dict[str, object]:
    return driver.execute_script(  # type: ignore[no-any-return]
        "const t = document.querySelector(':target'); if (!t) return {};"
        "const r = t.getBoundingClientRect();"
        "return {id: t.id, top: r.top, bottom: r.bottom, height: innerHeight,"
        " text: t.querySelector('h2') ? t.querySelector('h2').textContent : ''};")


def _click(driver: webdriver.Chrome, element: WebElement) -> None:
    """Click as a person would: with the element in the middle of the window (the worklist's
    sticky header covers the top row)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def _in_view(target: dict[str, object]) -> bool:
    """The target's top is in the viewport (to a pixel: the scroll is sub-pixel)."""
    return -1.0 <= float(str(target["top"])) < float(str(target["height"]))


def _visible_rows(driver: webdriver.Chrome, table: int = 0) -> list[str]:
    tables = driver.find_elements(By.CSS_SELECTOR, "table.worklist")
    if len(tables) <= table:
        return []
    return [r.find_elements(By.TAG_NAME, "td")[1].text
            for r in tables[table].find_elements(By.CSS_SELECTOR, "tbody tr") if r.is_displayed()]


def test_the_defects_report_works_in_chromium(browser: webdriver.Chrome,
                                              tmp_path: Path) -> None:
    scrub_file(SAMPLES / "837p_defects.837", scrubber(), tmp_path, OutputOptions())
    page = tmp_path / "837p_defects.837.report.html"
    _open(browser, page)
    assert browser.title == "scrub837 report: 837p_defects.837"
    # self-contained: the page asked for nothing (no style sheet, font, image or script)
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert browser.execute_script("return document.scripts.length") == 0
    assert "$42,490.00 held back" in browser.find_element(By.CLASS_NAME, "verdict").text
    _screenshot(browser, tmp_path / "defects-top.png")
    rows = _visible_rows(browser)
    assert len(rows) == 32
    links = [(a.text, a.get_attribute("href")) for a in
             browser.find_elements(By.CSS_SELECTOR, "table.worklist tbody td a")]
    assert len(links) >= 31
    for n, (clm01, _) in enumerate(links):
        link = browser.find_elements(By.CSS_SELECTOR, "table.worklist tbody td a")[n]
        _click(browser, link)
        target = _target(browser)
        assert target.get("text") and clm01 in str(target["text"]), (clm01, target)
        assert _in_view(target), target
        if clm01 == "DEF-UNITS-NDC-MISMATCH":
            _screenshot(browser, tmp_path / "defects-claim.png")
        browser.find_element(By.CSS_SELECTOR, ":target p.back a").click()
        assert _target(browser).get("id") == "worklist"
    # a reason lists only the claims it rejects; "show all" brings every row back
    browser.find_element(By.CSS_SELECTOR, "a[href='#only-UNITS_INVALID']").click()
    assert _target(browser).get("id") == "only-UNITS_INVALID"
    assert _visible_rows(browser) == ["DEF-UNITS-INVALID"]
    assert not browser.find_element(By.ID, "warned").is_displayed()  # no accepted claim has it
    _screenshot(browser, tmp_path / "defects-filter.png")
    browser.find_element(By.CSS_SELECTOR, "#only-UNITS_INVALID a").click()
    assert len(_visible_rows(browser)) == 32
    assert browser.find_element(By.ID, "warned").is_displayed()
    browser.find_element(By.CSS_SELECTOR, "a[href='#warn-NDC_NOT_IN_CROSSWALK']").click()
    assert browser.find_element(By.ID, "warned").is_displayed()
    assert len(_visible_rows(browser)) + len(_visible_rows(browser, 1)) == 9


def test_a_large_generated_file_opens_and_links_in_chromium(
        browser: webdriver.Chrome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A generated file past the page's limits (smaller limits, so the test stays quick): the
    page says what it left out, its links land on their claims, and it renders."""
    monkeypatch.setattr(html_mod, "LIMITS", html_mod.ReportLimits(
        rejected_full=40, rejected_rows=120, warned_full=10, warned_rows=30))
    src = tmp_path / "large.837"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--kind", "P",
                    "--claims", "4000", "--claims-per-st", "1000", "--seed", "3", "--out",
                    str(src)], check=True, timeout=120)
    options = replace(OutputOptions(), now=datetime(2026, 11, 2, 10, 0))
    outcome = scrub_file(src, scrubber(), tmp_path, options)
    assert outcome.summary.rejected > 120
    _open(browser, tmp_path / "large.837.report.html")
    note = browser.find_element(By.CLASS_NAME, "left-out").text
    assert f"first 120 of the {outcome.summary.rejected:,} rejected claims" in note
    assert "large.837.report.json" in note
    assert len(_visible_rows(browser)) == 120
    _screenshot(browser, tmp_path / "large-top.png")
    links = browser.find_elements(By.CSS_SELECTOR, "table.worklist tbody td a")
    assert len(links) == 40 + min(10, len(_visible_rows(browser, 1)))
    for n in (0, 39):
        link = browser.find_elements(By.CSS_SELECTOR, "table.worklist tbody td a")[n]
        clm01 = link.text
        _click(browser, link)
        target = _target(browser)
        assert clm01 in str(target["text"]) and _in_view(target), target
    _screenshot(browser, tmp_path / "large-claim.png")
