"""The annotated HTML report: one self-contained file (inline CSS, no scripts, nothing from the
network) that a billing office works from: the verdict and money first, every reason with its
count, a worklist of the rejected claims (and of those accepted with warnings) whose rows link
to each claim's section, then the sections: the claim's own segments with the offending element
marked and the fix beside it.

It shows only what the 277CA answers. Claims stream in before their transaction's SE, which
may reject them all (a wrong SE01) or never come (a truncated file), so a claim's segments are
rendered as it arrives into a per-transaction spool, and its section is written, with the
verdict of the transaction's answer, when the SE arrives; the claims of a transaction that never
ended are left out and the page says so.

Whatever the input's size the page stays small (:class:`ReportLimits`): the first 1,000
rejected claims in full, the first 2,000 in the worklist (and 200 / 500 accepted with warnings),
and it says what it left out and that every claim is in the JSON report. Memory stays flat:
sections go to a spooled temporary file (2 MB in memory, then an anonymous owner-only file);
the worklist rows (bounded) are kept as small records and rendered at the end, when the summary
that leads the page is known.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

from lxml import etree
from lxml.builder import E

from scrub837.claims.model import Claim
from scrub837.findings import Finding, Severity
from scrub837.outputs import COPY_CHUNK
from scrub837.outputs._html_claim import (SECTION_END, body_failed, claim_body, claim_head,
                                          finding_block, flagged, mask_name, safe, warned_body)
from scrub837.outputs._html_page import Row, date_text
from scrub837.outputs._html_top import page_top
from scrub837.claims.reader import EnvelopeProblem, ReadFailure
from scrub837.verdicts.results import ClaimResult, FileSummary, TransactionResult, dollars
from scrub837.x12.lexer import Segment

__all__ = ["HtmlPart", "HtmlReportWriter", "ReportLimits", "render_html", "safe"]


@dataclass(frozen=True)
class ReportLimits:
    """How much of a large file the page holds (the JSON report holds everything)."""

    rejected_full: int = 1000  # rejected claims shown with their segments
    rejected_rows: int = 2000  # rejected claims in the worklist
    warned_full: int = 200
    warned_rows: int = 500
    transactions: int = 100  # rejected transactions described


LIMITS = ReportLimits()


@dataclass
class HtmlPart:
    """What a writer gathered besides its section bytes: enough to write the page (a
    ``--jobs`` part hands it to the join; it pickles small, the rows being bounded)."""

    titles: dict[str, str] = field(default_factory=dict)
    warn_counts: dict[str, int] = field(default_factory=dict)
    rejected: int = 0  # rejected claims answered
    warned: int = 0  # accepted claims with warnings
    txns: int = 0  # rejected transactions
    rejected_rows: list[Row] = field(default_factory=list)
    warned_rows: list[Row] = field(default_factory=list)
    sections: list[tuple[str, int, int]] = field(default_factory=list)  # kind, index, bytes
    problems: list[Finding] = field(default_factory=list)
    failure: ReadFailure | None = None
    unanswered: int = 0  # claims of a transaction that never ended
    unanswered_st02: str = ""


def _person(c: ClaimResult, show_phi: bool) -> str:
    claim = c.claim
    nm1 = claim.patient.nm1("QC") if claim.patient is not None else None
    nm1 = nm1 or claim.subscriber.nm1("IL")
    if nm1 is None:
        return ""
    last, first = nm1.get(3), nm1.get(4)
    if not show_phi:
        last, first = mask_name(last), mask_name(first)
    return ", ".join(v for v in (last, first) if v)


def _payer(c: ClaimResult) -> str:
    nm1 = c.claim.subscriber.nm1("PR")
    if nm1 is None:
        return ""
    name, pid = nm1.get(3), nm1.get(9)
    return f"{name} ({pid})" if name and pid else name or pid


class HtmlReportWriter:
    def __init__(self, stream: BinaryIO, *, show_phi: bool = False,
                 title: str = "scrub837 report", envelope: bool = True,
                 json_name: str = "", limits: ReportLimits | None = None) -> None:
        """``envelope=False`` (a ``--jobs`` part) writes only the claim sections to ``stream``
        and :meth:`finish` answers the rest; :meth:`join` writes the page from such parts.
        ``json_name``: the JSON report's file name, which the page points to for what it
        leaves out."""
        self.stream = stream
        self.show_phi = show_phi
        self.title = title
        self.json_name = json_name or "the JSON report"
        self.limits = limits or LIMITS
        self._body: BinaryIO = (tempfile.SpooledTemporaryFile(max_size=2 << 20)  # type: ignore[assignment]
                                if envelope else stream)
        self._pending: BinaryIO | None = None  # this transaction's claim bodies
        #: CLM ordinal -> offset and size of its rendered body, or what renders it at the SE
        self._bodies: dict[int, tuple[int, int] | tuple[list[Segment], tuple[Finding, ...]]] = {}
        self._streamed = 0  # claims of the open transaction, as they came
        self._prov_rejected = 0
        self._prov_warned = 0
        self._position = 0  # of the claim in its transaction
        self._open: Claim | None = None  # the last claim streamed
        self.part = HtmlPart()

    # -- items --------------------------------------------------------------------------

    def add(self, item: object) -> None:
        if isinstance(item, ClaimResult):  # streamed: its body now, its head at the SE
            self._streamed += 1
            self._open = item.claim  # its ST02 is read if its transaction never ends
            self._provisional(item)
        elif isinstance(item, TransactionResult):
            streamed, self._streamed = self._streamed, 0
            self._open = None
            if not item.supported:
                self.part.problems.extend(item.findings)
            else:
                if not streamed:  # not streamed: the claims are whole, findings final
                    shared = set(map(id, item.findings))
                    for c in item.claims:
                        self._provisional(ClaimResult(c.claim, tuple(
                            f for f in c.findings if id(f) not in shared)))
                self._commit(item)
            self._reset_pending()
        elif isinstance(item, EnvelopeProblem):
            self.part.problems.extend(item.findings)
        elif isinstance(item, ReadFailure):
            self.part.failure = item

    def _provisional(self, c: ClaimResult) -> None:
        """Keep the claim's body if its section may be shown: within the limits whether its
        transaction is accepted (its verdict stays) or rejected (every claim is rejected). A
        rejected claim's body is rendered now; a claim with warnings only keeps the few
        segments its body lists, rendered at the SE if its section is written."""
        position, self._position = self._position, self._position + 1
        part, lim = self.part, self.limits
        if c.rejected:
            keep = part.rejected + self._prov_rejected < lim.rejected_full
            self._prov_rejected += 1
        elif c.findings:
            keep = part.warned + self._prov_warned < lim.warned_full
            self._prov_warned += 1
        else:
            return
        if not (keep or part.rejected + position < lim.rejected_full):
            return
        if not c.rejected:
            try:
                self._bodies[c.claim.clm.ordinal] = (flagged(c), c.findings)
            except Exception as exc:  # a report must never lose the answer for the other claims
                self._store(c.claim.clm.ordinal, body_failed(exc))
            return
        try:
            body = claim_body(c, show_phi=self.show_phi)
        except Exception as exc:  # a report must never lose the answer for the other claims
            body = body_failed(exc)
        self._store(c.claim.clm.ordinal, body)

    def _store(self, ordinal: int, body: bytes) -> None:
        if self._pending is None:
            self._pending = tempfile.SpooledTemporaryFile(max_size=2 << 20)  # type: ignore[assignment]
        assert self._pending is not None
        offset = self._pending.seek(0, io.SEEK_END)
        self._pending.write(body)
        self._bodies[ordinal] = (offset, len(body))

    def _kept_body(self, where: tuple[int, int] | tuple[list[Segment], tuple[Finding, ...]]) -> bytes:
        """A kept body: read back from the spool, or rendered now from the kept segments."""
        first, second = where
        if isinstance(first, int):
            assert self._pending is not None and isinstance(second, int)
            self._pending.seek(first)
            return self._pending.read(second)
        assert isinstance(second, tuple)
        try:
            return warned_body(first, second, show_phi=self.show_phi)
        except Exception as exc:  # a report must never lose the answer for the other claims
            return body_failed(exc)

    def _reset_pending(self) -> None:
        if self._pending is not None:
            self._pending.seek(0)
            self._pending.truncate()
        self._bodies.clear()
        self._prov_rejected = self._prov_warned = self._position = 0

    def _write_section(self, kind: str, index: int, data: bytes) -> None:
        self._body.write(data)
        self.part.sections.append((kind, index, len(data)))

    def _commit(self, t: TransactionResult) -> None:
        part, lim = self.part, self.limits
        txn, anchor = -1, ""
        if t.rejected:
            txn, part.txns = part.txns, part.txns + 1
            anchor = f"txn-{t.envelope.st.ordinal}"
            if txn < lim.transactions:
                self._write_section("t", txn, self._transaction_block(t, anchor))
        titles, warn_counts, bodies = part.titles, part.warn_counts, self._bodies
        reject = Severity.REJECT
        for c in t.claims:
            findings = c.findings
            if not findings:
                continue
            warns = set()
            for f in findings:  # titles and the warnings' counts, over every claim
                rule = f.rule_id
                if f.title and rule not in titles:
                    titles[rule] = f.title
                if f.severity is not reject:
                    warns.add(rule)
            for rule in warns:
                warn_counts[rule] = warn_counts.get(rule, 0) + 1
            rejected = c.rejected
            if rejected:
                index, part.rejected = part.rejected, part.rejected + 1
                full, rows, kind = lim.rejected_full, lim.rejected_rows, "r"
            else:
                index, part.warned = part.warned, part.warned + 1
                full, rows, kind = lim.warned_full, lim.warned_rows, "w"
            if index >= full and index >= rows:  # beyond the page's limits: counted only
                continue
            ordinal = c.claim.clm.ordinal
            where = bodies.get(ordinal)
            written = False
            if where is not None and index < full and (self._pending is not None
                                                       or not isinstance(where[0], int)):
                head = claim_head(c, (anchor, t.findings) if t.rejected else None)
                self._write_section(kind, index, head.encode("utf-8") + self._kept_body(where)
                                    + SECTION_END.encode())
                written = True
            if index < rows:
                rejecting = list(dict.fromkeys(f.rule_id for f in findings if f.rejects))
                rules = tuple(dict.fromkeys(
                    rejecting + [f.rule_id for f in findings if not f.rejects]))
                lo, hi = c.claim.date_range()
                row = Row(index, ordinal, written, txn, anchor, c.claim.clm01,
                          _person(c, self.show_phi), _payer(c), date_text(lo, hi),
                          dollars(c.charge), rules, len(rejecting))
                (part.rejected_rows if rejected else part.warned_rows).append(row)

    def _note_titles(self, findings: tuple[Finding, ...]) -> None:
        titles = self.part.titles
        for f in findings:
            if f.title and f.rule_id not in titles:
                titles[f.rule_id] = f.title

    def _transaction_block(self, t: TransactionResult, anchor: str) -> bytes:
        env = t.envelope
        n = len(t.claims)
        first = [c.claim.clm01 for c in t.claims[:20]]
        element = E.section(
            {"class": "claim rejected", "id": anchor},
            E.h2(f"Transaction ST02 {safe(env.st02)} ", E.span({"class": "badge reject"},
                                                              "ALL CLAIMS REJECTED")),
            E.p({"class": "meta"}, safe(f"ISA13 {env.isa13} / GS06 {env.gs06}: the 277CA "
                                        f"rejects every claim of this transaction ({n:,}), "
                                        "whatever their own segments say. Fix this and "
                                        "resend the transaction.")),
            E.div({"class": "problem"}, *[finding_block(f) for f in t.findings]),
            E.p(safe("Its claims: " + ", ".join(first) + (f" and {n - 20:,} more"
                                                         if n > 20 else ""))),
            E.p({"class": "back"}, E.a({"href": "#worklist"}, "\u2191 back to the worklist")))
        return bytes(etree.tostring(element, method="html", encoding="utf-8"))

    # -- the page -----------------------------------------------------------------------

    @property
    def titles(self) -> dict[str, str]:
        return self.part.titles

    @property
    def problems(self) -> list[Finding]:
        return self.part.problems

    def finish(self) -> HtmlPart:
        """A part's end (``envelope=False``): what :meth:`join` needs besides its bytes."""
        self._close_pending()
        return self.part

    def _close_pending(self) -> None:
        if self._streamed:  # a transaction that never ended: the 277CA answers none of it
            self.part.unanswered += self._streamed
            self.part.unanswered_st02 = self._open.envelope.st02 if self._open else ""
            self._streamed = 0
        if self._pending is not None:
            self._pending.close()
            self._pending = None
        self._bodies.clear()

    def join(self, fragments: list[BinaryIO], parts: list[HtmlPart],
             summary: FileSummary) -> None:
        """The page from parts written with ``envelope=False``, in order."""
        self._write_page(summary, list(zip(fragments, parts, strict=True)))

    def close(self, summary: FileSummary) -> None:
        self._close_pending()
        try:
            self._write_page(summary, [(self._body, self.part)])
        finally:
            self._body.close()

    def _write_page(self, summary: FileSummary,
                    chunks: list[tuple[BinaryIO, HtmlPart]]) -> None:
        lim = self.limits
        pieces, offsets = page_top(self.title, self.show_phi, self.json_name, lim, summary,
                                   [p for _, p in chunks])
        limit = {"r": lim.rejected_full, "w": lim.warned_full, "t": lim.transactions}
        for piece in pieces:
            if isinstance(piece, bytes):
                self.stream.write(piece)
            elif piece is not None:  # worklist rows
                for row in piece:
                    self.stream.write(row)
            else:  # the claim sections, within the limits
                for (data, part), offset in zip(chunks, offsets, strict=True):
                    data.seek(0)
                    for kind, index, size in part.sections:
                        if offset[kind] + index < limit[kind]:
                            shutil.copyfileobj(_Take(data, size), self.stream, COPY_CHUNK)
                        else:
                            data.seek(size, io.SEEK_CUR)


class _Take:
    """The next ``n`` bytes of a stream, as a stream."""

    def __init__(self, f: BinaryIO, n: int) -> None:
        self._f, self._left = f, n

    def read(self, size: int = -1) -> bytes:
        n = self._left if size < 0 else min(size, self._left)
        data = self._f.read(n) if n > 0 else b""
        self._left -= len(data)
        return data


def render_html(items: Iterable[object], summary: FileSummary, *, show_phi: bool = False,
                title: str = "scrub837 report") -> bytes:
    out = io.BytesIO()
    writer = HtmlReportWriter(out, show_phi=show_phi, title=title)
    for item in items:
        writer.add(item)
    writer.close(summary)
    return out.getvalue()

