"""Files in, outputs out: the edge that runs one input through the scrubber and writes
NAME.277, NAME.report.json, NAME.report.html, NAME.accepted.837, NAME.rejected.837 (each 837
only when it has claims), NAME.999 with --validate, NAME.ta1 when an interchange envelope
(ISA/IEA) has a problem or asks for a TA1, and NAME.error.txt when the input cannot be read as
X12. Every output is written to a hidden temporary file in the output folder, fsynced,
and renamed into place; a failure removes the temporary files and leaves no partial output.
Outputs hold patient data, so they are created with mode 0600 unless told otherwise."""

from __future__ import annotations

import io
import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, cast

from scrub837.outputs.ack277 import Ack277Writer, AckConfig
from scrub837.outputs.control import ControlNumbers
from scrub837.outputs.html import HtmlReportWriter
from scrub837.outputs.jsonreport import JsonReportWriter
from scrub837.outputs.split import SplitWriter
from scrub837.outputs.ta1 import write_ta1
from scrub837.claims.reader import ReadFailure
from scrub837.verdicts.results import ClaimResult, FileSummary, SummaryBuilder, TransactionResult
from scrub837.verdicts.transactions import Checker

SUFFIXES = (".277", ".report.json", ".report.html", ".accepted.837", ".rejected.837", ".999",
            ".error.txt", ".ta1")


class OutputError(OSError):
    """Writing one input's outputs failed (disk full, the output folder not writable, ...): its
    temporary files were removed and no output was written. ``errno`` is the underlying one (the
    watcher retries ENOSPC later); the message names the output path (and the input)."""


class InputError(OSError):
    """Reading one input failed part-way (an I/O error on the input): its temporary files
    were removed and no output was written; the message names the input."""


#: ``OutputOptions.progress`` is called at most this often (seconds), and once at the end
PROGRESS_INTERVAL = 0.2


def output_error(exc: OSError, name: str, out_dir: Path) -> OSError:
    """The error to raise when scrubbing ``name`` into ``out_dir`` failed with ``exc``."""
    if isinstance(exc, (InputError, OutputError)):
        return exc
    reason = exc.strerror or str(exc) or type(exc).__name__
    where = exc.filename if isinstance(exc.filename, str) else str(out_dir)
    if os.path.basename(where).startswith("."):  # a temporary file: name the folder
        where = os.path.dirname(where) or str(out_dir)
    return OutputError(exc.errno, f"cannot write the outputs to {where}: {reason}; no output "
                       f"was written for {name}")


class _Metered:
    """The input as the reader sees it: bytes read and claims checked so far go to the
    ``progress`` callback (at most every PROGRESS_INTERVAL s, checked once per read chunk), and
    a failure to read it is an :class:`InputError` naming it."""

    def __init__(self, source: BinaryIO, name: str,
                 progress: Callable[[int, int], None] | None) -> None:
        self.source = source
        self.name = name
        self.progress = progress
        self.bytes = 0
        self.claims = 0
        self._due = 0.0

    def read(self, size: int = -1) -> bytes:
        try:
            chunk = self.source.read(size)
        except OSError as exc:
            raise InputError(exc.errno, f"{self.name}: cannot read the input: "
                             f"{exc.strerror or exc}; no output was written for it") from exc
        self.bytes += len(chunk)
        if self.progress is not None:
            now = time.monotonic()
            if now >= self._due:
                self._due = now + PROGRESS_INTERVAL
                self.progress(self.bytes, self.claims)
        return chunk

    def done(self) -> None:
        if self.progress is not None:
            self.progress(self.bytes, self.claims)


@dataclass(frozen=True)
class OutputOptions:
    ack: AckConfig = field(default_factory=AckConfig)
    control: ControlNumbers = field(default_factory=ControlNumbers)
    show_phi: bool = False
    mode: int = 0o600
    validate: bool = False
    now: datetime | None = None
    #: called with (bytes read, claims checked) so far, at most every PROGRESS_INTERVAL s
    #: and once at the end (the CLI's progress bar, the watcher's progress events); never
    #: sent to ``--jobs`` workers
    progress: Callable[[int, int], None] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class FileOutcome:
    name: str
    summary: FileSummary
    outputs: tuple[Path, ...]
    parts: int = 1  # > 1 when --jobs cut the file at transaction boundaries

    @property
    def exit_code(self) -> int:
        return self.summary.exit_code


class _Outputs:
    """Temporary files in the output folder, renamed into place on commit."""

    def __init__(self, out_dir: Path, stem: str, mode: int) -> None:
        self.out_dir = out_dir
        self.stem = stem
        self.mode = mode
        self.tmp: dict[str, Path] = {}
        self.streams: dict[str, BinaryIO] = {}
        self.token = secrets.token_hex(4)

    def open(self, suffix: str) -> BinaryIO:
        path = self.out_dir / f".{self.stem}{suffix}.{self.token}.tmp"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, self.mode)
        os.fchmod(fd, self.mode)
        stream = os.fdopen(fd, "wb", buffering=1 << 16)
        self.tmp[suffix] = path
        self.streams[suffix] = stream
        return stream

    def commit(self, keep: set[str]) -> tuple[Path, ...]:
        done = []
        for stream in self.streams.values():
            stream.flush()
            os.fsync(stream.fileno())
            stream.close()
        try:
            for suffix, path in self.tmp.items():
                if suffix in keep:
                    final = self.out_dir / f"{self.stem}{suffix}"
                    os.replace(path, final)
                    done.append(final)
                else:
                    path.unlink(missing_ok=True)
        except OSError:
            for final in done:  # all or nothing: take back the outputs already renamed
                final.unlink(missing_ok=True)
            raise
        self.tmp.clear()
        dir_fd = os.open(self.out_dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return tuple(done)

    def abort(self) -> None:
        for stream in self.streams.values():
            try:
                stream.close()
            except OSError:
                pass
        for path in self.tmp.values():
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass


def process_stream(source: BinaryIO, name: str, scrubber: Checker, out_dir: Path,
                   options: OutputOptions) -> FileOutcome:
    """Scrub one input and write its outputs into ``out_dir`` (atomically)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(exc.errno, f"cannot create the output folder {out_dir}: "
                          f"{exc.strerror or exc}; no output was written for {name}") from exc
    stem = Path(name).name or "stdin"
    now = options.now or datetime.now()
    outs = _Outputs(out_dir, stem, options.mode)
    try:
        ack = Ack277Writer(outs.open(".277"), options.ack, options.control, now)
        split = SplitWriter(outs.open(".accepted.837"), outs.open(".rejected.837"))
        json_report = JsonReportWriter(outs.open(".report.json"), show_phi=options.show_phi)
        html = HtmlReportWriter(outs.open(".report.html"), show_phi=options.show_phi,
                                title=f"scrub837 report: {stem}",
                                json_name=f"{stem}.report.json")
        summary = SummaryBuilder(name)
        failure: ReadFailure | None = None
        validated: list[bytes] = []
        meter = _Metered(source, name, options.progress)
        reading = cast(BinaryIO, meter)  # only read() is used
        source = _tee(reading, validated) if options.validate else reading
        # Claims stream through the split and the HTML as they are checked; a transaction keeps
        # only slim claims (CLM, rejected lines, dates) for the 277CA and JSON until its SE.
        results = scrubber.results(source, name, stream_claims=True, slim=True)
        if options.validate:
            results = _validated(results, validated, outs, scrubber,  # type: ignore[assignment]
                                 replace(options, now=now))
        for item in results:
            if isinstance(item, ClaimResult):
                meter.claims += 1
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
            elif isinstance(item, ReadFailure):
                failure = item
        meter.done()
        built = summary.build()
        ack.close()
        split.close()
        json_report.close(built)
        html.close(built)
        keep = {".report.json", ".report.html"}
        if built.transactions:
            keep.add(".277")
        if split.accepted_claims:
            keep.add(".accepted.837")
        if split.rejected_claims:
            keep.add(".rejected.837")
        if options.validate and ".999" in outs.tmp:
            keep.add(".999")
        if built.interchanges:  # an envelope problem or an ISA14 request: the TA1 answers
            write_ta1(outs.open(".ta1"), built.interchanges, options.ack, options.control, now)
            keep.add(".ta1")
        if built.unreadable:
            err = outs.open(".error.txt")
            err.write(error_text(name, built, failure).encode("utf-8", "replace"))
            keep.add(".error.txt")
        return FileOutcome(name, built, outs.commit(keep))
    except OSError as exc:
        outs.abort()
        raise output_error(exc, name, out_dir) from exc
    except BaseException:
        outs.abort()
        raise


def error_text(name: str, summary: FileSummary, failure: ReadFailure | None) -> str:
    lines = [f"file: {name}"]
    if failure is not None:
        where = f"segment {failure.segment}" if failure.segment else "start of file"
        lines.append(f"where: {where} (byte {failure.offset})")
        lines.append(f"problem: {failure.message}")
        if summary.transactions:
            lines.append(f"the input cannot be read as X12 from that point on; the "
                         f"{summary.claims} claims of the {summary.transactions} complete "
                         "transactions before it were answered in the 277CA and reports; "
                         "claims after the last complete transaction were not answered")
        else:
            lines.append("the input cannot be read as X12 from that point on; no transaction "
                         "was complete before it, so no claim was answered (no 277CA)")
    elif summary.transactions == 0:
        lines.append("problem: no 837P (005010X222A1) or 837I (005010X223A2) transaction "
                     "could be read")
        for f in summary.envelope_findings:
            lines.append(f"  segment {f.location.segment}: {f.rule_id}: {f.message}")
    return "\n".join(lines) + "\n"


def _tee(source: BinaryIO, sink: list[bytes]) -> BinaryIO:
    data = source.read()
    sink.append(data)
    return io.BytesIO(data)


def _validated(results: Iterator[object], validated: list[bytes], outs: _Outputs,
               scrubber: Checker, options: OutputOptions) -> Iterator[object]:
    """--validate: pyx12 on the input; claims of a rejected input get STC A3:684 (see 999).
    The 999 has the 277CA's ids and control numbers."""
    from scrub837.run.validation import apply_ig_validation

    yield from apply_ig_validation(results, validated[0], outs.open(".999"), scrubber,
                                   ack=options.ack, control=options.control, now=options.now)


def scrub_file(path: Path, scrubber: Checker, out_dir: Path,
               options: OutputOptions) -> FileOutcome:
    """:func:`process_stream` on a file; a file that cannot be opened is an InputError."""
    try:
        source = open(path, "rb")
    except OSError as exc:
        raise InputError(exc.errno, f"{path}: cannot read the input: {exc.strerror or exc}; "
                         "no output was written for it") from exc
    with source:
        return process_stream(source, str(path), scrubber, out_dir, options)


@dataclass(frozen=True)
class ScrubResult:
    """Everything one input produced, in memory (the plugin API's answer)."""

    summary: FileSummary
    transactions: tuple[TransactionResult, ...]
    ack_277: bytes
    accepted_837: bytes
    rejected_837: bytes
    report_json: bytes
    _items: tuple[object, ...] = ()
    ta1: bytes = b""  # the TA1 when an interchange had a problem or asked for one (else empty)

    @property
    def claims(self) -> tuple[object, ...]:
        return tuple(c for t in self.transactions for c in t.claims)

    def render_html(self, *, show_phi: bool = False) -> bytes:
        from scrub837.outputs.html import render_html

        return render_html(self._items, self.summary, show_phi=show_phi,
                           title=f"scrub837 report: {self.summary.file or 'input'}")


def scrub_bytes(data: bytes, name: str, scrubber: Checker,
                options: OutputOptions | None = None) -> ScrubResult:
    options = options or OutputOptions()
    now = options.now or datetime.now()
    ack_out, acc, rej, js = io.BytesIO(), io.BytesIO(), io.BytesIO(), io.BytesIO()
    ack = Ack277Writer(ack_out, options.ack, options.control, now)
    split = SplitWriter(acc, rej)
    report = JsonReportWriter(js, show_phi=options.show_phi)
    summary = SummaryBuilder(name)
    items: list[object] = []
    for item in scrubber.results(data, name):
        items.append(item)
        summary.add(item)
        report.add(item)
        if isinstance(item, TransactionResult):
            ack.add(item)
            split.add(item)
    built = summary.build()
    ack.close()
    split.close()
    report.close(built)
    ta1 = io.BytesIO()
    if built.interchanges:
        write_ta1(ta1, built.interchanges, options.ack, options.control, now)
    return ScrubResult(built, tuple(i for i in items if isinstance(i, TransactionResult)),
                       ack_out.getvalue(), acc.getvalue(), rej.getvalue(), js.getvalue(),
                       tuple(items), ta1.getvalue())
