"""What a scrub answers: per-claim verdicts with findings, grouped by transaction. Values only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum
from functools import lru_cache
from typing import NamedTuple

from scrub837.claims.model import Claim, Envelope, ServiceLine, TransactionHeader
from scrub837.findings import Finding
from scrub837.verdicts.interchange import Ta1Answer, Ta1Collector
from scrub837.x12.lexer import Segment


class Verdict(str, Enum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@lru_cache(maxsize=4096)  # claims' and lines' charges repeat: each text parsed once
def money(text: str) -> Decimal:
    """A monetary element as Decimal (0 when it is not a number)."""
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return Decimal(0)
    return value if value.is_finite() else Decimal(0)


def dollars(amount: Decimal) -> str:
    """An amount as money: ``Decimal("42390")`` -> ``$42,390.00``, ``-$12.50`` (cents rounded
    half up). Every report and summary line formats charges with it."""
    cents = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return ("-" if cents < 0 else "") + f"${abs(cents):,.2f}"


class _ClaimResultFields(NamedTuple):
    claim: Claim
    findings: tuple[Finding, ...]
    rejected: bool  # any finding rejects: asked for by every output, decided once


class ClaimResult(_ClaimResultFields):
    """A claim and its findings: ``ClaimResult(claim, findings)``. A named tuple (built once
    or twice for every claim, read by every output), immutable and compared by value like
    the frozen dataclass it was; ``rejected`` is derived from the findings."""

    __slots__ = ()

    def __new__(cls, claim: Claim, findings: tuple[Finding, ...]) -> ClaimResult:
        for f in findings:
            if f.rejects:
                return tuple.__new__(cls, (claim, findings, True))
        return tuple.__new__(cls, (claim, findings, False))

    def __getnewargs__(self) -> tuple[Claim, tuple[Finding, ...]]:
        return (self.claim, self.findings)

    def __repr__(self) -> str:
        return f"ClaimResult(claim={self.claim!r}, findings={self.findings!r})"

    @property
    def verdict(self) -> Verdict:
        return Verdict.REJECTED if self.rejected else Verdict.ACCEPTED

    @property
    def rejecting(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.rejects)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.rejects)

    def line_findings(self, line: ServiceLine) -> tuple[Finding, ...]:
        lx = line.line_number
        return tuple(f for f in self.findings if f.line_level and f.location.lx == lx)

    def rejecting_by_line(self) -> dict[str, list[Finding]]:
        """The rejecting line-level findings by the LX of their line, in one pass."""
        found: dict[str, list[Finding]] = {}
        for f in self.findings:
            if f.line_level and f.rejects:
                on_line = found.get(f.location.lx)
                if on_line is None:
                    found[f.location.lx] = [f]
                else:
                    on_line.append(f)
        return found

    @property
    def rejected_lines(self) -> tuple[ServiceLine, ...]:
        """Lines that carry a rejecting line-level finding (these get a 2220D loop)."""
        bad = self.rejecting_by_line()
        return tuple(line for line in self.claim.lines if line.line_number in bad)

    @property
    def charge(self) -> Decimal:
        return money(self.claim.charge)


@dataclass(frozen=True, slots=True)
class TransactionResult:
    """One ST/SE. When ``findings`` reject (e.g. SE01 wrong), every claim was rejected too
    (each claim result carries those findings)."""

    envelope: Envelope
    header: TransactionHeader | None
    se: Segment | None
    #: a tuple, or a :class:`~scrub837.verdicts.spool.Spool` when a streamed transaction was large
    claims: Sequence[ClaimResult]
    findings: tuple[Finding, ...]
    supported: bool

    @property
    def rejected(self) -> bool:
        return any(f.rejects for f in self.findings)

    @property
    def accepted_claims(self) -> tuple[ClaimResult, ...]:
        return tuple(c for c in self.claims if not c.rejected)

    @property
    def rejected_claims(self) -> tuple[ClaimResult, ...]:
        return tuple(c for c in self.claims if c.rejected)


@dataclass(frozen=True, slots=True)
class FileSummary:
    """Totals for one input file (the summary line, the report headers, the exit code)."""

    file: str
    transactions: int
    unsupported: int
    claims: int
    accepted: int
    rejected: int
    charges_total: Decimal
    charges_held: Decimal  # CLM02 of rejected claims
    reasons: tuple[tuple[str, int], ...]  # rule id -> claims rejected for it, most common first
    warnings: int
    envelope_findings: tuple[Finding, ...]
    failure_message: str  # '' when the file was read to the end
    failure_segment: int
    #: each interchange's TA1 answer when one of them had an envelope problem (else empty)
    interchanges: tuple[Ta1Answer, ...] = ()

    @property
    def unreadable(self) -> bool:
        return bool(self.failure_message) or (self.transactions == 0)

    @property
    def exit_code(self) -> int:
        """0 all accepted, 1 any claim rejected, 3 the input cannot be read as X12."""
        if self.unreadable:
            return 3
        if self.rejected or self.unsupported or any(f.rejects for f in self.envelope_findings):
            return 1
        return 0


class SummaryBuilder:
    """Accumulates a :class:`FileSummary` from result items (constant memory)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.transactions = 0
        self.unsupported = 0
        self.claims = 0
        self.accepted = 0
        self.rejected = 0
        self.total = Decimal(0)
        self.held = Decimal(0)
        self.reasons: dict[str, int] = {}
        self.warnings = 0
        self.envelope: list[Finding] = []
        self.failure = ""
        self.failure_segment = 0
        self.ta1 = Ta1Collector()

    def add(self, item: object) -> None:
        from scrub837.claims.reader import EnvelopeProblem, ReadFailure

        self.ta1.add(item)
        if isinstance(item, TransactionResult):
            if not item.supported:
                self.unsupported += 1
                self.envelope.extend(item.findings)
                return
            self.transactions += 1
            self.warnings += sum(1 for f in item.findings if not f.rejects)  # e.g. a version
            reasons = self.reasons
            claims = rejected = warnings = 0
            total, held = self.total, self.held
            for c in item.claims:  # one pass over each claim's findings
                claims += 1
                charge = money(c.claim.charge)
                total += charge
                if c.rejected:
                    rejected += 1
                    held += charge
                    rules = set()
                    for f in c.findings:
                        if f.rejects:
                            rules.add(f.rule_id)
                        else:
                            warnings += 1
                    for rule in rules:
                        reasons[rule] = reasons.get(rule, 0) + 1
                elif c.findings:  # no finding of an accepted claim rejects
                    warnings += len(c.findings)
            self.claims += claims
            self.rejected += rejected
            self.accepted += claims - rejected
            self.warnings += warnings
            self.total, self.held = total, held
        elif isinstance(item, EnvelopeProblem):
            self.envelope.extend(item.findings)
        elif isinstance(item, ReadFailure):
            self.failure = item.message
            self.failure_segment = item.segment

    def merge(self, other: SummaryBuilder) -> None:
        """Add the totals of a later part of the same file (``--jobs`` parts)."""
        self.transactions += other.transactions
        self.unsupported += other.unsupported
        self.claims += other.claims
        self.accepted += other.accepted
        self.rejected += other.rejected
        self.total += other.total
        self.held += other.held
        for rule, n in other.reasons.items():
            self.reasons[rule] = self.reasons.get(rule, 0) + n
        self.warnings += other.warnings
        self.envelope.extend(other.envelope)
        self.ta1.merge(other.ta1)
        if other.failure and not self.failure:
            self.failure, self.failure_segment = other.failure, other.failure_segment

    def build(self) -> FileSummary:
        reasons = tuple(sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0])))
        return FileSummary(
            file=self.file, transactions=self.transactions, unsupported=self.unsupported,
            claims=self.claims, accepted=self.accepted, rejected=self.rejected,
            charges_total=self.total, charges_held=self.held, reasons=reasons,
            warnings=self.warnings, envelope_findings=tuple(self.envelope),
            failure_message=self.failure, failure_segment=self.failure_segment,
            interchanges=self.ta1.answers(),
        )
