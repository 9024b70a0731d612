"""Printing ``run.py``'s results: plain text while it runs, Markdown for the README."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Result = Mapping[str, object]

# the targets of issue 14 (ratio to the tokenizer, or a limit); shown beside the figures
RATIO_TARGETS = {"scrub_out": 0.25, "extract": 0.40, "read_claims": 0.50}
RSS_LIMIT_MB = 100.0
STARTUP_LIMIT_S = 0.25


def _f(value: object) -> float:
    return float(value)  # type: ignore[arg-type]


def target(key: str, row: Result) -> str:
    """'≥ 0.25× ✓' / '≥ 0.25× ✗' and the like, or '' for a step without a target."""
    if key in RATIO_TARGETS:
        goal = RATIO_TARGETS[key]
        return f"≥ {goal:.2f}× {'✓' if _f(row['ratio_to_tokenizer']) >= goal else '✗'}"
    if key == "scrub_json" or key.startswith("big_"):
        return f"< {RSS_LIMIT_MB:.0f} MB {'✓' if _f(row['peak_rss_mb']) < RSS_LIMIT_MB else '✗'}"
    if key in ("startup_process", "startup_process_env"):
        return f"< {STARTUP_LIMIT_S} s {'✓' if _f(row['seconds']) < STARTUP_LIMIT_S else '✗'}"
    return ""


def file_label(f: Result) -> str:
    share = f.get("drug_share")
    return (f"{f['claims']:,} claims, {_f(f['size_mb']):.1f} MB, "
            f"{_f(share) * 100:.1f} % drug claims" if share is not None else str(f["path"]))


def text(results: Result) -> str:
    out = [f"machine: {results['machine']}", f"commit: {results.get('commit', '?')}, "
           f"best of {results['repeat']}, bytecode cache: {results['bytecode_cache']}"]
    for f in _seq(results["files"]):
        out.append(f"\nfile: {file_label(f)}")
        out.append(f"{'step':66} {'claims/s':>10} {'x tokenizer':>12} {'peak RSS MB':>12}")
        for row in _seq(f["steps"]):
            out.append(f"{str(row['step']):66} {_f(row['claims_per_s']):10.0f} "
                       f"{_f(row['ratio_to_tokenizer']):12.3f} {row['peak_rss_mb']!s:>12}  "
                       f"{target(str(row['key']), row)}")
        for peer in _seq(f.get("peers", [])):
            if "skip" in peer:
                out.append(f"  peer {peer['peer']}: skipped ({peer['skip']})")
    if results.get("startup"):
        out.append(f"\n{'start-up: one-claim 837P (a drug line)':66} {'seconds':>10} "
                   f"{'peak RSS MB':>12}")
        for row in _seq(results["startup"]):
            out.append(f"{str(row['step']):66} {_f(row['seconds']):10.3f} "
                       f"{row['peak_rss_mb']!s:>12}  {target(str(row['key']), row)}")
    for row in _seq(results.get("big", [])):
        out.append(f"{str(row['step'])}: {_f(row['size_mb']):.0f} MB, {row['claims']:,} claims, "
                   f"{_f(row['seconds']):.0f} s, peak RSS {row['peak_rss_mb']} MB  "
                   f"{target(str(row['key']), row)}")
    return "\n".join(out)


def markdown(results: Result) -> str:
    """The tables for the README: the steps with one column group per generated file, the
    peers measured in the same run (and why any were skipped), start-up, large files."""
    files = _seq(results["files"])
    head = "| step |" + "".join(
        f" {file_label(f)}: claims/s | × tokenizer | peak RSS |" for f in files) + " target |"
    out = [f"Machine: {results['machine']}; commit {results.get('commit', '?')}; "
           f"{results.get('date', '')}; each step in its own process, best of "
           f"{results['repeat']}.", "", head, "|---|" + "---|---|---|" * len(files) + "---|"]
    keys: list[str] = []
    names: dict[str, str] = {}
    for f in files:
        for r in [*_seq(f["steps"]), *_peer_rows(f)]:
            if str(r["key"]) not in names:
                keys.append(str(r["key"]))
                names[str(r["key"])] = str(r["step"])
    for key in keys:
        cells, goal = [], ""
        for f in files:
            found = [r for r in [*_seq(f["steps"]), *_peer_rows(f)] if r["key"] == key]
            row = found[0] if found else None
            if row is None:
                cells.append(" – | – | – |")
                continue
            goal = goal or target(key, row)
            cells.append(f" {_f(row['claims_per_s']):,.0f} | {_f(row['ratio_to_tokenizer']):.3f}"
                         f" | {_f(row['peak_rss_mb']):.0f} MB |")
        out.append(f"| {names[key]} |" + "".join(cells) + f" {goal} |")
    skipped = {str(p["peer"]): str(p["skip"]) for f in files for p in _seq(f.get("peers", []))
               if "skip" in p}
    if skipped:
        out += ["", "Peers skipped: " + "; ".join(f"{k} ({v})" for k, v in skipped.items()) + "."]
    if results.get("startup"):
        out += ["", "| start-up: `scrub837 scrub` on a one-claim 837P (a drug line), `--out` "
                "| seconds | peak RSS | target |", "|---|---|---|---|"]
        for row in _seq(results["startup"]):
            out.append(f"| {row['step']} | {_f(row['seconds']):.3f} | "
                       f"{_f(row['peak_rss_mb']):.0f} MB | {target(str(row['key']), row)} |")
    if results.get("big"):
        out += ["", "| large file | size | claims | seconds | peak RSS | target |",
                "|---|---|---|---|---|---|"]
        for row in _seq(results["big"]):
            out.append(f"| {row['step']} | {_f(row['size_mb']):,.0f} MB | {row['claims']:,} | "
                       f"{_f(row['seconds']):,.0f} | {_f(row['peak_rss_mb']):.1f} MB | "
                       f"{target(str(row['key']), row)} |")
    return "\n".join(out)


def _peer_rows(f: Result) -> list[Result]:
    return [p for p in _seq(f.get("peers", [])) if "skip" not in p]


def _seq(value: object) -> Sequence[Result]:
    return value if isinstance(value, list) else []
