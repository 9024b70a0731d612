"""``scrub837 watch INBOX --out OUTBOX``: the drop-folder watcher (docs/watcher.md)."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from scrub837.commands._options import (
    ack_config,
    add_ack_options,
    add_rule_options,
    file_mode,
    make_scrubber,
)
from scrub837.edits import PluginError
from scrub837.outputs.control import ControlNumbers
from scrub837.run.pipeline import OutputOptions
from scrub837.rulebook import RulePackError, default_pack

if TYPE_CHECKING:
    from scrub837.watch.watcher import WatchConfig, Watcher

# The watcher and structlog are imported when ``watch`` runs, not when any command's parser is
# built (start-up of ``scrub``); these defaults are scrub837.watch.watcher's (a test checks they agree).
SETTLE = 10.0
INCOMPLETE_AFTER = 1800.0
EXIT_USAGE = 2


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0.01 <= value <= 86_400:
        raise argparse.ArgumentTypeError(f"{text!r}: choose between 0.01 and 86400 seconds")
    return value


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "watch", help="watch a drop folder and scrub every file that arrives",
        description="Watch INBOX: scrub each complete file into OUTBOX, then move it to the "
        "archive (or to the error folder beside NAME.error.txt). Upload as NAME.part and "
        "rename when complete (names starting with '.' or ending .part/.tmp are ignored); other "
        "files are taken once complete and unchanged for --settle. "
        "Folders default to siblings of INBOX: archive/, error/, work/. SIGTERM or SIGINT "
        "finishes the current file and exits 0. Each upload's answer ends with NAME.done.")
    p.add_argument("inbox", metavar="INBOX", help="the drop folder")
    p.add_argument("--out", metavar="OUTBOX", required=True,
                   help="where NAME.277, NAME.report.json/.html, NAME.accepted/rejected.837 go")
    p.add_argument("--archive", metavar="DIR", help="processed inputs (default: INBOX/../archive)")
    p.add_argument("--error", metavar="DIR",
                   help="inputs that could not be processed (default: INBOX/../error)")
    p.add_argument("--work", metavar="DIR",
                   help="files being processed, the sha256 index and the 277CA control-number "
                   "state (default: INBOX/../work); same filesystem as INBOX")
    p.add_argument("--interval", type=_seconds, default=2.0, metavar="SECONDS",
                   help="seconds between scans (default 2)")
    p.add_argument("--settle", type=_seconds, default=SETTLE, metavar="SECONDS",
                   help="a complete file (it ends with the IEA of its last ISA) is taken once "
                   f"unchanged this long (default {SETTLE:g})")
    p.add_argument("--incomplete-after", type=_seconds, default=INCOMPLETE_AFTER,
                   metavar="SECONDS", help="a file that is not complete is taken, and answered "
                   f"as truncated, once unchanged this long (default {INCOMPLETE_AFTER:g})")
    p.add_argument("--once", action="store_true",
                   help="exit when no file in the inbox is waiting; every file is taken once "
                   "unchanged for --settle, complete or not (files in retry back-off stay for "
                   "the next run)")
    p.add_argument("--stale-after", type=_seconds, default=3600.0, metavar="SECONDS",
                   help="recover a file another host claimed this long ago (default 3600)")
    p.add_argument("--mode", type=file_mode, default=0o600,
                   help="file mode of the outputs, octal (default 600)")
    p.add_argument("--show-phi", action="store_true",
                   help="show patient names and member IDs in the reports (never in logs)")
    p.add_argument("--control-state", metavar="FILE",
                   help="277CA control-number state (default: WORK/.control-numbers.json)")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    p.add_argument("--log-format", choices=("json", "console"), default=None,
                   help="default: json unless standard error is a terminal")
    add_rule_options(p)
    add_ack_options(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from scrub837.logging import configure_logging
    from scrub837.watch.watcher import WatchConfig, Watcher

    configure_logging(args.log_level, json=None if args.log_format is None
                      else args.log_format == "json", stream=stderr)
    inbox = Path(args.inbox)
    parent = inbox.absolute().parent
    work = Path(args.work) if args.work else parent / "work"
    control = ControlNumbers(Path(args.control_state) if args.control_state
                             else work / ".control-numbers.json")
    options = OutputOptions(ack=ack_config(args), control=control, show_phi=args.show_phi,
                            mode=args.mode)
    rule_files = [Path(args.rules) if args.rules else default_pack()]
    rule_files += [Path(p) for p in ([args.crosswalk] if args.crosswalk else []) + args.mue]
    if args.payers:
        rule_files.append(Path(args.payers))
    config = WatchConfig(
        inbox=inbox, outbox=Path(args.out),
        archive=Path(args.archive) if args.archive else parent / "archive",
        error=Path(args.error) if args.error else parent / "error",
        work=work, interval=args.interval, once=args.once, stale_after=args.stale_after,
        settle=args.settle, incomplete_after=args.incomplete_after,
        options=options, rule_files=tuple(rule_files))
    early: list[int] = []  # a stop signal while the rule book loads is kept, not fatal
    previous: dict[int, object] = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, lambda n, _f: early.append(n))
    built: Watcher | int = EXIT_USAGE
    try:
        built = _build(config, args, stderr)
    finally:
        if not isinstance(built, Watcher):
            for number, handler in previous.items():
                signal.signal(number, handler)  # type: ignore[arg-type]
    if isinstance(built, int):
        return built
    built.install_signals(previous, early)
    return built.run()


def _build(config: WatchConfig, args: argparse.Namespace, stderr: TextIO) -> Watcher | int:
    from scrub837.watch.watcher import Watcher, WatchSetupError

    try:
        return Watcher(config, lambda: make_scrubber(args))
    except PluginError as exc:
        stderr.write(f"scrub837: {exc}\n")
        return EXIT_USAGE
    except RulePackError as exc:
        stderr.write(f"scrub837 watch: rule pack error: {exc}\n")
        return EXIT_USAGE
    except WatchSetupError as exc:
        stderr.write(f"scrub837 watch: {exc}\n")
        return EXIT_USAGE
    except OSError as exc:
        stderr.write(f"scrub837 watch: cannot prepare the folders: {exc.strerror or exc} "
                     f"({exc.filename})\n")
        return EXIT_USAGE
