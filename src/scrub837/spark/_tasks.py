"""What runs on the executors (no Spark import: plain functions over iterators of rows, so
PySpark only pickles them). One :class:`~scrub837.scrubber.Scrubber` per Python worker
process, kept in a module global: PySpark reuses its workers (``spark.python.worker.reuse``,
on by default), so the rule book is loaded once per worker, not once per file or task.

Each task answers with records ``(kind, key, payload)``: ``"file"`` (one per input answered:
a :data:`FileRow`), ``"part"`` (a ``--jobs``-style part scrubbed into fragments: its
:class:`~scrub837.run.parts.PartOutcome`, joined on the driver), ``"claim"`` / ``"finding"``
(table rows, ``key`` naming the input or the part they came from). A failure of one input
never fails the task (Spark would retry and then abort the whole job): it is that input's
``"file"`` record with exit code 3 and the reason, as the CLI reports it."""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlsplit

from scrub837.outputs.control import ControlNumbers
from scrub837.run.parts import Part, scrub_part
from scrub837.run.pipeline import OutputError, OutputOptions, process_stream
from scrub837.scrubber import Scrubber
from scrub837.spark._rows import RowCollector, TappedScrubber

Record = tuple[str, str, object]
#: file, exit_code, claims, accepted, rejected, charges_held, warnings, unreadable, parts,
#: outputs, error
FileRow = tuple[str, int, int, int, int, str, int, bool, int, list[str], str, str]

FILE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("file", "string"), ("exit_code", "int"), ("claims", "bigint"), ("accepted", "bigint"),
    ("rejected", "bigint"), ("charges_held", "string"), ("warnings", "bigint"),
    ("unreadable", "boolean"),
    ("parts", "int"), ("outputs", "array<string>"), ("error", "string"),
    ("summary", "string"),
)


@dataclass(frozen=True)
class RuleOptions:
    """What the executors' Scrubber is built from (paths every executor can read)."""

    rules: str | None = None
    crosswalk: str | None = None
    mue: tuple[str, ...] = ()
    payers: str | None = None
    plugins: bool = True
    today: date | None = None  # the run's date (date-of-service edits): one for all executors
    hcpcs: str | None = None  # CMS files in place of the dataset's tables, or another dataset
    asp: str | None = None
    data: str | None = None
    reject_pre_errata: bool = False


@dataclass(frozen=True)
class Job:
    """Everything a task needs, pickled into it."""

    out_dir: str
    options: OutputOptions
    rules: RuleOptions
    token: str  # names this run's part fragments


_SCRUBBERS: dict[RuleOptions, Scrubber] = {}


def scrubber_for(rules: RuleOptions) -> Scrubber:
    """This worker's Scrubber for ``rules`` (loaded on first use)."""
    found = _SCRUBBERS.get(rules)
    if found is not None:
        return found
    loaded = next((s for r, s in _SCRUBBERS.items() if replace(r, today=None) ==
                   replace(rules, today=None)), None)
    if loaded is not None:  # the same rule book on another day: not loaded again
        found = Scrubber(loaded.rulebook, plugins=rules.plugins, today=rules.today,
                         reject_pre_errata=rules.reject_pre_errata)
    else:
        from scrub837.run import _runtime

        _runtime.tune()
        found = Scrubber(rules.rules, crosswalk=rules.crosswalk, mue=list(rules.mue),
                         payer_overlays=rules.payers, plugins=rules.plugins,
                         today=rules.today, hcpcs=rules.hcpcs, asp=rules.asp, data=rules.data,
                         reject_pre_errata=rules.reject_pre_errata)
    _SCRUBBERS[rules] = found
    return found


def warm(rules: RuleOptions, sample: bytes) -> Iterator[int]:
    """Load this worker's Scrubber and scrub ``sample`` once (lazy tables loaded too): a
    warm-up task, so that a first job's timing is the scrub's own."""
    scrubber_for(rules).scrub(sample)
    yield os.getpid()


def local_name(uri: str) -> str:
    """The name the CLI would use: a ``file:`` URI as its local path, other URIs as they are."""
    parts = urlsplit(uri)
    if parts.scheme == "file":
        return unquote(parts.path)
    return uri


def file_row(name: str, outcome_summary: object, parts: int, outputs: Iterable[Path],
             ) -> FileRow:
    from scrub837.commands._summary import summary_line
    from scrub837.verdicts.results import FileSummary

    s = outcome_summary
    assert isinstance(s, FileSummary)
    return (name, s.exit_code, s.claims, s.accepted, s.rejected, format(s.charges_held, "f"),
            s.warnings, s.unreadable, parts, sorted(p.name for p in outputs), "",
            summary_line(s).rstrip("\n"))


def failed_row(name: str, error: str) -> FileRow:
    return (name, 3, 0, 0, 0, "0", 0, True, 0, [], error, "")


def describe(name: str, exc: BaseException) -> str:
    """The CLI's words for a file that got no outputs (never element values)."""
    if isinstance(exc, OutputError):
        return str(exc.strerror)
    if isinstance(exc, OSError):
        return f"{name}: {exc.strerror or exc}; no outputs written for it"
    return (f"{name}: internal error ({type(exc).__name__}); no outputs written for it; please "
            "report this with the file's structure (not its data)")


def _rows(key: str, rows: RowCollector) -> Iterator[Record]:
    rows.close()
    for c in rows.claims:
        yield ("claim", key, c)
    for f in rows.findings:
        yield ("finding", key, f)


def scrub_contents(job: Job, rows: Iterable[tuple[str, bytes, int]]) -> Iterator[Record]:
    """Whole inputs: ``(path URI, content, first control number)`` rows of the binaryFile
    source, each scrubbed and its outputs written into ``job.out_dir``."""
    base = scrubber_for(job.rules)
    out_dir = Path(job.out_dir)
    for uri, content, start in rows:
        name = local_name(uri)
        options = replace(job.options, control=ControlNumbers(start=start))
        collector = RowCollector(name)
        try:
            outcome = process_stream(io.BytesIO(content), name, TappedScrubber(base, collector),
                                     out_dir, options)
        except Exception as exc:  # noqa: BLE001 -- one input's failure is its answer
            yield ("file", name, failed_row(name, describe(name, exc)))
            continue
        del content
        yield ("file", name, file_row(name, outcome.summary, 1, outcome.outputs))
        yield from _rows(name, collector)


def scrub_parts(job: Job, units: Iterable[tuple[str, Part, int]]) -> Iterator[Record]:
    """Parts of large inputs ``(local path, part, first control number)``, each read from its
    byte range of the path and scrubbed into fragment files in ``job.out_dir``."""
    base = scrubber_for(job.rules)
    out_dir = Path(job.out_dir)
    for path, part, start in units:
        key = f"{path}#{part.index}"
        options = replace(job.options, control=ControlNumbers(start=start))
        collector = RowCollector(path)
        try:
            outcome = scrub_part(Path(path), path, part, TappedScrubber(base, collector),
                                 out_dir, options, job.token)
        except Exception as exc:  # noqa: BLE001 -- the driver scrubs the file whole instead
            yield ("part-failed", key, describe(path, exc))
            continue
        yield ("part", key, outcome)
        if not outcome.irregular:
            yield from _rows(key, collector)
