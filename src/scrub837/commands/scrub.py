"""``scrub837 scrub INPUT... [--out DIR]``: verdicts, 277CA, reports and the 837 split."""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO, TextIO, cast

from scrub837.cli import EXIT_INPUT, EXIT_OK, EXIT_OUTPUT, EXIT_USAGE
from scrub837.commands import _progress
from scrub837.commands._inputs import (
    cannot_open,
    check_inputs,
    display_name,
    input_problem,
    open_input,
)
from scrub837.commands._options import (
    ack_config,
    add_ack_options,
    add_rule_options,
    file_mode,
    make_scrubber,
)
from scrub837.edits import PluginError
from scrub837.outputs.control import ControlNumbers
from scrub837.commands._summary import summary_line, unreadable_line
from scrub837.outputs.jsonlines import JsonLinesWriter
from scrub837.run.pipeline import (
    FileOutcome,
    InputError,
    OutputError,
    OutputOptions,
    _Metered,
    process_stream,
)
from scrub837.verdicts.results import SummaryBuilder, TransactionResult
from scrub837.rulebook import RulePackError
from scrub837.scrubber import Scrubber


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("scrub", help="scrub 837 files: 277CA, reports, accepted/rejected 837",
                       description="Scrub 837P/837I files. With --out, write NAME.277, "
                       "NAME.report.html, NAME.report.json, NAME.accepted.837 and "
                       "NAME.rejected.837 for each input; without it, print verdicts as JSON.")
    p.add_argument("files", nargs="+", metavar="INPUT", help="837 files; '-' reads standard input")
    p.add_argument("--out", metavar="DIR", help="write the outputs into this folder")
    p.add_argument("--format", choices=("json", "summary"), default=None,
                   help="json (the default without --out): one JSON object per claim and per "
                   "finding, then the file's totals, on standard output; summary (the default "
                   "with --out): one line per file. --format json with --out is refused: the "
                   "JSON is NAME.report.json")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar (shown on a terminal for inputs over 4 MB)")
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
    if args.out is not None and args.format == "json":
        stderr.write("scrub837 scrub: --format json prints the verdicts on standard output "
                     "instead of writing files; with --out they are in NAME.report.json (use "
                     "--format summary, the default with --out, or leave out --out)\n")
        return EXIT_USAGE
    try:
        scrubber = make_scrubber(args)
    except PluginError as exc:
        stderr.write(f"scrub837: {exc}\n")
        return EXIT_USAGE
    except RulePackError as exc:
        stderr.write(f"scrub837: rule pack error: {exc}\n")
        return EXIT_USAGE
    from scrub837.run import _runtime

    _runtime.freeze_loaded()  # the loaded program out of the cycle collector's scans
    if args.out is None:
        return _print(args, scrubber, stdout, stderr)
    out_dir = Path(args.out)
    problem = _output_folder_problem(out_dir)
    if problem:
        stderr.write(f"scrub837: {problem}; nothing was scrubbed\n")
        return EXIT_OUTPUT
    options = OutputOptions(
        ack=ack_config(args),
        control=ControlNumbers(Path(args.control_state) if args.control_state else None),
        show_phi=args.show_phi, mode=args.mode, validate=args.validate)
    worst = EXIT_OK
    readable = []
    for name in args.files:  # an input that cannot be opened: its own failure, the rest go on
        why = input_problem(name)
        if why:
            stderr.write(f"scrub837: {name}: {why}; no outputs written for it\n")
            worst = max(worst, EXIT_INPUT)
        else:
            readable.append(name)
    answers: list[FileOutcome | Exception]
    if args.jobs > 1 and "-" not in readable:
        from scrub837.run.parallel import scrub_files_parallel

        bar = _progress.for_run(stderr, args.quiet, readable)
        try:
            answers = scrub_files_parallel(readable, args, options, out_dir, args.jobs,
                                           split_min=int(args.split_min_mb * (1 << 20)),
                                           scrubber=scrubber,
                                           progress=bar.parts if bar else None)
        finally:
            if bar:
                bar.close()
        for name, done in zip(readable, answers, strict=True):
            worst = max(worst, _answer(name, done, stdout, stderr))
        return worst
    for name in readable:
        progress, bar = _progress.for_file(stderr, args.quiet, name, display_name(name))
        try:
            with open_input(name) as stream:
                answer: FileOutcome | Exception = process_stream(
                    stream, display_name(name), scrubber, out_dir,
                    replace(options, progress=progress))
        except Exception as exc:  # noqa: BLE001 -- this file's answer; the rest go on
            answer = exc
        finally:
            if bar:
                bar.close()
        worst = max(worst, _answer(name, answer, stdout, stderr))
    return worst


def _output_folder_problem(out_dir: Path) -> str:
    """Why the outputs cannot go into ``out_dir`` (created when missing), or ''."""
    try:
        if out_dir.exists() and not out_dir.is_dir():
            return f"--out {out_dir}: is a file, not a folder"
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out_dir, prefix=".scrub837-probe-")
        probe.close()
    except OSError as exc:
        return f"--out {out_dir}: cannot write there: {exc.strerror or exc}"
    return ""


def _answer(name: str, answer: FileOutcome | Exception, stdout: TextIO,
            stderr: TextIO) -> int:
    """Print one file's summary line (or why it has none); its exit code."""
    shown = display_name(name)
    if isinstance(answer, FileOutcome):
        stderr.write(unreadable_line(answer.summary))
        stdout.write(summary_line(answer.summary))
        return answer.exit_code
    if isinstance(answer, OutputError):  # names the output path; its temporary files are gone
        stderr.write(f"scrub837: {answer.strerror}\n")
        return EXIT_OUTPUT
    if isinstance(answer, InputError):
        stderr.write(f"scrub837: {answer.strerror}\n")
        return EXIT_INPUT
    if isinstance(answer, OSError) and answer.filename is not None and \
            os.path.abspath(str(answer.filename)) == os.path.abspath(name):
        stderr.write(cannot_open(name, answer) + "; no outputs written for it\n")
        return EXIT_INPUT
    if isinstance(answer, OSError):
        stderr.write(f"scrub837: {shown}: {answer.strerror or answer} "
                     f"({answer.filename or 'a system call'}); no outputs written for it\n")
        return EXIT_OUTPUT
    stderr.write(f"scrub837: {shown}: internal error ({type(answer).__name__}); no outputs "
                 "written for it; please report this with the file's structure (not its "
                 "data)\n")
    return EXIT_OUTPUT


def _print(args: argparse.Namespace, scrubber: Scrubber, stdout: TextIO,
           stderr: TextIO) -> int:
    """Without --out: the JSON lines (default) or the summary lines on standard output."""
    worst = EXIT_OK
    for name in args.files:
        shown = display_name(name)
        why = input_problem(name)
        if why:
            stderr.write(f"scrub837: {name}: {why}\n")
            worst = max(worst, EXIT_INPUT)
            continue
        progress, bar = _progress.for_file(stderr, args.quiet, name, shown)
        try:
            code = _print_one(args, scrubber, name, shown, progress, stdout, stderr)
        except BrokenPipeError:
            raise  # whoever reads standard output stopped (``| head``): stop too, quietly
        except OSError as exc:
            stderr.write(cannot_open(name, exc) + "\n")
            code = EXIT_INPUT
        finally:
            if bar:
                bar.close()
        worst = max(worst, code)
    stdout.flush()
    return worst


def _print_one(args: argparse.Namespace, scrubber: Scrubber, name: str, shown: str,
               progress: Callable[[int, int], None] | None, stdout: TextIO,
               stderr: TextIO) -> int:
    summary = SummaryBuilder(shown)
    lines = JsonLinesWriter(stdout, shown) if args.format != "summary" else None
    claims = 0
    with open_input(name) as stream:
        meter = _Metered(stream, shown, progress)
        # slim results, as --out keeps them: memory does not grow with the file
        for item in scrubber.results(cast(BinaryIO, meter), shown, slim=True):
            summary.add(item)
            if isinstance(item, TransactionResult):
                claims += len(item.claims)
                meter.claims = claims
            if lines is not None:
                lines.add(item)
            # a transaction's result must not live on while the next one is read (the loop
            # variable would hold it until the next item: two transactions in memory)
            del item
        meter.done()
    built = summary.build()
    if lines is not None:
        lines.close(built)
    else:
        stdout.write(summary_line(built))
    stderr.write(unreadable_line(built))
    return built.exit_code
