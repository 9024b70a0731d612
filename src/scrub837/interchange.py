"""Each interchange's TA1 answer (TA104 ``A``/``E``/``R`` and the TA105 note code), decided
from a file's result items; :mod:`scrub837.outputs.ta1` writes it as ``NAME.ta1``.

The one answer every output agrees on: an interchange whose transactions were read is
**accepted with errors** (``E``) when its envelope (ISA/IEA) has a problem: its claims are
judged by their own transactions (277CA, summary, exit code, split), and the envelope problem
is a warning in the reports, because a problem found at the IEA cannot take back claims
answered before it. An interchange none of whose transactions could be read (cut short or
broken before its first SE) is **rejected** (``R``): no 277CA answers it and the file's exit
code is 3. An interchange that asks for a TA1 (ISA14 ``1``) gets one too, ``A``/``000`` when
nothing is wrong. When any interchange of a file is answered, the others get ``A``/``000`` as
well, so the sender can match every ISA13. Pure: it only looks at result items.
"""

from __future__ import annotations

from dataclasses import dataclass

from scrub837.findings import Finding
from scrub837.x12.envelope import TA1_NOTES
from scrub837.x12.lexer import Segment


@dataclass(frozen=True, slots=True)
class Ta1Answer:
    """The TA1 for one interchange: its ISA13, ISA09, ISA10, TA104 and TA105."""

    isa13: str
    date: str
    time: str
    status: str  # A, E or R
    note: str  # TA105
    sender: tuple[str, str] = ("", "")  # the interchange's ISA05/ISA06 (the TA1's receiver)
    usage: str = "P"  # ISA15

    def describe(self) -> str:
        """``interchange 000001508: TA1 E 001 (...)``, for the summary line."""
        said = {"A": "accepted", "E": "accepted with errors", "R": "rejected"}[self.status]
        text = f"interchange {self.isa13 or '?'} {said} (TA1 {self.status} {self.note}"
        return text + (f": {TA1_NOTES[self.note]})" if self.note in TA1_NOTES else ")")


class _Interchange:
    __slots__ = ("isa", "isa13", "date", "time", "answered", "notes", "requested")

    def __init__(self, isa: Segment | None, isa13: str, date: str, time: str) -> None:
        self.isa = isa
        self.isa13 = isa13
        self.date = date
        self.time = time
        self.answered = False  # a supported transaction of it was read to its SE
        self.notes: list[str] = []
        self.requested = isa is not None and isa.get(14) == "1"  # ISA14: TA1 requested


def ta105_of(finding: Finding) -> str:
    """The TA105 note code an interchange finding carries ('' for any other finding)."""
    return next((v for k, v in finding.extra if k == "ta105"), "")


class Ta1Collector:
    """Follows a file's result items and decides each interchange's TA1 answer (constant
    memory: a few strings per interchange)."""

    def __init__(self) -> None:
        self._by_ordinal: dict[int, _Interchange] = {}

    def _interchange(self, isa: Segment) -> _Interchange:
        found = self._by_ordinal.get(isa.ordinal)
        if found is None:
            found = _Interchange(isa, isa.get(13), isa.get(9), isa.get(10))
            self._by_ordinal[isa.ordinal] = found
        return found

    def add(self, item: object) -> None:
        from scrub837.reader import EnvelopeProblem, ReadFailure
        from scrub837.results import TransactionResult

        if isinstance(item, TransactionResult):
            isa = item.envelope.isa
            if isa.id != "ISA":  # a transaction outside any interchange: nothing to answer
                return
            interchange = self._interchange(isa)
            if item.supported:
                interchange.answered = True
        elif isinstance(item, EnvelopeProblem):
            for finding in item.findings:
                note = ta105_of(finding)
                if not note:
                    continue
                extra = dict(finding.extra)
                ordinal = int(extra.get("isa_segment", "0") or 0)
                known = self._by_ordinal.get(ordinal)
                if known is None:
                    known = _Interchange(None, finding.location.isa13, extra.get("isa09", ""),
                                         extra.get("isa10", ""))
                    self._by_ordinal[ordinal] = known
                known.notes.append(note)
        elif isinstance(item, ReadFailure) and item.isa is not None:
            truncated = item.message.startswith("file ends")
            self._interchange(item.isa).notes.append("023" if truncated else "024")

    def merge(self, other: "Ta1Collector") -> None:
        """Add what a later part of the same file saw (``--jobs`` parts)."""
        for ordinal, theirs in other._by_ordinal.items():
            mine = self._by_ordinal.setdefault(ordinal, theirs)
            if mine is not theirs:
                mine.answered = mine.answered or theirs.answered
                mine.notes.extend(theirs.notes)
                mine.requested = mine.requested or theirs.requested

    def answers(self) -> tuple[Ta1Answer, ...]:
        """Every interchange's TA1, in file order; empty when no interchange had a problem or
        asked for a TA1 (ISA14)."""
        if not any(i.notes or i.requested for i in self._by_ordinal.values()):
            return ()
        out = []
        for _, i in sorted(self._by_ordinal.items()):
            if not i.notes:
                status, note = "A", "000"
            else:
                status, note = ("E" if i.answered else "R"), i.notes[0]
            isa = i.isa
            out.append(Ta1Answer(
                i.isa13, i.date, i.time, status, note,
                (isa.get(5).strip(), isa.get(6).strip()) if isa is not None else ("", ""),
                isa.get(15) if isa is not None and isa.get(15) in ("P", "T") else "P"))
        return tuple(out)
