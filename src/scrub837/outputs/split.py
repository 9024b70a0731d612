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
from typing import BinaryIO, NamedTuple

from scrub837.claims.model import Claim, HlBlock
from scrub837.outputs import COPY_CHUNK
from scrub837.verdicts.results import ClaimResult, TransactionResult
from scrub837.verdicts.spool import Spool
from scrub837.x12.lexer import Segment


class _Body(NamedTuple):
    """Segments as one string: joined by ``end`` (terminator + line break), ``n`` of them.
    One string per claim instead of one per segment keeps a buffered transaction small."""

    text: str
    n: int
    end: str

    @staticmethod
    def of(segments: "tuple[Segment, ...]", end: str) -> "_Body":
        return _Body(end.join([s.text() for s in segments]), len(segments), end)

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


def _block(block: HlBlock, cache: dict[int, _Block], end: str) -> _Block:
    key = block.hl.ordinal
    found = cache.get(key)
    if found is None:
        found = _Block(key, block.hl.elements, _Body.of(block.segments[1:], end))
        cache.clear()  # blocks arrive in file order: only the latest one is shared
        cache[key] = found
    return found


def _entry(claim: Claim, caches: tuple[dict[int, _Block], ...]) -> _Entry:
    brk = _line_break(claim)
    end = claim.clm.delims.segment + brk
    return _Entry(_block(claim.provider, caches[0], end), _block(claim.subscriber, caches[1], end),
                  _block(claim.patient, caches[2], end) if claim.patient is not None else None,
                  _Body.of(claim.segments, end), brk)


def _line_break(claim: Claim) -> str:
    """The input's line-break style after terminators: '', '\\n' or '\\r\\n' (by the gap)."""
    segs = claim.segments
    if len(segs) < 2:
        return "\n"
    gap = segs[1].start - segs[0].end
    return "\r\n" if gap >= 2 else ("\n" if gap == 1 else "")


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
        number: dict[str, int] = {"20": 0, "22": 0}  # the current provider's and subscriber's
        last: dict[str, int] = {"20": 0, "22": 0, "23": 0}
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

        for claim in claims:
            prov = claim.provider
            if last["20"] != prov.ordinal:
                number["20"] = block(prov, None)
                last["20"], last["22"], last["23"] = prov.ordinal, 0, 0
            if last["22"] != claim.subscriber.ordinal:
                number["22"] = block(claim.subscriber, number["20"])
                last["22"], last["23"] = claim.subscriber.ordinal, 0
            if claim.patient is not None and last["23"] != claim.patient.ordinal:
                block(claim.patient, number["22"])
                last["23"] = claim.patient.ordinal
            if claim.body.n:
                self.put(claim.body.joined(end))
            count += claim.body.n
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
        self._caches: tuple[dict[int, _Block], ...] = ({}, {}, {})

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
