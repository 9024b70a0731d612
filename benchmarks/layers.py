"""Where a scrub's time goes, by layer: CPU microseconds per claim for the reading, the edits
(and, of them, the context with its drug-line values), the slim records, and each writer (the
split, the JSON report, the 277CA, the HTML report, the summary), on one file.

    python benchmarks/layers.py FILE [--repeat 3]

The reading, the edits and the slimming are timed around the methods the pipeline calls
(``ClaimReader.feed`` with the claims it reads whole, ``Engine.check``, ``Engine.context``,
``Claim.slim``) during one pass of ``Scrubber.results``, as ``scrub --out`` streams it; each
writer then over the results of that pass, written to memory. Best of ``--repeat``; the
README's "Where the time goes now" figures come from it. The wrappers add a little to the
timed layers (a Python call each), so the layers' sum is a little over a plain run's. The
cycle collector is off while timing: this pass keeps every result for the writers, which would
make it scan them again and again; a real scrub lets a transaction's results go at its end,
and its tuned collector (``run/_runtime.py``) then seldom runs.
"""

from __future__ import annotations

import gc
import io
import time
from collections.abc import Callable
from datetime import datetime

from scrub837.claims.model import Claim
from scrub837.claims.reader import ClaimReader
from scrub837.edits import Engine
from scrub837.outputs.ack277 import Ack277Writer
from scrub837.outputs.html import HtmlReportWriter
from scrub837.outputs.jsonreport import JsonReportWriter
from scrub837.outputs.split import SplitWriter
from scrub837.run import _runtime
from scrub837.run.pipeline import OutputOptions
from scrub837.scrubber import Scrubber
from scrub837.verdicts.results import ClaimResult, SummaryBuilder, TransactionResult

from _steps import file_parser  # benchmarks/_steps.py

clock = time.process_time


def _timed(owner: type, name: str, spent: dict[str, float], key: str) -> Callable[[], None]:
    """Time ``owner.name`` into ``spent[key]``; returns what puts the method back."""
    original = getattr(owner, name)

    def wrapper(*args: object, **kwargs: object) -> object:
        start = clock()
        try:
            return original(*args, **kwargs)
        finally:
            spent[key] += clock() - start

    setattr(owner, name, wrapper)
    return lambda: setattr(owner, name, original)


def checked(data: bytes, scrubber: Scrubber) -> tuple[dict[str, float], list[object], int]:
    """One streamed pass of the scrub's checking: seconds per layer, the results, claims."""
    spent = dict.fromkeys(("reading", "edits", "of which context", "slimming"), 0.0)
    undo = [_timed(ClaimReader, "feed", spent, "reading"),
            _timed(ClaimReader, "close", spent, "reading"),
            _timed(Engine, "check", spent, "edits"),
            _timed(Engine, "context", spent, "of which context"),
            _timed(Claim, "slim", spent, "slimming")]
    try:
        items = list(scrubber.results(data, "bench", stream_claims=True, slim=True))
    finally:
        for put_back in undo:
            put_back()
    claims = sum(1 for item in items if isinstance(item, ClaimResult))
    return spent, items, claims


def written(items: list[object]) -> dict[str, float]:
    """Seconds each writer takes over the results, written to memory."""
    options = OutputOptions()
    now = datetime(2026, 1, 1)
    out: dict[str, float] = {}

    def run(name: str, writer: object, per_claim: str | None, per_item: str,
            items_of: tuple[type, ...], close: Callable[[], object] | None = None) -> None:
        add_claim = getattr(writer, per_claim) if per_claim else None
        add = getattr(writer, per_item)
        start = clock()
        for item in items:
            if isinstance(item, ClaimResult):
                if add_claim is not None:
                    add_claim(item)
            elif isinstance(item, items_of):
                add(item)
        if close is not None:
            close()
        out[name] = clock() - start

    every = (object,)
    run("split", SplitWriter(io.BytesIO(), io.BytesIO()), "add_claim", "add",
        (TransactionResult,))
    json_report = JsonReportWriter(io.BytesIO())
    run("JSON report", json_report, "add_claim", "add", every)
    ack = Ack277Writer(io.BytesIO(), options.ack, options.control, now)
    run("277CA", ack, None, "add", (TransactionResult,), ack.close)
    run("HTML report", HtmlReportWriter(io.BytesIO(), title="bench", json_name="bench.json"),
        "add", "add", every)
    run("summary", SummaryBuilder("bench"), None, "add", every)
    return out


def main() -> None:
    args = file_parser(__doc__, repeat=3).parse_args()
    _runtime.tune()
    scrubber = Scrubber()
    data = args.file.read_bytes()
    best: dict[str, float] = {}
    claims = 0
    for _ in range(args.repeat):
        gc.collect()
        gc.disable()
        try:
            spent, items, claims = checked(data, scrubber)
            spent.update(written(items))
        finally:
            gc.enable()
        for key, seconds in spent.items():
            best[key] = min(best.get(key, seconds), seconds)
        del items
    if not claims:
        raise SystemExit(f"{args.file}: no claim was read")
    print(f"{args.file}: {claims:,} claims; CPU µs per claim, best of {args.repeat}")
    total = 0.0
    for key, seconds in best.items():
        per_claim = seconds / claims * 1e6
        if not key.startswith("of which"):
            total += per_claim
        print(f"  {key:<18} {per_claim:8.1f}")
    print(f"  {'about':<18} {total:8.1f}")


if __name__ == "__main__":
    main()
