"""Options shared by ``scrub`` and ``watch``: the rule book and the 277CA identity."""

from __future__ import annotations

import argparse
from pathlib import Path

from scrub837.outputs.ack277 import AckConfig
from scrub837.scrubber import Scrubber


def add_rule_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("rules")
    g.add_argument("--rules", metavar="DIR", help="rule pack folder (default: the shipped pack)")
    g.add_argument("--data", metavar="DIR",
                   help="CMS dataset folder built by 'scrub837 data import' (default: "
                   "$SCRUB837_DATA, else the built-in CMS data)")
    g.add_argument("--hcpcs", metavar="ZIP_OR_TXT",
                   help="CMS HCPCS Level II quarterly file (zip or ANWEB .txt) in place of the "
                   "dataset's")
    g.add_argument("--asp", metavar="CSV", help="CMS ASP pricing file in place of the dataset's")
    g.add_argument("--crosswalk", metavar="FILE",
                   help="CMS ASP NDC-HCPCS crosswalk CSV as CMS publishes it, in place of the "
                   "dataset's")
    g.add_argument("--mue", metavar="FILE", action="append", default=[],
                   help="CMS NCCI MUE CSV (practitioner, outpatient hospital or DME) in place "
                   "of the dataset's table (repeatable)")
    g.add_argument("--payers", metavar="DIR", help="extra payer overlay folder (*.toml)")
    g.add_argument("--reject-pre-errata", action="store_true",
                   help="reject 837s whose GS08 is 005010X222 or 005010X223 (before the A1/A2 "
                   "errata) instead of scrubbing them with a version warning")


def add_ack_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("277CA")
    g.add_argument("--sender-id", default="SCRUB837", help="ISA06/GS02 of the 277CA")
    g.add_argument("--sender-qualifier", default="ZZ", help="ISA05 of the 277CA")
    g.add_argument("--receiver-id", default="", help="ISA08/GS03 (default: the 837's sender)")
    g.add_argument("--receiver-qualifier", default="", help="ISA07 (default: the 837's)")
    g.add_argument("--source-name", default="SCRUB837 PRE-SCRUB", help="2100A NM103")


def make_scrubber(args: argparse.Namespace) -> Scrubber:
    return Scrubber(
        Path(args.rules) if args.rules else None,
        crosswalk=Path(args.crosswalk) if args.crosswalk else None,
        mue=[Path(m) for m in args.mue],
        payer_overlays=Path(args.payers) if args.payers else None,
        reject_pre_errata=getattr(args, "reject_pre_errata", False),
        hcpcs=Path(args.hcpcs) if getattr(args, "hcpcs", None) else None,
        asp=Path(args.asp) if getattr(args, "asp", None) else None,
        data=Path(args.data) if getattr(args, "data", None) else None,
    )


def ack_config(args: argparse.Namespace) -> AckConfig:
    return AckConfig(sender_id=args.sender_id, sender_qualifier=args.sender_qualifier,
                     receiver_id=args.receiver_id, receiver_qualifier=args.receiver_qualifier,
                     source_name=args.source_name)


def file_mode(text: str) -> int:
    try:
        mode = int(text, 8)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an octal file mode like 600") from None
    if not 0 <= mode <= 0o777:
        raise argparse.ArgumentTypeError(f"{text!r} is not a file mode")
    return mode
