"""Service lines (loop 2400 with its 2410 drug) and the claim head they read dates from.

A line read from a file keeps its text (LX through the segment before the next LX) and is
split into segments only when a field beyond its procedure code is asked for: the procedure
code (SV101 / SV202) is read from the segment after LX without building the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, SupportsIndex

from scrub837.claims._build import (
    HeadFields,
    LineFields,
    first_lx,
    proc_of,
    read_head,
    read_line,
    read_lines_text,
)
from scrub837.claims._values import Diagnosis, Drug
from scrub837.x12.lexer import Segment, segments_of




class Head:
    """A claim's CLM and its text: the 2300 loop (up to the first LX) is read when asked
    for, and the claim's lines read their own segments from the same text."""

    __slots__ = ("clm", "text", "_end", "fields", "segments", "diagnoses", "lines")

    def __init__(self, clm: Segment, text: str, end: int | None = None) -> None:
        self.clm = clm
        self.text = text  # the claim's text, CLM first
        self._end = end  # see ``end``; None until asked for
        self.fields: HeadFields | None = None
        self.segments: list[Segment] | None = None
        self.diagnoses: tuple[Diagnosis, ...] | None = None
        #: every line read at once, when the first is read (the lines take theirs)
        self.lines: list[tuple[list[Segment], LineFields]] | None = None

    @property
    def end(self) -> int:
        """Where the 2300 loop ends in the text: its first LX, else its end (found when first
        asked for: a claim checked from its text never asks)."""
        end = self._end
        if end is None:
            end = self._end = first_lx(self.text, self.clm.delims)
        return end

    def line(self, index: int) -> tuple[list[Segment], LineFields]:
        """Line ``index`` (1-based) of the claim, every line read in one pass the first
        time (a scrub reads them all)."""
        lines = self.lines
        if lines is None:
            clm = self.clm
            end = self.end
            # regular text (no empty segment): the ordinal by counting terminators
            ordinal = clm.ordinal - 1 + self.text.count(clm.delims.segment, 0, end)
            lines = self.lines = read_lines_text(self.text[end:], clm.start + end, ordinal,
                                                 clm.delims)
        return lines[index - 1]

    @classmethod
    def of(cls, clm: Segment, segs: list[Segment]) -> Head:
        head = cls(clm, "", 0)
        head.segments = segs
        return head

    def read(self) -> HeadFields:
        fields = self.fields
        if fields is None:
            fields = self.fields = read_head(self.segs())
        return fields

    def dx(self) -> tuple[Diagnosis, ...]:
        found = self.diagnoses
        if found is None:
            found = self.diagnoses = tuple(Diagnosis(*d) for d in self.read().diagnoses)
        return found

    def segs(self) -> list[Segment]:
        segs = self.segments
        if segs is None:
            clm = self.clm
            segs = self.segments = segments_of(self.text[clm.end - clm.start : self.end],
                                               clm.end, clm.ordinal, clm.delims)
        return segs

    def claim_dates(self) -> str:
        statement = self.read().statement
        return statement.get(3) if statement is not None else ""


#: what a line read from text sets when it is first asked for one of them
_LAZY = frozenset(("lx", "sv", "dtp_472", "ref_6r", "prior_auth", "notes", "drug", "segments",
                   "claim_dates", "proc", "is_institutional"))


class ServiceLine:
    """Loop 2400 (LX .. before the next LX/CLM/HL/SE), with its 2410 drug when present.

    A line read from a claim's text (a ``_LazyLine`` until read) has its procedure
    (``proc``) when the lexer saw it beside its LX; its other fields are set from its segments
    the first time one is asked for, and it is then a plain ``ServiceLine``."""

    __slots__ = ("index", "lx", "sv", "dtp_472", "ref_6r", "prior_auth", "notes", "drug",
                 "segments", "claim_dates", "proc", "is_institutional", "_head")

    index: int  # 1-based position of the line in the claim
    lx: Segment | None
    sv: Segment | None  # SV1 (837P) or SV2 (837I)
    dtp_472: Segment | None
    ref_6r: Segment | None
    prior_auth: tuple[Segment, ...]  # line-level REF*G1 (837P)
    notes: tuple[Segment, ...]
    drug: Drug | None
    segments: tuple[Segment, ...]
    claim_dates: str  # 837I: statement dates (DTP*434) when the line has no DTP*472
    #: SV101 / SV202 split into components (qualifier, code, modifiers 1-4, description)
    proc: tuple[str, ...]
    is_institutional: bool
    _head: Head | None  # the claim's text, until the line is read

    def __init__(self, index: int, lx: Segment | None, sv: Segment | None,
                 dtp_472: Segment | None, ref_6r: Segment | None,
                 prior_auth: tuple[Segment, ...], notes: tuple[Segment, ...], drug: Drug | None,
                 segments: tuple[Segment, ...], claim_dates: str = "",
                 proc: tuple[str, ...] = (), is_institutional: bool = False) -> None:
        self.index = index
        self.lx = lx
        self.sv = sv
        self.dtp_472 = dtp_472
        self.ref_6r = ref_6r
        self.prior_auth = prior_auth
        self.notes = notes
        self.drug = drug
        self.segments = segments
        self.claim_dates = claim_dates
        self.proc = proc
        self.is_institutional = is_institutional
        self._head = None

    @staticmethod
    def read_all(head: Head, procs: list[tuple[tuple[str, ...], bool, str] | None],
                 ) -> tuple[ServiceLine, ...]:
        """The lines of the claim whose text ``head`` holds, each read when first asked for
        a field beyond its procedure (``head.line``); ``procs``: each line's SV101/SV202
        components and SV2 flag when known (None: read them then). One call per claim:
        every claim of a read passes here, and a call per line was a tenth of its time."""
        out = []
        index = 0
        for got in procs:
            index += 1
            line = _new(_LazyLine)
            line.index = index
            line._head = head
            if got is not None:
                line.proc, line.is_institutional, _ = got
            out.append(line)
        return tuple(out)

    @classmethod
    def all_of(cls, head: Head, lines: list[list[Segment]]) -> tuple[ServiceLine, ...]:
        """A claim's lines from the segments of each (LX first), numbered from 1."""
        return tuple(cls.of(i, head, segs) for i, segs in enumerate(lines, start=1))

    @classmethod
    def of(cls, index: int, head: Head, segs: list[Segment]) -> ServiceLine:
        """A line from its segments (LX first)."""
        line = _new(cls)
        line.index = index
        line._head = head
        line._fill(segs, read_line(segs), False)
        return line

    # -- reading ---------------------------------------------------------------------------

    def _fill(self, segs: list[Segment], got: LineFields, has_proc: bool = True) -> None:
        """The line's fields from its segments and what read_line read of them;
        ``has_proc``: its procedure may be set already (a lazy line's, from beside its LX)."""
        head = self._head
        self.lx = segs[0]
        self.sv = got.sv
        self.dtp_472 = got.dtp
        self.ref_6r = got.ref_6r
        self.prior_auth = tuple(got.auth)
        self.notes = tuple(got.notes)
        self.drug = Drug(got.lin, got.ctp, tuple(got.drug_refs)) if got.lin is not None else None
        self.segments = tuple(segs)
        self.claim_dates = head.claim_dates() if got.dtp is None and head is not None else ""
        if not (has_proc and is_set(self, "proc")):
            self.proc, self.is_institutional = proc_of(got.sv)
        self._head = None  # read: the claim's text is no longer needed
        if type(self) is _LazyLine:
            object.__setattr__(self, "__class__", ServiceLine)  # plain reads from now on

    def fields(self) -> Fields:
        """Every field of the line at once."""
        return _new_fields(Fields, (self.lx, self.sv, self.dtp_472, self.ref_6r,
                                    self.prior_auth, self.notes, self.drug, self.segments,
                                    self.claim_dates))

    def detach(self) -> ServiceLine:
        """Read, keeping no text (what a slim claim keeps)."""
        if isinstance(self, _LazyLine) and self._head is not None:
            self._read()
        return self

    def __repr__(self) -> str:
        return f"ServiceLine(index={self.index!r}, code={self.code!r})"

    # -- fields read from the segments -----------------------------------------------------

    def _proc_at(self, sub: int) -> str:
        proc = self.proc
        return proc[sub - 1] if sub <= len(proc) else ""

    @property
    def qualifier(self) -> str:
        return self._proc_at(1)

    @property
    def code(self) -> str:
        """SV101-2 / SV202-2."""
        proc = self.proc  # read by every edit of a drug line: inline, not through _proc_at
        return proc[1] if len(proc) > 1 else ""

    @property
    def modifiers(self) -> tuple[str, ...]:
        return tuple(m for m in self.proc[2:6] if m)

    @property
    def description(self) -> str:
        """SV101-7 / SV202-7."""
        return self._proc_at(7)

    def _sv_at(self, professional: int) -> str:
        """SV1 element ``professional``, or its SV2 counterpart one further on ('' without)."""
        sv = self.sv
        if sv is None:
            return ""
        return sv.get(professional + 1 if self.is_institutional else professional)

    @property
    def charge(self) -> str:
        return self._sv_at(2)  # SV102 / SV203

    @property
    def unit_basis(self) -> str:
        return self._sv_at(3)  # SV103 / SV204

    @property
    def units(self) -> str:
        return self._sv_at(4)  # SV104 / SV205

    @property
    def place_of_service(self) -> str:
        sv = self.sv
        return "" if sv is None or self.is_institutional else sv.get(5)

    @property
    def revenue_code(self) -> str:
        sv = self.sv
        return sv.get(1) if sv is not None and self.is_institutional else ""

    @property
    def dx_pointers(self) -> tuple[str, ...]:
        sv = self.sv
        if sv is None or self.is_institutional:
            return ()
        return tuple(p for p in sv.components(7) if p)

    # the accessors below are read many times per line: Segment.get inlined

    @property
    def line_number(self) -> str:
        lx = self.lx
        if lx:
            elements = lx.elements
            return elements[1] if len(elements) > 1 else ""
        return str(self.index)

    @property
    def line_control(self) -> str:
        """REF*6R, the line item control number echoed in 277CA REF*FJ."""
        ref = self.ref_6r
        if ref:
            elements = ref.elements
            return elements[2] if len(elements) > 2 else ""
        return ""

    @property
    def service_date(self) -> str:
        """The first date of DTP*472 (D8, or the start of RD8), else the claim's statement dates."""
        raw = self.service_dates
        return raw.split("-")[0] if raw else ""

    @property
    def service_dates(self) -> str:
        dtp = self.dtp_472
        if dtp:
            elements = dtp.elements
            return elements[3] if len(elements) > 3 else ""
        return self.claim_dates


class _LazyLine(ServiceLine):
    """A line not read yet: asking for a field it has not set reads it (``__getattr__``
    runs only then), and it becomes a plain ``ServiceLine`` (whose attribute reads the
    interpreter keeps fast: a class with ``__getattr__`` loses that)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> object:
        if name in _LAZY:
            try:
                head = object.__getattribute__(self, "_head")
            except AttributeError:  # an object being unpickled
                head = None
            if head is not None:
                self._read()
                return object.__getattribute__(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _read(self) -> None:
        head = self._head
        assert head is not None
        segs, got = head.line(self.index)
        self._fill(segs, got)

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[object, ...]:
        self.detach()  # pickled read (as a ServiceLine)
        return object.__reduce_ex__(self, protocol)


class Fields(NamedTuple):
    """A line's fields at once (``ServiceLine.fields()``)."""

    lx: Segment | None
    sv: Segment | None
    dtp_472: Segment | None
    ref_6r: Segment | None
    prior_auth: tuple[Segment, ...]
    notes: tuple[Segment, ...]
    drug: Drug | None
    segments: tuple[Segment, ...]
    claim_dates: str

_new = object.__new__
_new_fields = tuple.__new__


def is_set(obj: object, name: str) -> bool:
    """The slot ``name`` of ``obj`` holds a value (read without the lazy ``__getattr__``)."""
    try:
        object.__getattribute__(obj, name)
    except AttributeError:
        return False
    return True


@dataclass
class _LineFields:
    index: int
    lx: Segment | None
    sv: Segment | None
    dtp_472: Segment | None
    ref_6r: Segment | None
    prior_auth: tuple[Segment, ...]
    notes: tuple[Segment, ...]
    drug: Drug | None
    segments: tuple[Segment, ...]
    claim_dates: str = ""
    proc: tuple[str, ...] = ()
    is_institutional: bool = False


# dataclasses.fields() and dataclasses.replace() work on these values as they did when they
# were dataclasses: the fields are their constructors' arguments, read back as attributes
setattr(ServiceLine, "__dataclass_fields__", _LineFields.__dataclass_fields__)  # noqa: B010
