"""``scrub837 data import`` (build a CMS dataset folder from CMS files as published) and
``scrub837 data info`` (each table's title, period and counts)."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, TextIO

from scrub837.rulebook import RulePackError
from scrub837.rulebook._dataset import ENV, Dataset, TableInfo, import_files, write_dataset

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


def register(sub: "argparse._SubParsersAction[Any]") -> None:
    p = sub.add_parser("data", help="build or describe the CMS code data (HCPCS, ASP, MUE)")
    dsub = p.add_subparsers(dest="data_command")
    imp = dsub.add_parser("import", help="build a dataset folder from CMS files as published "
                          "(HCPCS Level II rows only: CPT rows are dropped)")
    imp.add_argument("--hcpcs", metavar="ZIP_OR_TXT", required=True,
                     help="CMS HCPCS Level II quarterly file: the zip or its HCPC*_ANWEB*.txt")
    imp.add_argument("--asp", metavar="CSV", help="CMS ASP pricing file (payment limits)")
    imp.add_argument("--crosswalk", metavar="CSV", help="CMS ASP NDC-HCPCS crosswalk")
    imp.add_argument("--mue", metavar="CSV", action="append", default=[],
                     help="CMS NCCI MUE table: practitioner, outpatient hospital or DME "
                     "supplier (repeatable)")
    imp.add_argument("--out", metavar="DIR", required=True,
                     help="dataset folder to write (select it with --data DIR or $" + ENV + ")")
    imp.set_defaults(handler=handle_import)
    info = dsub.add_parser("info", help="print each table's period and counts")
    info.add_argument("--data", metavar="DIR",
                      help=f"dataset folder (default: ${ENV}, else the built-in data)")
    info.set_defaults(handler=handle_info)
    p.set_defaults(handler=lambda args, out, err: (err.write(
        "scrub837 data: choose 'import' or 'info'\n"), EXIT_USAGE)[1])


def describe(info: TableInfo) -> str:
    """One line for a table: title, period, source file, row and code counts."""
    period = f"{info.start} to {info.end}" if info.start and info.end else "no period"
    text = (f"{info.label}: {info.rows} rows, {info.codes} codes ({period}; from "
            f"{info.source})")
    return text + (f"; {info.notes}" if info.notes else "")


def handle_import(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    out = Path(args.out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (
            out / "manifest.json").is_file())):
        stderr.write(f"scrub837 data import: {out} exists and is not a scrub837 dataset "
                     "folder; choose a new or empty folder\n")
        return EXIT_USAGE
    try:
        tables = import_files(Path(args.hcpcs), Path(args.asp) if args.asp else None,
                              Path(args.crosswalk) if args.crosswalk else None,
                              [Path(m) for m in args.mue])
        out.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".scrub837-data-", dir=out.parent))
        try:
            write_dataset(work, tables)
            if out.exists():
                shutil.rmtree(out)
            os.replace(work, out)
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
    except RulePackError as exc:
        stderr.write(f"scrub837 data import: {exc}\n")
        return EXIT_USAGE
    except OSError as exc:
        stderr.write(f"scrub837 data import: cannot write {out}: {exc}\n")
        return EXIT_PROBLEM
    stdout.write(f"dataset {out}:\n")
    for table in tables.values():
        stdout.write(f"  {describe(table.info)}\n")
    return EXIT_OK


def handle_info(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    try:
        data = Dataset(Path(args.data) if args.data else None)
    except RulePackError as exc:
        stderr.write(f"scrub837 data info: {exc}\n")
        return EXIT_USAGE
    stdout.write(f"dataset {data.directory}:\n")
    for info in data.info.values():
        stdout.write(f"  {describe(info)}\n")
    return EXIT_OK
