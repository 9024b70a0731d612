"""Envelope bookkeeping: ISA/IEA, GS/GE and ST/SE nesting, control numbers and counts.

Pure: it is told about segments and answers with findings. The reader owns the 837 body.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scrub837.findings import Finding, Location, Severity, Stc
from scrub837.x12.lexer import Segment

SUPPORTED_VERSIONS = {
    "005010X222A1": "P",
    "005010X222A2": "P",  # errata carried by real files
    "005010X223A2": "I",
    "005010X223A3": "I",
    "005010X222": "P",  # pre-errata (before the A1 addenda): scrubbed with a version warning
    "005010X223": "I",
}
#: GS08 versions from before the 5010 errata (A1 for 837P, A1/A2 for 837I): read and scrubbed,
#: with an ``X12_VERSION_PRE_ERRATA`` warning (a rejection with ``--reject-pre-errata``).
PRE_ERRATA = frozenset(("005010X222", "005010X223"))

ENVELOPE_STC = (Stc("A3", "21"),)


#: TA105 interchange note codes (X12 I18) for the interchange problems scrub837 finds
TA1_NOTES = {
    "001": "The Interchange Control Number in the Header and Trailer Do Not Match",
    "018": "Invalid Interchange Control Number Value",
    "021": "Invalid Number of Included Groups Value",
    "022": "Invalid Control Structure",
    "023": "Improper (Premature) End-of-File (Transmission)",
    "024": "Invalid Interchange Content (e.g., Invalid GS Segment)",
    "025": "Duplicate Interchange Control Number",
}


def interchange_extra(isa: Segment, note: str) -> tuple[tuple[str, str], ...]:
    """What a TA1 needs from a finding about interchange ``isa``: the TA105 note code, the
    interchange's ISA05/06 (who gets the TA1), ISA09/10, ISA14/15 and the ISA's ordinal (which
    interchange of the file)."""
    return (("ta105", note), ("isa05", isa.get(5)), ("isa06", isa.get(6)),
            ("isa09", isa.get(9)), ("isa10", isa.get(10)), ("isa14", isa.get(14)),
            ("isa15", isa.get(15)), ("isa_segment", str(isa.ordinal)))


def envelope_finding(
    rule_id: str, message: str, seg: Segment | None, *, file: str, isa13: str = "",
    gs06: str = "", st02: str = "", fix: str = "", severity: Severity = Severity.REJECT,
    extra: tuple[tuple[str, str], ...] = (),
) -> Finding:
    loc = Location(
        file=file,
        isa13=isa13,
        gs06=gs06,
        st02=st02,
        segment=seg.ordinal if seg else 0,
        span=(seg.start, seg.end) if seg else (0, 0),
        path=seg.id if seg else "",
    )
    return Finding(
        rule_id=rule_id,
        severity=severity,
        message=message,
        location=loc,
        stc=ENVELOPE_STC,
        fix=fix,
        source="ASC X12 005010 envelope rules (ISA/IEA, GS/GE, ST/SE)",
        extra=extra,
    )


@dataclass
class EnvelopeState:
    """Mutable bookkeeping for the envelope the reader is in (internal to the reader).

    Problems outside a transaction (ISA/IEA, GS/GE, segments between transactions) are
    warnings: the transactions inside are read and answered on their own, and a problem found
    at an IEA or GE cannot take back the claims already answered before it. Interchange
    (ISA/IEA) problems carry their TA105 note code for the TA1 (:mod:`scrub837.outputs.ta1`).
    """

    file: str
    isa: Segment | None = None
    gs: Segment | None = None
    st: Segment | None = None
    groups: int = 0
    transactions: int = 0
    st_segments: int = 0
    findings: list[Finding] = field(default_factory=list)
    seen_isa13: set[str] = field(default_factory=set)

    def _f(self, rule_id: str, message: str, seg: Segment | None, fix: str = "",
           ta105: str = "", isa: Segment | None = None) -> None:
        isa = isa or self.isa
        self.findings.append(
            envelope_finding(
                rule_id,
                message,
                seg,
                file=self.file,
                isa13=isa.get(13) if isa else "",
                gs06=self.gs.get(6) if self.gs else "",
                st02=self.st.get(2) if self.st else "",
                fix=fix,
                severity=Severity.WARN,
                extra=interchange_extra(isa, ta105) if ta105 and isa is not None else (),
            )
        )

    def take(self) -> list[Finding]:
        out, self.findings = self.findings, []
        return out

    # Each returns True when the segment was an envelope segment.
    def on_isa(self, seg: Segment) -> None:
        if self.isa is not None:
            self._f("X12_ENVELOPE", f"ISA {seg.get(13)!r} starts before interchange "
                    f"{self.isa.get(13)!r} was closed by an IEA", seg,
                    "close every interchange with IEA before the next ISA", ta105="022")
        control = seg.get(13)
        if not (len(control) == 9 and control.isdigit()):
            self._f("X12_CONTROL_NUMBER", f"ISA13 {control!r} is not a 9-digit control number",
                    seg, ta105="018", isa=seg)
        elif control in self.seen_isa13:
            self._f("X12_CONTROL_NUMBER", f"ISA13 {control!r} is used by an earlier interchange "
                    "of this file", seg, "give every interchange its own ISA13", ta105="025",
                    isa=seg)
        self.seen_isa13.add(control)
        self.isa, self.gs, self.st = seg, None, None
        self.groups = 0

    def on_iea(self, seg: Segment) -> None:
        if self.isa is None:
            self._f("X12_ENVELOPE", "IEA without an open ISA", seg)
            return
        if self.gs is not None:
            self._f("X12_ENVELOPE", f"IEA closes the interchange while group GS06 "
                    f"{self.gs.get(6)!r} has no GE", seg, ta105="024")
        if seg.get(2) != self.isa.get(13):
            self._f("X12_CONTROL_NUMBER", f"IEA02 {seg.get(2)!r} does not match ISA13 "
                    f"{self.isa.get(13)!r}", seg, "IEA02 must repeat ISA13", ta105="001")
        if seg.get(1) != str(self.groups):
            self._f("X12_COUNT", f"IEA01 says {seg.get(1)!r} functional groups, the interchange "
                    f"has {self.groups}", seg, f"set IEA01 to {self.groups}", ta105="021")
        self.isa, self.gs, self.st = None, None, None

    def on_gs(self, seg: Segment) -> None:
        if self.isa is None:
            self._f("X12_ENVELOPE", "GS outside an interchange (no ISA before it)", seg)
        if self.gs is not None:
            self._f("X12_ENVELOPE", f"GS {seg.get(6)!r} starts before group {self.gs.get(6)!r} "
                    "was closed by a GE", seg)
        self.gs, self.st = seg, None
        self.groups += 1
        self.transactions = 0

    def on_ge(self, seg: Segment) -> None:
        if self.gs is None:
            self._f("X12_ENVELOPE", "GE without an open GS", seg)
            return
        if self.st is not None:
            self._f("X12_ENVELOPE", f"GE closes the group while transaction ST02 "
                    f"{self.st.get(2)!r} has no SE", seg)
        if seg.get(2) != self.gs.get(6):
            self._f("X12_CONTROL_NUMBER", f"GE02 {seg.get(2)!r} does not match GS06 "
                    f"{self.gs.get(6)!r}", seg, "GE02 must repeat GS06")
        if seg.get(1) != str(self.transactions):
            self._f("X12_COUNT", f"GE01 says {seg.get(1)!r} transaction sets, the group has "
                    f"{self.transactions}", seg, f"set GE01 to {self.transactions}")
        self.gs, self.st = None, None

    def on_st(self, seg: Segment) -> None:
        if self.gs is None:
            self._f("X12_ENVELOPE", "ST outside a functional group (no GS before it)", seg)
        self.st = seg
        self.st_segments = 1
        self.transactions += 1

    def on_se(self, seg: Segment) -> list[Finding]:
        """Check SE against its ST; returns the transaction's own findings."""
        if self.st is None:
            self._f("X12_ENVELOPE", "SE without an open ST", seg)
            return []
        self.st_segments = seg.ordinal - self.st.ordinal + 1  # ordinals are consecutive
        own: list[Finding] = []
        if seg.get(2) != self.st.get(2):
            own.append(self._own("X12_CONTROL_NUMBER", f"SE02 {seg.get(2)!r} does not match "
                                 f"ST02 {self.st.get(2)!r}", seg, "SE02 must repeat ST02"))
        if seg.get(1) != str(self.st_segments):
            own.append(self._own("X12_COUNT", f"SE01 says {seg.get(1)!r} segments, the "
                                 f"transaction has {self.st_segments} (ST through SE)", seg,
                                 f"set SE01 to {self.st_segments}"))
        self.st = None
        return own

    def _own(self, rule_id: str, message: str, seg: Segment, fix: str) -> Finding:
        return envelope_finding(
            rule_id, message, seg, file=self.file,
            isa13=self.isa.get(13) if self.isa else "",
            gs06=self.gs.get(6) if self.gs else "",
            st02=self.st.get(2) if self.st else "", fix=fix,
        )

    def open_at_end(self, last_ordinal: int) -> list[str]:
        """What is still open at the end of the input."""
        missing = []
        if self.st is not None:
            missing.append(f"transaction ST02 {self.st.get(2)!r} has no SE")
        if self.gs is not None:
            missing.append(f"group GS06 {self.gs.get(6)!r} has no GE")
        if self.isa is not None:
            missing.append(f"interchange ISA13 {self.isa.get(13)!r} has no IEA")
        return missing
