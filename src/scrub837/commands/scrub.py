"""``scrub837 scrub INPUT... [--out DIR]``: verdicts, 277CA, reports and the 837 split."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from scrub837.cli import UsageError
from scrub837.commands._inputs import check_inputs, display_name, open_input
from scrub837.commands._options import (
    ack_config,
    add_ack_options,
    add_rule_options,
    file_mode,
    make_scrubber,
)
from scrub837.edits import PluginError
from scrub837.outputs.control import ControlNumbers
from scrub837.pipeline import OutputError, OutputOptions, process_stream
from scrub837.reader import EnvelopeProblem, ReadFailure
from scrub837.results import SummaryBuilder, TransactionResult
from scrub837.rulebook import RulePackError
from scrub837.scrubber import Scrubber

EXIT_USAGE = 2


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("scrub", help="scrub 837 files: 277CA, reports, accepted/rejected 837",
                       description="Scrub 837P/837I files. With --out, write NAME.277, "
                       "NAME.report.html, NAME.report.json, NAME.accepted.837 and "
                       "NAME.rejected.837 for each input; without it, print verdicts as JSON.")
    p.add_argument("files", nargs="+", metavar="INPUT", help="837 files; '-' reads standard input")
    p.add_argument("--out", metavar="DIR", help="write the outputs into this folder")
    p.add_argument("--format", choices=("json", "summary"), default=None,
                   help="without --out: json (default) prints every claim's verdict and findings")
    p.add_argument("--show-phi", action="store_true",
                   help="show patient names and member IDs in the reports")
    p.add_argument("--validate", action="store_true",
                   help="also run pyx12 implementation-guide validation (slow); writes NAME.999")
    p.add_argument("--mode", type=file_mode, default=0o600,
                   help="file mode of the outputs, octal (default 600: they hold patient data)")
    p.add_argument("--control-state", metavar="FILE",
                   help="keep 277CA control numbers in FILE so they never repeat across runs")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="scrub inputs on N processes (default 1); a large file is cut at "
                        "transaction (ST/SE) boundaries and its parts run in parallel")
    p.add_argument("--split-min-mb", type=float, default=16, metavar="MB",
                   help="with --jobs, cut files of at least MB megabytes into parts (default 16)")
    add_rule_options(p)
    add_ack_options(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    check_inputs(args.files)
    if args.jobs < 1:
        stderr.write("scrub837 scrub: --jobs must be 1 or more\n")
        return EXIT_USAGE
    try:
        scrubber = make_scrubber(args)
    except PluginError as exc:
        stderr.write(f"scrub837: {exc}\n")
        return EXIT_USAGE
    except RulePackError as exc:
        stderr.write(f"scrub837: rule pack error: {exc}\n")
        return EXIT_USAGE
    if args.out is None:
        return _print_json(args, scrubber, stdout, stderr)
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {args.out}: is a file, not a folder")
    options = OutputOptions(
        ack=ack_config(args),
        control=ControlNumbers(Path(args.control_state) if args.control_state else None),
        show_phi=args.show_phi, mode=args.mode, validate=args.validate)
    outcomes_failed: list[int] = []
    if args.jobs > 1 and "-" not in args.files:
        from scrub837.parallel import scrub_files_parallel

        outcomes = scrub_files_parallel(args.files, args, options, out_dir, args.jobs,
                                        split_min=int(args.split_min_mb * (1 << 20)),
                                        scrubber=scrubber)
    else:
        outcomes = []
        for name in args.files:
            try:
                with open_input(name) as stream:
                    outcomes.append(process_stream(stream, display_name(name), scrubber,
                                                   out_dir, options))
            except OutputError as exc:  # names the input; its temporary files are gone
                stderr.write(f"scrub837: {exc.strerror}\n")
                outcomes_failed.append(3)
            except OSError as exc:
                stderr.write(f"scrub837: {display_name(name)}: {exc.strerror or exc}; no "
                             "outputs written for it\n")
                outcomes_failed.append(3)
            except Exception as exc:  # noqa: BLE001 -- never a traceback: name the file, go on
                stderr.write(f"scrub837: {display_name(name)}: internal error "
                             f"({type(exc).__name__}); no outputs written for it; please "
                             "report this with the file's structure (not its data)\n")
                outcomes_failed.append(3)
    worst = max(outcomes_failed, default=0)
    for outcome in outcomes:
        s = outcome.summary
        if s.unreadable:
            why = next((f"segment {f.location.segment}: {f.message}"
                        for f in s.envelope_findings if f.rule_id == "X12_UNSUPPORTED"),
                       "no 837P/837I transaction")
            stderr.write(f"scrub837: {s.file}: cannot be read as an 837"
                         + (f" ({_where(s.failure_segment)}: {s.failure_message})"
                            if s.failure_message else f" ({why})") + "\n")
        stdout.write(f"{s.file}: {s.claims} claims, {s.accepted} accepted, {s.rejected} "
                     f"rejected, {format(s.charges_held, 'f')} charges held back"
                     + (f", {s.warnings} warnings" if s.warnings else "")
                     + (f", {s.unsupported} transactions rejected (not an 837P/837I)"
                        if s.unsupported and not s.unreadable else "")
                     + "".join(f"; {a.describe()}" for a in s.interchanges if a.status != "A")
                     + "\n")
        worst = max(worst, outcome.exit_code)
    return worst


def _where(segment: int) -> str:
    return f"segment {segment}" if segment else "start of file"


def _print_json(args: argparse.Namespace, scrubber: Scrubber, stdout: TextIO,
                stderr: TextIO) -> int:
    worst = 0
    for name in args.files:
        shown = display_name(name)
        summary = SummaryBuilder(shown)
        with open_input(name) as stream:
            for item in scrubber.results(stream, shown):
                summary.add(item)
                if args.format == "summary":
                    continue
                if isinstance(item, TransactionResult):
                    st02 = item.envelope.st02
                    stdout.writelines(
                        json.dumps({"file": shown, "transaction": st02, "finding": f.to_dict()})
                        + "\n" for f in (item.findings if not item.supported else ()))
                    stdout.writelines(json.dumps({
                        "file": shown, "clm01": c.claim.clm01, "verdict": c.verdict.value,
                        "findings": [f.to_dict() for f in c.findings]}) + "\n"
                        for c in item.claims)
                elif isinstance(item, EnvelopeProblem):
                    stdout.writelines(json.dumps({"file": shown, "finding": f.to_dict()})
                                      + "\n" for f in item.findings)
                elif isinstance(item, ReadFailure):
                    stderr.write(f"scrub837: cannot read {item.describe()}\n")
        built = summary.build()
        if args.format == "summary":
            stdout.write(f"{shown}: {built.claims} claims, {built.accepted} accepted, "
                         f"{built.rejected} rejected\n")
        if built.unreadable and not built.failure_message:
            stderr.write(f"scrub837: {shown}: no 837P/837I transaction could be read\n")
        worst = max(worst, built.exit_code)
    sys.stdout.flush()
    return worst
