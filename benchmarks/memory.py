"""Peak memory of extraction (and optionally of the full scrub) on a large generated file.

    python benchmarks/memory.py --size-mb 200            # issue: extract a >= 200 MB 837P
    python benchmarks/memory.py --size-mb 1000 --scrub   # the full scrub on 1 GB
    python benchmarks/memory.py --file big.837 --scrub --jobs 2   # cut into parts, 2 processes
    python benchmarks/memory.py --size-mb 11 --json      # scrub --format json (stdout to a file)

Generates the file (streamed, constant memory) unless --file is given, runs the step in a child
process and reads its peak RSS with wait4. Exits 1 when the peak is at or above --limit-mb.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXTRACT = """
import sys, gc
gc.set_threshold(50_000, 50, 100)
from scrub837 import read_claims
n = d = 0
with open(sys.argv[1], 'rb') as f:
    for c in read_claims(f):
        n += 1
        d += sum(1 for line in c.lines if line.code.startswith('J'))
print(n, d)
"""


def peak(cmd: list[str], stdout: Path | None = None) -> tuple[float, float, str]:
    """Peak RSS (MB), seconds and the end of the output of ``cmd``; with ``stdout`` its
    standard output goes to that file (only its standard error is shown)."""
    t = time.perf_counter()
    sink = open(stdout, "wb") if stdout is not None else None
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdout=sink or log, stderr=log)
        _, status, usage = os.wait4(proc.pid, 0)
        if sink is not None:
            sink.close()
        log.seek(0)
        out = log.read().decode("utf-8", "replace")
    return usage.ru_maxrss / 1024, time.perf_counter() - t, out.strip()[-300:]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--file", type=Path)
    p.add_argument("--size-mb", type=float, default=200)
    p.add_argument("--scrub", action="store_true", help="measure the full scrub with outputs")
    p.add_argument("--json", action="store_true",
                   help="measure `scrub --format json` (its standard output to a file)")
    p.add_argument("--limit-mb", type=float, default=100)
    p.add_argument("--keep", action="store_true", help="keep the generated file")
    p.add_argument("--jobs", type=int, default=1,
                   help="with --scrub: scrub on N processes (a large file is cut into parts); "
                        "the peak is the largest process's")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="scrub837-mem-"))
    path = args.file or work / "big.837"
    if args.file is None:
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--size-mb",
                        str(args.size_mb), "--out", str(path)], check=True)
    size = path.stat().st_size / 1e6
    stdout = None
    if args.json:
        cmd = [sys.executable, "-m", "scrub837", "scrub", str(path), "--format", "json"]
        stdout = work / "scrub.jsonl"
    elif args.scrub:
        cmd = [sys.executable, "-m", "scrub837", "scrub", str(path), "--out", str(work / "out"),
               "--jobs", str(args.jobs)]
    else:
        cmd = [sys.executable, "-c", EXTRACT, str(path)]
    rss, seconds, out = peak(cmd, stdout)
    if stdout is not None:
        lines = sum(1 for _ in open(stdout, "rb"))
        out = f"{lines} JSON lines"
        stdout.unlink()
    what = ("scrub --format json" if args.json else
            (f"scrub --jobs {args.jobs}" if args.jobs > 1 else "scrub") if args.scrub
            else "extract")
    print(f"{what} of {size:.0f} MB: peak RSS {rss:.1f} MB, "
          f"{seconds:.0f} s ({out.splitlines()[-1] if out else ''})")
    if args.file is None and not args.keep:
        path.unlink()
    shutil.rmtree(work / "out", ignore_errors=True)
    return 0 if rss < args.limit_mb else 1


if __name__ == "__main__":
    raise SystemExit(main())
