"""The plugin API for pipelines: load everything once, scrub many inputs, from many threads."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from scrub837.api import Source
from scrub837.findings import Finding, Location, Severity, Stc
from scrub837.claims.reader import ClaimReader, EnvelopeProblem, ReadFailure
from scrub837.verdicts.results import TransactionResult
from scrub837.edits import Edit, Engine, builtin_edits, plugin_edits
from scrub837.rulebook import Rulebook, load_rulebook
from scrub837.verdicts.transactions import ResultItem, iter_results

if TYPE_CHECKING:
    from scrub837.outputs.ack277 import AckConfig
    from scrub837.run.pipeline import ScrubResult


class Scrubber:
    """Holds the rule book and the edits; ``results()`` and ``scrub()`` keep no state between
    calls, so one Scrubber can serve several threads.

    ``rules``: a pack folder or a loaded :class:`Rulebook` (default: the pack shipped with the
    package). ``data``: a CMS dataset folder (default: ``$SCRUB837_DATA``, else the built-in
    data); ``hcpcs``, ``asp``, ``crosswalk``, ``mue``: CMS files as published that replace the
    dataset's tables.
    ``edits``: the edits to run (default: the built-in edits plus installed plugins).
    ``reject_pre_errata``: a pre-errata 837 (GS08 ``005010X222``/``005010X223``) is rejected
    (default: scrubbed with an ``X12_VERSION_PRE_ERRATA`` warning).
    """

    def __init__(
        self,
        rules: Path | str | Rulebook | None = None,
        *,
        crosswalk: Path | str | None = None,
        mue: Sequence[Path | str] = (),
        payer_overlays: Path | str | None = None,
        edits: Sequence[Edit] | None = None,
        plugins: bool = True,
        today: date | None = None,
        hcpcs: Path | str | None = None,
        asp: Path | str | None = None,
        data: Path | str | None = None,
        reject_pre_errata: bool = False,
    ) -> None:
        if isinstance(rules, Rulebook):
            self.rulebook = rules
        else:
            self.rulebook = load_rulebook(
                Path(rules) if rules is not None else None,
                crosswalk=Path(crosswalk) if crosswalk is not None else None,
                mue=[Path(m) for m in mue],
                payers=Path(payer_overlays) if payer_overlays is not None else None,
                hcpcs=Path(hcpcs) if hcpcs is not None else None,
                asp=Path(asp) if asp is not None else None,
                data=Path(data) if data is not None else None,
            )
        chosen = tuple(edits) if edits is not None else builtin_edits()
        if edits is None and plugins:
            chosen += plugin_edits()
        self.engine = Engine(self.rulebook, chosen, today=today)
        #: a pre-errata GS08 (005010X222 / 005010X223) rejects its transaction, not a warning
        self.reject_pre_errata = reject_pre_errata

    def results(self, source: Source, name: str = "", *, stream_claims: bool = False,
                slim: bool = False, reader: ClaimReader | None = None) -> Iterator[ResultItem]:
        """Stream transaction results (and envelope problems / a read failure) for one input;
        see :func:`scrub837.verdicts.transactions.iter_results` for ``stream_claims``, ``slim`` and
        ``reader``."""
        return iter_results(source, self.engine, name, stream_claims=stream_claims,
                            slim=slim, reader=reader,
                            reject_pre_errata=self.reject_pre_errata)  # type: ignore[return-value]

    def scrub(self, data: bytes, name: str = "", *, show_phi: bool = False,
              ack: "AckConfig | None" = None, now: "datetime | None" = None) -> "ScrubResult":
        """Scrub one input in memory: verdicts, findings, 277CA bytes, accepted and rejected
        837 bytes, the JSON report, and ``render_html()``. Thread-safe: nothing is shared but
        the read-only rule book and edits (and a per-call 277CA control-number sequence)."""
        from scrub837.outputs.ack277 import AckConfig
        from scrub837.run.pipeline import OutputOptions, scrub_bytes

        options = OutputOptions(ack=ack or AckConfig(), show_phi=show_phi, now=now)
        return scrub_bytes(data, name, self, options)


def _unreadable(failure: ReadFailure) -> Finding:
    return Finding(
        rule_id="X12_UNREADABLE",
        severity=Severity.REJECT,
        message=failure.message,
        location=Location(file=failure.file, segment=failure.segment,
                          span=(failure.offset, failure.offset)),
        stc=(Stc("A3", "21"),),
        fix="send a complete, well-formed X12 837 file",
        source="ASC X12 005010 envelope rules",
    )


def iter_findings(source: Source, rules: "Scrubber | Path | str | Rulebook | None" = None,
                  name: str = "") -> Iterator[Finding]:
    """Every finding for one input, in file order, each with its full location.

    ``rules`` may be a :class:`Scrubber` (reuse it for many inputs), a rule-pack folder, a
    :class:`Rulebook` or None (the shipped pack). A file that cannot be read as X12 ends with an
    ``X12_UNREADABLE`` finding.
    """
    scrubber = rules if isinstance(rules, Scrubber) else Scrubber(rules)
    for item in scrubber.results(source, name):
        if isinstance(item, TransactionResult):
            yield from item.findings
            shared = set(map(id, item.findings))
            for claim in item.claims:
                yield from (f for f in claim.findings if id(f) not in shared)
        elif isinstance(item, EnvelopeProblem):
            yield from item.findings
        else:
            yield _unreadable(item)


def is_clean(source: Source, rules: "Scrubber | Path | str | Rulebook | None" = None) -> bool:
    """True when nothing in the input rejects."""
    return not any(f.rejects for f in iter_findings(source, rules))
