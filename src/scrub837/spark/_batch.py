"""The driver's side of a batch scrub: list the inputs, plan large files into parts (the same
:func:`scrub837.run.parts.plan` as ``--jobs``), give every input and part its own range of 277CA
control numbers, run one Spark job, join the parts, and build the tables."""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from pyspark import RDD
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.functions import broadcast

from scrub837.outputs.ack277 import AckConfig
from scrub837.outputs.control import ControlNumbers
from scrub837.run.parallel import PARTS_PER_JOB, SPLIT_MIN_BYTES
from scrub837.run.parts import NotSplittable, Part, PartOutcome, join_parts, plan, remove_fragments
from scrub837.run.pipeline import OutputOptions
from scrub837.spark._rows import CLAIM_COLUMNS, FINDING_COLUMNS, ddl
from scrub837.spark._tasks import (FILE_COLUMNS, FileRow, Job, Record, RuleOptions, describe,
                                   failed_row, file_row, local_name, scrub_contents, scrub_parts)

JOIN_SPAN = 8  # numbers a joined file's own 277 envelope may take (ISA13, GS06)


def control_span(length: int) -> int:
    """An upper bound of the 277CA control numbers an input of ``length`` bytes takes: one per
    transaction (ST02), billing provider (TRN), claim (REF*D9) and the 2200A trace, each of
    which stands for at least one input segment of at least 3 bytes, plus ISA13 and GS06."""
    return length // 3 + JOIN_SPAN


@dataclass(frozen=True)
class SparkScrub:
    """What :func:`scrub_files` answers: one row per input (``files``), per claim
    (``claims``) and per finding of the JSON reports (``findings``); schemas in
    docs/spark.md."""

    files: DataFrame
    claims: DataFrame
    findings: DataFrame


@dataclass
class _Planned:
    whole: list[tuple[str, int, int]]  # (URI, first control number, length)
    parts: list[tuple[str, Part, int]]  # (local path, part, first control number)
    joins: dict[str, tuple[str, int, int]]  # local path -> (URI, parts, join's first number)
    total: int


def list_inputs(spark: SparkSession, paths: Sequence[str]) -> list[tuple[str, int]]:
    """``(URI, length)`` of every file under ``paths`` (files, folders or globs, as Spark's
    binaryFile source lists them: names starting with ``.`` or ``_`` are skipped), sorted; two inputs with one base name are refused, since
    their outputs would have the same names."""
    source = spark.read.format("binaryFile").load(list(paths))
    found = sorted((str(r["path"]), int(r["length"]))
                   for r in source.select("path", "length").collect())
    # the scan skips empty files; the file index has them (each gets its error report)
    listed = {local_name(uri) for uri, _ in found}
    found = sorted(found + [(uri, 0) for uri in source.inputFiles()
                            if local_name(uri) not in listed])
    seen: dict[str, str] = {}
    for uri, _ in found:
        base = os.path.basename(urlsplit(uri).path)
        if base in seen:
            raise ValueError(f"{local_name(seen[base])} and {local_name(uri)} have the same "
                             "name: their outputs would overwrite each other; scrub them into "
                             "different output folders")
        seen[base] = uri
    return found


def _plan(listing: list[tuple[str, int]], split_min: int, parallelism: int,
          splittable: bool) -> _Planned:
    planned = _Planned([], [], {}, 0)
    cursor = 0
    for uri, length in listing:
        local = urlsplit(uri).scheme == "file"
        parts: list[Part] = []
        if splittable and local and length >= split_min:
            path = local_name(uri)
            target = max(1, length // (parallelism * PARTS_PER_JOB))
            try:
                with open(path, "rb") as stream:
                    parts = list(plan(stream, path, target))
            except (NotSplittable, OSError):
                parts = []
        if len(parts) > 1:
            path = local_name(uri)
            planned.joins[path] = (uri, len(parts), cursor)
            cursor += JOIN_SPAN
            for part in parts:
                planned.parts.append((path, part, cursor))
                cursor += control_span(part.end - part.start)
            # the parts' spans cover the whole file's, should it be scrubbed whole after all
        else:
            planned.whole.append((uri, cursor, length))
            cursor += control_span(length)
    planned.total = cursor
    return planned


def _shift(planned: _Planned, first: int) -> _Planned:
    return _Planned([(u, s + first, n) for u, s, n in planned.whole],
                    [(p, part, s + first) for p, part, s in planned.parts],
                    {p: (u, n, s + first) for p, (u, n, s) in planned.joins.items()},
                    planned.total)


def _contents(spark: SparkSession, job: Job,
              whole: list[tuple[str, int, int]]) -> RDD[Record]:
    """Whole inputs, read by the binaryFile source (which skips empty files: those are
    scrubbed from an empty content, so they get their error report as with the CLI)."""
    sc = spark.sparkContext
    empty = [(uri, b"", start) for uri, start, length in whole if length == 0]
    rest = [(uri, start) for uri, start, length in whole if length > 0
            and (urlsplit(uri).scheme != "file" or os.path.exists(local_name(uri)))]
    # a local file removed since the listing is left out (Spark would fail the whole job):
    # it is answered as not read, with exit code 3
    out: RDD[Record] = sc.emptyRDD()
    if rest:
        starts = spark.createDataFrame(rest, "path string, start bigint")
        rows = (spark.read.format("binaryFile").option("ignoreMissingFiles", "true")
                .load([uri for uri, _ in rest])
                .select("path", "content").join(broadcast(starts), "path"))
        out = rows.rdd.map(lambda r: (r["path"], r["content"], r["start"])).mapPartitions(
            partial(scrub_contents, job))
    if empty:
        out = out.union(sc.parallelize(empty, 1).mapPartitions(partial(scrub_contents, job)))
    return out


def _parts(spark: SparkSession, job: Job, parts: list[tuple[str, Part, int]]) -> RDD[Record]:
    if not parts:
        return spark.sparkContext.emptyRDD()
    return spark.sparkContext.parallelize(parts, len(parts)).mapPartitions(
        partial(scrub_parts, job))


def scrub_files(spark: SparkSession, paths: str | Sequence[str], out_dir: str | Path, *,
                rules: str | None = None, crosswalk: str | None = None,
                mue: Sequence[str] = (), payers: str | None = None, plugins: bool = True,
                hcpcs: str | None = None, asp: str | None = None,
                data: str | None = None, reject_pre_errata: bool = False,
                ack: AckConfig | None = None, show_phi: bool = False, mode: int = 0o600,
                validate: bool = False, now: datetime | None = None, control_start: int = 1,
                control_state: str | Path | None = None, split_min: int = SPLIT_MIN_BYTES,
                tables: str | Path | None = None) -> SparkScrub:
    """Scrub the 837 files under ``paths`` on Spark and write the CLI's outputs for each into
    ``out_dir`` (a folder every executor and the driver can write: local, NFS, /dbfs, a
    Databricks volume). Options as ``scrub837 scrub``: ``rules``/``crosswalk``/``mue``/
    ``payers`` (paths every executor can read), ``ack``, ``show_phi``, ``mode``, ``validate``;
    ``now`` is the 277CA's date and time (one for the whole run); 277CA control numbers start
    at ``control_start``, or continue from ``control_state`` (the CLI's ``--control-state``
    file; the whole run's range is reserved in it at once). Files of ``split_min`` bytes or
    more on a local path are cut into transaction parts as with ``--jobs``.

    ``tables``: write the three tables there as Parquet (``files/``, ``claims/``,
    ``findings/``) and answer DataFrames that read them; without it the tables are kept in
    the executors' block managers (checkpointed locally, so they are never computed twice)."""
    paths = [paths] if isinstance(paths, str) else list(paths)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    listing = list_inputs(spark, paths)
    rule_options = RuleOptions(rules, crosswalk, tuple(mue), payers, plugins, hcpcs=hcpcs,
                               asp=asp, data=data, reject_pre_errata=reject_pre_errata)
    return run_batch(spark, listing, out, rule_options,
                     OutputOptions(ack=ack or AckConfig(), show_phi=show_phi, mode=mode,
                                   validate=validate, now=now or datetime.now()),
                     control_start=control_start, control_state=control_state,
                     split_min=split_min, tables=tables)


def run_batch(spark: SparkSession, listing: list[tuple[str, int]], out: Path,
              rules: RuleOptions, options: OutputOptions, *, control_start: int = 1,
              control_state: str | Path | None = None, split_min: int = SPLIT_MIN_BYTES,
              tables: str | Path | None = None, first: int | None = None,
              partition: str = "") -> SparkScrub:
    """:func:`scrub_files` on a listing already made (the stream's micro-batches); ``first``:
    this batch's first control number, already reserved; ``partition``: the tables go to
    ``tables/NAME/partition`` (``batch=N``)."""
    sc = spark.sparkContext
    if options.now is not None:  # a replay (or a task retried the next day) decides the same
        rules = replace(rules, today=options.now.date())
    parallelism = max(1, sc.defaultParallelism)
    planned = _plan(listing, split_min, parallelism, not options.validate)
    if first is None:
        if control_state is not None:
            first = ControlNumbers(Path(control_state)).take(max(1, planned.total))
        else:
            first = control_start
    planned = _shift(planned, first)
    job = Job(str(out), options, rules, secrets.token_hex(4))
    records = _contents(spark, job, planned.whole).union(_parts(spark, job, planned.parts))
    records.localCheckpoint()  # computed once: never a second scrub of the same input
    meta = records.filter(lambda r: r[0] not in ("claim", "finding")).collect()
    files: list[FileRow] = [r[2] for r in meta if r[0] == "file"]  # type: ignore[misc]
    dropped, again = _join(planned, meta, out, options, files)
    if again:
        retry = _contents(spark, job, again)
        retry.localCheckpoint()
        files += [r[2] for r in retry.filter(lambda r: r[0] == "file").collect()]  # type: ignore[misc]
        records = records.filter(lambda r: r[1] not in dropped).union(retry)
    _tidy(out, job.token)
    answered = {f[0] for f in files}
    files += [failed_row(local_name(uri), f"{local_name(uri)}: not read (removed while the "
                         "job ran?); no outputs written for it")
              for uri, _, _ in planned.whole if local_name(uri) not in answered]
    files.sort(key=lambda f: f[0])
    result = SparkScrub(
        spark.createDataFrame(files, ddl(FILE_COLUMNS)),
        spark.createDataFrame(records.filter(lambda r: r[0] == "claim").map(lambda r: r[2]),
                              ddl(CLAIM_COLUMNS)),
        spark.createDataFrame(records.filter(lambda r: r[0] == "finding").map(lambda r: r[2]),
                              ddl(FINDING_COLUMNS)))
    if tables is None:
        return result
    where = [f"{tables}/{name}" + (f"/{partition}" if partition else "")
             for name in ("files", "claims", "findings")]
    for name, path in zip(("files", "claims", "findings"), where, strict=True):
        getattr(result, name).write.mode("overwrite").parquet(path)
    return SparkScrub(*(spark.read.parquet(path) for path in where))


def _join(planned: _Planned, meta: list[Record], out: Path, options: OutputOptions,
          files: list[FileRow]) -> tuple[set[str], list[tuple[str, int, int]]]:
    """Join each split file's parts (in order) into its outputs; a file whose parts did not
    all read as planned is scrubbed whole instead (its part rows dropped), as ``--jobs``
    does. Answers the dropped part keys and the files to scrub whole."""
    outcomes: dict[str, list[PartOutcome]] = {}
    broken: set[str] = set()
    for kind, key, payload in meta:
        path = key.rsplit("#", 1)[0]
        if kind == "part":
            assert isinstance(payload, PartOutcome)
            outcomes.setdefault(path, []).append(payload)
            if payload.irregular:
                broken.add(path)
        elif kind == "part-failed":
            broken.add(path)
    dropped: set[str] = set()
    again: list[tuple[str, int, int]] = []
    for path, (uri, count, start) in planned.joins.items():
        done = outcomes.get(path, [])
        if path in broken or len(done) != count:
            remove_fragments(v for p in done for v in p.fragments.values())
            dropped.update(f"{path}#{p.index}" for p in done)
            again.append((uri, start, 1))
            continue
        try:
            outcome = join_parts(path, done, out,
                                 replace(options, control=ControlNumbers(start=start)))
        except Exception as exc:  # noqa: BLE001 -- that file's answer; the others go on
            files.append(failed_row(path, describe(path, exc)))
            dropped.update(f"{path}#{p.index}" for p in done)
            continue
        files.append(file_row(path, outcome.summary, outcome.parts, outcome.outputs))
    return dropped, again


def _tidy(out: Path, token: str) -> None:
    """Fragments of this run that no join took (a task retried after it wrote them)."""
    remove_fragments(str(p) for p in out.glob(f".*.part*.{token}.tmp"))
