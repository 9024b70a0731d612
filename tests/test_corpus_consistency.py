"""One answer per claim, whatever the output: every file of the public corpus (../shared/corpus),
the samples (x12_samples/) and the hostile corpus (tests/hostile/) is scrubbed by the command
line, and for each file

* each output that answers claims -- report.json, the 277CA, the accepted/rejected 837 split --
  gives every claim exactly one verdict, and they all give the same verdicts;
* the summary line's counts are those verdicts;
* the file's exit code (the CLI run on that file alone) follows from its summary (3 cannot
  be read, 1 a claim or a transaction rejected, 0 every claim accepted), and one real ``scrub837`` process
  over all the files prints the same summaries and exits with the worst of them;
* a file whose interchange envelope has a problem has a TA1 and says so in its summary.

Each output is one function in ``VERDICT_SOURCES`` (name -> reader of the output folder),
``--format json`` (the claims on stdout, no files) among them, with its exit code and its
closing summary record held to the ``--out`` run's.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from scrub837.cli import run
from scrub837.outputs.ack277 import clean
from tests.conftest import SAMPLES, SHARED
from tests.hostile.corpus import CASES

Verdicts = Counter[tuple[str, str]]  # (CLM01 as the 277CA writes it, verdict) -> claims
_SEG_END = re.compile(rb"~\s*")
_SUMMARY = re.compile(r"^(?P<file>.+): (?P<claims>\d+) claims, (?P<accepted>\d+) accepted, "
                      r"(?P<rejected>\d+) rejected, .*$")
# The hostile cases too big for a quick run (the hostile tests cover them on their own).
_HUGE = ("terminator never comes (100 MB segment)", "10^5 HL loops under one parent",
         "segment with 10^6 elements")


def _segments(path: Path) -> list[list[str]]:
    """An X12 file's segments, delimiters read from its ISA (the split keeps the input's)."""
    if not path.exists():
        return []
    data = path.read_bytes()
    elem, term = b"*", b"~"
    if data.startswith(b"ISA"):
        elem = data[3:4]
        at = -1
        for _ in range(16):  # ISA16 is one character after the 16th separator; then the end
            at = data.find(elem, at + 1)
        term = data[at + 2:at + 3] if at > 0 else b"~"
    parts = _SEG_END.split(data) if term == b"~" else data.split(term)
    text = elem.decode("latin-1")
    return [p.decode("latin-1").strip().split(text) for p in parts if p.strip()]


def from_report_json(out: Path, stem: str) -> Verdicts:
    report = json.loads((out / f"{stem}.report.json").read_text())
    return Counter((clean(c["clm01"], 50) or "UNKNOWN", c["verdict"])
                   for t in report["transactions"] for c in t["claims"])


def from_277ca(out: Path, stem: str) -> Verdicts:
    got: Verdicts = Counter()
    claim = ""
    for seg in _segments(out / f"{stem}.277"):
        if seg[0] == "HL":
            claim = "?" if len(seg) > 3 and seg[3] == "PT" else ""
        elif seg[0] == "TRN" and claim == "?":
            claim = seg[2]
        elif seg[0] == "STC" and claim and claim != "?":
            got[(claim, "accepted" if seg[1].startswith("A1:20") else "rejected")] += 1
            claim = ""  # the claim's first STC is its verdict (2220D lines come after)
    return got


def from_split(out: Path, stem: str) -> Verdicts:
    got: Verdicts = Counter()
    for side, verdict in (("accepted", "accepted"), ("rejected", "rejected")):
        for seg in _segments(out / f"{stem}.{side}.837"):
            if seg[0] == "CLM":
                got[(clean(seg[1], 50) or "UNKNOWN", verdict)] += 1
    return got


def from_format_json(out: Path, stem: str) -> Verdicts:
    """``scrub837 scrub FILE --format json`` (no files: its stdout, kept by ``_scrub_one``)."""
    got: Verdicts = Counter()
    for text in (out / f"{stem}.format-json.jsonl").read_text().splitlines():
        record = json.loads(text)
        if "clm01" in record:
            got[(clean(record["clm01"], 50) or "UNKNOWN", record["verdict"])] += 1
    return got


#: every output that gives claims a verdict
VERDICT_SOURCES: dict[str, Callable[[Path, str], Verdicts]] = {
    "report.json": from_report_json,
    "277CA": from_277ca,
    "accepted/rejected 837": from_split,
    "--format json": from_format_json,
}


@dataclass(frozen=True)
class Run:
    out: Path
    code: int
    stdout: str
    stderr: str


def _scrub_one(path: Path, out: Path) -> Run:
    """``scrub837 scrub FILE --out DIR`` through the CLI function (in process: the exit code of
    this one file)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run(["scrub", str(path), "--out", str(out)], stdout, stderr)
    lines, errors = io.StringIO(), io.StringIO()
    json_code = run(["scrub", str(path), "--format", "json"], lines, errors)
    records = [json.loads(t) for t in lines.getvalue().splitlines()]
    assert json_code == code, f"{path}: --format json exits {json_code}, --out {code}"
    if records:  # a file it could open ends with its summary, whose exit code is the run's
        assert records[-1]["summary"]["exit_code"] == code, f"{path}: {records[-1]}"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{path.name}.format-json.jsonl").write_text(lines.getvalue())
    return Run(out, code, stdout.getvalue(), stderr.getvalue())


def _check_file(path: Path, result: Run) -> int:
    """One file's outputs against each other and its summary; returns its claim count."""
    name, stem = str(path), path.name
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert len(lines) == 1, f"{name}: {lines}"
    m = _SUMMARY.match(lines[0])
    assert m and m["file"] == name, f"not the summary line of {name}: {lines[0]!r}"
    line = lines[0]
    claims, accepted, rejected = int(m["claims"]), int(m["accepted"]), int(m["rejected"])
    assert claims == accepted + rejected, line
    unreadable = f"scrub837: {name}: cannot be read as an 837" in result.stderr
    refused = "transactions rejected (not an 837P/837I)" in line  # e.g. an 835 among 837s
    expected = 3 if unreadable else (1 if rejected or refused else 0)
    assert result.code == expected, f"{name}: exit code {result.code}, its summary says " \
        f"{expected}: {line}"
    answers = {src: read(result.out, stem) for src, read in VERDICT_SOURCES.items()}
    counts = Counter({"accepted": accepted, "rejected": rejected})
    for src, verdicts in answers.items():
        by_verdict: Counter[str] = Counter()
        for (_, verdict), n in verdicts.items():
            by_verdict[verdict] += n
        assert +by_verdict == +counts, f"{name}: {src} says {dict(by_verdict)}, the " \
            f"summary {dict(counts)}"
    first, *others = answers.items()
    for src, verdicts in others:
        assert verdicts == first[1], f"{name}: {src} and {first[0]} disagree: " \
            f"{sorted((verdicts - first[1]).items())[:3]} / " \
            f"{sorted((first[1] - verdicts).items())[:3]}"
    ta1 = result.out / f"{stem}.ta1"
    if ta1.exists():
        statuses = [s[4] for s in _segments(ta1) if s[0] == "TA1"]
        assert statuses and set(statuses) <= {"A", "E", "R"}, name
        if "E" in statuses:
            assert "accepted with errors (TA1 E" in line, line
        if "R" in statuses and "E" not in statuses:
            assert unreadable or not claims, line  # nothing of it was answered
    else:
        assert "TA1" not in line, line
    return claims


def _check(files: list[Path], tmp: Path) -> int:
    """Every file alone (its exit code), then all of them in one real ``scrub837`` process:
    the same summary lines and the worst exit code."""
    compared, worst, lines = 0, 0, []
    for i, path in enumerate(files):
        result = _scrub_one(path, tmp / f"f{i}")
        compared += _check_file(path, result)
        worst = max(worst, result.code)
        lines.append(result.stdout)
    proc = subprocess.run([sys.executable, "-m", "scrub837", "scrub", *map(str, files),
                           "--out", str(tmp / "all")], capture_output=True, text=True,
                          timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert proc.stdout == "".join(lines)
    assert proc.returncode == worst, f"exit code {proc.returncode}, the files say {worst}"
    return compared


def _corpus_files() -> list[Path]:
    root = SHARED / "corpus"
    return sorted(p for p in root.rglob("*") if p.is_file()
                  and p.suffix not in (".md", ".tsv"))


def test_public_corpus_one_verdict_per_claim_in_every_output(tmp_path: Path) -> None:
    if not (SHARED / "corpus").is_dir():
        pytest.skip("../shared/corpus is absent (the public 837 corpus lives beside the repo)")
    files = _corpus_files()
    assert len(files) >= 60
    assert _check(files, tmp_path) >= 150


def test_samples_one_verdict_per_claim_in_every_output(tmp_path: Path) -> None:
    files = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".837", ".x12", ".txt"))
    assert _check(files, tmp_path) >= 50


def test_hostile_corpus_one_verdict_per_claim_in_every_output(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    files = []
    for i, case in enumerate(c for c in CASES if c.name not in _HUGE):
        built = case.build()
        path = inputs / f"hostile{i:02d}.837"
        path.write_bytes(built if isinstance(built, bytes) else b"".join(built))
        files.append(path)
    _check(files, tmp_path)
