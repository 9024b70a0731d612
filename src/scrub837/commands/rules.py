"""``scrub837 rules check [DIR]`` and ``scrub837 rules show CODE``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from scrub837.rulebook import RulePackError, check_pack, explain_code, load_rulebook

from scrub837.cli import EXIT_OK, EXIT_USAGE

# Exit codes (scrub837.cli): 0 the pack is sound / the code is known; 2 a broken pack, a pack
# with problems, or a code the pack does not know (1 is only ever "a claim was rejected")
EXIT_PROBLEM = EXIT_USAGE


def register(sub: "argparse._SubParsersAction[Any]") -> None:
    p = sub.add_parser("rules", help="check a rule pack, or explain a code's edits")
    rsub = p.add_subparsers(dest="rules_command")
    check = rsub.add_parser("check", help="validate a rule pack and list its unverified entries")
    check.add_argument("directory", nargs="?", help="rule pack folder (default: the shipped pack)")
    check.add_argument("--crosswalk", metavar="FILE", help="also check a CMS crosswalk CSV")
    check.add_argument("--mue", metavar="FILE", action="append", default=[],
                       help="also check a CMS MUE CSV (repeatable)")
    check.set_defaults(handler=handle_check)
    show = rsub.add_parser("show", help="explain the edits that apply to a HCPCS code")
    show.add_argument("code", help="HCPCS code, e.g. J9262")
    show.add_argument("--rules", metavar="DIR", help="rule pack folder (default: shipped pack)")
    show.add_argument("--crosswalk", metavar="FILE")
    show.add_argument("--mue", metavar="FILE", action="append", default=[])
    show.set_defaults(handler=handle_show)
    p.set_defaults(handler=lambda args, out, err: (err.write(
        "scrub837 rules: choose 'check' or 'show'\n"), EXIT_USAGE)[1])


def handle_check(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    directory = Path(args.directory) if args.directory else None
    try:
        report = check_pack(directory)
        if args.crosswalk or args.mue:
            load_rulebook(directory, crosswalk=Path(args.crosswalk) if args.crosswalk else None,
                          mue=[Path(m) for m in args.mue])
    except RulePackError as exc:
        stderr.write(f"scrub837 rules check: {exc}\n")
        return EXIT_USAGE
    for problem in report.problems:
        stderr.write(f"problem: {problem}\n")
    # PackReport.payers counts payers/default.toml, the fallback, which is not an overlay
    overlays = report.payers - 1
    stdout.write(f"rule pack {report.directory}: {report.codes} codes, {report.edits} edits, "
                 f"{overlays} payer overlay{'s' if overlays != 1 else ''} and the default "
                 "(payers/default.toml)\n")
    if report.unverified:
        stdout.write(f"unverified entries ({len(report.unverified)}):\n")
        for entry in report.unverified:
            stdout.write(f"  - {entry}\n")
    return EXIT_PROBLEM if report.problems else EXIT_OK


def handle_show(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    try:
        rulebook = load_rulebook(Path(args.rules) if args.rules else None,
                                 crosswalk=Path(args.crosswalk) if args.crosswalk else None,
                                 mue=[Path(m) for m in args.mue])
    except RulePackError as exc:
        stderr.write(f"scrub837 rules show: {exc}\n")
        return EXIT_USAGE
    code = args.code.strip().upper()
    if rulebook.code(code) is None:
        stderr.write(f"scrub837 rules show: {code} is not in the rule pack "
                     "(drug lines with it get the CODE_UNKNOWN warning)\n")
        return EXIT_PROBLEM
    stdout.write(explain_code(rulebook, code).rstrip("\n") + "\n")
    return EXIT_OK
