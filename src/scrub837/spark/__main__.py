"""``python -m scrub837.spark INPUT... --out DIR`` (a batch scrub) or
``python -m scrub837.spark --stream LANDING --checkpoint DIR --out DIR`` (a streaming query
that runs until stopped; ``--once`` answers what is there and stops). Runs on ``local[*]``
when no master is configured, and as it is under ``spark-submit``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from scrub837.commands._options import ack_config, add_ack_options, add_rule_options, file_mode


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m scrub837.spark",
                                description="Scrub 837 files on Apache Spark: the outputs of "
                                "'scrub837 scrub --out DIR' for each input.")
    p.add_argument("files", nargs="*", metavar="INPUT",
                   help="837 files or folders (any path Spark can read: file:, hdfs:, s3a:, ...)")
    p.add_argument("--out", metavar="DIR", required=True,
                   help="output folder (a path every executor and the driver can write)")
    p.add_argument("--tables", metavar="DIR",
                   help="also write the files, claims and findings tables there as Parquet")
    p.add_argument("--stream", metavar="LANDING",
                   help="answer each new file of this landing folder (Structured Streaming)")
    p.add_argument("--checkpoint", metavar="DIR", help="with --stream: the query's checkpoint")
    p.add_argument("--once", action="store_true",
                   help="with --stream: answer the files there now, then stop")
    p.add_argument("--trigger-seconds", type=float, default=5.0, metavar="S",
                   help="with --stream: how often the landing folder is listed (default 5)")
    p.add_argument("--show-phi", action="store_true",
                   help="show patient names and member IDs in the reports")
    p.add_argument("--validate", action="store_true", help="also run pyx12 (NAME.999)")
    p.add_argument("--mode", type=file_mode, default=0o600, help="file mode of the outputs")
    p.add_argument("--control-state", metavar="FILE",
                   help="reserve 277CA control numbers in this file (as the CLI's), so they "
                        "never repeat across runs; --stream keeps its own in the checkpoint "
                        "without it")
    p.add_argument("--split-min-mb", type=float, default=16, metavar="MB",
                   help="cut files of at least MB megabytes into transaction parts (default 16)")
    add_rule_options(p)
    add_ack_options(p)
    return p


def session() -> object:
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    # the tables hold CLM01 and the findings' messages: owner-only files, as the outputs
    builder = (SparkSession.builder.appName("scrub837")
               .config("spark.hadoop.fs.permissions.umask-mode",
                       SparkConf().get("spark.hadoop.fs.permissions.umask-mode", "077")))
    if not SparkConf().contains("spark.master"):  # not under spark-submit: this machine
        builder = builder.master("local[*]")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers: this interpreter
    return builder.getOrCreate()


def run(argv: Sequence[str], stdout: TextIO, stderr: TextIO) -> int:
    args = parser().parse_args(list(argv))
    if bool(args.stream) == bool(args.files):
        stderr.write("python -m scrub837.spark: give INPUT files or --stream LANDING\n")
        return 2
    if args.stream and not args.checkpoint:
        stderr.write("python -m scrub837.spark: --stream needs --checkpoint DIR\n")
        return 2
    try:
        from pyspark.sql import SparkSession

        from scrub837.spark import scrub_files, scrub_stream
    except ImportError:
        stderr.write("python -m scrub837.spark: pyspark is not installed "
                     "(pip install 'scrub837[spark]')\n")
        return 2
    spark = session()
    assert isinstance(spark, SparkSession)
    common = dict(rules=args.rules, crosswalk=args.crosswalk, mue=tuple(args.mue),
                  payers=args.payers, hcpcs=args.hcpcs, asp=args.asp, data=args.data,
                  reject_pre_errata=args.reject_pre_errata, ack=ack_config(args), show_phi=args.show_phi,
                  mode=args.mode, validate=args.validate,
                  split_min=int(args.split_min_mb * (1 << 20)))
    if args.stream:
        query = scrub_stream(spark, args.stream, args.out, args.checkpoint, tables=args.tables,
                             trigger_seconds=args.trigger_seconds, available_now=args.once,
                             control_state=args.control_state, **common)
        stdout.write(f"scrub837: answering new files of {args.stream} into {args.out}\n")
        stdout.flush()
        try:
            query.awaitTermination()
        except KeyboardInterrupt:
            query.stop()
        return 0
    try:
        result = scrub_files(spark, args.files, args.out, tables=args.tables,
                             control_state=args.control_state,
                             **common)
    except ValueError as exc:
        stderr.write(f"python -m scrub837.spark: {exc}\n")
        return 2
    worst = 0
    for row in result.files.orderBy("file").collect():
        worst = max(worst, int(row["exit_code"]))
        if row["error"]:  # no outputs: the CLI's message, and no summary line
            stderr.write(f"scrub837: {row['error']}\n")
            continue
        stdout.write(f"{row['summary']}\n")  # the CLI's summary line, made on the executor
    return worst


def main() -> None:
    sys.exit(run(sys.argv[1:], sys.stdout, sys.stderr))


if __name__ == "__main__":
    main()
