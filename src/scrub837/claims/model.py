"""Immutable claim values built from 837 segments (loops 2000A..2430), each knowing its place.

Names follow the implementation guide: ``clm01``, ``SV101-2``, ``CTP05-1``. A claim holds the
segments it was built from, so every field can be traced to a segment ordinal and byte span.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from scrub837._memo import IdentityMemo
from scrub837.x12.lexer import Delimiters, Segment

#: HI qualifiers that carry diagnoses (837P: ABK/ABF/BK/BF; 837I also ABJ/BJ, APR/PR, ABN/BN).
DX_QUALIFIERS = frozenset({"ABK", "ABF", "BK", "BF", "ABJ", "BJ", "APR", "PR", "ABN", "BN"})
ICD9_QUALIFIERS = frozenset({"BK", "BF", "BJ", "PR", "BN"})
#: The qualifiers SV107 pointers count (principal and other diagnoses, in HI order).
POINTER_QUALIFIERS = frozenset({"ABK", "ABF", "BK", "BF"})


@lru_cache(maxsize=4096)  # a file's dates repeat
def _valid_date(text: str) -> bool:
    if len(text) != 8 or not text.isdigit():
        return False
    try:
        date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Envelope:
    """The interchange, group and transaction a claim travels in."""

    isa: Segment
    gs: Segment
    st: Segment
    delims: Delimiters

    @property
    def isa13(self) -> str:
        return self.isa.get(13)

    @property
    def gs06(self) -> str:
        return self.gs.get(6)

    @property
    def st02(self) -> str:
        return self.st.get(2)

    @property
    def version(self) -> str:
        """GS08, e.g. ``005010X222A1``."""
        return self.gs.get(8)

    @property
    def kind(self) -> str:
        """``P`` (837P, X222), ``I`` (837I, X223) or '' for anything else."""
        version = self.version if self.gs.id == "GS" else self.st.get(3)
        if "X222" in version:
            return "P"
        if "X223" in version:
            return "I"
        return ""


@dataclass(frozen=True, slots=True)
class TransactionHeader:
    """ST through the segment before the first HL (BHT, 1000A submitter, 1000B receiver)."""

    envelope: Envelope
    segments: tuple[Segment, ...]

    def first(self, seg_id: str, qualifier: str | None = None) -> Segment | None:
        for seg in self.segments:
            if seg.id == seg_id and (qualifier is None or seg.get(1) == qualifier):
                return seg
        return None

    @property
    def bht03(self) -> str:
        bht = self.first("BHT")
        return bht.get(3) if bht else ""

    @property
    def bht04(self) -> str:
        bht = self.first("BHT")
        return bht.get(4) if bht else ""


@dataclass(frozen=True, slots=True)
class HlBlock:
    """An HL segment and the segments of its own loop (2010xx) before the next HL or CLM."""

    segments: tuple[Segment, ...]

    @property
    def hl(self) -> Segment:
        return self.segments[0]

    @property
    def hl_id(self) -> str:
        return self.hl.get(1)

    @property
    def parent_id(self) -> str:
        return self.hl.get(2)

    @property
    def level(self) -> str:
        return self.hl.get(3)

    def slim(self) -> "HlBlock":
        """Only the HL and NM1 segments (what the 277CA and reports read)."""
        done = _slimmed.get(self)
        if done is not None:  # the loop shared by the claims before
            return done
        slim = HlBlock(tuple(s for s in self.segments if s.elements[0] in ("HL", "NM1")))
        _slimmed.put(self, slim)
        return slim

    def nm1(self, entity: str) -> Segment | None:
        for seg in self.segments:
            elements = seg.elements
            if elements[0] == "NM1" and len(elements) > 1 and elements[1] == entity:
                return seg
        return None


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """One diagnosis from an HI composite. ``position`` counts principal+other dx (1..12) in
    file order, as SV107 pointers do; other qualifiers have position 0."""

    qualifier: str
    code: str
    position: int
    segment: Segment
    element: int  # HI01 -> 1

    @property
    def icd9(self) -> bool:
        return self.qualifier in ICD9_QUALIFIERS


@dataclass(frozen=True, slots=True)
class Drug:
    """Loop 2410: LIN (NDC), CTP (quantity, unit), REF*XZ/VY."""

    lin: Segment
    ctp: Segment | None
    refs: tuple[Segment, ...]

    @property
    def qualifier(self) -> str:
        return self.lin.get(2)

    @property
    def ndc(self) -> str:
        elements = self.lin.elements
        return elements[3] if len(elements) > 3 else ""

    @property
    def quantity(self) -> str:
        return self.ctp.get(4) if self.ctp else ""

    @property
    def unit(self) -> str:
        return self.ctp.comp(5, 1) if self.ctp else ""

    @property
    def prescription(self) -> str:
        return next((r.get(2) for r in self.refs if r.get(1) == "XZ"), "")


#: HlBlock.slim's recent answers by identity: every claim of a billing provider or subscriber
#: shares its block, so a transaction's slim records share one slim block too
_slimmed: IdentityMemo[HlBlock, HlBlock] = IdentityMemo()


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """Loop 2400 (LX .. before the next LX/CLM/HL/SE), with its 2410 drug when present."""

    index: int  # 1-based position of the line in the claim
    lx: Segment | None
    sv: Segment | None  # SV1 (837P) or SV2 (837I)
    dtp_472: Segment | None
    ref_6r: Segment | None
    prior_auth: tuple[Segment, ...]  # line-level REF*G1 (837P)
    notes: tuple[Segment, ...]
    drug: Drug | None
    segments: tuple[Segment, ...]
    claim_dates: str = ""  # 837I: statement dates (DTP*434) when the line has no DTP*472
    #: SV101 / SV202 split into components once (qualifier, code, modifiers 1-4, description)
    proc: tuple[str, ...] = ()
    is_institutional: bool = False

    def _proc(self, sub: int) -> str:
        return self.proc[sub - 1] if sub <= len(self.proc) else ""

    @property
    def qualifier(self) -> str:
        return self._proc(1)

    @property
    def code(self) -> str:
        """SV101-2 / SV202-2."""
        proc = self.proc  # read by every edit of a drug line: inline, not through _proc
        return proc[1] if len(proc) > 1 else ""

    @property
    def modifiers(self) -> tuple[str, ...]:
        return tuple(m for m in self.proc[2:6] if m)

    @property
    def description(self) -> str:
        """SV101-7 / SV202-7."""
        return self._proc(7)

    @property
    def charge(self) -> str:
        if self.sv is None:
            return ""
        return self.sv.get(3 if self.is_institutional else 2)

    @property
    def unit_basis(self) -> str:
        if self.sv is None:
            return ""
        return self.sv.get(4 if self.is_institutional else 3)

    @property
    def units(self) -> str:
        if self.sv is None:
            return ""
        return self.sv.get(5 if self.is_institutional else 4)

    @property
    def place_of_service(self) -> str:
        return "" if self.sv is None or self.is_institutional else self.sv.get(5)

    @property
    def revenue_code(self) -> str:
        return self.sv.get(1) if self.sv is not None and self.is_institutional else ""

    @property
    def dx_pointers(self) -> tuple[str, ...]:
        if self.sv is None or self.is_institutional:
            return ()
        return tuple(p for p in self.sv.components(7) if p)

    # the accessors below are read many times per line: Segment.get inlined

    @property
    def line_number(self) -> str:
        if self.lx:
            elements = self.lx.elements
            return elements[1] if len(elements) > 1 else ""
        return str(self.index)

    @property
    def line_control(self) -> str:
        """REF*6R, the line item control number echoed in 277CA REF*FJ."""
        if self.ref_6r:
            elements = self.ref_6r.elements
            return elements[2] if len(elements) > 2 else ""
        return ""

    @property
    def service_date(self) -> str:
        """The first date of DTP*472 (D8, or the start of RD8), else the claim's statement dates."""
        raw = self.service_dates
        return raw.split("-")[0] if raw else ""

    @property
    def service_dates(self) -> str:
        if self.dtp_472:
            elements = self.dtp_472.elements
            return elements[3] if len(elements) > 3 else ""
        return self.claim_dates


@dataclass(frozen=True, slots=True)
class Claim:
    """Loop 2300 with its hierarchy: billing provider (2000A), subscriber (2000B), patient
    (2000C) and transaction header. ``segments`` runs from CLM to the claim's last segment."""

    file: str
    header: TransactionHeader
    provider: HlBlock
    subscriber: HlBlock
    patient: HlBlock | None
    segments: tuple[Segment, ...]
    diagnoses: tuple[Diagnosis, ...]
    prior_auth: tuple[Segment, ...]  # 2300 REF*G1
    statement_dates: Segment | None  # 837I DTP*434
    lines: tuple[ServiceLine, ...]
    sequence: int  # 1-based position of the claim in its transaction
    #: first and last valid date of service, kept by :meth:`slim` (computed when empty)
    span_dates: tuple[str, str] = ("", "")

    def date_range(self) -> tuple[str, str]:
        """First and last valid CCYYMMDD of the lines (else the statement dates), or ''."""
        if self.span_dates[0]:
            return self.span_dates
        dates = sorted(d for line in self.lines for d in line.service_dates.split("-")
                       if _valid_date(d))
        if not dates and self.statement_dates is not None:
            dates = sorted(d for d in self.statement_dates.get(3).split("-") if _valid_date(d))
        return (dates[0], dates[-1]) if dates else ("", "")

    def slim(self, keep_lines: frozenset[str] = frozenset()) -> "Claim":
        """The claim without the segments the 277CA and reports no longer need (all but CLM
        and the last segment, and the lines not in ``keep_lines``): what a transaction holds
        until its SE when the outputs were streamed."""
        segs = self.segments
        return Claim(  # every field named (dataclasses.replace would look them up per call)
            file=self.file, header=self.header, provider=self.provider.slim(),
            subscriber=self.subscriber.slim(),
            patient=self.patient.slim() if self.patient is not None else None,
            segments=(segs[0], segs[-1]) if len(segs) > 1 else segs, diagnoses=(),
            prior_auth=self.prior_auth, statement_dates=self.statement_dates,
            lines=tuple(ln for ln in self.lines if ln.line_number in keep_lines),
            sequence=self.sequence, span_dates=self.date_range())

    @property
    def envelope(self) -> Envelope:
        return self.header.envelope

    @property
    def clm(self) -> Segment:
        return self.segments[0]

    @property
    def clm01(self) -> str:
        return self.clm.get(1)

    @property
    def charge(self) -> str:
        return self.clm.get(2)

    @property
    def facility_code(self) -> str:
        return self.clm.comp(5, 1)

    @property
    def frequency(self) -> str:
        return self.clm.comp(5, 3)

    @property
    def kind(self) -> str:
        return self.envelope.kind

    @property
    def payer_id(self) -> str:
        """2010BB NM1*PR NM109."""
        seg = self.subscriber.nm1("PR")
        return seg.get(9) if seg else ""

    @property
    def billing_npi(self) -> str:
        """2010AA NM1*85 NM109."""
        seg = self.provider.nm1("85")
        return seg.get(9) if seg else ""

    @property
    def hl_path(self) -> str:
        return "2000A/2000B" + ("/2000C" if self.patient is not None else "") + "/2300"

    @property
    def span(self) -> tuple[int, int]:
        return (self.segments[0].start, self.segments[-1].end)
