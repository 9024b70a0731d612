"""Claim values read from 837 segments (loops 2000A..2430), each knowing its place.

Names follow the implementation guide: ``clm01``, ``SV101-2``, ``CTP05-1``. A claim holds the
segments it was built from, so every field can be traced to a segment ordinal and byte span.
A claim read from a file keeps its text as one string and builds its segments, diagnoses and
lines when they are first asked for (a line its procedure code first, the rest when read);
the values never change once built.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import SupportsIndex

from scrub837.claims._build import (
    DX_QUALIFIERS,
    ICD9_QUALIFIERS,
    POINTER_QUALIFIERS,
    PlainScan,
    cut_at_lx,
    lx_follows,
    scan_plain,
)
from scrub837.claims._line import Head, ServiceLine, is_set
from scrub837.claims._values import Diagnosis, Drug
from scrub837.x12.lexer import Delimiters, Segment, segments_of

__all__ = ["DX_QUALIFIERS", "ICD9_QUALIFIERS", "POINTER_QUALIFIERS", "Claim", "Diagnosis", "Drug",
           "Envelope", "HlBlock", "ServiceLine", "TransactionHeader"]


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


class HlBlock:
    """An HL segment and the segments of its own loop (2010xx) before the next HL or CLM."""

    __slots__ = ("hl", "text", "_segments", "_slim")

    def __init__(self, segments: tuple[Segment, ...]) -> None:
        self.hl: Segment = segments[0]
        #: the block as it stood in the file (HL .. its last terminator); '' when built
        #: from segments
        self.text = ""
        self._segments: tuple[Segment, ...] | None = segments
        #: its slim copy, made once for all the claims that share the block
        self._slim: HlBlock | None = None

    @classmethod
    def read(cls, hl: Segment, text: str) -> HlBlock:
        """A block from its text (HL first); its segments are built when asked for."""
        block = _new(cls)
        block.hl = hl
        block.text = text
        block._segments = None
        block._slim = None
        return block

    @property
    def segments(self) -> tuple[Segment, ...]:
        segs = self._segments
        if segs is None:
            hl = self.hl
            rest = self.text[hl.end - hl.start :]
            segs = self._segments = (hl, *segments_of(rest, hl.end, hl.ordinal, hl.delims))
        return segs

    @property
    def hl_id(self) -> str:
        return self.hl.get(1)

    @property
    def parent_id(self) -> str:
        return self.hl.get(2)

    @property
    def level(self) -> str:
        return self.hl.get(3)

    def slim(self) -> HlBlock:
        """Only the HL and NM1 segments (what the 277CA and reports read); made once, so the
        slim records of the claims that share the block share one slim block too."""
        slim = self._slim
        if slim is None:
            slim = self._slim = HlBlock(tuple(
                [s for s in self.segments if s.elements[0] in ("HL", "NM1")]))
        return slim

    def nm1(self, entity: str) -> Segment | None:
        for seg in self.segments:
            elements = seg.elements
            if elements[0] == "NM1" and len(elements) > 1 and elements[1] == entity:
                return seg
        return None

    def __repr__(self) -> str:
        return f"HlBlock(hl={self.hl.elements!r})"


#: what a claim read from text sets when it is first asked for one of them
_LAZY = frozenset(("lines", "segments", "diagnoses", "prior_auth", "statement_dates"))


class Claim:
    """Loop 2300 with its hierarchy: billing provider (2000A), subscriber (2000B), patient
    (2000C) and transaction header. ``segments`` runs from CLM to the claim's last segment.

    A claim read from a file (a ``_LazyClaim`` until all of it is read) keeps its text; its
    lines, segments and 2300 fields are set the first time they are asked for, and are plain
    attributes after."""

    __slots__ = ("file", "header", "provider", "subscriber", "patient", "sequence", "clm",
                 "text", "span_dates", "lines", "segments", "diagnoses", "prior_auth",
                 "statement_dates", "_head", "_regular", "_follows", "_plain", "_procs")

    file: str
    header: TransactionHeader
    provider: HlBlock
    subscriber: HlBlock
    patient: HlBlock | None
    sequence: int  # 1-based position of the claim in its transaction
    clm: Segment
    #: the claim as it stood in the file (CLM .. its last terminator, line breaks kept); ''
    #: for a claim built from values (a slim one)
    text: str
    #: first and last valid date of service, kept by :meth:`slim` (computed when empty)
    span_dates: tuple[str, str]
    lines: tuple[ServiceLine, ...]
    segments: tuple[Segment, ...]
    diagnoses: tuple[Diagnosis, ...]
    prior_auth: tuple[Segment, ...]  # 2300 REF*G1
    statement_dates: Segment | None  # 837I DTP*434
    _head: Head | None  # the claim's text and 2300 loop, until they are read
    _regular: bool  # read from a file's regular text (no empty segment): ordinals by counting
    #: the SV1/SV2 text after each LX ('' where the segment after it is none), found in the
    #: text when first asked for (see _lx_follows)
    _follows: list[str] | None
    _plain: PlainScan | None  # the text read for the checks of a claim without drug lines
    _procs: list[tuple[tuple[str, ...], bool, str] | None] | None  # see _procedures

    def __init__(self, file: str, header: TransactionHeader, provider: HlBlock,
                 subscriber: HlBlock, patient: HlBlock | None, segments: tuple[Segment, ...],
                 diagnoses: tuple[Diagnosis, ...], prior_auth: tuple[Segment, ...],
                 statement_dates: Segment | None, lines: tuple[ServiceLine, ...],
                 sequence: int, span_dates: tuple[str, str] = ("", "")) -> None:
        """A claim from its values (its segments, diagnoses and lines already read)."""
        self.file = file
        self.header = header
        self.provider = provider
        self.subscriber = subscriber
        self.patient = patient
        self.sequence = sequence
        self.clm = segments[0]
        self.text = ""
        self.span_dates = span_dates
        self.lines = lines
        self.segments = segments
        self.diagnoses = diagnoses
        self.prior_auth = prior_auth
        self.statement_dates = statement_dates
        self._head = None
        self._regular = False
        self._follows = None
        self._plain = None
        self._procs = None

    @classmethod
    def read(cls, file: str, header: TransactionHeader, provider: HlBlock, subscriber: HlBlock,
             patient: HlBlock | None, clm: Segment, text: str, regular: bool,
             sequence: int) -> Claim:
        """A claim from its text (CLM first); ``regular``: no empty segment in the text
        (ordinals by counting), else it is read segment by segment now."""
        claim = _new(_LazyClaim)
        claim.file = file
        claim.header = header
        claim.provider = provider
        claim.subscriber = subscriber
        claim.patient = patient
        claim.sequence = sequence
        claim.clm = clm
        claim.text = text
        claim.span_dates = ("", "")
        claim._plain = None
        claim._procs = None
        claim._follows = None
        claim._regular = regular
        if regular:
            claim._head = Head(clm, text)
        else:  # read segment by segment
            _, head, lines = _split(clm, text)
            claim._head = Head.of(clm, head)
            claim.lines = ServiceLine.all_of(claim._head, lines)
        return claim

    def _procedures(self) -> list[tuple[tuple[str, ...], bool, str] | None]:
        """Each line's SV101 / SV202 split into components, whether the line is SV2, and its
        charge (SV102 / SV203), from the segment after its LX (None when that is no SV1/SV2:
        read the line); parsed once, for the codes, the lines and the text's checks."""
        found = self._procs
        if found is None:
            delims = self.clm.delims
            sep = delims.element
            comp = delims.component
            found = []
            append = found.append
            for sv in self._lx_follows():  # one per LX: 'SV1' or 'SV2' and the separator first
                if not sv:  # the segment after LX is no SV1/SV2
                    append(None)
                    continue
                inst = sv[2] == "2"
                elements = sv.split(sep, 4 if inst else 3)
                n = len(elements)
                if inst:  # SV202 the procedure, SV203 the charge
                    value = elements[2] if n > 2 else ""
                    charge = elements[3] if n > 3 else ""
                else:  # SV101, SV102
                    value = elements[1] if n > 1 else ""
                    charge = elements[2] if n > 2 else ""
                append((tuple(value.split(comp)) if value else (), inst, charge))
            self._procs = found
        return found

    def _lx_follows(self) -> list[str]:
        """The text of the SV1/SV2 right after each LX ('' where the segment after it is
        none), for a claim read from regular text; found in its text once."""
        found = self._follows
        if found is None:
            found = self._follows = lx_follows(self.text, self.clm.delims)
        return found

    def procedure_codes(self) -> list[str]:
        """Each line's procedure code (SV101-2 / SV202-2), in order: for a claim read from
        regular text, from the segment after each LX (found in its text), without building
        its lines (the same codes as ``[line.code for line in claim.lines]``)."""
        if self._head is None or not self._regular:  # read whole, or not from regular text
            return [line.code for line in self.lines]
        # the lines (read or not) take their procedures from the same search
        procs = self._procedures()
        if None in procs:  # a line whose SV1/SV2 is not right after its LX: read the lines
            return [line.code for line in self.lines]
        return [proc[1] if len(proc) > 1 else "" for proc, _, _ in procs]  # type: ignore[misc]

    def _read_lines(self, head: Head) -> tuple[ServiceLine, ...]:
        return ServiceLine.read_all(head, self._procedures()) if self._regular else ()

    def plain_scan(self) -> PlainScan | None:
        """The claim's text read without building its segments (:func:`scan_plain`), for a
        claim read from a file's regular text and not read whole yet; else None. Kept, so
        the checks and the writers read the text once."""
        found = self._plain
        if found is None:
            head = self._head
            if head is None or not head.text:
                return None
            clm = self.clm
            procs = self._procedures()
            charges = None if None in procs else [p[2] for p in procs]  # type: ignore[index]
            found = self._plain = scan_plain(self.text, clm.start, clm.ordinal, clm.delims,
                                             charges)
        return found

    def date_range(self) -> tuple[str, str]:
        """First and last valid CCYYMMDD of the lines (else the statement dates), or ''."""
        if self.span_dates[0]:
            return self.span_dates
        plain = self._plain
        if plain is not None and plain.dates and None not in plain.dates:
            # every line has its DTP*472: the lines' dates without reading the lines
            found = sorted(d for dates in plain.dates for d in dates.split("-")  # type: ignore[union-attr]
                           if _valid_date(d))
            if found:
                return (found[0], found[-1])
        dates = sorted(d for line in self.lines for d in line.service_dates.split("-")
                       if _valid_date(d))
        statement = self.statement_dates
        if not dates and statement is not None:
            dates = sorted(d for d in statement.get(3).split("-") if _valid_date(d))
        return (dates[0], dates[-1]) if dates else ("", "")

    def _last(self) -> Segment:
        """The claim's last segment (built from the last piece of its text only)."""
        head = self._head
        if head is None:
            return self.segments[-1]
        plain = self._plain
        if plain is not None:
            return plain.last if plain.segment_count > 1 else self.clm
        lines = self.lines
        if lines:
            return lines[-1].segments[-1]
        segs = head.segs()
        return segs[-1] if segs else self.clm

    def slim(self, keep_lines: frozenset[str] = frozenset()) -> Claim:
        """The claim without the segments the 277CA and reports no longer need (all but CLM
        and the last segment, and the lines not in ``keep_lines``; no diagnoses, 2300 REF*G1
        or DTP*434: its date range is kept instead): what a transaction holds until its SE
        when the outputs were streamed."""
        last = self._last()
        return Claim(
            file=self.file, header=self.header, provider=self.provider.slim(),
            subscriber=self.subscriber.slim(),
            patient=self.patient.slim() if self.patient is not None else None,
            segments=(self.clm, last) if last is not self.clm else (self.clm,), diagnoses=(),
            prior_auth=(), statement_dates=None,
            lines=tuple(ln.detach() for ln in self.lines if ln.line_number in keep_lines)
            if keep_lines else (),
            sequence=self.sequence, span_dates=self.date_range())

    @property
    def envelope(self) -> Envelope:
        return self.header.envelope

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
        if self._regular:  # the text ends with the last segment's terminator
            return (self.clm.start, self.clm.start + len(self.text))
        return (self.clm.start, self._last().end)

    def __repr__(self) -> str:
        return f"Claim(clm01={self.clm01!r}, sequence={self.sequence!r}, file={self.file!r})"



class _LazyClaim(Claim):
    """A claim not read yet: asking for a field it has not set reads it (``__getattr__``
    runs only then); read whole, it becomes a plain ``Claim`` (whose attribute reads the
    interpreter keeps fast: a class with ``__getattr__`` loses that)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> object:
        head = _head_of(self) if name in _LAZY else None
        if head is None:  # not a lazy field, or an object being unpickled
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        if name == "lines":
            self.lines = self._read_lines(head)
        elif name == "segments" and self._regular and _untouched(self, head):
            # nothing read yet (the reader reads a claim with drug lines whole): its text
            # split once and its loops read in one pass, not a line at a time
            segs, head.segments, lines = _split(head.clm, head.text)
            self.lines = ServiceLine.all_of(head, lines)
            self.segments = (head.clm, *segs)
            self._read_whole(head)
        elif name == "segments":
            built = [head.clm, *head.segs()]
            for line in self.lines:
                built.extend(line.segments)
            self.segments = tuple(built)
            self._read_whole(head)
        elif name == "diagnoses":
            self.diagnoses = head.dx()
        else:
            fields = head.read()
            self.prior_auth = tuple(fields.prior_auth)
            self.statement_dates = fields.statement
        return object.__getattribute__(self, name)

    def _read_whole(self, head: Head) -> None:
        """The 2300 fields, once the segments are read: everything is read, so the pieces
        are no longer needed and the claim becomes a plain ``Claim``."""
        self.diagnoses = head.dx()
        fields = head.read()
        self.prior_auth = tuple(fields.prior_auth)
        self.statement_dates = fields.statement
        self._head = None
        object.__setattr__(self, "__class__", Claim)  # read whole: plain reads from now

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[object, ...]:
        getattr(self, "segments")  # pickled read (as a Claim)
        return object.__reduce_ex__(self, protocol)


_new = object.__new__


def _split(clm: Segment, text: str) -> tuple[list[Segment], list[Segment],
                                             list[list[Segment]]]:
    """A claim's segments after its CLM (``text``: the claim's, CLM first), built as the
    lexer builds them, and the same cut into its 2300 loop and its lines (LX first)."""
    segs = segments_of(text[clm.end - clm.start :], clm.end, clm.ordinal, clm.delims)
    head, lines = cut_at_lx(segs)
    return segs, head, lines


def _untouched(claim: Claim, head: Head) -> bool:
    """Nothing of the claim's lines or 2300 loop has been read yet."""
    return (head.segments is None and head.lines is None and head.fields is None
            and not is_set(claim, "lines"))


def _head_of(claim: Claim) -> Head | None:
    try:
        head: Head | None = object.__getattribute__(claim, "_head")
    except AttributeError:
        return None
    return head


@dataclass
class _ClaimFields:
    file: str
    header: TransactionHeader
    provider: HlBlock
    subscriber: HlBlock
    patient: HlBlock | None
    segments: tuple[Segment, ...]
    diagnoses: tuple[Diagnosis, ...]
    prior_auth: tuple[Segment, ...]
    statement_dates: Segment | None
    lines: tuple[ServiceLine, ...]
    sequence: int
    span_dates: tuple[str, str] = ("", "")


@dataclass
class _BlockFields:
    segments: tuple[Segment, ...]


# dataclasses.fields() and dataclasses.replace() work on these values as they did when they
# were dataclasses: the fields are their constructors' arguments, read back as attributes
setattr(Claim, "__dataclass_fields__", _ClaimFields.__dataclass_fields__)  # noqa: B010
setattr(HlBlock, "__dataclass_fields__", _BlockFields.__dataclass_fields__)  # noqa: B010
