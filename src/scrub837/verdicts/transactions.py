"""Claims -> verdicts, one transaction at a time. Pure apart from what the engine consults.

Claim results are held until their SE, because an SE problem (e.g. a wrong SE01) rejects
every claim of the transaction. The 837 TR3 recommends at most 5,000 claims per ST/SE; with
``slim`` a larger transaction's results are spooled to disk beyond that (:mod:`scrub837.verdicts.spool`),
so memory stays flat whatever the transaction's size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Protocol

from scrub837.api import Source, iter_items
from scrub837.claims.model import Claim
from scrub837.edits import Engine, Hit
from scrub837.findings import Severity
from scrub837.claims.reader import (
    PRE_ERRATA_RULE,
    ClaimReader,
    EnvelopeProblem,
    ReadFailure,
    TransactionEnd,
)
from scrub837.verdicts.results import ClaimResult, TransactionResult
from scrub837.verdicts.spool import SeenKeys, Spool

ResultItem = TransactionResult | EnvelopeProblem | ReadFailure


class Checker(Protocol):
    """What the file pipeline needs of a scrubber: verdicts streamed for one input
    (:meth:`scrub837.scrubber.Scrubber.results`). The pipeline is given one, so it never
    imports the scrubber that calls it."""

    def results(self, source: Source, name: str = "", *, stream_claims: bool = False,
                slim: bool = False, reader: ClaimReader | None = None,
                ) -> Iterator[ResultItem]: ...


def iter_results(source: Source, engine: Engine, name: str = "", *, stream_claims: bool = False,
                 slim: bool = False,
                 reader: ClaimReader | None = None,
                 reject_pre_errata: bool = False) -> Iterator[ResultItem | ClaimResult]:
    """Transaction results in file order. With ``stream_claims`` each claim's result is also
    yielded as soon as it is checked (its findings may still grow by its transaction's own);
    with ``slim`` the transaction result holds :meth:`Claim.slim` claims, which keeps memory
    small when the full claims were consumed as they were streamed, and spools a transaction's
    results to disk beyond :data:`~scrub837.verdicts.spool.SPOOL_LIMIT` claims (its ``claims`` is then
    a :class:`~scrub837.verdicts.spool.Spool`, read in order as often as needed). With
    ``reject_pre_errata`` a pre-errata version (GS08 ``005010X222``/``005010X223``) rejects
    its transaction instead of warning. A reader (``reader``, else a whole-file one) that
    does not say which claims it reads whole reads those with a drug line
    (:meth:`Engine.has_drug_lines`); the others keep their text (claims/_build.scan_plain)."""
    pending: list[ClaimResult] | Spool[ClaimResult] = Spool() if slim else []
    seen = SeenKeys()
    reader = reader or ClaimReader(name)
    if reader.whole is None:
        reader.whole = engine.has_drug_lines
    for item in iter_items(source, name, reader=reader):
        if isinstance(item, Claim):
            findings = engine.check(item)
            if seen.add(item.clm01):
                dup = engine.finding(Hit("CLAIM_DUPLICATE", None, item.clm, "CLM01"), item)
                if dup is not None:
                    findings += (dup,)
            result = ClaimResult(item, findings)
            if stream_claims:
                yield result
            if slim:
                keep = frozenset(result.rejecting_by_line())
                result = ClaimResult(item.slim(keep), findings)
            pending.append(result)
        elif isinstance(item, TransactionEnd):
            if reject_pre_errata:
                item = _pre_errata_rejects(item)
            claims = pending if isinstance(pending, Spool) else tuple(pending)
            pending = Spool() if slim else []
            if item.rejected:
                extra = item.findings

                def reject(c: ClaimResult) -> ClaimResult:
                    return ClaimResult(c.claim, c.findings + extra)

                claims = (claims.map(reject) if isinstance(claims, Spool)
                          else tuple(map(reject, claims)))
            seen = SeenKeys()
            result_t = TransactionResult(item.envelope, item.header, item.se, claims,
                                         item.findings, item.supported)
            del claims  # do not keep this transaction alive while the next one is read
            yield result_t
            del result_t
        else:
            yield item


def _pre_errata_rejects(end: TransactionEnd) -> TransactionEnd:
    if not any(f.rule_id == PRE_ERRATA_RULE for f in end.findings):
        return end
    return replace(end, findings=tuple(
        f._replace(severity=Severity.REJECT) if f.rule_id == PRE_ERRATA_RULE else f
        for f in end.findings))
