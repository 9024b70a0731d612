"""``scrub837 rules check [DIR]`` and ``scrub837 rules show CODE``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from scrub837.rulebook import RulePackError, Rulebook, check_pack, explain_code, load_rulebook

from scrub837.cli import EXIT_OK, EXIT_USAGE

# Exit codes (scrub837.cli): 0 the pack is sound / the code is known; 2 a broken pack, a pack
# with problems, or a code the pack does not know (1 is only ever "a claim was rejected")
EXIT_PROBLEM = EXIT_USAGE


def _data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", metavar="DIR", help="CMS dataset folder (scrub837 data import; "
                   "default: $SCRUB837_DATA, else the built-in data)")
    p.add_argument("--hcpcs", metavar="ZIP_OR_TXT", help="CMS HCPCS Level II file to use")
    p.add_argument("--asp", metavar="CSV", help="CMS ASP pricing file to use")
    p.add_argument("--crosswalk", metavar="FILE", help="CMS ASP NDC-HCPCS crosswalk CSV to use")
    p.add_argument("--mue", metavar="FILE", action="append", default=[],
                   help="CMS MUE CSV to use (repeatable)")


def register(sub: "argparse._SubParsersAction[Any]") -> None:
    p = sub.add_parser("rules", help="check a rule pack, or explain a code's edits")
    rsub = p.add_subparsers(dest="rules_command")
    check = rsub.add_parser("check", help="validate a rule pack against the CMS data and list "
                            "its unverified entries")
    check.add_argument("directory", nargs="?", help="rule pack folder (default: the shipped pack)")
    _data_options(check)
    check.set_defaults(handler=handle_check)
    show = rsub.add_parser("show", help="explain a HCPCS code: CMS facts, NDCs, MUE, overlays")
    show.add_argument("code", help="HCPCS code, e.g. J9262")
    show.add_argument("--rules", metavar="DIR", help="rule pack folder (default: shipped pack)")
    _data_options(show)
    show.set_defaults(handler=handle_show)
    p.set_defaults(handler=lambda args, out, err: (err.write(
        "scrub837 rules: choose 'check' or 'show'\n"), EXIT_USAGE)[1])


def _load(directory: Path | None, args: argparse.Namespace) -> Rulebook:
    def path(value: str | None) -> Path | None:
        return Path(value) if value else None
    return load_rulebook(directory, crosswalk=path(args.crosswalk), mue=[Path(m) for m in args.mue],
                         hcpcs=path(args.hcpcs), asp=path(args.asp), data=path(args.data))


def handle_check(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from scrub837.commands.data import describe

    directory = Path(args.directory) if args.directory else None
    try:
        rb = _load(directory, args)
        report = check_pack(directory, rb)
    except RulePackError as exc:
        stderr.write(f"scrub837 rules check: {exc}\n")
        return EXIT_USAGE
    for problem in report.problems:
        stderr.write(f"problem: {problem}\n")
    # PackReport.payers counts payers/default.toml, the fallback, which is not an overlay
    overlays = report.payers - 1
    stdout.write(f"rule pack {report.directory}: {report.codes} code overlays, {report.edits} edits, "
                 f"{overlays} payer overlay{'s' if overlays != 1 else ''} and the default "
                 "(payers/default.toml)\n")
    for info in rb.data.info.values():
        stdout.write(f"{describe(info)}\n")
    if report.unverified:
        stdout.write(f"unverified entries ({len(report.unverified)}):\n")
        for entry in report.unverified:
            stdout.write(f"  - {entry}\n")
    return EXIT_PROBLEM if report.problems else EXIT_OK


def handle_show(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    try:
        rulebook = _load(Path(args.rules) if args.rules else None, args)
    except RulePackError as exc:
        stderr.write(f"scrub837 rules show: {exc}\n")
        return EXIT_USAGE
    code = args.code.strip().upper()
    if rulebook.code(code) is None:
        stderr.write(f"scrub837 rules show: {explain_code(rulebook, code)}")
        return EXIT_PROBLEM
    stdout.write(explain_code(rulebook, code).rstrip("\n") + "\n")
    return EXIT_OK
