"""The loops inside a claim, read from its segments (pure functions, no claim values).

Loop detection inside 2300 follows the 5010 guides: 2310x start with NM1, 2320 with SBR, 2330x
with NM1 after SBR, 2400 with LX, 2410 with LIN, 2420x with NM1 inside a line, 2430 with SVD.
A claim is cut into its head (CLM .. the segment before the first LX) and its lines (each LX ..
the segment before the next LX); each piece is read here when it is first asked for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from scrub837.x12.lexer import Delimiters, Segment, segments_of
from scrub837.x12.scan import after_id

#: HI qualifiers that carry diagnoses (837P: ABK/ABF/BK/BF; 837I also ABJ/BJ, APR/PR, ABN/BN).
DX_QUALIFIERS = frozenset({"ABK", "ABF", "BK", "BF", "ABJ", "BJ", "APR", "PR", "ABN", "BN"})
ICD9_QUALIFIERS = frozenset({"BK", "BF", "BJ", "PR", "BN"})
#: The qualifiers SV107 pointers count (principal and other diagnoses, in HI order).
POINTER_QUALIFIERS = frozenset({"ABK", "ABF", "BK", "BF"})

#: (qualifier, code, position, HI segment, element index) of one diagnosis composite
DxFields = tuple[str, str, int, Segment, int]


class HeadFields(NamedTuple):
    """What the 2300 loop itself says (its sub-loops 2310x/2320/2330x skipped)."""

    diagnoses: list[DxFields]
    prior_auth: list[Segment]  # REF*G1
    statement: Segment | None  # DTP*434


class LineFields(NamedTuple):
    """Loop 2400 (and its 2410 drug) read from the line's segments, LX first."""

    sv: Segment | None
    dtp: Segment | None
    ref_6r: Segment | None
    auth: list[Segment]
    notes: list[Segment]
    lin: Segment | None
    ctp: Segment | None
    drug_refs: list[Segment]


def diagnosis_composites(elements: Sequence[str], comp: str, position: int,
                         out: list[tuple[str, str, int, int]]) -> int:
    """The diagnoses of an HI segment's elements: (qualifier, code, position, element index)
    of each composite with a diagnosis qualifier, appended to ``out``; ``position`` counts the
    principal and other diagnoses before this HI (SV107 pointers count them), and the count
    after it is returned."""
    for index, value in enumerate(elements[1:], start=1):
        if not value:
            continue
        parts = value.split(comp)
        qualifier = parts[0]
        if qualifier not in DX_QUALIFIERS:
            continue
        pos = 0
        if qualifier in POINTER_QUALIFIERS:
            position += 1
            pos = position
        out.append((qualifier, parts[1] if len(parts) > 1 else "", pos, index))
    return position


def _diagnoses(hi: Segment, position: int, out: list[DxFields]) -> int:
    found: list[tuple[str, str, int, int]] = []
    position = diagnosis_composites(hi.elements, hi.delims.component, position, found)
    out.extend([(qualifier, code, pos, hi, index) for qualifier, code, pos, index in found])
    return position


def read_head(segs: Sequence[Segment]) -> HeadFields:
    """The 2300 loop from its segments after CLM (up to the first LX)."""
    diagnoses: list[DxFields] = []
    position = 0
    prior_auth: list[Segment] = []
    statement: Segment | None = None
    loop = "2300"
    for seg in segs:
        sid = seg.elements[0]
        if sid == "SBR":
            loop = "2320"
        elif sid == "NM1":
            loop = "2330" if loop in ("2320", "2330") else "2310"
        elif loop == "2300":
            if sid == "HI":
                position = _diagnoses(seg, position, diagnoses)
            elif sid == "REF" and seg.get(1) == "G1":
                prior_auth.append(seg)
            elif sid == "DTP" and seg.get(1) == "434":
                statement = seg
    return HeadFields(diagnoses, prior_auth, statement)


def read_line(segs: Sequence[Segment]) -> LineFields:
    """Loop 2400 from its segments (up to the next LX or the claim's end; its LX first or not:
    it sets no field). Every line of a scrub is read here: elements are read directly."""
    sv = dtp = ref_6r = lin = ctp = None
    auth: list[Segment] = []
    notes: list[Segment] = []
    drug_refs: list[Segment] = []
    loop = 0  # 0: 2400, 1: 2410, 2: 2420/2430
    for seg in segs:
        elements = seg[3]
        sid = elements[0]
        if (sid == "SV1" or sid == "SV2") and sv is None:
            sv = seg
        elif sid == "LIN":
            lin = seg
            loop = 1
        elif sid == "NM1" or sid == "SVD":
            loop = 2
        elif loop == 0:
            if sid == "DTP":
                if len(elements) > 1 and elements[1] == "472":
                    dtp = seg
            elif sid == "REF":
                qual = elements[1] if len(elements) > 1 else ""
                if qual == "6R":
                    ref_6r = seg
                elif qual == "G1":
                    auth.append(seg)
            elif sid == "NTE":
                notes.append(seg)
        elif loop == 1:
            if sid == "CTP":
                if ctp is None:
                    ctp = seg
            elif sid == "REF":
                drug_refs.append(seg)
    return LineFields(sv, dtp, ref_6r, auth, notes, lin, ctp, drug_refs)


def proc_of(sv: Segment | None) -> tuple[tuple[str, ...], bool]:
    """SV101 (837P) or SV202 (837I) split into components, and whether the line is SV2."""
    if sv is None:
        return (), False
    institutional = sv.elements[0] == "SV2"
    return tuple(sv.components(2 if institutional else 1)), institutional


def cut_at_lx(segs: Sequence[Segment]) -> tuple[list[Segment], list[list[Segment]]]:
    """A claim's segments after CLM cut into its head and its lines (each starting at LX)."""
    head: list[Segment] = []
    lines: list[list[Segment]] = []
    current = head
    for seg in segs:
        if seg.elements[0] == "LX":
            current = [seg]
            lines.append(current)
        else:
            current.append(seg)
    return head, lines


def read_lines_text(text: str, offset: int, ordinal: int,
                    delims: Delimiters) -> list[tuple[list[Segment], LineFields]]:
    """Every line of a claim from the text of its lines (its first LX .. its end): the
    segments of each line (LX first), built as the lexer builds them, and what
    :func:`read_line` reads from them."""
    _, lines = cut_at_lx(segments_of(text, offset, ordinal, delims))
    return [(segs, read_line(segs)) for segs in lines]

class PlainScan(NamedTuple):
    """What a claim without drug lines is checked and written from, found in its text by
    one regular-expression search, without building its segments (:func:`scan_plain`)."""

    dtps: list[str]  # the text of every DTP of the claim, in order
    #: each line's SV102 / SV203 ('' without it); None when a line's SV1/SV2 is not the
    #: segment right after its LX (then the lines are read)
    charges: list[str] | None
    controls: list[str]  # REF02 of every REF*6R of the claim (those of its lines among them)
    dates: list[str | None]  # each line's DTP*472 DTP03 (None without one)
    segment_count: int  # the claim's segments
    gap: int  # characters between the CLM's terminator and the next segment
    last: Segment  # the claim's last segment, as the reader builds it


#: the white space the lexer passes over before a segment (line breaks, spaces)
WHITE = re.compile("[ \r\n]*")
_PLAIN: dict[tuple[str, str], re.Pattern[str]] = {}
#: by terminator and line break: a terminator not followed by exactly that line break and
#: then a segment
_IRREGULAR: dict[tuple[str, str], re.Pattern[str]] = {}


def evenly_broken(text: str, term: str, brk: str, count: int) -> bool:
    """``text`` (as read from the file: whole segments) is its ``count`` segments joined by
    ``term + brk``: no empty segment, every terminator but the last followed by exactly
    ``brk`` and then a segment, no other white space ('' never is: a value built from
    segments)."""
    if not text or term in " \r\n" or text.count(term) != count:
        return False
    pattern = _IRREGULAR.get((term, brk))
    if pattern is None:
        pattern = _IRREGULAR[(term, brk)] = re.compile(
            f"{re.escape(term)}(?!{re.escape(brk)}[^ \r\n])")
    return pattern.search(text, 0, len(text) - 1) is None


def _plain_pattern(sep: str, term: str) -> re.Pattern[str]:
    """At a segment's start (after a terminator and line breaks): an LX (group 1), a DTP
    (group 2: its text), a REF*6R (group 3: its REF02), or a LIN, NM1 or SVD (group 4),
    which open the loops inside a line (2410, 2420, 2430)."""
    found = _PLAIN.get((sep, term))
    if found is None:
        t, s = re.escape(term), re.escape(sep)
        found = _PLAIN[(sep, term)] = re.compile(
            rf"{t}[ \r\n]*(?:(LX)(?=[{s}{t}])|(DTP(?:{s}[^{t}]*)?)(?={t})"
            rf"|REF{s}6R{s}([^{s}{t}]*)|(LIN|NM1|SVD)(?=[{s}{t}]))")
    return found


def scan_plain(text: str, offset: int, ordinal: int, delims: Delimiters,
               charges: list[str] | None) -> PlainScan | None:
    """A claim read from regular text (CLM first, at byte ``offset``, segment ``ordinal``;
    its lines' charges as the segment after each LX gives them, None when one is not an
    SV1/SV2) scanned for the checks and the split of a claim without drug lines: its DTPs,
    its lines' REF*6R and dates of service
    (read as :func:`read_lines_text` reads them: a line's DTP*472 before any LIN, NM1 or
    SVD of the line), its segment count and last segment. None for a terminator that is
    white space (those texts are read the segments' way)."""
    term = delims.segment
    if len(term) != 1 or term in " \r\n":
        return None
    sep = delims.element
    dos = f"DTP{sep}472"
    n_dos = len(dos)
    dtps: list[str] = []
    controls: list[str] = []
    dates: list[str | None] = []
    line = -1
    own = False  # in the line's own loop (2400), not in a 2410/2420/2430 inside it
    for lx, dtp, ref, loop in _plain_pattern(sep, term).findall(text):
        if lx:
            dates.append(None)
            line += 1
            own = True
        elif dtp:
            dtps.append(dtp)
            if own and dtp.startswith(dos) and (len(dtp) == n_dos or dtp[n_dos] == sep):
                elements = dtp.split(sep, 4)
                dates[line] = elements[3] if len(elements) > 3 else ""
        elif loop:
            own = False
        else:
            controls.append(ref)
    count = text.count(term)
    brk = text.find(term) + 1
    gap = WHITE.match(text, brk).end() - brk  # type: ignore[union-attr]
    cut = text.rfind(term, 0, len(text) - 1) + 1  # the last segment's lead (0: the CLM)
    part = text[cut:-1]
    stripped = part.lstrip(" \r\n")
    start = offset + cut + len(part) - len(stripped)
    last = tuple.__new__(Segment, (ordinal + count - 1, start, offset + len(text),
                                   tuple(stripped.split(sep)), delims))
    return PlainScan(dtps, charges, controls, dates, count, gap, last)


_LX: dict[tuple[str, str], tuple[re.Pattern[str], re.Pattern[str] | None]] = {}


def _lx_patterns(sep: str, term: str) -> tuple[re.Pattern[str], re.Pattern[str] | None]:
    """An LX segment's start in a claim's regular text (after a terminator and line breaks),
    and the same with the text of the segment after it when that is an SV1 or SV2 (group 1;
    None for a line-break terminator, where segments may hold a CR)."""
    found = _LX.get((sep, term))
    if found is None:
        t, s = re.escape(term), re.escape(sep)
        lx = f"{t}[ \r\n]*LX{after_id(sep, term)}"
        follow = None if term in "\r\n" else re.compile(
            lx + f"(?:[^{t}]*{t}[ \r\n]*((?:SV1|SV2)(?={s})[^{t}]*))?")
        found = (re.compile(lx), follow)
        if len(_LX) > 16:
            _LX.clear()
        _LX[(sep, term)] = found
    return found


def first_lx(text: str, delims: Delimiters) -> int:
    """Where the first LX's text begins in a claim's regular text (just after the terminator
    before it), or the text's length without one: the end of the 2300 loop."""
    found = _lx_patterns(delims.element, delims.segment)[0].search(text)
    return found.start() + 1 if found is not None else len(text)


def lx_follows(text: str, delims: Delimiters) -> list[str]:
    """For each LX of a claim's regular text, the text of the segment right after it when
    that is an SV1 or SV2 (the line's procedure), else ''; one search of the text."""
    lx, follow = _lx_patterns(delims.element, delims.segment)
    if follow is None:
        return [""] * len(lx.findall(text))
    found: list[str] = follow.findall(text)
    return found
