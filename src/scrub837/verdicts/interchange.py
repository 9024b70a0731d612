"""Each interchange's TA1 answer (TA104 ``A``/``E``/``R`` and the TA105 note code), decided
from a file's result items; :mod:`scrub837.outputs.ta1` writes it as ``NAME.ta1``.

The one answer every output agrees on: an interchange whose transactions were read is
**accepted with errors** (``E``) when its envelope (ISA/IEA) has a problem: its claims are
judged by their own transactions (277CA, summary, exit code, split), and the envelope problem
is a warning in the reports, because a problem found at the IEA cannot take back claims
answered before it. An interchange none of whose transactions could be read (cut short or
broken before its first SE) is **rejected** (``R``): no 277CA answers it and the file's exit
code is 3. An interchange that asks for a TA1 (ISA14 ``1``) gets one too, ``A``/``000`` when
nothing is wrong; the other interchanges of the file get none. Pure: it only looks at result
items.
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
    __slots__ = ("isa13", "date", "time", "sender", "usage", "notes", "requested")

    def __init__(self, fields: dict[str, str]) -> None:
        """``fields``: ``isa05``, ``isa06``, ``isa09``, ``isa10``, ``isa13``, ``isa14``,
        ``isa15`` (as :func:`~scrub837.x12.envelope.interchange_extra` carries them)."""
        self.isa13 = fields.get("isa13", "")
        self.date = fields.get("isa09", "")
        self.time = fields.get("isa10", "")
        self.sender = (fields.get("isa05", "").strip(), fields.get("isa06", "").strip())
        usage = fields.get("isa15", "")
        self.usage = usage if usage in ("P", "T") else "P"
        self.notes: list[str] = []
        self.requested = fields.get("isa14", "") == "1"  # ISA14: a TA1 is requested

    @classmethod
    def of(cls, isa: Segment) -> "_Interchange":
        return cls({f"isa{n:02d}": isa.get(n) for n in (5, 6, 9, 10, 13, 14, 15)})

    def answer(self, answered: bool) -> Ta1Answer:
        if not self.notes:
            return Ta1Answer(self.isa13, self.date, self.time, "A", "000", self.sender,
                             self.usage)
        return Ta1Answer(self.isa13, self.date, self.time, "E" if answered else "R",
                         self.notes[0], self.sender, self.usage)


def ta105_of(finding: Finding) -> str:
    """The TA105 note code an interchange finding carries ('' for any other finding)."""
    return next((v for k, v in finding.extra if k == "ta105"), "")


class Ta1Collector:
    """Follows a file's result items and decides the TA1 answer of each interchange that has
    a problem or asks for one. Memory: one int per interchange whose transactions were read
    (envelope problems arrive after the transactions of the chunk that held them), and a few
    strings per interchange that gets a TA1."""

    def __init__(self) -> None:
        self._answered: set[int] = set()  # ISA ordinals with a supported transaction read
        self._kept: dict[int, _Interchange] = {}  # ISA ordinal -> an interchange to answer

    def add(self, item: object) -> None:
        from scrub837.claims.reader import EnvelopeProblem, ReadFailure
        from scrub837.verdicts.results import TransactionResult

        if isinstance(item, TransactionResult):
            isa = item.envelope.isa
            if isa.id != "ISA":  # a transaction outside any interchange: nothing to answer
                return
            if item.supported:
                self._answered.add(isa.ordinal)
            if isa.get(14) == "1" and isa.ordinal not in self._kept:
                self._kept[isa.ordinal] = _Interchange.of(isa)
        elif isinstance(item, EnvelopeProblem):
            for finding in item.findings:
                note = ta105_of(finding)
                if not note:
                    continue
                fields = dict(finding.extra)
                fields.setdefault("isa13", finding.location.isa13)
                ordinal = int(fields.get("isa_segment", "0") or 0)
                if ordinal not in self._kept:
                    self._kept[ordinal] = _Interchange(fields)
                self._kept[ordinal].notes.append(note)
        elif isinstance(item, ReadFailure) and item.isa is not None:
            ordinal = item.isa.ordinal
            if ordinal not in self._kept:
                self._kept[ordinal] = _Interchange.of(item.isa)
            self._kept[ordinal].notes.append(
                "023" if item.message.startswith("file ends") else "024")

    def merge(self, other: "Ta1Collector") -> None:
        """Add what a later part of the same file saw (``--jobs`` parts: an interchange may
        run over several parts)."""
        self._answered |= other._answered
        for ordinal, theirs in other._kept.items():
            mine = self._kept.setdefault(ordinal, theirs)
            if mine is not theirs:
                mine.notes.extend(theirs.notes)
                mine.requested = mine.requested or theirs.requested

    def answers(self) -> tuple[Ta1Answer, ...]:
        """The TA1 of each interchange with a problem or a request (ISA14), in file order."""
        return tuple(self._kept[o].answer(o in self._answered) for o in sorted(self._kept))
