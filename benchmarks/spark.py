"""One run, one set of generated files, two ways: ``scrub837 scrub --jobs N`` and
``scrub837.spark.scrub_files`` on ``local[N]``. Prints the seconds of each, the ratio, and
Spark's fixed start-up (the session, then a first one-file job and a warm-up task on each
worker, which start the Python workers and load the rule book in each), and checks that both wrote the same outputs (277CA control
numbers and times aside). Ratios are the point; absolute times depend on the machine.

    python benchmarks/spark.py                          # 8 files of 2,500 claims (~11 MB),
                                                        # then those claims in one file
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
jobs, warm, out, split = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
files = sys.argv[5:]
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
result = scrub_files(spark, files, out, split_min=split)
claims = result.files.groupBy().sum('claims').collect()[0][0]
t3 = time.perf_counter()
parts = result.files.groupBy().sum('parts').collect()[0][0]
spark.stop()
print(json.dumps({'session': t1 - t0, 'first_job': t2 - t1, 'seconds': t3 - t2,
                  'claims': claims, 'parts': parts}))
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
    p.add_argument("--no-one-file", action="store_true",
                   help="skip the second round: all the claims in one file, cut into parts")
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
        repeat = max(1, args.repeat)
        rounds = [(f"{args.files} files", files)]
        if not args.no_one_file:
            one = work / "one" / "one.837"
            one.parent.mkdir()
            generate(one, args.files * args.claims, args.kind, 837)
            rounds.append(("1 file, cut at ST/SE", [str(one)]))
        report = []
        ok = True
        print(f"machine: {machine()}")
        for label, inputs in rounds:
            size_mb = sum(Path(f).stat().st_size for f in inputs) / 1e6
            split = ["--split-min-mb", "0"] if len(inputs) == 1 else []
            cli = best(CLI, "scrub", *inputs, "--out", str(work / "cli"), "--jobs",
                       str(args.jobs), *split, repeat=repeat)
            spark = best(SPARK, str(args.jobs), str(warm), str(work / "spark"),
                         "1" if split else str(16 << 20), *inputs, repeat=repeat)
            same = same_outputs(work / "cli", work / "spark")
            ok = ok and same
            for d in ("cli", "spark", "spark-warm"):
                shutil.rmtree(work / d, ignore_errors=True)
            claims = args.files * args.claims
            fixed = float(spark["session"]) + float(spark["first_job"])  # type: ignore[arg-type]
            jobs_s, spark_s = float(cli["seconds"]), float(spark["seconds"])  # type: ignore[arg-type]
            rows = [(f"scrub837 scrub --jobs {args.jobs}", jobs_s),
                    (f"scrub_files on local[{args.jobs}] (session up, workers warm)", spark_s),
                    (f"scrub_files on local[{args.jobs}] with its fixed start-up",
                     spark_s + fixed)]
            print(f"input: {label}: 837{args.kind}, {claims} claims, {size_mb:.1f} MB"
                  + (f", {spark['parts']} parts" if split else ""))
            print(f"{'run':58} {'seconds':>8} {'claims/s':>9} {'x --jobs':>9}")
            for name, seconds in rows:
                print(f"{name:58} {seconds:8.2f} {claims / seconds:9.0f} "
                      f"{jobs_s / seconds:9.2f}")
            print(f"Spark fixed start-up: session {float(spark['session']):.2f} s "  # type: ignore[arg-type]
                  f"+ first job and warm workers {float(spark['first_job']):.2f} s")  # type: ignore[arg-type]
            print(f"same outputs (277CA control numbers and times aside): {same}")
            report.append({"input": label, "claims": claims, "size_mb": size_mb, "cli": cli,
                           "spark": spark, "same_outputs": same})
        if args.json:
            args.json.write_text(json.dumps({"machine": machine(), "rounds": report},
                                            indent=2))
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
