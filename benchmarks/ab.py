"""Before and after, interleaved: the same commands timed with an older commit's code and with
today's, alternately, on one file, so that a shared machine's load slows both sides alike.

    python benchmarks/ab.py --baseline 6dc4e0e            # generates a 20,000-claim 837P
    python benchmarks/ab.py --baseline main --file big.837 --repeat 5

The baseline's ``src/`` and ``rules/`` come from ``git archive`` into a temporary folder; each
run is a fresh process that puts one side's ``src`` first on ``sys.path`` and times its own work
(``benchmarks/_steps.py``'s CLI step; for start-up, a one-claim file with a drug line, its
imports included); the best of ``--repeat`` runs of each side is kept. Both sides get a
bytecode cache, as installed code has (``--no-bytecode-cache``: the environment as it is).
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import _steps as bench  # noqa: E402  (benchmarks/_steps.py)

SIDE = "import sys; sys.path.insert(0, sys.argv.pop(1))\n"
CLI = SIDE + bench.CLI
STARTUP = bench.STARTUP.replace("import sys\n", SIDE, 1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="scrub837 before/after, interleaved")
    p.add_argument("--baseline", required=True, help="commit (or branch) to compare with")
    p.add_argument("--file", type=Path, help="an 837 to measure (default: generate one)")
    p.add_argument("--claims", type=int, default=20000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-bytecode-cache", dest="bytecode_cache", action="store_false")
    p.add_argument("--only", default="", metavar="WORDS",
                   help="only the steps whose name starts with one of these (comma-separated), "
                   "e.g. start-up")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="scrub837-ab-") as tmp:
        if args.bytecode_cache:
            bench.bytecode_cache(Path(tmp) / "pycache")
        _measure(args, Path(tmp))
    return 0


def _measure(args: argparse.Namespace, work: Path) -> None:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", args.baseline,
                              "src", "rules"], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(work / "baseline", filter="data")
    path = args.file
    if path is None and args.only.strip() in ("start-up", "start"):
        path = work / "one.837"  # nothing else runs: no large file needed
        bench.generate(path, 1, "P", 837, 1.0)
    if path is None:
        path = work / "bench.837"
        bench.generate(path, args.claims, "P", 837)
    one = work / "one.837"
    bench.generate(one, 1, "P", 837, 1.0)
    steps = {
        "scrub --out (every output)": ["scrub", str(path), "--out", str(work / "out")],
        "scrub --format json": ["scrub", str(path), "--format", "json"],
        "extract": ["extract", str(path)],
        "start-up: one-claim scrub --out": ["scrub", str(one), "--out", str(work / "one"),
                                            "-q"],
    }
    sides = {"before": work / "baseline" / "src", "after": ROOT / "src"}
    print(f"machine: {bench.machine()}")
    print(f"file: {path.name}, {path.stat().st_size / 1e6:.1f} MB; baseline {args.baseline}; "
          f"best of {args.repeat}, interleaved")
    only = tuple(w.strip() for w in args.only.split(",") if w.strip())
    for name, command in steps.items():
        if only and not name.startswith(only):
            continue
        best: dict[str, dict[str, object]] = {}
        for _ in range(max(1, args.repeat)):
            for side, src in sides.items():
                if name.startswith("start-up"):
                    r = bench.once(STARTUP, str(src), *command, stderr_json=True)
                else:
                    r = bench.once(CLI, str(src), *command)
                if side not in best or float(r["seconds"]) < float(best[side]["seconds"]):  # type: ignore[arg-type]
                    best[side] = r
        a, b = best["before"], best["after"]
        ta, tb = float(a["seconds"]), float(b["seconds"])  # type: ignore[arg-type]
        print(f"{name:34} {ta:8.3f} s -> {tb:8.3f} s  ({ta / tb:.2f}x)   "
              f"peak RSS {a['peak_rss_mb']} -> {b['peak_rss_mb']} MB")


if __name__ == "__main__":
    raise SystemExit(main())
