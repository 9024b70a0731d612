"""One large input in parts: cut at transaction (ST/SE) boundaries, scrubbed part by part
(``--jobs`` runs the parts on worker processes), and joined into the outputs a one-process
run writes.

- :func:`plan` reads the file once with the real lexer (so segment numbers and byte offsets are
  exact) and yields :class:`Part` values: runs of whole transactions inside one functional
  group. It checks the interchange and group envelopes (ISA/IEA, GS/GE) itself. It gives up
  (:class:`NotSplittable`) on anything irregular: an envelope problem, a lexer irregularity, a
  segment outside a transaction, a transaction that is not a supported 837, a truncated file.
  Such a file is scrubbed in one process, which reports the problem exactly.
- :func:`scrub_part` scrubs one part into hidden fragment files (transactions only, no
  envelopes) and answers with a small :class:`PartOutcome`.
- :func:`join_parts` writes the final outputs from the fragments, atomically, like
  :func:`scrub837.run.pipeline.process_stream`.

Only 277CA control numbers differ from a one-process run: parts take them from one shared,
locked counter, so they are unique but not in file order.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from scrub837.findings import Finding
from scrub837.outputs import COPY_CHUNK
from scrub837.outputs.ack277 import Ack277Writer
from scrub837.outputs.html import HtmlPart, HtmlReportWriter
from scrub837.outputs.jsonreport import JsonReportWriter
from scrub837.outputs.split import SplitWriter, Written, join_side
from scrub837.outputs.ta1 import write_ta1
from scrub837.run.pipeline import FileOutcome, OutputOptions, _Outputs, output_error
from scrub837.claims.reader import ClaimReader, EnvelopeProblem, ReadFailure
from scrub837.verdicts.results import ClaimResult, SummaryBuilder, TransactionResult
from scrub837.verdicts.transactions import Checker
from scrub837.x12.envelope import SUPPORTED_VERSIONS, EnvelopeState
from scrub837.x12.lexer import Lexer, Segment, X12SyntaxError

READ_CHUNK = 1 << 20
_ENVELOPE_IDS = frozenset(("ISA", "GS", "ST", "SE", "GE", "IEA"))
_BODY = (".277", ".accepted.837", ".rejected.837", ".report.json", ".report.html")


class NotSplittable(Exception):
    """The input is not regular enough to cut; scrub it in one process."""


@dataclass(frozen=True)
class Part:
    """Whole transactions ``[start, end)`` in bytes, after segment ``ordinal``, inside the
    interchange ``isa`` and group ``gs``."""

    index: int
    start: int
    end: int
    ordinal: int
    isa: Segment
    gs: Segment


def plan(stream: BinaryIO, name: str, target: int) -> Iterator[Part]:
    """Parts of about ``target`` bytes (at least one transaction each), in file order.
    Raises :class:`NotSplittable` (possibly after yielding parts) when the file is irregular."""
    lexer = Lexer(only=_ENVELOPE_IDS)  # other segments are counted, not split
    env = EnvelopeState(file=name)
    index = 0
    run: list[int] | None = None  # [start, end, ordinal] of the open run
    in_txn = False
    prev = 0  # ordinal of the last envelope segment

    def cut() -> Iterator[Part]:
        nonlocal run, index
        if run is not None and run[1] > run[0]:
            assert env.isa is not None and env.gs is not None
            yield Part(index, run[0], run[1], run[2], env.isa, env.gs)
            index += 1
        run = None

    try:
        while True:
            chunk = stream.read(READ_CHUNK)
            segments = lexer.feed(chunk) if chunk else lexer.close()
            for seg in segments:
                sid = seg.elements[0]
                if not in_txn and seg.ordinal != prev + 1:  # only envelope segments are built
                    raise NotSplittable("a segment outside a transaction")
                prev = seg.ordinal
                if sid == "ST":
                    if in_txn or env.gs is None or env.isa is None:
                        raise NotSplittable("ST inside a transaction or outside a group")
                    version = env.gs.get(8)
                    if (seg.get(1) != "837" or version not in SUPPORTED_VERSIONS
                            or seg.get(3) not in ("", version)):
                        raise NotSplittable("a transaction that is not a supported 837")
                    env.on_st(seg)
                    in_txn = True
                    if run is None:
                        run = [seg.start, seg.start, seg.ordinal - 1]
                elif sid == "SE":
                    if not in_txn or run is None:
                        raise NotSplittable("SE outside a transaction")
                    env.on_se(seg)  # the part's reader reports SE problems itself
                    in_txn = False
                    run[1] = seg.end
                    if run[1] - run[0] >= target:
                        yield from cut()
                else:  # ISA, GS, GE, IEA
                    if in_txn:
                        raise NotSplittable(f"{sid} inside a transaction")
                    yield from cut()
                    getattr(env, "on_" + sid.lower())(seg)
                if env.findings or lexer.notices:
                    raise NotSplittable("an envelope problem or irregularity")
            if not chunk:
                break
    except X12SyntaxError as exc:
        raise NotSplittable(str(exc)) from exc
    if in_txn or env.open_at_end(lexer.segments_read) or env.findings or lexer.notices:
        raise NotSplittable("the file ends inside an envelope")
    yield from cut()
    if index == 0:
        raise NotSplittable("no transaction to cut")


@dataclass
class PartOutcome:
    """What a part wrote (fragment files) and the little the join needs besides."""

    index: int
    fragments: dict[str, str]
    summary: SummaryBuilder
    ack_transactions: int = 0
    ack_isa: Segment | None = None
    accepted: list[Written] = field(default_factory=list)
    rejected: list[Written] = field(default_factory=list)
    accepted_claims: int = 0
    rejected_claims: int = 0
    html: HtmlPart = field(default_factory=HtmlPart)
    problems: list[Finding] = field(default_factory=list)
    irregular: str = ""  # set when the part did not read as planned: the join falls back


def _fragment(out_dir: Path, stem: str, index: int, suffix: str, token: str,
              mode: int) -> tuple[str, BinaryIO]:
    path = out_dir / f".{stem}.part{index}{suffix}.{token}.tmp"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    os.fchmod(fd, mode)
    return str(path), os.fdopen(fd, "wb", buffering=1 << 16)


class _Range:
    """A binary stream of bytes ``[start, end)`` of an open file."""

    def __init__(self, f: BinaryIO, start: int, end: int) -> None:
        f.seek(start)
        self._f = f
        self._left = end - start

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        n = self._left if size < 0 else min(size, self._left)
        data = self._f.read(n)
        self._left -= len(data)
        return data


def scrub_part(path: Path, name: str, part: Part, scrubber: Checker, out_dir: Path,
               options: OutputOptions, token: str) -> PartOutcome:
    """Scrub one part into fragment files in ``out_dir`` (removed again on failure)."""
    assert options.now is not None, "parts share one 'now'"
    stem = Path(name).name or "stdin"
    streams: dict[str, BinaryIO] = {}
    fragments: dict[str, str] = {}
    try:
        for suffix in _BODY:
            fragments[suffix], streams[suffix] = _fragment(out_dir, stem, part.index, suffix,
                                                           token, options.mode)
        ack = Ack277Writer(streams[".277"], options.ack, options.control, options.now,
                           envelope=False)
        split = SplitWriter(streams[".accepted.837"], streams[".rejected.837"], envelope=False)
        json_report = JsonReportWriter(streams[".report.json"], show_phi=options.show_phi,
                                       envelope=False)
        html = HtmlReportWriter(streams[".report.html"], show_phi=options.show_phi,
                                envelope=False)
        summary = SummaryBuilder(name)
        outcome = PartOutcome(part.index, fragments, summary)
        reader = ClaimReader.for_part(name, part.isa, part.gs, part.start, part.ordinal)
        source = open(path, "rb")
        streams["source"] = source
        items = scrubber.results(_Range(source, part.start, part.end),  # type: ignore[arg-type]
                                 name, stream_claims=True, slim=True, reader=reader)
        for item in items:
            if isinstance(item, ClaimResult):
                split.add_claim(item)
                json_report.add_claim(item)
                html.add(item)
                continue
            summary.add(item)
            json_report.add(item)
            html.add(item)
            if isinstance(item, TransactionResult):
                ack.add(item)
                split.add(item)
            elif isinstance(item, ReadFailure | EnvelopeProblem):
                outcome.irregular = type(item).__name__
        outcome.html = html.finish()
        for stream in streams.values():
            stream.close()
        outcome.ack_transactions, outcome.ack_isa = ack.transactions, ack.first_isa
        outcome.accepted, outcome.rejected = split.accepted.log, split.rejected.log
        outcome.accepted_claims = split.accepted_claims
        outcome.rejected_claims = split.rejected_claims
        outcome.problems = json_report.problems
        return outcome
    except BaseException:
        for stream in streams.values():
            try:
                stream.close()
            except OSError:
                pass
        remove_fragments(fragments.values())
        raise


def remove_fragments(paths: object) -> None:
    for p in list(paths):  # type: ignore[call-overload]
        try:
            os.unlink(p)
        except OSError:
            pass


def join_parts(name: str, parts: list[PartOutcome], out_dir: Path,
               options: OutputOptions) -> FileOutcome:
    """Write the outputs of ``name`` from its parts (in order), atomically."""
    parts = sorted(parts, key=lambda p: p.index)
    stem = Path(name).name or "stdin"
    outs = _Outputs(out_dir, stem, options.mode)
    assert options.now is not None
    opened: list[BinaryIO] = []

    def fragments(suffix: str) -> list[BinaryIO]:
        found: list[BinaryIO] = [open(p.fragments[suffix], "rb") for p in parts]
        opened.extend(found)
        return found

    try:
        summary = SummaryBuilder(name)
        for p in parts:
            summary.merge(p.summary)
        built = summary.build()
        problems = [f for p in parts for f in p.problems]
        keep = {".report.json", ".report.html"}
        ack_total = sum(p.ack_transactions for p in parts)
        first_isa = next((p.ack_isa for p in parts if p.ack_isa is not None), None)
        ack_out = outs.open(".277")
        if ack_total and first_isa is not None:
            ack = Ack277Writer(ack_out, options.ack, options.control, options.now)
            ack.open_for(first_isa, ack_total)
            for f in fragments(".277"):
                shutil.copyfileobj(f, ack_out, COPY_CHUNK)
            ack.close()
            keep.add(".277")
        if built.interchanges:  # an interchange asked for a TA1 (ISA14 1)
            write_ta1(outs.open(".ta1"), built.interchanges, options.ack, options.control,
                      options.now)
            keep.add(".ta1")
        accepted = join_side(outs.open(".accepted.837"),
                             list(zip(fragments(".accepted.837"), [p.accepted for p in parts],
                                      strict=True)))
        rejected = join_side(outs.open(".rejected.837"),
                             list(zip(fragments(".rejected.837"), [p.rejected for p in parts],
                                      strict=True)))
        if accepted:
            keep.add(".accepted.837")
        if rejected:
            keep.add(".rejected.837")
        JsonReportWriter(outs.open(".report.json"), show_phi=options.show_phi).join(
            fragments(".report.json"), problems, built)
        HtmlReportWriter(outs.open(".report.html"), show_phi=options.show_phi,
                         title=f"scrub837 report: {stem}", json_name=f"{stem}.report.json"
                         ).join(fragments(".report.html"), [p.html for p in parts], built)
        for f in opened:
            f.close()
        return FileOutcome(name, built, outs.commit(keep), parts=len(parts))
    except OSError as exc:
        outs.abort()
        raise output_error(exc, name, out_dir) from exc
    except BaseException:
        outs.abort()
        raise
    finally:
        for f in opened:
            f.close()
        remove_fragments(v for p in parts for v in p.fragments.values())
