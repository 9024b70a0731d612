"""The accepted/rejected 837 split: each claim with its full hierarchy and envelopes, written
as it stood in the input; HL numbers and SE01/GE01/IEA01 counts are rewritten.

Streaming: the writer is given one transaction result at a time and keeps only the envelope
it is in. Original ISA/GS/ST control numbers are kept (the claims travel on in the submitter's
interchange); an interchange, group or transaction is written to a file only when that file has
one of its claims. HL04 (has-children) is kept as it was: a subscriber whose dependents' claims
all went to the other half keeps HL04=1 (pyx12 does not check HL04 against the children).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from operator import attrgetter
from typing import BinaryIO, NamedTuple

from scrub837.claims._build import evenly_broken
from scrub837.claims.model import Claim, HlBlock
from scrub837.outputs import COPY_CHUNK
from scrub837.verdicts.results import ClaimResult, TransactionResult
from scrub837.verdicts.spool import Spool
from scrub837.x12.lexer import Segment


_ELEMENTS = attrgetter("elements")


class _Body(NamedTuple):
    """Segments as one string: joined by ``end`` (terminator + line break), ``n`` of them.
    One string per claim instead of one per segment keeps a buffered transaction small."""

    text: str
    n: int
    end: str

    @staticmethod
    def of(segments: "tuple[Segment, ...]", end: str) -> "_Body":
        if not segments:
            return _Body("", 0, end)
        # Segment.text() for each, without a call per segment
        return _Body(end.join(map(segments[0].delims.element.join, map(_ELEMENTS, segments))),
                     len(segments), end)

    def joined(self, end: str) -> str:
        """The text with ``end`` between segments (the terminator never occurs inside one)."""
        return self.text if end == self.end else end.join(self.text.split(self.end))


class _Block(NamedTuple):
    """An HL block as text: its ordinal (identity), HL elements, and the other segments."""

    ordinal: int
    hl: tuple[str, ...]
    body: _Body


class _Entry(NamedTuple):
    """What the split keeps of a claim: its hierarchy blocks and its segment text."""

    provider: _Block
    subscriber: _Block
    patient: _Block | None
    body: _Body
    brk: str


def _block(block: HlBlock, cache: list[object], end: str) -> _Block:
    """The block as text; ``cache`` holds the latest block (blocks arrive in file order, and
    the claims of a provider or subscriber share its loop object)."""
    if block is cache[0]:
        return cache[1]  # type: ignore[return-value]
    hl = block.segments[0]
    found = cache[1]
    if not isinstance(found, _Block) or found.ordinal != hl.ordinal:
        found = _Block(hl.ordinal, hl.elements, _block_body(block, end))
    cache[0], cache[1] = block, found
    return found


def _block_body(block: HlBlock, end: str) -> _Body:
    """The segments after the block's HL, from its text when that is evenly broken."""
    segs = block.segments
    if len(segs) < 2:
        return _Body("", 0, end)
    term, brk = end[0], end[1:]
    if evenly_broken(block.text, term, brk, len(segs)):
        hl = segs[0]
        return _Body(block.text[hl.end - hl.start + len(brk) : -1], len(segs) - 1, end)
    return _Body.of(segs[1:], end)


def _brk(count: int, gap: int) -> str:
    """The line break written after each terminator, from the gap between a claim's first
    two segments (``count`` of them)."""
    if count < 2:
        return "\n"
    return "\r\n" if gap >= 2 else ("\n" if gap == 1 else "")


def _entry(claim: Claim, caches: tuple[list[object], ...]) -> _Entry:
    """The claim's text; the input's line-break style after terminators ('', '\\n' or
    '\\r\\n') is read from the gap between its first two segments. An evenly broken claim
    is written from its text: one without drug lines is never split into segments, and the
    others' segments are not joined again."""
    term = claim.clm.delims.segment
    plain = claim.plain_scan()
    if plain is not None:
        count, gap = plain.segment_count, plain.gap
    else:
        segs = claim.segments
        count = len(segs)
        gap = segs[1].start - segs[0].end if count > 1 else 0
    brk = _brk(count, gap)
    end = term + brk
    text = claim.text
    body = (_Body(text[:-1], count, end) if evenly_broken(text, term, brk, count)
            else _Body.of(claim.segments, end))
    patient = claim.patient
    return _Entry(_block(claim.provider, caches[0], end), _block(claim.subscriber, caches[1], end),
                  _block(patient, caches[2], end) if patient is not None else None,
                  body, brk)


class Written(NamedTuple):
    """One transaction a ``--jobs`` part wrote without envelopes: the interchange and group it
    belongs in, its size in the part's file, and the input's terminator and line break."""

    isa: Segment
    gs: Segment
    size: int
    term: str
    brk: str


class _Side:
    """One output file's open envelope state. With ``envelope=False`` (a ``--jobs`` part) only
    ST..SE are written and ``log`` says where each belongs; :meth:`enter` and
    :meth:`close_interchange` write the envelopes when the parts are joined."""

    def __init__(self, stream: BinaryIO, envelope: bool = True) -> None:
        self.stream = stream
        self.envelope = envelope
        self.log: list[Written] = []
        self.isa: Segment | None = None
        self.gs: Segment | None = None
        self.groups = 0
        self.transactions = 0
        self.claims = 0
        self.term = "~"
        self.brk = "\n"
        self.size = 0
        self._buf: list[str] = []

    def put(self, text: str) -> None:
        self._buf.append(text)
        if len(self._buf) >= 4096:  # a large transaction is written as it goes
            self.flush()

    def flush(self) -> None:
        """Write what :meth:`put` collected (one write per transaction, not per segment)."""
        if self._buf:
            end = self.term + self.brk
            data = (end.join(self._buf) + end).encode("latin-1")
            self._buf.clear()
            self.size += len(data)
            self.stream.write(data)

    def enter(self, isa: Segment, gs: Segment, term: str, brk: str) -> None:
        """Open (or stay in) the interchange and group of the next transaction."""
        self.term, self.brk = term, brk
        if not self.envelope:
            return
        if self.isa is None or self.isa.ordinal != isa.ordinal:
            self.close_interchange()
            self.put(isa.text())
            self.isa, self.groups = isa, 0
        if self.gs is None or self.gs.ordinal != gs.ordinal:
            self.close_group()
            self.put(gs.text())
            self.gs, self.transactions = gs, 0
            self.groups += 1
        self.transactions += 1
        self.flush()

    def close_group(self) -> None:
        if self.gs is not None:
            sep = self.gs.delims.element
            self.put(sep.join(["GE", str(self.transactions), self.gs.get(6)]))
            self.gs = None
            self.flush()

    def close_interchange(self) -> None:
        self.close_group()
        if self.isa is not None:
            sep = self.isa.delims.element
            self.put(sep.join(["IEA", str(self.groups), self.isa.get(13)]))
            self.isa = None
            self.flush()

    def write(self, result: TransactionResult, claims: Iterable[_Entry]) -> None:
        """One transaction of this side (``claims``: at least one, in order)."""
        env = result.envelope
        claims = iter(claims)
        first = next(claims)
        claims = chain((first,), claims)
        self.enter(env.isa, env.gs, env.delims.segment, first.brk)
        start = self.size
        assert result.header is not None
        count = 0
        for seg in result.header.segments:
            self.put(seg.text())
            count += 1
        hl_count = 0  # new HL numbers, in order
        sep = env.delims.element
        end = self.term + self.brk

        def block(b: _Block, parent: int | None) -> int:
            nonlocal count, hl_count
            hl_count += 1
            new = hl_count
            hl = list(b.hl)
            hl[1] = str(new)
            if len(hl) > 2:
                hl[2] = str(parent) if parent is not None else ""
            self.put(sep.join(hl))
            if b.body.n:
                self.put(b.body.joined(end))
            count += 1 + b.body.n
            return new

        buf = self._buf
        last_provider = last_subscriber = last_patient = 0  # HL ordinals in the input
        provider_hl = subscriber_hl = 0  # and their new numbers
        for claim in claims:
            prov = claim.provider
            if last_provider != prov.ordinal:
                provider_hl = block(prov, None)
                last_provider, last_subscriber, last_patient = prov.ordinal, 0, 0
            sub = claim.subscriber
            if last_subscriber != sub.ordinal:
                subscriber_hl = block(sub, provider_hl)
                last_subscriber, last_patient = sub.ordinal, 0
            pat = claim.patient
            if pat is not None and last_patient != pat.ordinal:
                block(pat, subscriber_hl)
                last_patient = pat.ordinal
            body = claim.body
            if body.n:
                buf.append(body.text if body.end == end else body.joined(end))
                if len(buf) >= 4096:  # a large transaction is written as it goes
                    self.flush()
            count += body.n
            self.claims += 1
        st02 = env.st.get(2)
        self.put(sep.join(["SE", str(count + 1), st02]))
        self.flush()
        if not self.envelope:
            self.log.append(Written(env.isa, env.gs, self.size - start, self.term, self.brk))


class SplitWriter:
    """Give it each transaction result (``add``); or, to keep memory small, each claim result
    as it is checked (``add_claim``: only the claim's text is kept) and then the transaction
    result with slim claims (``add``), which decides the sides with the final verdicts."""

    def __init__(self, accepted: BinaryIO, rejected: BinaryIO, *, envelope: bool = True) -> None:
        self.accepted = _Side(accepted, envelope)
        self.rejected = _Side(rejected, envelope)
        self._buffer: Spool[_Entry] = Spool()  # a transaction's claims until its SE
        self._caches: tuple[list[object], ...] = ([None, None], [None, None], [None, None])

    def add_claim(self, result: ClaimResult) -> None:
        self._buffer.append(_entry(result.claim, self._caches))

    @property
    def accepted_claims(self) -> int:
        return self.accepted.claims

    @property
    def rejected_claims(self) -> int:
        return self.rejected.claims

    def add(self, result: TransactionResult) -> None:
        buffered, self._buffer = self._buffer, Spool()
        try:
            if not result.supported or result.header is None:
                return
            entries: Iterable[_Entry]
            if buffered:
                if len(buffered) != len(result.claims):
                    raise ValueError("claims given to add_claim do not match the transaction")
                entries = buffered
            else:
                entries = [_entry(c.claim, self._caches) for c in result.claims]
            rejected = sum(1 for c in result.claims if c.rejected)
            for side, want, n in ((self.accepted, False, len(result.claims) - rejected),
                                  (self.rejected, True, rejected)):
                if n:
                    side.write(result, (e for e, c in zip(entries, result.claims, strict=True)
                                        if c.rejected is want))
        finally:
            buffered.close()

    def close(self) -> None:
        if self.accepted.envelope:
            self.accepted.close_interchange()
            self.rejected.close_interchange()


def join_side(stream: BinaryIO, parts: list[tuple[BinaryIO, list[Written]]]) -> int:
    """Write one side (accepted or rejected) from ``--jobs`` parts: each part's transactions in
    order, inside the envelopes they came from (opened and closed, counts rewritten, as a
    one-process run writes them). Returns the number of transactions written."""
    side = _Side(stream)
    count = 0
    for source, log in parts:
        for w in log:
            side.enter(w.isa, w.gs, w.term, w.brk)
            _copy(source, stream, w.size)
            count += 1
    side.close_interchange()
    return count


def _copy(source: BinaryIO, target: BinaryIO, size: int) -> None:
    """Copy ``size`` bytes in chunks (a transaction's text can be large: memory stays flat)."""
    while size > 0:
        data = source.read(min(COPY_CHUNK, size))
        if not data:
            raise OSError(f"a part's fragment ended {size} bytes early")
        target.write(data)
        size -= len(data)
