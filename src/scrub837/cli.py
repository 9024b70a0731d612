"""The command line, as a function: ``run(argv, stdout, stderr) -> exit code``.

Exit codes, the one list (README "Exit codes" repeats it); a batch exits with the worst (highest)
code of its files:

* 0 ``EXIT_OK``: every claim accepted (or the command succeeded);
* 1 ``EXIT_REJECTED``: a claim was rejected (or an envelope finding rejects);
* 2 ``EXIT_USAGE``: bad arguments, a broken rule pack or plugin, a code ``rules show`` does not
  know; nothing was scrubbed;
* 3 ``EXIT_INPUT``: an input cannot be opened (missing, a folder, permission denied) or read as
  an 837; the message names the input (with ``--out`` it still gets its error report when it
  could be opened);
* 4 ``EXIT_OUTPUT``: an output or system failure: the outputs cannot be written (``--out`` not
  a writable folder, disk full) or scrub837 itself failed; the message names the output path;
  no partial output is left;
* 130 ``EXIT_INTERRUPTED``: interrupted (Ctrl-C).

The per-file part of the mapping (0, 1, 3 from a file's verdicts) is
:attr:`scrub837.verdicts.results.FileSummary.exit_code`. ``main()`` only wires ``sys``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import TextIO

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_UNREADABLE = EXIT_INPUT  # the older name
EXIT_OUTPUT = 4
EXIT_INTERRUPTED = 130

#: Subcommand modules in ``scrub837.commands``; each has ``register(subparsers)`` which sets
#: ``handler(args, stdout, stderr) -> int`` as the parser default.
COMMANDS = ("extract", "scrub", "rules", "watch", "data")


class UsageError(Exception):
    """Bad arguments: exit 2 with the message."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        raise _Exit(status, message or "")

    def print_help(self, file: object = None) -> None:
        # argparse's --help prints to sys.stdout and then exits; here the help travels in the
        # exception to ``run``'s stdout, once, and it is this (sub)parser's own help
        raise _Exit(0, self.format_help())


class _Exit(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def build_parser(stdout: TextIO, only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only`` (a name in COMMANDS), only that subcommand, which
    parses its arguments exactly as the whole one does (a one-claim scrub's start-up need not
    import and build the other four)."""
    parser = _Parser(
        prog="scrub837",
        description="Pre-scrub X12 837P/837I claim files for drug-line edits (J-codes and every code CMS prices as a drug).",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for name in COMMANDS:
        if only is not None and name != only:
            continue
        try:
            module = importlib.import_module(f"scrub837.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"scrub837.commands.{name}":
                raise
            continue
        module.register(sub)
        if name == only:
            return parser
    return parser if only is None else build_parser(stdout)


def run(argv: Sequence[str], stdout: TextIO, stderr: TextIO) -> int:
    parser = build_parser(stdout, argv[0] if argv and argv[0] in COMMANDS else None)
    try:
        args = parser.parse_args(list(argv))
    except UsageError as exc:
        stderr.write(f"{exc}\n")
        return EXIT_USAGE
    except _Exit as exc:
        if exc.status == 0:
            stdout.write(exc.message or parser.format_help())
        else:
            stderr.write(exc.message)
        return exc.status
    if args.version:
        from scrub837 import __version__

        stdout.write(f"scrub837 {__version__}\n")
        return EXIT_OK
    handler = getattr(args, "handler", None)
    if handler is None:
        stderr.write(parser.format_usage())
        stderr.write("scrub837: error: choose a command (extract, scrub, rules, watch)\n")
        return EXIT_USAGE
    try:
        code: int = handler(args, stdout, stderr)
    except UsageError as exc:
        stderr.write(f"scrub837: {exc}\n")
        return EXIT_USAGE
    return code


def main() -> None:
    from scrub837.run import _runtime

    _runtime.tune()  # GC threshold, malloc thresholds (see _runtime)
    try:
        code = run(sys.argv[1:], sys.stdout, sys.stderr)
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except BrokenPipeError:  # standard output was closed by its reader (``| head``)
        # nothing more can be written there: keep the interpreter's exit from trying again
        # (and printing an error of its own)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_OK
    except Exception as exc:  # the last guard: a message, never a traceback
        sys.stderr.write(f"scrub837: internal error ({type(exc).__name__}); please report it "
                         "with the command line and the file's structure (not its data)\n")
        code = EXIT_OUTPUT
    sys.exit(code)
