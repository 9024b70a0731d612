"""The accepted/rejected 837 split: each claim with its full hierarchy and envelopes, written
as it stood in the input; HL numbers and SE01/GE01/IEA01 counts are rewritten.

Streaming: the writer is given one transaction result at a time and keeps only the envelope
it is in. Original ISA/GS/ST control numbers are kept (the claims travel on in the submitter's
interchange); an interchange, group or transaction is written to a file only when that file has
one of its claims.
"""

from __future__ import annotations

from typing import BinaryIO

from scrub837.claims import Claim, HlBlock
from scrub837.results import TransactionResult
from scrub837.x12.lexer import Segment


def _line_break(claim: Claim) -> str:
    """The input's line-break style after terminators: '', '\\n' or '\\r\\n' (by the gap)."""
    segs = claim.segments
    if len(segs) < 2:
        return "\n"
    gap = segs[1].start - segs[0].end
    return "\r\n" if gap >= 2 else ("\n" if gap == 1 else "")


class _Side:
    """One output file's open envelope state."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.isa: Segment | None = None
        self.gs: Segment | None = None
        self.groups = 0
        self.transactions = 0
        self.claims = 0
        self.term = "~"
        self.brk = "\n"

    def put(self, text: str) -> None:
        self.stream.write((text + self.term + self.brk).encode("latin-1"))

    def close_group(self) -> None:
        if self.gs is not None:
            sep = self.gs.delims.element
            self.put(sep.join(["GE", str(self.transactions), self.gs.get(6)]))
            self.gs = None

    def close_interchange(self) -> None:
        self.close_group()
        if self.isa is not None:
            sep = self.isa.delims.element
            self.put(sep.join(["IEA", str(self.groups), self.isa.get(13)]))
            self.isa = None

    def write(self, result: TransactionResult, claims: list[Claim]) -> None:
        env = result.envelope
        first = claims[0]
        self.term = env.delims.segment
        self.brk = _line_break(first)
        if self.isa is None or self.isa.ordinal != env.isa.ordinal:
            self.close_interchange()
            self.put(env.isa.text())
            self.isa, self.groups = env.isa, 0
        if self.gs is None or self.gs.ordinal != env.gs.ordinal:
            self.close_group()
            self.put(env.gs.text())
            self.gs, self.transactions = env.gs, 0
            self.groups += 1
        self.transactions += 1
        assert result.header is not None
        count = 0
        for seg in result.header.segments:
            self.put(seg.text())
            count += 1
        numbers: dict[int, int] = {}  # id(block) -> new HL number
        last: dict[str, HlBlock | None] = {"20": None, "22": None, "23": None}
        sep = env.delims.element

        def block(b: HlBlock, parent: int | None) -> int:
            nonlocal count
            new = len(numbers) + 1
            numbers[id(b)] = new
            hl = list(b.hl.elements)
            hl[1] = str(new)
            if len(hl) > 2:
                hl[2] = str(parent) if parent is not None else ""
            self.put(sep.join(hl))
            for seg in b.segments[1:]:
                self.put(seg.text())
            count += len(b.segments)
            return new

        for claim in claims:
            prov = claim.provider
            if last["20"] is not prov:
                block(prov, None)
                last["20"], last["22"], last["23"] = prov, None, None
            if last["22"] is not claim.subscriber:
                block(claim.subscriber, numbers[id(prov)])
                last["22"], last["23"] = claim.subscriber, None
            if claim.patient is not None and last["23"] is not claim.patient:
                block(claim.patient, numbers[id(claim.subscriber)])
                last["23"] = claim.patient
            for seg in claim.segments:
                self.put(seg.text())
            count += len(claim.segments)
            self.claims += 1
        st02 = env.st.get(2)
        self.put(sep.join(["SE", str(count + 1), st02]))


class SplitWriter:
    def __init__(self, accepted: BinaryIO, rejected: BinaryIO) -> None:
        self.accepted = _Side(accepted)
        self.rejected = _Side(rejected)

    @property
    def accepted_claims(self) -> int:
        return self.accepted.claims

    @property
    def rejected_claims(self) -> int:
        return self.rejected.claims

    def add(self, result: TransactionResult) -> None:
        if not result.supported or result.header is None:
            return
        acc = [c.claim for c in result.claims if not c.rejected]
        rej = [c.claim for c in result.claims if c.rejected]
        if acc:
            self.accepted.write(result, acc)
        if rej:
            self.rejected.write(result, rej)

    def close(self) -> None:
        self.accepted.close_interchange()
        self.rejected.close_interchange()
