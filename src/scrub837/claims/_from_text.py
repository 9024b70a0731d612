"""A claim's 2300 loop and chosen lines read straight from its text, for a writer that needs
values and locations but no segments (``extract``'s records). Pure.

The loops are told apart as :func:`~scrub837.claims._build.read_head` and
:func:`~scrub837.claims._build.read_line` tell them; each segment read is split into its
elements once, as a list, and the others are passed over by their ids. The lines not asked
for are passed over whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

from scrub837.claims._build import WHITE, diagnosis_composites, evenly_broken
from scrub837.claims.model import Claim

_GUARDS: dict[str, Callable[[str], object]] = {}

#: (ordinal, start, end) of a segment: where a writer says it is
Place = tuple[int, int, int]


def _guard(term: str) -> Callable[[str], object]:
    """A search, in a claim's segments joined by their terminator without line breaks, for a
    segment read here that has no element (the text is then left to the segments' reading;
    the first segment is the CLM)."""
    found = _GUARDS.get(term)
    if found is None:
        t = re.escape(term)
        found = re.compile(f"{t}(?:LX|SV1|SV2|LIN|CTP|DTP|REF|NTE|HI|SBR|NM1|SVD){t}").search
        if len(_GUARDS) > 16:
            _GUARDS.clear()
        _GUARDS[term] = found
    return found


class TextLine:
    """One line (loop 2400 and its 2410) as read from the claim's text: the segments read,
    as elements, and where they are."""

    __slots__ = ("index", "lx", "place", "end", "sv", "sv_at", "dtp", "ref_6r", "auth",
                 "notes", "lin", "lin_at", "ctp", "ctp_at", "drug_refs")

    def __init__(self, index: int) -> None:
        self.index = index  # 1-based
        self.lx = ""  # LX01
        self.place: Place = (0, 0, 0)  # of its LX; ``end``: where its last segment ends
        self.end = 0
        self.sv: list[str] | None = None  # the first SV1/SV2
        self.sv_at: Place = (0, 0, 0)
        self.dtp: list[str] | None = None  # the last DTP*472 of 2400
        self.ref_6r: list[str] | None = None  # the last REF*6R of 2400
        self.auth: list[str] = []  # REF02 of each REF*G1 of 2400
        self.notes: list[str] = []  # NTE02 of each NTE of 2400
        self.lin: list[str] | None = None  # the last LIN
        self.lin_at: Place = (0, 0, 0)
        self.ctp: list[str] | None = None  # the first CTP of a 2410
        self.ctp_at: Place | None = None
        self.drug_refs: list[list[str]] = []  # each REF of a 2410


class TextClaim(NamedTuple):
    """The 2300 loop itself (its sub-loops 2310x/2320/2330x passed over), every NTE of the
    claim, and the lines asked for, in the order asked."""

    #: (qualifier, code, position, HI ordinal, element index) of each diagnosis composite
    diagnoses: list[tuple[str, str, int, int, int]]
    prior_auth: list[str]  # REF02 of each 2300 REF*G1
    dates: str  # DTP03 of the last 2300 DTP*434 ('' without one)
    notes: list[str]  # NTE02 of every NTE of the claim
    lines: list[TextLine]


def read_text(claim: Claim, indexes: Sequence[int] | None,
              refuse: Callable[[str], object]) -> TextClaim | None:
    """The claim's 2300 values and its lines ``indexes`` (0-based; None: every line) from
    its text. None when the claim was not read from regular text, or its text is not evenly
    broken (the same line break after every terminator, no empty segment, no space before a
    segment), holds a segment read here without elements, or something ``refuse`` finds
    in its segments' text (without line breaks), or a line asked for has no SV1/SV2."""
    text = claim.text
    if not text or not claim._regular:
        return None
    clm = claim.clm
    delims = clm.delims
    term = delims.segment
    if len(term) != 1 or term in " \r\n" or text[-1] != term:
        return None
    sep = delims.element
    after = clm.end - clm.start  # just after the CLM's terminator
    brk = text[after : WHITE.match(text, after).end()]  # type: ignore[union-attr]
    joint = term + brk
    parts = text[:-1].split(joint)
    if (" " in brk or not evenly_broken(text, term, brk, len(parts))
            or refuse("".join(parts)) or _guard(term)(term.join(parts) + term)):
        return None
    nb = len(brk)
    count = text.count
    find = text.find
    # each LX's text (evenly broken: every segment but the CLM follows a terminator and the
    # break, and an LX without elements was refused) and its index in parts
    needle = joint + "LX" + sep
    marks = []
    at = find(needle)
    while at >= 0:
        marks.append(at + 1)
        at = find(needle, at + 1)
    if not marks:
        return None
    first = [count(term, 0, mark) for mark in marks]
    notes = ([p.split(sep, 3)[2] if p.count(sep) > 1 else "" for p in parts
              if p.startswith("NTE" + sep)] if "NTE" + sep in text else [])
    dx, auth, dates = _head(parts, first[0], sep, delims.component, clm.ordinal)
    base = clm.start
    lines = []
    for at in range(len(marks)) if indexes is None else indexes:
        lo = first[at]
        hi = first[at + 1] if at + 1 < len(first) else len(parts)
        line = _line(parts, lo, hi, at + 1, sep, clm.ordinal + lo, base + marks[at] + nb,
                     len(joint))
        if line.sv is None:
            return None
        lines.append(line)
    return TextClaim(dx, auth, dates, notes, lines)


def _head(parts: list[str], end: int, sep: str, comp: str,
          ordinal: int) -> tuple[list[tuple[str, str, int, int, int]], list[str], str]:
    """The 2300 loop itself from its segments (``parts[1:end]``, CLM at ``ordinal``)."""
    dx: list[tuple[str, str, int, int, int]] = []
    position = 0
    auth: list[str] = []
    dates = ""
    for i in range(1, end):
        part = parts[i]
        cut = part.find(sep)
        sid = part[:cut] if cut >= 0 else part
        if sid == "HI":
            found: list[tuple[str, str, int, int]] = []
            position = diagnosis_composites(part.split(sep), comp, position, found)
            dx.extend([(qualifier, code, pos, ordinal + i, index)
                       for qualifier, code, pos, index in found])
        elif sid == "REF":
            elements = part.split(sep)
            if elements[1] == "G1":
                auth.append(elements[2] if len(elements) > 2 else "")
        elif sid == "DTP":
            elements = part.split(sep)
            if elements[1] == "434":
                dates = elements[3] if len(elements) > 3 else ""
        elif sid == "SBR" or sid == "NM1":  # 2320 or 2310x: the rest is not 2300's own
            break
    return dx, auth, dates


def _line(parts: list[str], lo: int, hi: int, index: int, sep: str, ordinal: int, start: int,
          step: int) -> TextLine:
    """Line ``index`` from its segments ``parts[lo:hi]`` (LX first, at ``ordinal``, its
    text at byte ``start``; ``step``: a terminator and line break)."""
    line = TextLine(index)
    lx = parts[lo]
    line.lx = lx[3:].split(sep, 1)[0]
    pos = start + len(lx) + step
    line.place = (ordinal, start, pos - step + 1)
    loop = 0  # 0: 2400, 1: 2410, 2: 2420/2430
    for i in range(lo + 1, hi):
        part = parts[i]
        ordinal += 1
        here = pos
        pos += len(part) + step
        cut = part.find(sep)
        sid = part[:cut] if cut >= 0 else part
        if (sid == "SV1" or sid == "SV2") and line.sv is None:
            line.sv = part.split(sep)
            line.sv_at = (ordinal, here, pos - step + 1)
        elif sid == "LIN":
            line.lin = part.split(sep)
            line.lin_at = (ordinal, here, pos - step + 1)
            loop = 1
        elif sid == "NM1" or sid == "SVD":
            loop = 2
        elif loop == 0:
            if sid == "DTP":
                elements = part.split(sep)
                if elements[1] == "472":
                    line.dtp = elements
            elif sid == "REF":
                elements = part.split(sep)
                if elements[1] == "6R":
                    line.ref_6r = elements
                elif elements[1] == "G1":
                    line.auth.append(elements[2] if len(elements) > 2 else "")
            elif sid == "NTE":
                elements = part.split(sep)
                line.notes.append(elements[2] if len(elements) > 2 else "")
        elif loop == 1:
            if sid == "CTP":
                if line.ctp is None:
                    line.ctp = part.split(sep)
                    line.ctp_at = (ordinal, here, pos - step + 1)
            elif sid == "REF":
                line.drug_refs.append(part.split(sep))
    line.end = pos - step + 1
    return line
