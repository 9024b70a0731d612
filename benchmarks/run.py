"""One run, as ratios to a plain tokenizer, on generated 20,000-claim 837Ps with ~40 % and ~90 %
of claims with drug lines: the tokenizer, ``read_claims``, ``scrub837 extract``, ``scrub --out``
(every edit, every output), ``scrub --format json``, ``--jobs N``, pyx12 validation and the
other Python X12 parsers that install (``--peers``); start-up of a one-claim scrub; and, with
``--big-mb N``, peak RSS of the full scrub of an N MB file (also as one transaction).

    python benchmarks/run.py                              # --drug-shares 0.4,0.9
    python benchmarks/run.py --peers --json results.json --markdown
    python benchmarks/run.py --from-json results.json     # the Markdown tables again
    python benchmarks/run.py --file big.837 --pyx12-claims 0 --jobs 0

Each step runs in its own process (so its peak RSS is its own, read with wait4) and times its
own work (the interpreter's start-up excluded, except in the start-up rows that say so), best of
``--repeat`` (3) runs, since a shared machine's speed varies from minute to minute. pyx12 and
the peers are ~100-1000x slower, so they parse a 2,000-claim file generated with the same seed,
generator and drug share; their claims/s is comparable. Ratios are the point; absolute times
depend on the machine.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _steps  # noqa: E402  (benchmarks/_steps.py)
import _table  # noqa: E402
import peers  # noqa: E402
from _steps import CLI, EXTRACT, PYX12, TOKENIZER, generate, machine, once, step  # noqa: E402,F401

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
Row = dict[str, object]


def measure_file(path: Path, args: argparse.Namespace, work: Path,
                 share: float | None) -> dict[str, object]:
    """Every per-file step on ``path``: rows with claims/s and the ratio to the tokenizer."""
    claims = _steps.count_claims(path)
    counted = once(_steps.DRUG_SHARE, str(path))
    rows: list[tuple[str, str, Row, int]] = []

    def add(key: str, name: str, code: str, *argv: str, n: int = claims) -> None:
        print(f"  {name} ...", file=sys.stderr)
        rows.append((key, name, step(code, *argv), n))

    add("tokenizer", "(a) plain tokenizer (split segments and elements, count CLM)", TOKENIZER,
        str(path))
    add("read_claims", "(b) `read_claims` over a stream (library)", EXTRACT, str(path))
    add("extract", "(b) `scrub837 extract` (JSON per drug line)", CLI, "extract", str(path))
    add("scrub_out", "(c) `scrub837 scrub --out`, every edit and every output", CLI, "scrub",
        str(path), "--out", str(work / "out"))
    add("scrub_json", "(c) `scrub837 scrub --format json` (to a pipe)", CLI, "scrub", str(path),
        "--format", "json")
    if args.jobs > 1:
        add("jobs_split", f"(c) one file, `--jobs {args.jobs}` (cut at ST/SE)", CLI, "scrub",
            str(path), "--out", str(work / "split"), "--jobs", str(args.jobs),
            "--split-min-mb", "0")
        copies = []
        for i in range(args.jobs):
            copy = work / f"copy{i}.837"
            shutil.copyfile(path, copy)
            copies.append(str(copy))
        add("files_jobs1", f"(c) {args.jobs} files, `--jobs 1`", CLI, "scrub", *copies, "--out",
            str(work / "j1"), n=claims * args.jobs)
        add(f"files_jobs{args.jobs}", f"(c) {args.jobs} files, `--jobs {args.jobs}`", CLI,
            "scrub", *copies, "--out", str(work / "jn"), "--jobs", str(args.jobs),
            n=claims * args.jobs)
        for name in copies:
            Path(name).unlink()
    small: Path = path
    n = claims
    if args.pyx12_claims > 0 and args.file is None and args.pyx12_claims < claims:
        small, n = work / "small.837", args.pyx12_claims
        generate(small, n, args.kind, args.seed, share)
    if args.pyx12_claims:
        add("pyx12", f"(d) pyx12 {_version('pyx12')} `x12n_document` validation ({n:,} claims)",
            PYX12, str(small), n=n)
    found = []
    if args.peers:
        print("  peers ...", file=sys.stderr)
        found = peers.measure(small, args.kind, n, args.peers_dir)
    base = claims / float(rows[0][2]["seconds"])  # type: ignore[arg-type]
    steps = []
    for key, name, r, count in rows:
        rate = count / float(r["seconds"])  # type: ignore[arg-type]
        steps.append({"key": key, "step": name, "claims": count, "claims_per_s": rate,
                      "ratio_to_tokenizer": rate / base, **r})
    for peer in found:
        if "skip" not in peer:
            rate = n / float(peer["seconds"])  # type: ignore[arg-type]
            peer.update(key=f"peer:{peer['peer']}", claims_per_s=rate,
                        ratio_to_tokenizer=rate / base,
                        step=f"(e) {peer['peer']} {peer.get('version', '')} ({peer['what']}; "
                        f"{n:,} claims)")
    return {"path": str(path), "size_mb": path.stat().st_size / 1e6, "claims": claims,
            "drug_share_asked": share,
            "drug_share": int(counted["drug_claims"]) / max(1, claims),  # type: ignore[call-overload]
            "steps": steps, "peers": found}


def measure_startup(args: argparse.Namespace, work: Path) -> list[Row]:
    """A one-claim scrub (its claim has a drug line, so every table a drug line needs loads):
    as a whole process, interpreter included, and its work after the interpreter."""
    one = work / "one.837"
    generate(one, 1, args.kind, args.seed, 1.0)
    argv = ["scrub", str(one), "--out", str(work / "one"), "-q"]
    n = max(args.repeat, args.startup_repeat)
    _steps.process_time([sys.executable, "-m", "scrub837", *argv], 1)  # fills the cache
    rows: list[Row] = [
        {"key": "interpreter", "step": "`python -c pass` (the interpreter alone)",
         **_steps.process_time([sys.executable, "-c", "pass"], n)},
        {"key": "startup_process", "step": "`python -m scrub837 scrub` as a whole process",
         **_steps.process_time([sys.executable, "-m", "scrub837", *argv], n)},
        {"key": "startup_work", "step": "its work after the interpreter (imports, data, scrub)",
         **_best([once(_steps.STARTUP, *argv, stderr_json=True) for _ in range(n)])},
    ]
    if args.bytecode_cache:
        saved = dict(_steps.ENV)
        _steps.ENV.clear()
        _steps.ENV.update(_ORIGINAL_ENV)
        try:
            rows.append({"key": "startup_process_env", "step": "the same, whole process, no "
                         "bytecode cache (every module compiled)" if _no_cache() else
                         "the same, whole process, this environment's own bytecode settings",
                         **_steps.process_time([sys.executable, "-m", "scrub837", *argv], n)})
        finally:
            _steps.ENV.clear()
            _steps.ENV.update(saved)
    return rows


def measure_big(args: argparse.Namespace, work: Path, share: float | None) -> list[Row]:
    """Peak RSS of `scrub --out` on a generated --big-mb file, with 5,000 claims per ST and
    as one transaction, and of `scrub --format json` (standard output to /dev/null)."""
    rows: list[Row] = []
    for key, label, per_st in (("big_out", "`scrub --out`, 5,000 claims per ST", None),
                               ("big_json", "`scrub --format json`, 5,000 claims per ST", None),
                               ("big_one_st", "`scrub --out`, one transaction", 10**9)):
        big = work / f"big-{per_st}.837"
        if not big.exists():
            for old in work.glob("big-*.837"):
                old.unlink()
            print(f"  generating {args.big_mb} MB ({label}) ...", file=sys.stderr)
            generate(big, 0, args.kind, args.seed, share, per_st=per_st, size_mb=args.big_mb)
        cmd = [sys.executable, "-m", "scrub837", "scrub", str(big), "-q"]
        cmd += ["--format", "json"] if key == "big_json" else ["--out", str(work / "big")]
        print(f"  {label} ...", file=sys.stderr)
        r = _steps.process_time(cmd, 1)
        rows.append({"key": key, "step": label, "size_mb": big.stat().st_size / 1e6,
                     "claims": _steps.count_claims(big), **r})
        shutil.rmtree(work / "big", ignore_errors=True)
    for old in work.glob("big-*.837"):
        old.unlink()
    return rows


_ORIGINAL_ENV = dict(_steps.ENV)


def _no_cache() -> bool:
    return bool(_ORIGINAL_ENV.get("PYTHONDONTWRITEBYTECODE")) and not any(
        (ROOT / "src" / "scrub837").glob("__pycache__"))


def _best(runs: list[Row]) -> Row:
    best = min(runs, key=lambda r: float(r["seconds"]))  # type: ignore[arg-type]
    return {"seconds": best["seconds"], "peak_rss_mb": max(
        float(r["peak_rss_mb"]) for r in runs), "runs": len(runs)}  # type: ignore[arg-type]


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(dist)
    except PackageNotFoundError:
        return ""


def _commit() -> str:
    done = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                          capture_output=True, text=True)
    return done.stdout.strip() or "?"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--file", type=Path, help="an 837 to measure (default: generate them)")
    p.add_argument("--claims", type=int, default=20000, help="claims when generating")
    p.add_argument("--drug-shares", default="0.4,0.9", help="one generated file per share of "
                   "claims with drug lines (generate.py --drug-share; default 0.4,0.9)")
    p.add_argument("--kind", choices=("P", "I"), default="P")
    p.add_argument("--seed", type=int, default=837)
    p.add_argument("--pyx12-claims", type=int, default=2000,
                   help="pyx12 and the peers parse a file of this many claims (0 = skip pyx12, "
                   "-1 = the whole file)")
    p.add_argument("--peers", action="store_true",
                   help="also time the other X12 parsers (benchmarks/peers.py), each installed "
                   "in a throwaway environment in --peers-dir")
    p.add_argument("--peers-dir", type=Path, help="default: $TMPDIR/scrub837-peers")
    p.add_argument("--jobs", type=int, default=2,
                   help="also scrub --jobs N on the file cut in parts, and on N files (0 = skip)")
    p.add_argument("--big-mb", type=float, default=0, metavar="N",
                   help="also the peak RSS of the full scrub of a generated N MB file, with "
                   "5,000 claims per ST and as one transaction, and of --format json")
    p.add_argument("--no-startup", dest="startup", action="store_false",
                   help="skip the start-up rows")
    p.add_argument("--startup-repeat", type=int, default=10,
                   help="runs of each start-up row, best kept (default 10; at least --repeat)")
    p.add_argument("--no-bytecode-cache", dest="bytecode_cache", action="store_false",
                   help="run the steps with this environment's bytecode settings as they are")
    p.add_argument("--json", type=Path, help="write the results here too")
    p.add_argument("--markdown", action="store_true", help="print the Markdown tables at the end")
    p.add_argument("--from-json", type=Path, metavar="FILE",
                   help="print the Markdown tables of an earlier --json FILE and stop")
    p.add_argument("--repeat", type=int, default=_steps.REPEAT[0],
                   help="runs of each step; the best time is reported (default 3)")
    args = p.parse_args(argv)
    if args.from_json:
        print(_table.markdown(json.loads(args.from_json.read_text())))
        return 0
    _steps.REPEAT[0] = max(1, args.repeat)
    shares: list[float | None] = [float(x) for x in args.drug_shares.split(",") if x.strip()]
    shares = shares or [None]
    work = Path(tempfile.mkdtemp(prefix="scrub837-bench-"))
    if args.bytecode_cache:
        _steps.bytecode_cache(work / "pycache")
    try:
        results = _run(args, work, shares)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(_table.text(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if args.markdown:
        print()
        print(_table.markdown(results))
    return 0


def _run(args: argparse.Namespace, work: Path, shares: list[float | None]) -> dict[str, object]:
    files = []
    if args.file is not None:
        print(f"{args.file} ...", file=sys.stderr)
        files.append(measure_file(args.file, args, work, None))
    else:
        for share in shares:
            path = work / f"bench-{args.kind}-{args.claims}-{share}.837"
            generate(path, args.claims, args.kind, args.seed, share)
            print(f"{path.name} ...", file=sys.stderr)
            files.append(measure_file(path, args, work, share))
            path.unlink()
    results: dict[str, object] = {
        "machine": machine(), "date": datetime.date.today().isoformat(), "commit": _commit(),
        "repeat": _steps.REPEAT[0], "bytecode_cache": args.bytecode_cache, "files": files}
    if args.startup:
        print("start-up ...", file=sys.stderr)
        results["startup"] = measure_startup(args, work)
    if args.big_mb:
        results["big"] = measure_big(args, work, shares[0] if args.file is None else None)
    return results


if __name__ == "__main__":
    raise SystemExit(main())
