"""One run, one file, four ways: a plain tokenizer, scrub837 extract, scrub837 scrub (every
edit, every output), and pyx12 validation. Prints claims/s, the ratio to the tokenizer, and
peak RSS of each step. Ratios are the point; absolute times depend on the machine.

    python benchmarks/run.py                       # generates a 20,000-claim 837P (~10 MB)
    python benchmarks/run.py --file big.837 --pyx12-claims 2000 --json results.json

Each step runs in its own process (so its peak RSS is its own, read with wait4) and times its
own work (interpreter start-up is excluded); each runs ``--repeat`` times (default 3) and the
best time is reported, since a shared machine's speed varies from minute to minute. pyx12 is ~300x slower, so by default it runs on a
2,000-claim file generated with the same seed and generator; its claims/s is comparable.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

TOKENIZER = """
import json, sys, time
t = time.perf_counter()
with open(sys.argv[1], 'rb') as f:
    text = f.read().decode('latin-1')
elem, term = text[3], text[105]
claims = 0
for seg in text.split(term):
    if seg.strip().split(elem)[0] == 'CLM':
        claims += 1
print(json.dumps({'claims': claims, 'seconds': time.perf_counter() - t}))
"""

EXTRACT = """
import json, sys, time, gc
gc.set_threshold(50_000, 50, 100)
from scrub837 import read_claims
t = time.perf_counter()
claims = drug = 0
with open(sys.argv[1], 'rb') as f:
    for c in read_claims(f):
        claims += 1
        drug += sum(1 for line in c.lines if line.code.startswith('J'))
print(json.dumps({'claims': claims, 'seconds': time.perf_counter() - t, 'drug_lines': drug}))
"""

CLI = """
import io, json, sys, time, gc
gc.set_threshold(50_000, 50, 100)
from scrub837.cli import run
args = sys.argv[1:]
class Sink:  # counts output lines without keeping them (stdout to a file would do the same)
    lines = 0
    def write(self, text):
        self.lines += text.count(chr(10))
    def flush(self):
        pass
out = Sink()
t = time.perf_counter()
code = run(args, out, sys.stderr)
seconds = time.perf_counter() - t
print(json.dumps({'seconds': seconds, 'exit': code, 'stdout_lines': out.lines}))
"""

PYX12 = """
import io, json, sys, time, os, logging
import pyx12.params, pyx12.x12n_document
logging.getLogger('pyx12').setLevel(logging.CRITICAL)
t = time.perf_counter()
ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), sys.argv[1], io.StringIO(), None)
print(json.dumps({'seconds': time.perf_counter() - t, 'ok': bool(ok)}))
"""


REPEAT = [3]  # runs of each step (set by --repeat)


def step(code: str, *args: str) -> dict[str, object]:
    """Run a step REPEAT times (a fresh process each time): its best time and its largest
    peak RSS. The best of several runs is the usual answer to a machine shared with others."""
    runs = [_once(code, *args) for _ in range(REPEAT[0])]
    best = min(runs, key=lambda r: float(r["seconds"]))  # type: ignore[arg-type]
    best["peak_rss_mb"] = max(float(r["peak_rss_mb"]) for r in runs)  # type: ignore[arg-type]
    best["runs"] = len(runs)
    return best


def _once(code: str, *args: str) -> dict[str, object]:
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    if not out.strip():
        raise SystemExit(f"step failed (status {status}): {err[-2000:]}")
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    return result


def count_claims(path: Path) -> int:
    return int(_once(TOKENIZER, str(path))["claims"])  # type: ignore[arg-type]


def machine() -> str:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{platform.system()} {platform.machine()}, {cpu or 'unknown CPU'}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}")


def generate(path: Path, claims: int, kind: str, seed: int) -> None:
    subprocess.run([sys.executable, str(HERE / "generate.py"), "--kind", kind, "--claims",
                    str(claims), "--seed", str(seed), "--out", str(path)], check=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="scrub837 benchmark: ratios against a tokenizer")
    p.add_argument("--file", type=Path, help="an 837 to measure (default: generate one)")
    p.add_argument("--claims", type=int, default=20000, help="claims when generating")
    p.add_argument("--kind", choices=("P", "I"), default="P")
    p.add_argument("--seed", type=int, default=837)
    p.add_argument("--pyx12-claims", type=int, default=2000,
                   help="pyx12 runs on a file of this many claims (0 = skip, -1 = whole file)")
    p.add_argument("--jobs", type=int, default=2, help="also measure scrub --jobs N on the file cut in parts, and on N files")
    p.add_argument("--json", type=Path, help="write the results here too")
    p.add_argument("--repeat", type=int, default=REPEAT[0],
                   help="runs of each step; the best time is reported (default 3)")
    args = p.parse_args(argv)
    REPEAT[0] = max(1, args.repeat)
    work = Path(tempfile.mkdtemp(prefix="scrub837-bench-"))
    path = args.file
    if path is None:
        path = work / f"bench-{args.kind}-{args.claims}.837"
        generate(path, args.claims, args.kind, args.seed)
    claims = count_claims(path)
    size_mb = path.stat().st_size / 1e6
    rows: list[tuple[str, dict[str, object], int]] = []
    tok = step(TOKENIZER, str(path))
    rows.append(("(a) plain tokenizer (split segments+elements, count CLM)", tok, claims))
    rows.append(("(b) scrub837 extract: read_claims over a stream", step(EXTRACT, str(path)),
                 claims))
    rows.append(("(b) scrub837 extract CLI (JSON per drug line)",
                 step(CLI, "extract", str(path)), claims))
    out = work / "out"
    rows.append(("(c) scrub837 scrub, every edit and output",
                 step(CLI, "scrub", str(path), "--out", str(out)), claims))
    if args.jobs > 1:
        rows.append((f"(c) scrub one file, --jobs {args.jobs} (cut at ST/SE boundaries)",
                     step(CLI, "scrub", str(path), "--out", str(work / "split"), "--jobs",
                          str(args.jobs), "--split-min-mb", "0"), claims))
        copies = []
        for i in range(args.jobs):
            copy = work / f"copy{i}.837"
            copy.write_bytes(path.read_bytes())
            copies.append(str(copy))
        one = step(CLI, "scrub", *copies, "--out", str(work / "j1"))
        many = step(CLI, "scrub", *copies, "--out", str(work / "jn"), "--jobs", str(args.jobs))
        rows.append((f"(c) scrub {args.jobs} files, --jobs 1", one, claims * args.jobs))
        rows.append((f"(c) scrub {args.jobs} files, --jobs {args.jobs}", many,
                     claims * args.jobs))
    if args.pyx12_claims:
        small = path
        n = claims
        if args.pyx12_claims > 0 and args.file is None and args.pyx12_claims < claims:
            small = work / "pyx12.837"
            generate(small, args.pyx12_claims, args.kind, args.seed)
            n = args.pyx12_claims
        rows.append((f"(d) pyx12 x12n_document validation ({n} claims)", step(PYX12, str(small)),
                     n))
    base = claims / float(tok["seconds"])  # type: ignore[arg-type]
    print(f"machine: {machine()}")
    print(f"file: {path.name}, {size_mb:.1f} MB, {claims} claims")
    print(f"{'step':62} {'claims/s':>10} {'x tokenizer':>12} {'peak RSS MB':>12}")
    results = []
    for name, r, n in rows:
        rate = n / float(r["seconds"])  # type: ignore[arg-type]
        print(f"{name:62} {rate:10.0f} {rate / base:12.3f} {r['peak_rss_mb']:12}")
        results.append({"step": name, "claims": n, "claims_per_s": rate,
                        "ratio_to_tokenizer": rate / base, **r})
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "file": str(path),
                                         "size_mb": size_mb, "steps": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
