"""The loops inside a claim, read from its segments (pure functions, no claim values).

Loop detection inside 2300 follows the 5010 guides: 2310x start with NM1, 2320 with SBR, 2330x
with NM1 after SBR, 2400 with LX, 2410 with LIN, 2420x with NM1 inside a line, 2430 with SVD.
A claim is cut into its head (CLM .. the segment before the first LX) and its lines (each LX ..
the segment before the next LX); each piece is read here when it is first asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from scrub837.x12.lexer import Delimiters, Segment

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


def _diagnoses(hi: Segment, position: int, out: list[DxFields]) -> int:
    comp = hi.delims.component
    for index, value in enumerate(hi.elements[1:], start=1):
        if not value:
            continue
        parts = value.split(comp)
        qualifier = parts[0]
        if qualifier not in DX_QUALIFIERS:
            continue
        code = parts[1] if len(parts) > 1 else ""
        pos = 0
        if qualifier in POINTER_QUALIFIERS:
            position += 1
            pos = position
        out.append((qualifier, code, pos, hi, index))
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
    """Loop 2400 from its segments after LX (up to the next LX or the claim's end)."""
    sv = dtp = ref_6r = lin = ctp = None
    auth: list[Segment] = []
    notes: list[Segment] = []
    drug_refs: list[Segment] = []
    loop = "2400"
    for seg in segs:
        sid = seg.elements[0]
        if sid in ("SV1", "SV2") and sv is None:
            sv = seg
        elif sid == "LIN":
            lin = seg
            loop = "2410"
        elif sid == "NM1":
            loop = "2420"
        elif sid == "SVD":
            loop = "2430"
        elif loop == "2400":
            if sid == "DTP" and seg.get(1) == "472":
                dtp = seg
            elif sid == "REF":
                qual = seg.get(1)
                if qual == "6R":
                    ref_6r = seg
                elif qual == "G1":
                    auth.append(seg)
            elif sid == "NTE":
                notes.append(seg)
        elif loop == "2410":
            if sid == "CTP" and ctp is None:
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
    segments of each line (LX first) and what :func:`read_line` reads from them, in one
    pass over the text (every line of a scrub is read: this is on the hot path)."""
    term = delims.segment
    sep = delims.element
    parts = text.split(term)
    parts.pop()  # after the last terminator: nothing, or the next segment's line break
    out: list[tuple[list[Segment], LineFields]] = []
    new = tuple.__new__
    strip_cr = term == "\n"
    pos = offset
    segs: list[Segment] = []
    sv = dtp = ref_6r = lin = ctp = None
    auth: list[Segment] = []
    notes: list[Segment] = []
    drug_refs: list[Segment] = []
    loop = 0  # 0: 2400, 1: 2410, 2: 2420/2430
    for part in parts:
        seg_start = pos
        pos += len(part) + 1
        if not part:
            continue
        first = part[0]
        if first == "\n" or first == "\r" or first == " ":
            stripped = part.lstrip(" \r\n")
            seg_start += len(part) - len(stripped)
            part = stripped
            if not part:
                continue
        if strip_cr and part[-1] == "\r":
            part = part[:-1]
            if not part:
                continue
        ordinal += 1
        elements = tuple(part.split(sep))
        seg = new(Segment, (ordinal, seg_start, pos, elements, delims))
        sid = elements[0]
        if sid == "LX":
            if segs:
                out.append((segs, LineFields(sv, dtp, ref_6r, auth, notes, lin, ctp,
                                             drug_refs)))
            segs = [seg]
            sv = dtp = ref_6r = lin = ctp = None
            auth, notes, drug_refs = [], [], []
            loop = 0
            continue
        segs.append(seg)
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
    if segs:
        out.append((segs, LineFields(sv, dtp, ref_6r, auth, notes, lin, ctp, drug_refs)))
    return out
