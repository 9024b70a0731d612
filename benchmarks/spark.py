"""One run, the same generated claims, two ways: ``scrub837 scrub --jobs N`` and
``scrub837.spark.scrub_files`` on ``local[N]``; first as several files, then as one file cut
at ST/SE into parts. Prints the seconds of each, the ratio, and Spark's fixed start-up (the
session, then a first one-file job and a warm-up task on each worker, which start the Python
workers and load the rule book in each), and checks that both wrote the same outputs (277CA
control numbers and times aside). Ratios are the point; absolute times depend on the machine.

    python benchmarks/spark.py                  # 8 files of 2,500 claims (~11 MB), then 1 file
    python benchmarks/spark.py --files 4 --claims 20000 --jobs 2 --json spark.json

One Spark session runs the whole benchmark. The two sides are interleaved (``--jobs`` run,
Spark job, ``--jobs`` run, ...; ``--repeat`` times each, default 3, best kept), so a machine
shared with other work slows both alike. Each ``--jobs`` run is its own process and times its
own work (interpreter start-up excluded).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _steps import generate, machine  # noqa: E402
from _steps import once as _once  # noqa: E402

CLI = """
import io, json, sys, time
from scrub837.cli import run
t = time.perf_counter()
code = run(sys.argv[1:], io.StringIO(), sys.stderr)
print(json.dumps({'seconds': time.perf_counter() - t, 'exit': code}))
"""


def same_outputs(one: Path, two: Path) -> bool:
    from tests.compare import normal_277

    names = sorted(p.name for p in one.iterdir())
    if names != sorted(p.name for p in two.iterdir()):
        return False
    for name in names:
        a, b = (one / name).read_bytes(), (two / name).read_bytes()
        if (normal_277(a) != normal_277(b)) if name.endswith(".277") else a != b:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="scrub837 on Spark local[N] against --jobs N")
    p.add_argument("--files", type=int, default=8, help="generated files (default 8)")
    p.add_argument("--claims", type=int, default=2500, help="claims per file (default 2500)")
    p.add_argument("--kind", choices=("P", "I"), default="P")
    p.add_argument("--jobs", type=int, default=2, help="--jobs N and local[N] (default 2)")
    p.add_argument("--repeat", type=int, default=3, help="runs of each side; best kept")
    p.add_argument("--no-one-file", action="store_true",
                   help="skip the second round: all the claims in one file, cut into parts")
    p.add_argument("--json", type=Path, help="write the results here too")
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="scrub837-spark-bench-"))
    try:
        return _run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, work: Path) -> int:
    files = []
    for i in range(args.files):
        path = work / "in" / f"bench{i}.837"
        path.parent.mkdir(exist_ok=True)
        generate(path, args.claims, args.kind, 837 + i)
        files.append(str(path))
    rounds = [(f"{args.files} files", files)]
    if not args.no_one_file:
        one = work / "one" / "one.837"
        one.parent.mkdir()
        generate(one, args.files * args.claims, args.kind, 837)
        rounds.append(("1 file, cut at ST/SE", [str(one)]))
    warm = work / "warm" / "warm.837"
    warm.parent.mkdir()
    generate(warm, 10, args.kind, 1)

    os.environ["PYSPARK_PYTHON"] = sys.executable
    t0 = time.perf_counter()
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master(f"local[{args.jobs}]").appName("scrub837-bench")
             .config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", str(args.jobs)).getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    from scrub837.spark import scrub_files
    from scrub837.spark._tasks import RuleOptions, warm as warm_up

    t1 = time.perf_counter()
    scrub_files(spark, [str(warm)], work / "warm-out")  # Python workers, the rule book
    sample = warm.read_bytes()  # and every worker warm (local[N] runs N tasks at once)
    spark.sparkContext.parallelize(range(args.jobs), args.jobs).mapPartitions(
        lambda _: warm_up(RuleOptions(), sample)).collect()
    t2 = time.perf_counter()
    session, first_job = t1 - t0, t2 - t1

    print(f"machine: {machine()}")
    print(f"Spark fixed start-up: session {session:.2f} s + first job and warm workers "
          f"{first_job:.2f} s")
    claims = args.files * args.claims
    report = []
    ok = True
    for label, inputs in rounds:
        size_mb = sum(Path(f).stat().st_size for f in inputs) / 1e6
        split = len(inputs) == 1
        cli_runs, spark_runs = [], []
        parts = 0
        for _ in range(max(1, args.repeat)):
            for d in ("cli", "spark"):
                shutil.rmtree(work / d, ignore_errors=True)
            cli_runs.append(float(_once(CLI, "scrub", *inputs, "--out", str(work / "cli"),  # type: ignore[arg-type]
                                        "--jobs", str(args.jobs),
                                        *(["--split-min-mb", "0"] if split else []))["seconds"]))
            t = time.perf_counter()
            result = scrub_files(spark, inputs, work / "spark",
                                 split_min=1 if split else 16 << 20)
            spark_runs.append(time.perf_counter() - t)
            parts = sum(int(r["parts"]) for r in result.files.collect())
        same = same_outputs(work / "cli", work / "spark")
        ok = ok and same
        jobs_s, spark_s = min(cli_runs), min(spark_runs)
        rows = [(f"scrub837 scrub --jobs {args.jobs}", jobs_s),
                (f"scrub_files on local[{args.jobs}] (session up, workers warm)", spark_s),
                (f"scrub_files on local[{args.jobs}] with its fixed start-up",
                 spark_s + session + first_job)]
        print(f"input: {label}: 837{args.kind}, {claims} claims, {size_mb:.1f} MB"
              + (f", {parts} parts" if split else ""))
        print(f"{'run':58} {'seconds':>8} {'claims/s':>9} {'x --jobs':>9}")
        for name, seconds in rows:
            print(f"{name:58} {seconds:8.2f} {claims / seconds:9.0f} {jobs_s / seconds:9.2f}")
        print(f"  all runs: --jobs {', '.join(f'{s:.2f}' for s in cli_runs)}; "
              f"Spark {', '.join(f'{s:.2f}' for s in spark_runs)}")
        print(f"same outputs (277CA control numbers and times aside): {same}")
        report.append({"input": label, "claims": claims, "size_mb": size_mb, "parts": parts,
                       "jobs_seconds": cli_runs, "spark_seconds": spark_runs,
                       "same_outputs": same})
    spark.stop()
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "session": session,
                                         "first_job": first_job, "rounds": report}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
