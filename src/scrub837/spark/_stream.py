"""Structured Streaming over a landing folder: the watcher's job at cluster scale.

Spark's file source lists the landing folder each trigger and records, in the checkpoint, the
files each micro-batch took; a restarted query goes on after the last committed batch and
replays a batch that had begun but was not committed, with the same files and the same batch
id. Each micro-batch is scrubbed like :func:`scrub_files` (``foreachBatch``), and its outputs
are written idempotently: every output is renamed into place whole, and the batch's 277CA
control numbers are fixed by a ledger in the checkpoint (``scrub837/batch-N.json``: reserved
from ``scrub837/control.json`` the first time batch N runs, reused on a replay), so a replay
writes the same bytes again. When the batch is done, ``scrub837/batch-N.done.json`` lists the
files it answered (name, exit code, outputs): the record of "answered exactly once"; a replay
of a batch that has it (the query stopped after the batch was answered, before Spark committed
it) writes nothing.

Files must appear in the landing folder whole: write them elsewhere (or under a name starting
with ``.`` or ``_``, which Spark ignores) and rename them in. A file is taken once by its path:
a corrected file sent again needs a new name."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming.query import StreamingQuery

from scrub837.outputs.ack277 import AckConfig
from scrub837.outputs.control import ControlNumbers
from scrub837.run.parallel import SPLIT_MIN_BYTES
from scrub837.run.pipeline import OutputOptions
from scrub837.spark._batch import _plan, run_batch
from scrub837.spark._tasks import RuleOptions, local_name

BINARY_FILE_SCHEMA = "path string, modificationTime timestamp, length bigint, content binary"


def _write_json(path: Path, value: object) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        json.dump(value, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class _Batches:
    """The ``foreachBatch`` function (runs on the driver)."""

    def __init__(self, out: Path, checkpoint: Path, rules: RuleOptions, options: OutputOptions,
                 split_min: int, tables: str | None, control_state: Path | None) -> None:
        self.out, self.rules, self.options = out, rules, options
        self.checkpoint, self.ledger = checkpoint, checkpoint / "scrub837"
        self.control = control_state or self.ledger / "control.json"
        self.split_min, self.tables = split_min, tables

    def _source_log(self, batch_id: int) -> list[str]:
        """The files Spark's file source took for ``batch_id``, from its log in the checkpoint
        (``sources/0/N``, or the ``N.compact`` file every tenth batch): the scan of the
        micro-batch skips empty files, which must still be answered (an error report)."""
        folder = self.checkpoint / "sources" / "0"
        for name in (str(batch_id), f"{batch_id}.compact"):
            try:
                lines = (folder / name).read_text().splitlines()[1:]
            except OSError:
                continue
            entries = [json.loads(line) for line in lines if line.strip()]
            return [str(e["path"]) for e in entries if int(e.get("batchId", -1)) == batch_id]
        return []

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        done = self.ledger / f"batch-{batch_id}.done.json"
        if done.exists():  # answered whole before a stop that came ahead of Spark's commit:
            return  # a replay of it would rename the same bytes over its answers again
        spark = batch.sparkSession
        listing = [(str(r["path"]), int(r["length"]))
                   for r in batch.select("path", "length").collect()]
        listed = {local_name(uri) for uri, _ in listing}  # the scan skips empty files
        listing = sorted(listing + [(uri, 0) for uri in self._source_log(batch_id)
                                    if local_name(uri) not in listed])
        if not listing:
            return
        self.ledger.mkdir(parents=True, exist_ok=True)
        mark = self.ledger / f"batch-{batch_id}.json"
        if mark.exists():  # a replay: the same files, the same numbers, the same time
            fixed = json.loads(mark.read_text())
            first, now = int(fixed["first"]), datetime.fromisoformat(fixed["now"])
        else:
            parallelism = max(1, spark.sparkContext.defaultParallelism)
            span = _plan(listing, self.split_min, parallelism, not self.options.validate).total
            first = ControlNumbers(self.control).take(max(1, span))
            now = self.options.now or datetime.now().replace(microsecond=0)
            _write_json(mark, {"first": first, "now": now.isoformat()})
        options = replace(self.options, now=now)
        result = run_batch(spark, listing, self.out, self.rules, options,
                           split_min=self.split_min, tables=self.tables, first=first,
                           partition=f"batch={batch_id}")
        answered = [{"file": r["file"], "exit_code": r["exit_code"],
                     "outputs": list(r["outputs"]), "error": r["error"]}
                    for r in result.files.collect()]
        _write_json(done, answered)


def scrub_stream(spark: SparkSession, landing_dir: str, out_dir: str | Path,
                 checkpoint_dir: str, *, rules: str | None = None,
                 crosswalk: str | None = None, mue: tuple[str, ...] = (),
                 payers: str | None = None, plugins: bool = True,
                 hcpcs: str | None = None, asp: str | None = None,
                 data: str | None = None, reject_pre_errata: bool = False,
                 ack: AckConfig | None = None, show_phi: bool = False, mode: int = 0o600,
                 validate: bool = False, now: datetime | None = None,
                 split_min: int = SPLIT_MIN_BYTES, tables: str | None = None,
                 trigger_seconds: float = 5.0, available_now: bool = False,
                 max_files_per_trigger: int | None = None, glob: str | None = None,
                 control_state: str | Path | None = None) -> StreamingQuery:
    """Start a streaming query that answers each new file of ``landing_dir`` once (outputs
    in ``out_dir``, as :func:`scrub_files`), checkpointed in ``checkpoint_dir`` (a local
    path: the control-number ledger is kept there too). Every ``trigger_seconds`` (or, with
    ``available_now``, once for what is there and then stop). ``tables``: each batch's
    tables as Parquet under ``tables/{files,claims,findings}/batch=N`` (read
    ``tables/findings`` for all batches, with a ``batch`` column). ``now`` pins the
    277CA date and time (tests); by default each batch takes its own, kept in the ledger.
    ``control_state``: reserve each batch's control numbers in this file (the CLI's and the
    watcher's ``--control-state``) instead of ``CHECKPOINT/scrub837/control.json``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    reader = spark.readStream.format("binaryFile").schema(BINARY_FILE_SCHEMA)
    if max_files_per_trigger:
        reader = reader.option("maxFilesPerTrigger", str(max_files_per_trigger))
    if glob:
        reader = reader.option("pathGlobFilter", glob)
    stream = reader.load(landing_dir).select("path", "length")
    run = _Batches(out, Path(checkpoint_dir),
                   RuleOptions(rules, crosswalk, tuple(mue), payers, plugins, hcpcs=hcpcs,
                               asp=asp, data=data, reject_pre_errata=reject_pre_errata),
                   OutputOptions(ack=ack or AckConfig(), show_phi=show_phi, mode=mode,
                                 validate=validate, now=now),
                   split_min, tables, Path(control_state) if control_state else None)
    writer = (stream.writeStream.foreachBatch(run)
              .option("checkpointLocation", checkpoint_dir).queryName("scrub837"))
    if available_now:
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=f"{trigger_seconds} seconds")
    return writer.start()
