"""``scrub837 extract FILE...``: one JSON object per drug line."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from scrub837.api import iter_items
from scrub837.claims import Claim
from scrub837.cli import EXIT_INPUT, EXIT_OK
from scrub837.commands._inputs import (
    cannot_open,
    check_inputs,
    display_name,
    input_problem,
    open_input,
)
from scrub837.extract import line_record
from scrub837.reader import ReadFailure, TransactionEnd


def register(sub: "argparse._SubParsersAction[Any]") -> None:
    p = sub.add_parser("extract", help="print every drug line as JSON (one object per line)",
                       description="Print one JSON object per drug service line, with its "
                       "claim context and location.")
    p.add_argument("files", nargs="+", metavar="FILE", help="837 files; '-' reads standard input")
    p.add_argument("--prefix", action="append", metavar="P",
                   help="procedure-code prefix that makes a drug line (repeatable; default J)")
    p.add_argument("--all-lines", action="store_true", help="print every service line")
    p.add_argument("--show-phi", action="store_true",
                   help="print patient and subscriber names and IDs unmasked")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    check_inputs(args.files)
    prefixes = tuple(args.prefix or ["J"])
    code = EXIT_OK
    for name in args.files:  # an input that cannot be opened is its own failure; the rest go on
        why = input_problem(name)
        if why:
            stderr.write(f"scrub837: {name}: {why}\n")
            code = EXIT_INPUT
            continue
        try:
            code = max(code, _extract(name, prefixes, args, stdout, stderr))
        except OSError as exc:
            stderr.write(cannot_open(name, exc) + "\n")
            code = EXIT_INPUT
    return code


def _extract(name: str, prefixes: tuple[str, ...], args: argparse.Namespace, stdout: TextIO,
             stderr: TextIO) -> int:
    shown = display_name(name)
    transactions = 0
    code = EXIT_OK
    with open_input(name) as stream:
        for item in iter_items(stream, shown):
            if isinstance(item, Claim):
                for line in item.lines:
                    if args.all_lines or line.code.startswith(prefixes):
                        record = line_record(item, line, show_phi=args.show_phi)
                        stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
            elif isinstance(item, TransactionEnd):
                if item.supported:
                    transactions += 1
                for f in item.findings:
                    stderr.write(f"{f.location.describe()}: {f.rule_id}: {f.message}\n")
            elif isinstance(item, ReadFailure):
                stderr.write(f"scrub837: cannot read {item.describe()}\n")
                code = EXIT_INPUT
    if transactions == 0 and code != EXIT_INPUT:
        stderr.write(f"scrub837: {shown}: no 837P/837I transaction could be read\n")
        code = EXIT_INPUT
    return code
