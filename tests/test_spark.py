"""scrub837.spark on a real local Spark (``local[2]``): the outputs of every sample and corpus
file equal the CLI's (same checkout, in process) byte for byte, 277CA control numbers and
dates aside; the tables agree with the JSON reports; a large file cut into parts; a streaming
query stopped and restarted answers each landed file once; the command. One SparkSession for
the module. Skipped, with one line, where pyspark or Java is missing (CI has both)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[spark]')")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Java is not installed (Spark needs a JRE: openjdk-17-jre-headless)",
                allow_module_level=True)

from pyspark.sql import SparkSession  # noqa: E402

from scrub837.cli import run as cli_run  # noqa: E402
from scrub837.spark import scrub_files, scrub_stream  # noqa: E402
from scrub837.spark.__main__ import run as spark_run  # noqa: E402
from tests.compare import assert_same_outputs  # noqa: E402
from tests.conftest import ROOT, SAMPLES, SHARED  # noqa: E402

CORPUS = SHARED / "corpus"
CMS = SHARED / "cms"
NOW = datetime(2026, 11, 2, 10, 0)
SUFFIXES = (".837", ".837i", ".x12", ".txt")


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (SparkSession.builder.master("local[2]").appName("scrub837-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.default.parallelism", "2")
               .config("spark.sql.adaptive.enabled", "false")
               .config("spark.sql.sources.parallelPartitionDiscovery.threshold", "100000")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _inputs() -> list[list[str]]:
    """Every sample and corpus file, in groups without two of one base name (their outputs
    would have the same names)."""
    files = [p for p in sorted(SAMPLES.iterdir()) if p.suffix in SUFFIXES]
    if CORPUS.is_dir():
        files += [p for p in sorted(CORPUS.rglob("*"))
                  if p.is_file() and p.suffix.lower() in SUFFIXES]
    groups: list[list[str]] = []
    for p in files:
        group = next((g for g in groups if p.name not in {Path(x).name for x in g}), None)
        if group is None:
            group = []
            groups.append(group)
        group.append(str(p))
    return groups


def _cli(files: list[str], out: Path, now: datetime | None = NOW,
         extra: tuple[str, ...] = ()) -> tuple[int, str]:
    """The CLI in process, its clock at ``now`` (the 277CA's dates and the date-of-service
    edits use the run's date: pinned on both sides)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with freeze_time(now) if now else contextlib.nullcontext():
        code = cli_run(["scrub", *files, "--out", str(out), *extra], stdout, stderr)
    return code, stdout.getvalue()


def _numbers(ack: bytes) -> list[str]:
    """The control numbers of a 277CA: ISA13, GS06, ST02, TRN*1 and REF*D9."""
    text = ack.decode()
    found = re.findall(r"^ISA(?:\*[^*]*){12}\*(\d{9})", text, flags=re.M)
    found += re.findall(r"^GS(?:\*[^*]*){5}\*(\d+)", text, flags=re.M)
    found += re.findall(r"^(?:ST\*277|TRN\*1|REF\*D9)\*(\d+)", text, flags=re.M)
    return [str(int(n)) for n in found]


def _report_findings(report: dict[str, Any]) -> Counter[tuple[object, ...]]:
    rows: Counter[tuple[object, ...]] = Counter()
    for t in report["transactions"]:
        for f in t["findings"]:
            rows[("transaction", "", f["rule_id"], f["location"]["segment"], "")] += 1
        for c in t["claims"]:
            codes = {line["lx"]: line["procedure"] for line in c["lines"]}
            for f in c["findings"]:
                code = codes.get(f["location"]["lx"], "") if f["line_level"] else ""
                rows[("claim", c["clm01"], f["rule_id"], f["location"]["segment"],
                      code)] += 1
    for f in report["envelope_findings"]:
        rows[("envelope", "", f["rule_id"], f["location"]["segment"], "")] += 1
    return rows


@pytest.fixture(scope="module")
def batch(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory
          ) -> list[tuple[list[str], Path, Path, Any]]:
    """Every input scrubbed by the CLI and by Spark (one scrub_files call per group)."""
    runs = []
    state = tmp_path_factory.mktemp("control") / "control.json"  # numbers go on across calls
    for i, files in enumerate(_inputs()):
        base = tmp_path_factory.mktemp(f"batch{i}")
        _cli(files, base / "cli")
        result = scrub_files(spark, files, base / "spark", now=NOW, control_state=state)
        runs.append((files, base / "cli", base / "spark", result))
    return runs


def test_every_sample_and_corpus_file_gets_the_outputs_of_the_cli(batch: Any) -> None:
    total = 0
    numbers: list[str] = []
    for files, cli, out, result in batch:
        names = assert_same_outputs(cli, out)
        assert {n.split(".report.json")[0] for n in names if n.endswith(".report.json")} == {
            Path(f).name for f in files}
        total += len(files)
        numbers += [n for p in sorted(out.glob("*.277")) for n in _numbers(p.read_bytes())]
        assert result.files.count() == len(files)
        for row in result.files.collect():
            summary = json.loads((out / (Path(row["file"]).name + ".report.json"))
                                 .read_text())["summary"]
            assert (row["exit_code"], row["claims"], row["rejected"]) == (
                summary["exit_code"], summary["claims"], summary["rejected"])
            assert all(os.stat(out / name).st_mode & 0o777 == 0o600 for name in row["outputs"])
    assert total >= 70 if CORPUS.is_dir() else total >= 10
    # unique across every executor, and across the calls that share the control state file
    assert numbers and len(numbers) == len(set(numbers))


def test_the_findings_table_has_one_row_per_finding_of_the_json_report(batch: Any) -> None:
    for files, _, out, result in batch:
        table: dict[str, Counter[tuple[object, ...]]] = {}
        for r in result.findings.collect():
            key = (r["scope"], r["clm01"] if r["scope"] == "claim" else "", r["rule_id"],
                   r["segment"], r["code"])
            table.setdefault(r["file"], Counter())[key] += 1
        claims = Counter((r["file"], r["clm01"], r["verdict"]) for r in result.claims.collect())
        for name in files:
            report = json.loads((out / f"{Path(name).name}.report.json").read_text())
            assert table.get(name, Counter()) == _report_findings(report), name
            assert Counter((name, c["clm01"], c["verdict"]) for t in report["transactions"]
                           for c in t["claims"]) == Counter(
                {k: n for k, n in claims.items() if k[0] == name}), name
    assert sum(result.findings.count() for *_, result in batch) > 100


def test_a_large_file_is_cut_into_parts_and_joined_in_order(
        spark: SparkSession, tmp_path: Path) -> None:
    big = tmp_path / "big.837"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--kind", "P",
                    "--claims", "600", "--claims-per-st", "50", "--seed", "3", "--out",
                    str(big)], check=True, timeout=120)
    _cli([str(big)], tmp_path / "cli")
    result = scrub_files(spark, [str(big)], tmp_path / "spark", now=NOW, split_min=1,
                         tables=str(tmp_path / "tables"))
    assert_same_outputs(tmp_path / "cli", tmp_path / "spark")
    (row,) = result.files.collect()
    assert row["parts"] > 1 and row["claims"] == 600
    report = json.loads((tmp_path / "spark" / "big.837.report.json").read_text())
    assert result.findings.count() == sum(_report_findings(report).values())
    assert result.claims.count() == 600
    numbers = _numbers((tmp_path / "spark" / "big.837.277").read_bytes())
    assert len(numbers) == len(set(numbers))
    assert not [p for p in (tmp_path / "spark").iterdir() if p.name.startswith(".")]


def _drop(landing: Path, source: Path, name: str) -> None:
    """A file lands whole: written under a hidden name, renamed in."""
    hidden = landing / f".{name}.partial"
    shutil.copyfile(source, hidden)
    os.replace(hidden, landing / name)


def _answered(checkpoint: Path) -> list[str]:
    return [a["file"] for p in sorted((checkpoint / "scrub837").glob("batch-*.done.json"))
            for a in json.loads(p.read_text())]


def _wait_for(checkpoint: Path, count: int) -> None:
    deadline = time.monotonic() + 90  # a guard against a hung query, not a timing check
    while len(_answered(checkpoint)) < count:
        assert time.monotonic() < deadline, _answered(checkpoint)
        time.sleep(0.2)


def test_a_stream_answers_each_landed_file_once_across_a_restart(
        spark: SparkSession, tmp_path: Path) -> None:
    landing, out, checkpoint = tmp_path / "landing", tmp_path / "out", tmp_path / "checkpoint"
    landing.mkdir()
    samples = ["837p_clean.837", "bad_empty.837", "837i_outpatient.837", "837p_defects.837",
               "837p_multi_isa.837", "bad_not_x12.txt"]
    query = scrub_stream(spark, str(landing), out, str(checkpoint), now=NOW,
                         trigger_seconds=0.5)
    try:
        for name in samples[:3]:
            _drop(landing, SAMPLES / name, name)
        _wait_for(checkpoint, 3)
    finally:
        query.stop()
    first = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.iterdir()}
    first_batches = [int(p.name.split("-")[1].split(".")[0])
                     for p in (checkpoint / "scrub837").glob("batch-*.done.json")]
    for name in samples[3:5]:  # landed while no query runs
        _drop(landing, SAMPLES / name, name)
    query = scrub_stream(spark, str(landing), out, str(checkpoint), now=NOW,
                         trigger_seconds=0.5, tables=str(tmp_path / "tables"))
    try:
        _wait_for(checkpoint, 5)
        _drop(landing, SAMPLES / samples[5], samples[5])
        _wait_for(checkpoint, 6)
    finally:
        query.stop()
    answered = Counter(Path(name).name for name in _answered(checkpoint))
    assert answered == Counter(samples)  # each once, none twice
    assert all((p.stat().st_ino, p.stat().st_mtime_ns) == first[p.name]
               for p in out.iterdir() if p.name in first)  # not answered again
    _cli([str(landing / name) for name in samples], tmp_path / "cli")
    assert_same_outputs(tmp_path / "cli", out)
    tables = spark.read.parquet(str(tmp_path / "tables" / "files"))  # batches after the restart
    assert sorted(Path(r["file"]).name for r in tables.collect()) == sorted(samples[3:])
    assert {r["batch"] for r in tables.collect()} == {
        int(p.name.split("-")[1].split(".")[0])
        for p in (checkpoint / "scrub837").glob("batch-*.done.json")} - set(first_batches)


def test_a_replayed_batch_that_was_answered_writes_nothing(spark: SparkSession,
                                                           tmp_path: Path) -> None:
    """A query stopped after a batch was answered but before Spark committed it replays that
    batch on restart: its answers stay as they are (not renamed over again)."""
    from scrub837.run.pipeline import OutputOptions
    from scrub837.spark._stream import BINARY_FILE_SCHEMA, _Batches
    from scrub837.spark._tasks import RuleOptions

    landing, out, checkpoint = tmp_path / "landing", tmp_path / "out", tmp_path / "checkpoint"
    landing.mkdir()
    _drop(landing, SAMPLES / "837p_clean.837", "837p_clean.837")
    batch = spark.read.format("binaryFile").schema(BINARY_FILE_SCHEMA).load(str(landing))
    run = _Batches(out, checkpoint, RuleOptions(), OutputOptions(now=NOW), 1 << 24, None, None)
    run(batch.select("path", "length"), 0)
    first = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.iterdir()}
    assert "837p_clean.837.277" in first
    run(batch.select("path", "length"), 0)  # the replay
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.iterdir()} == first
    assert [Path(n).name for n in _answered(checkpoint)] == ["837p_clean.837"]


def test_the_command_prints_what_the_cli_prints(spark: SparkSession, tmp_path: Path) -> None:
    files = [str(SAMPLES / n) for n in ("837p_defects.837", "837p_clean.837", "bad_4010.837")]
    code, printed = _cli(files, tmp_path / "cli", now=None)  # both on today's date
    stdout, stderr = io.StringIO(), io.StringIO()
    assert spark_run([*files, "--out", str(tmp_path / "spark")], stdout, stderr) == code
    assert sorted(stdout.getvalue().splitlines()) == sorted(printed.splitlines())
    assert_same_outputs(tmp_path / "cli", tmp_path / "spark")
    assert spark_run([*files, "--stream", "x", "--out", "o"], stdout, stderr) == 2
    same = tmp_path / "other" / "837p_clean.837"
    same.parent.mkdir()
    shutil.copyfile(SAMPLES / "837p_clean.837", same)
    assert spark_run([files[1], str(same), "--out", str(tmp_path / "o")], stdout, stderr) == 2
    assert "have the same name" in stderr.getvalue()


@pytest.mark.skipif(not CMS.is_dir(), reason=f"needs the CMS files in {CMS} "
                    "(../shared/cms beside the repo; CI has it)")
def test_the_commands_rule_options_reach_the_executors(spark: SparkSession,
                                                       tmp_path: Path) -> None:
    """--reject-pre-errata and a CMS file in place of the dataset's table (--mue) are the
    executors' options too: the same answers as the CLI with the same options."""
    old = tmp_path / "in" / "pre_errata.837"
    old.parent.mkdir()
    old.write_bytes((SAMPLES / "837p_defects.837").read_bytes().replace(b"005010X222A1",
                                                                          b"005010X222"))
    mue = CMS / "mue" / "MCR_MUE_PractitionerServices_Eff_04-01-2026.csv"
    extra = ("--reject-pre-errata", "--mue", str(mue))
    code, printed = _cli([str(old)], tmp_path / "cli", now=None, extra=extra)
    assert code == 1 and "0 accepted" in printed  # every claim of the pre-errata file rejected
    stdout, stderr = io.StringIO(), io.StringIO()
    assert spark_run([str(old), "--out", str(tmp_path / "spark"), *extra], stdout, stderr) == code
    assert stdout.getvalue().splitlines() == printed.splitlines()
    assert_same_outputs(tmp_path / "cli", tmp_path / "spark")


def test_a_file_whose_part_failed_is_scrubbed_whole_and_its_part_rows_dropped(
        tmp_path: Path) -> None:
    from scrub837.run.parts import PartOutcome
    from scrub837.run.pipeline import OutputOptions
    from scrub837.verdicts.results import SummaryBuilder
    from scrub837.spark._batch import _join, _Planned

    fragment = tmp_path / ".big.837.part0.277.t.tmp"
    fragment.write_bytes(b"ST*277*1~")
    planned = _Planned([], [], {"/in/big.837": ("file:/in/big.837", 2, 100)}, 0)
    meta = [("part", "/in/big.837#0", PartOutcome(0, {".277": str(fragment)},
                                                   SummaryBuilder("/in/big.837"))),
            ("part-failed", "/in/big.837#1", "/in/big.837: internal error (ValueError)")]
    files: list[Any] = []
    dropped, again = _join(planned, meta, tmp_path, OutputOptions(now=NOW), files)
    assert dropped == {"/in/big.837#0"} and again == [("file:/in/big.837", 100, 1)]
    assert not fragment.exists() and files == []


def test_the_command_as_a_real_process_on_local_star(tmp_path: Path) -> None:
    files = [str(SAMPLES / n) for n in ("837p_clean.837", "bad_not_x12.txt")]
    code, printed = _cli(files, tmp_path / "cli", now=None)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK")}
    proc = subprocess.run([sys.executable, "-m", "scrub837.spark", *files, "--out",
                           str(tmp_path / "spark"), "--tables", str(tmp_path / "tables")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == code == 3, proc.stderr[-2000:]
    assert sorted(proc.stdout.splitlines()) == sorted(printed.splitlines())
    assert_same_outputs(tmp_path / "cli", tmp_path / "spark")
    parquet = list((tmp_path / "tables" / "findings").glob("*.parquet"))
    assert parquet and all(p.stat().st_mode & 0o777 == 0o600 for p in parquet)
