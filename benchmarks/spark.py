"""One run, one set of generated files, two ways: ``scrub837 scrub --jobs N`` and
``scrub837.spark.scrub_files`` on ``local[N]``. Prints the seconds of each, the ratio, and
Spark's fixed start-up (the session, then a first one-file job and a warm-up task on each
worker, which start the Python workers and load the rule book in each), and checks that both wrote the same outputs (277CA control
numbers and times aside). Ratios are the point; absolute times depend on the machine.

    python benchmarks/spark.py                          # 8 files of 2,500 claims (~11 MB)
    python benchmarks/spark.py --files 4 --claims 20000 --jobs 2 --json spark.json

Each side runs in its own process and times its own work (interpreter start-up excluded);
each runs ``--repeat`` times (default 2) and the best time is kept.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from run import _once, generate, machine  # noqa: E402

CLI = """
import io, json, sys, time
from scrub837.cli import run
t = time.perf_counter()
code = run(sys.argv[1:], io.StringIO(), sys.stderr)
print(json.dumps({'seconds': time.perf_counter() - t, 'exit': code}))
"""

SPARK = """
import json, os, sys, time
os.environ['PYSPARK_PYTHON'] = sys.executable
jobs, warm, out, files = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
t0 = time.perf_counter()
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master(f'local[{jobs}]').appName('scrub837-bench')
         .config('spark.ui.enabled', 'false').config('spark.sql.shuffle.partitions', str(jobs))
         .getOrCreate())
spark.sparkContext.setLogLevel('ERROR')
from scrub837.spark import scrub_files
from scrub837.spark._tasks import RuleOptions, warm as warm_up
t1 = time.perf_counter()
scrub_files(spark, [warm], out + '-warm')  # a first job: Python workers, the rule book
sample = open(warm, 'rb').read()  # and every worker warm (local[N] runs N at once)
spark.sparkContext.parallelize(range(jobs), jobs).mapPartitions(
    lambda _: warm_up(RuleOptions(), sample)).collect()
t2 = time.perf_counter()
result = scrub_files(spark, files, out)
claims = result.files.groupBy().sum('claims').collect()[0][0]
t3 = time.perf_counter()
spark.stop()
print(json.dumps({'session': t1 - t0, 'first_job': t2 - t1, 'seconds': t3 - t2,
                  'claims': claims}))
"""


def best(code: str, *args: str, repeat: int) -> dict[str, object]:
    runs = [_once(code, *args) for _ in range(repeat)]
    return min(runs, key=lambda r: float(r["seconds"]))  # type: ignore[arg-type]


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
    p.add_argument("--repeat", type=int, default=2, help="runs of each side; best kept")
    p.add_argument("--json", type=Path, help="write the results here too")
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="scrub837-spark-bench-"))
    try:
        files = []
        for i in range(args.files):
            path = work / "in" / f"bench{i}.837"
            path.parent.mkdir(exist_ok=True)
            generate(path, args.claims, args.kind, 837 + i)
            files.append(str(path))
        warm = work / "warm" / "warm.837"
        warm.parent.mkdir()
        generate(warm, 10, args.kind, 1)
        size_mb = sum(Path(f).stat().st_size for f in files) / 1e6
        repeat = max(1, args.repeat)
        cli = best(CLI, "scrub", *files, "--out", str(work / "cli"), "--jobs", str(args.jobs),
                   repeat=repeat)
        spark = best(SPARK, str(args.jobs), str(warm), str(work / "spark"), *files,
                     repeat=repeat)
        same = same_outputs(work / "cli", work / "spark")
        claims = args.files * args.claims
        fixed = float(spark["session"]) + float(spark["first_job"])  # type: ignore[arg-type]
        rows = [
            (f"scrub837 scrub --jobs {args.jobs}", float(cli["seconds"])),  # type: ignore[arg-type]
            (f"scrub_files on local[{args.jobs}] (session up, workers warm)",
             float(spark["seconds"])),  # type: ignore[arg-type]
            (f"scrub_files on local[{args.jobs}] with its fixed start-up", float(
                spark["seconds"]) + fixed),  # type: ignore[arg-type]
        ]
        print(f"machine: {machine()}")
        print(f"input: {args.files} generated 837{args.kind} files, {claims} claims, "
              f"{size_mb:.1f} MB")
        print(f"{'run':58} {'seconds':>8} {'claims/s':>9} {'x --jobs':>9}")
        for name, seconds in rows:
            print(f"{name:58} {seconds:8.2f} {claims / seconds:9.0f} "
                  f"{rows[0][1] / seconds:9.2f}")
        print(f"Spark fixed start-up: session {float(spark['session']):.2f} s "  # type: ignore[arg-type]
              f"+ first job and warm workers {float(spark['first_job']):.2f} s")  # type: ignore[arg-type]
        print(f"same outputs (277CA control numbers and times aside): {same}")
        if args.json:
            args.json.write_text(json.dumps({
                "machine": machine(), "files": args.files, "claims": claims,
                "size_mb": size_mb, "cli": cli, "spark": spark, "same_outputs": same},
                indent=2))
        return 0 if same else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
