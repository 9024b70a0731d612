"""``scrub837 extract FILE...``: one JSON object per drug line."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, TextIO

from scrub837.api import iter_items
from scrub837.claims.model import Claim
from scrub837.cli import EXIT_INPUT, EXIT_OK
from scrub837.commands._inputs import (
    cannot_open,
    check_inputs,
    display_name,
    input_problem,
    open_input,
)
from scrub837.claims._extract_json import LineEncoder
from scrub837.claims.reader import ReadFailure, TransactionEnd

def register(sub: "argparse._SubParsersAction[Any]") -> None:
    p = sub.add_parser("extract", help="print every drug line as JSON (one object per line)",
                       description="Print one JSON object per drug service line, with its "
                       "claim context and location.")
    p.add_argument("files", nargs="+", metavar="FILE", help="837 files; '-' reads standard input")
    p.add_argument("--prefix", action="append", metavar="P",
                   help="procedure-code prefix that makes a drug line (repeatable; default: J "
                   "and every code the CMS data prices as a drug, e.g. Q5103)")
    p.add_argument("--all-lines", action="store_true", help="print every service line")
    p.add_argument("--show-phi", action="store_true",
                   help="print patient and subscriber names and IDs unmasked")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    check_inputs(args.files)
    if args.prefix:
        prefixes = tuple(args.prefix)

        def is_drug(code: str) -> bool:
            return code.startswith(prefixes)
    else:
        from scrub837.rulebook import RulePackError
        from scrub837.rulebook._dataset import Dataset

        try:
            data: Dataset | None = Dataset()
        except RulePackError as exc:
            stderr.write(f"scrub837 extract: {exc}; drug lines are J-codes only\n")
            data = None

        drugs: dict[str, bool] = {}  # a file's codes repeat

        def is_drug(code: str) -> bool:
            found = drugs.get(code)
            if found is None:
                found = code.startswith("J") or (data is not None and data.priced(code))
                if len(drugs) < 65536:
                    drugs[code] = found
            return found
    code = EXIT_OK
    for name in args.files:  # an input that cannot be opened is its own failure; the rest go on
        why = input_problem(name)
        if why:
            stderr.write(f"scrub837: {name}: {why}\n")
            code = EXIT_INPUT
            continue
        try:
            code = max(code, _extract(name, is_drug, args, stdout, stderr))
        except BrokenPipeError:
            raise  # whoever reads standard output stopped (``| head``): stop too, quietly
        except OSError as exc:
            stderr.write(cannot_open(name, exc) + "\n")
            code = EXIT_INPUT
    return code


def _extract(name: str, is_drug: Callable[[str], bool], args: argparse.Namespace, stdout: TextIO,
             stderr: TextIO) -> int:
    shown = display_name(name)
    transactions = 0
    code = EXIT_OK
    encoder = LineEncoder(show_phi=args.show_phi)
    records_of = encoder.records
    every = args.all_lines
    with open_input(name) as stream:
        for item in iter_items(stream, shown, lazy=True):
            if isinstance(item, Claim):
                if every:
                    records = records_of(item, None)
                else:  # a claim without drug lines builds none of its lines
                    drug = [at for at, code in enumerate(item.procedure_codes())
                            if is_drug(code)]
                    records = records_of(item, drug) if drug else []
                if records:
                    records.append("")
                    stdout.write("\n".join(records))
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
