"""The rows of the claims and findings tables, built from the result items of one input as
they stream through the pipeline (pure: no Spark, no IO). One finding row per finding of the
JSON report, in the report's order: a transaction's own findings, then each claim's findings
(a transaction-level finding that rejects the claim is repeated there, as in the report), then
the envelope findings. The schemas are in :data:`CLAIM_COLUMNS` / :data:`FINDING_COLUMNS`
(documented in docs/spark.md)."""

from __future__ import annotations

from collections.abc import Iterator

from scrub837.findings import Finding
from scrub837.claims.reader import ClaimReader, EnvelopeProblem
from scrub837.verdicts.results import ClaimResult, TransactionResult
from scrub837.scrubber import Scrubber
from scrub837.api import Source
from scrub837.verdicts.transactions import ResultItem

#: (name, Spark SQL type) of the claim verdicts table, one row per claim
CLAIM_COLUMNS: tuple[tuple[str, str], ...] = (
    ("file", "string"), ("isa13", "string"), ("gs06", "string"), ("st02", "string"),
    ("clm01", "string"), ("charge", "string"), ("verdict", "string"), ("segment", "bigint"),
    ("payer_id", "string"), ("billing_provider_npi", "string"), ("findings", "int"),
    ("reject_rule_ids", "array<string>"),
)

#: (name, Spark SQL type) of the findings table, one row per finding of the JSON report
FINDING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("file", "string"), ("scope", "string"), ("isa13", "string"), ("gs06", "string"),
    ("st02", "string"), ("clm01", "string"), ("lx", "string"), ("ref_6r", "string"),
    ("code", "string"), ("verdict", "string"), ("rule_id", "string"), ("severity", "string"),
    ("stc", "array<string>"), ("message", "string"), ("segment", "bigint"),
    ("path", "string"), ("element", "string"),
)

ClaimRow = tuple[str, str, str, str, str, str, str, int, str, str, int, list[str]]
FindingRow = tuple[str, str, str, str, str, str, str, str, str, str, str, str, list[str], str,
                   int, str, str]


def ddl(columns: tuple[tuple[str, str], ...]) -> str:
    """A Spark DDL schema string (``file string, ...``)."""
    return ", ".join(f"{name} {kind}" for name, kind in columns)


def finding_row(file: str, scope: str, f: Finding, *, code: str = "", verdict: str = "",
                clm01: str = "") -> FindingRow:
    """``clm01``: the claim the row belongs to (a transaction-level finding repeated in each
    claim it rejects has none in its own location)."""
    loc = f.location
    return (file, scope, loc.isa13, loc.gs06, loc.st02, clm01 or loc.clm01, loc.lx, loc.ref_6r, code,
            verdict, f.rule_id, f.severity.value, [str(s) for s in f.stc], f.message,
            loc.segment, loc.path, loc.element)


class RowCollector:
    """Collects the rows of one input (or one ``--jobs`` part of it) from its result items."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.claims: list[ClaimRow] = []
        self.findings: list[FindingRow] = []
        self._envelope: list[FindingRow] = []
        # line codes of the streamed (full) claims of the open transaction, by claim index;
        # only the claims with line-level findings (the transaction holds slim claims)
        self._codes: dict[int, dict[str, str]] = {}
        self._streamed = 0

    def add(self, item: object) -> None:
        if isinstance(item, ClaimResult):
            lxs = {f.location.lx for f in item.findings if f.line_level and f.location.lx}
            if lxs:
                self._codes[self._streamed] = {line.line_number: line.code
                                               for line in item.claim.lines
                                               if line.line_number in lxs}
            self._streamed += 1
        elif isinstance(item, TransactionResult):
            self._transaction(item)
        elif isinstance(item, EnvelopeProblem):
            self._envelope.extend(finding_row(self.file, "envelope", f) for f in item.findings)

    def _transaction(self, t: TransactionResult) -> None:
        codes, streamed = self._codes, self._streamed
        self._codes, self._streamed = {}, 0
        if streamed != len(t.claims):
            codes = {}
        env = t.envelope
        self.findings.extend(finding_row(self.file, "transaction", f) for f in t.findings)
        for i, c in enumerate(t.claims):
            claim = c.claim
            verdict = c.verdict.value
            line_codes = codes.get(i) or {line.line_number: line.code for line in claim.lines}
            for f in c.findings:
                code = line_codes.get(f.location.lx, "") if f.line_level else ""
                self.findings.append(finding_row(self.file, "claim", f, code=code,
                                                 verdict=verdict, clm01=claim.clm01))
            rejecting: list[str] = []
            for f in c.findings:
                if f.rejects and f.rule_id not in rejecting:
                    rejecting.append(f.rule_id)
            self.claims.append((self.file, env.isa13, env.gs06, env.st02, claim.clm01,
                                claim.charge, verdict, claim.clm.ordinal, claim.payer_id,
                                claim.billing_npi, len(c.findings), rejecting))

    def close(self) -> None:
        """The envelope findings come last, as in the report."""
        self.findings.extend(self._envelope)
        self._envelope = []


class TappedScrubber(Scrubber):
    """The same scrubber (rule book and edits shared, nothing reloaded) that also feeds every
    result item it yields to a :class:`RowCollector`."""

    def __init__(self, base: Scrubber, rows: RowCollector) -> None:  # noqa: D107
        self.__dict__.update(base.__dict__)
        self.rows = rows

    def results(self, source: Source, name: str = "", *, stream_claims: bool = False,
                slim: bool = False, reader: ClaimReader | None = None) -> Iterator[ResultItem]:
        for item in super().results(source, name, stream_claims=stream_claims, slim=slim,
                                    reader=reader):
            self.rows.add(item)
            yield item
