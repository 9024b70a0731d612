"""Segments -> claims, streaming. Pure: it is fed bytes and answers with items.

Items, in file order:
- :class:`~scrub837.claims.model.Claim` as soon as the next CLM, HL or SE closes it;
- :class:`TransactionEnd` at each SE (with the transaction's own findings, e.g. SE01 wrong, and
  ``supported=False`` for a transaction that is not an 837P/837I this project reads);
- :class:`EnvelopeProblem` for interchange and group problems (IEA/GE counts, nesting);
- :class:`ReadFailure` once, when the input cannot be read further (not X12, truncated, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from scrub837.claims.model import Claim, Envelope, HlBlock, TransactionHeader
from scrub837.findings import Finding, Location, Severity, Stc
from scrub837.x12.envelope import (
    PRE_ERRATA,
    SUPPORTED_VERSIONS,
    EnvelopeState,
    envelope_finding,
)
from scrub837.x12.lexer import (
    DEFAULT_MAX_SEGMENT,
    Lexer,
    Scan,
    Segment,
    X12SyntaxError,
    segments_of,
)


@dataclass(frozen=True, slots=True)
class TransactionEnd:
    envelope: Envelope
    header: TransactionHeader | None
    se: Segment | None
    claims: int
    findings: tuple[Finding, ...]
    supported: bool

    @property
    def rejected(self) -> bool:
        return any(f.rejects for f in self.findings)


@dataclass(frozen=True, slots=True)
class EnvelopeProblem:
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class ReadFailure:
    file: str
    message: str
    segment: int
    offset: int
    #: the ISA of the interchange the input failed in (None before any ISA): its TA1 answer
    isa: Segment | None = None

    def describe(self) -> str:
        where = f"segment {self.segment}" if self.segment else "start of file"
        return f"{self.file or '<input>'}: {where} (byte {self.offset}): {self.message}"


Item = Claim | TransactionEnd | EnvelopeProblem | ReadFailure

#: the transaction-level warning for a pre-errata GS08 (``005010X222`` / ``005010X223``)
PRE_ERRATA_RULE = "X12_VERSION_PRE_ERRATA"


_ENVELOPE_IDS = frozenset(("SE", "ST", "GE", "IEA", "GS", "ISA"))
#: the segments the reader is told about one by one; the others arrive as text
_KEYS = _ENVELOPE_IDS | {"HL", "CLM"}


class _Transaction:
    """Mutable state of the 837 transaction being read (internal). Its open loop (the header,
    an HL block or a claim) gathers its text in ``parts``."""

    def __init__(self, envelope: Envelope, supported: bool, problem: Finding | None) -> None:
        self.envelope = envelope
        self.supported = supported
        self.findings: list[Finding] = [problem] if problem else []
        self.parts: list[str] = []  # text of the open block or claim
        self.header_parts: list[str] = []  # text of the header (ST .. the first HL)
        self.header: TransactionHeader | None = None
        self.block: Segment | None = None  # the HL of the block being read
        self.block_level = ""
        self.provider: HlBlock | None = None
        self.subscriber: HlBlock | None = None
        self.patient: HlBlock | None = None
        self.claim: Segment | None = None  # the CLM of the claim being read
        self.regular = True  # its text has no empty segment
        self.claims = 0


class ClaimReader:
    """Feed chunks of an 837 file; collect :data:`Item` values."""

    def __init__(self, name: str = "", *, max_segment: int = DEFAULT_MAX_SEGMENT,
                 lazy: bool = False, whole: Callable[[Claim], bool] | None = None) -> None:
        """``lazy``: claims keep their text and are read when their fields are asked for (a
        reader of a few fields: ``read_claims``, ``extract``); else each claim is read whole
        as it closes, while its text is fresh (a scrub reads every field), or, with
        ``whole``, only the claims it says (a scrub's claims with drug lines: the others are
        checked and written from their text)."""
        self.name = name
        self._lazy = lazy
        #: which claims a reader that is not lazy reads whole as they close (None: all)
        self.whole = whole
        self._lexer = Lexer(max_segment=max_segment, keys=_KEYS)
        self._env = EnvelopeState(file=name)
        self._txn: _Transaction | None = None
        self._failed = False
        self._part = False

    @classmethod
    def for_part(cls, name: str, isa: Segment, gs: Segment, offset: int,
                 ordinal: int) -> ClaimReader:
        """A reader for a run of whole transactions (ST..SE) cut from a larger file at
        ``offset``, just after segment ``ordinal``, inside the interchange ``isa`` and group
        ``gs``. Ordinals, byte spans and findings are those of a whole-file read; the GE/IEA
        around the run are checked by whoever cut it (see :mod:`scrub837.run.parallel`)."""
        reader = cls(name)
        reader._lexer.resume(isa.delims, offset, ordinal)
        reader._env.isa, reader._env.gs = isa, gs
        reader._part = True
        return reader

    def feed(self, data: bytes) -> list[Item]:
        if self._failed:
            return []
        out: list[Item] = []
        try:
            scans = self._lexer.scan(data)
        except X12SyntaxError as exc:
            self._fail(out, exc.message, exc.segment, exc.offset)
            return out
        self._consume(scans, out)
        self._flush_envelope(out)
        return out

    def close(self) -> list[Item]:
        if self._failed:
            return []
        out: list[Item] = []
        try:
            self._consume(self._lexer.close_scan(), out)
        except X12SyntaxError as exc:
            self._fail(out, exc.message, exc.segment, exc.offset)
            return out
        self._flush_envelope(out)
        if self._part:  # the run ends after an SE; its group and interchange go on
            self._env.isa = self._env.gs = None
        missing = self._env.open_at_end(self._lexer.segments_read)
        if missing:
            self._fail(out, "file ends early (truncated): " + "; ".join(missing),
                       self._lexer.segments_read, 0)
        return out

    # -- internals -------------------------------------------------------------------------

    def _fail(self, out: list[Item], message: str, segment: int, offset: int) -> None:
        self._failed = True
        out.append(ReadFailure(self.name, message, segment, offset, self._env.isa))

    def _flush_envelope(self, out: list[Item]) -> None:
        notices = self._lexer.notices
        if notices:
            for ordinal, offset, message in notices:
                self._env.findings.append(Finding(
                    rule_id="X12_IRREGULAR", severity=Severity.WARN, message=message,
                    location=Location(file=self.name, segment=ordinal, span=(offset, offset)),
                    stc=(), fix="", source="ASC X12 005010 ISA/segment rules"))
            notices.clear()
        if self._env.findings:
            out.append(EnvelopeProblem(tuple(self._env.take())))

    def _consume(self, scans: list[Scan], out: list[Item]) -> None:
        """The hot loop: only envelope, HL and CLM segments come one by one; the text between
        them joins the open claim, HL block or header as it is."""
        envelope_ids = _ENVELOPE_IDS
        for scan in scans:
            text = scan.text
            base = scan.offset
            cur = 0  # text before ``cur`` is placed
            before = scan.ordinal  # the ordinal of the segment before ``cur``
            for lead, seg in scan.keys:
                if lead > cur:
                    self._place(scan, cur, lead, before, out)
                sid = seg[3][0]
                txn = self._txn
                if txn is not None and sid not in envelope_ids:  # HL or CLM
                    if txn.supported:
                        self._body(txn, seg, sid, out)
                    cur = seg[1] - base  # the loop's text begins with it
                    before = seg[0] - 1
                    continue
                self._on_envelope(seg, sid, txn, out)
                cur = seg[2] - base
                before = seg[0]
            if cur < len(text):
                self._place(scan, cur, len(text), before, out)

    def _place(self, scan: Scan, start: int, end: int, before: int, out: list[Item]) -> None:
        """``scan.text[start:end]`` (whole segments after segment ``before``) joins the open
        loop; outside a transaction each of its segments is a problem."""
        txn = self._txn
        text = scan.text
        if txn is None:
            for seg in segments_of(text[start:end], scan.offset + start, before, scan.delims):
                self._on_envelope(seg, seg.elements[0], None, out)
            return
        if not txn.supported:
            return
        piece = text[start:end] if start or end < len(text) else text
        if txn.claim is not None:
            if not scan.regular:
                txn.regular = False
        elif txn.block is None:
            if txn.header is None:
                txn.header_parts.append(piece)
            return  # else no loop is open (cannot happen after an HL or CLM)
        txn.parts.append(piece)

    def _on_envelope(self, seg: Segment, sid: str, txn: "_Transaction | None",
                     out: list[Item]) -> None:
        if sid == "ISA":
            self._close_open_txn(seg, out)
            self._env.on_isa(seg)
        elif sid == "GS":
            self._close_open_txn(seg, out)
            self._env.on_gs(seg)
        elif sid == "ST":
            self._close_open_txn(seg, out)
            self._env.on_st(seg)
            self._txn = self._start(seg)
        elif sid == "SE":
            own = self._env.on_se(seg)
            if txn is not None:
                self._end(txn, seg, own, out)
        elif sid == "GE":
            self._close_open_txn(seg, out)
            self._env.on_ge(seg)
        elif sid == "IEA":
            self._close_open_txn(seg, out)
            self._env.on_iea(seg)
        else:
            self._env.findings.append(envelope_finding(
                "X12_ENVELOPE", f"segment {sid[:8]!r} outside a transaction (not between ST and SE)",
                seg, file=self.name, severity=Severity.WARN))

    def _close_open_txn(self, seg: Segment, out: list[Item]) -> None:
        """An envelope segment arrived while a transaction was open: end it without SE."""
        txn = self._txn
        if txn is None:
            return
        problem = envelope_finding(
            "X12_ENVELOPE", f"transaction ST02 {txn.envelope.st02!r} has no SE before this "
            f"{seg.id}", seg, file=self.name, isa13=txn.envelope.isa13,
            gs06=txn.envelope.gs06, st02=txn.envelope.st02)
        self._env.st = None
        self._end(txn, None, [problem], out)

    def _start(self, st: Segment) -> _Transaction:
        env = self._env
        isa = env.isa or st
        gs = env.gs or st
        delims = st.delims
        envelope = Envelope(isa=isa, gs=gs, st=st, delims=delims)
        version = gs.get(8) if gs.id == "GS" else st.get(3)
        problem: Finding | None = None
        if st.get(3) and st.get(3) != version:
            self._env.findings.append(Finding(
                rule_id="X12_IRREGULAR", severity=Severity.WARN,
                message=f"ST03 {st.get(3)!r} differs from GS08 {version!r}; GS08 is used",
                location=Location(file=self.name, isa13=envelope.isa13, gs06=envelope.gs06,
                                  st02=envelope.st02, segment=st.ordinal,
                                  span=(st.start, st.end), path="ST03"),
                source="ASC X12 005010 (ST03 repeats GS08)"))
        if st.get(1) != "837":
            problem = envelope_finding(
                "X12_UNSUPPORTED", f"transaction set {st.get(1)!r} is not an 837 claim; "
                "scrub837 reads 837P (005010X222A1) and 837I (005010X223A2)", st,
                file=self.name, isa13=envelope.isa13, gs06=envelope.gs06, st02=envelope.st02,
                fix="send claim files (837) only")
        elif version not in SUPPORTED_VERSIONS:
            problem = envelope_finding(
                "X12_UNSUPPORTED", f"837 version {version!r} is not supported; accepted versions "
                "are 005010X222A1/A2 (837P) and 005010X223A2/A3 (837I), and the pre-errata "
                "005010X222/005010X223 with a warning", st,
                file=self.name, isa13=envelope.isa13, gs06=envelope.gs06, st02=envelope.st02,
                fix="send 5010 claims (004010 was retired in 2012)")
        txn = _Transaction(envelope, problem is None, problem)
        if problem is None and version in PRE_ERRATA:
            errata = "005010X222A1" if version.endswith("X222") else "005010X223A2"
            txn.findings.append(Finding(
                rule_id=PRE_ERRATA_RULE, severity=Severity.WARN,
                message=f"837 version {version!r} predates the 5010 errata; it is read as "
                f"{errata}, the version HIPAA requires",
                location=Location(file=self.name, isa13=envelope.isa13, gs06=envelope.gs06,
                                  st02=envelope.st02, segment=gs.ordinal,
                                  span=(gs.start, gs.end), path="GS08"),
                stc=(Stc("A3", "21"),), fix=f"send GS08/ST03 {errata}",
                source="45 CFR 162.1102(c): the 5010 TR3s with their Type 1 errata "
                "(005010X222A1, 005010X223A2); ASC X12 005010 GS08"))
        return txn

    def _structure(self, txn: _Transaction, seg: Segment, message: str) -> None:
        env = txn.envelope
        txn.findings.append(envelope_finding(
            "X12_STRUCTURE", message, seg, file=self.name, isa13=env.isa13, gs06=env.gs06,
            st02=env.st02, fix="fix the loop structure of the 837"))

    def _header(self, txn: _Transaction) -> TransactionHeader:
        st = txn.envelope.st
        text = "".join(txn.header_parts)
        txn.header_parts = []
        return TransactionHeader(txn.envelope,
                                 (st, *segments_of(text, st.end, st.ordinal, st.delims)))

    def _body(self, txn: _Transaction, seg: Segment, sid: str, out: list[Item]) -> None:
        self._finish_claim(txn, out)
        self._finish_block(txn)
        if sid == "HL":
            if txn.header is None:
                txn.header = self._header(txn)
            txn.block = seg
            txn.block_level = seg.get(3)
            return
        txn.claim = seg  # CLM
        txn.regular = True

    def _finish_block(self, txn: _Transaction) -> None:
        hl = txn.block
        if hl is None:
            return
        parts = txn.parts
        block = HlBlock.read(hl, parts[0] if len(parts) == 1 else "".join(parts))
        txn.parts = []
        level = txn.block_level
        txn.block = None
        if level == "20":
            txn.provider, txn.subscriber, txn.patient = block, None, None
        elif level == "22":
            if txn.provider is None or block.parent_id != txn.provider.hl_id:
                self._structure(txn, block.hl, f"subscriber HL {block.hl_id!r} does not point to "
                                "the billing provider HL before it")
            txn.subscriber, txn.patient = block, None
        elif level == "23":
            if txn.subscriber is None or block.parent_id != txn.subscriber.hl_id:
                self._structure(txn, block.hl, f"patient HL {block.hl_id!r} does not point to "
                                "the subscriber HL before it")
            txn.patient = block
        else:
            self._structure(txn, block.hl, f"HL03 {level!r} is not 20, 22 or 23")

    def _finish_claim(self, txn: _Transaction, out: list[Item]) -> None:
        clm = txn.claim
        if clm is None:
            return
        txn.claim = None
        parts = txn.parts
        txn.parts = []
        if txn.header is None or txn.provider is None or txn.subscriber is None:
            self._structure(txn, clm, "CLM is not under a billing provider (HL 20) and "
                            "subscriber (HL 22)")
            return
        txn.claims += 1
        claim = Claim.read(
            self.name, txn.header, txn.provider, txn.subscriber, txn.patient, clm,
            parts[0] if len(parts) == 1 else "".join(parts), txn.regular, txn.claims)
        if not self._lazy and (self.whole is None or self.whole(claim)):
            claim.segments  # noqa: B018  (reads it whole: every line, the 2300 loop)
        out.append(claim)

    def _end(self, txn: _Transaction, se: Segment | None, own: list[Finding],
             out: list[Item]) -> None:
        if txn.supported:
            self._finish_claim(txn, out)
            self._finish_block(txn)
        header = txn.header
        if header is None and txn.supported:
            header = self._header(txn)
        out.append(TransactionEnd(txn.envelope, header, se, txn.claims,
                                  tuple(txn.findings + own), txn.supported))
        self._txn = None


def iter_items(chunks: Iterable[bytes], name: str = "", *, lazy: bool = False) -> Iterator[Item]:
    """Read every item from an iterable of byte chunks."""
    reader = ClaimReader(name, lazy=lazy)
    for chunk in chunks:
        yield from reader.feed(chunk)
    yield from reader.close()
