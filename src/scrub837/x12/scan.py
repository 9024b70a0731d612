"""The lexer's scanning mode: whole segments kept as text, only the segments a reader must
see one by one built (:class:`Scan`), and the exact builder of the rest (:func:`segments_of`).

Regular text (no empty segment, none over the size bound) is scanned by one regular
expression; anything else segment by segment, with the same answers.
"""

from __future__ import annotations

import re
from itertools import chain
from typing import NamedTuple

from scrub837.x12.segment import Delimiters, Segment, too_long


class Scan(NamedTuple):
    """Whole segments as text (each ending in its terminator, line breaks kept), with the
    segments whose id is a key built: ``keys`` holds ``(lead, segment)``, ``lead`` being
    where the segment's text begins in ``text`` (just after the terminator before it, so
    ``text[lead:segment.start - offset]`` is the line break before it). ``regular``: no
    segment of the text is empty, so a segment's ordinal is the count of terminators before
    it."""

    text: str
    offset: int  # byte offset of text[0]
    ordinal: int  # of the segment before text[0]
    delims: Delimiters
    keys: list[tuple[int, Segment]]
    regular: bool


_Patterns = tuple["re.Pattern[str]", "re.Pattern[str]"]
_PATTERNS: dict[tuple[str, str, frozenset[str]], _Patterns] = {}


def after_id(sep: str, term: str) -> str:
    """What ends a segment id in a pattern: its element separator or its terminator (a
    CR LF too, when the terminator is a line feed)."""
    t, s = re.escape(term), re.escape(sep)
    return f"(?={s}|{t}" + (r"|\r\n" if term == "\n" else "") + ")"


def _patterns(sep: str, term: str, keys: frozenset[str]) -> _Patterns:
    """The fast scan's expressions: a segment start (after a terminator and line breaks)
    with a key id (group 1) or an empty segment (no group). The first for the start of the
    text, the second after each terminator."""
    found = _PATTERNS.get((sep, term, keys))
    if found is None:
        t = re.escape(term)
        ids = "|".join(re.escape(k) for k in sorted(keys, key=lambda k: (-len(k), k)))
        # most segments fail on their first character (a third less time than without)
        firsts = "".join(sorted({re.escape(k[0]) for k in keys} | {t}))
        body = f"[ \r\n]*(?=[{firsts}])(?:({ids}){after_id(sep, term)}|(?={t}))"
        found = (re.compile(body), re.compile(t + body))
        if len(_PATTERNS) > 16:
            _PATTERNS.clear()
        _PATTERNS[(sep, term, keys)] = found
    return found


def segments_of(text: str, offset: int, ordinal: int, delims: Delimiters) -> list[Segment]:
    """The segments of ``text`` (whole segments as a :class:`Scan` holds them, ``text[0]`` at
    byte ``offset``, after segment ``ordinal``), built as the lexer builds them."""
    term = delims.segment
    sep = delims.element
    parts = text.split(term)
    parts.pop()  # after the last terminator: nothing, or the next segment's line break
    out: list[Segment] = []
    append = out.append
    pos = offset
    strip_cr = term == "\n"
    new = tuple.__new__
    for part in parts:
        seg_start = pos
        pos += len(part) + 1
        first = part[:1]
        if first == "\n" or first == "\r" or first == " ":
            stripped = part.lstrip(" \r\n")
            seg_start += len(part) - len(stripped)
            part = stripped
            if not part:
                continue
        elif not first:
            continue
        if strip_cr and part[-1] == "\r":
            part = part[:-1]
            if not part:
                continue
        ordinal += 1
        append(new(Segment, (ordinal, seg_start, pos, tuple(part.split(sep)), delims)))
    return out


def scan_regular(text: str, offset: int, before: int, delims: Delimiters,
                 keys: frozenset[str]) -> tuple[Scan, int] | None:
    """The fast scan of ``text`` (whole segments, ``text[0]`` at byte ``offset``, after
    segment ``before``) and the ordinal of its last segment; None when ``text`` has an empty
    segment (then ordinals cannot be counted from terminators). It stops after an IEA."""
    term = delims.segment
    sep = delims.element
    first_re, next_re = _patterns(sep, term, keys)
    ordinal = before
    found: list[tuple[int, Segment]] = []
    append = found.append
    new = tuple.__new__
    strip_cr = term == "\n"
    count = text.count
    find = text.find
    done = 0  # segments before ``done`` are counted into ``ordinal``
    first = first_re.match(text)
    # a match after a terminator starts at it (the segment's lead is one further on); the
    # first segment's match, at 0, is its lead
    bump = 1 if first is None else 0
    for m in next_re.finditer(text) if first is None else chain((first,),
                                                                 next_re.finditer(text)):
        if m.lastindex is None:
            return None  # an empty segment
        lead = m.start() + bump
        bump = 1
        start, _ = m.span(1)
        ordinal += count(term, done, lead) + 1
        done = end = find(term, start) + 1
        part = text[start : end - 1]
        if strip_cr and part[-1] == "\r":
            part = part[:-1]
        seg = new(Segment, (ordinal, offset + start, offset + end, tuple(part.split(sep)),
                            delims))
        append((lead, seg))
        if part[0] == "I" and seg[3][0] == "IEA":
            return Scan(text[:end], offset, before, delims, found, True), ordinal
    return Scan(text, offset, before, delims, found, True), ordinal + count(term, done)


def scan_each(text: str, offset: int, before: int, delims: Delimiters, keys: frozenset[str],
              limit: int) -> tuple[Scan, int, int]:
    """The exact segment-by-segment scan (irregular text): the scan, where an IEA ended it
    (-1 when none did) and the ordinal of its last segment. Raises for a segment over the
    size bound ``limit``."""
    term = delims.segment
    sep = delims.element
    parts = text.split(term)
    parts.pop()
    pos = offset
    ordinal = before
    strip_cr = term == "\n"
    found: list[tuple[int, Segment]] = []
    new = tuple.__new__
    for part in parts:
        lead = seg_start = pos
        size = len(part)
        pos += size + 1
        if size > limit:
            raise too_long(limit, term, seg_start, ordinal + 1)
        first = part[:1]
        if first == "\n" or first == "\r" or first == " ":
            stripped = part.lstrip(" \r\n")
            seg_start += len(part) - len(stripped)
            part = stripped
            if not part:
                continue
        elif not first:
            continue
        if strip_cr and part[-1] == "\r":
            part = part[:-1]
            if not part:
                continue
        ordinal += 1
        cut = part.find(sep)
        sid = part[:cut] if cut >= 0 else part
        if sid not in keys:
            continue
        seg = new(Segment, (ordinal, seg_start, pos, tuple(part.split(sep)), delims))
        found.append((lead - offset, seg))
        if sid == "IEA":
            return (Scan(text[: pos - offset], offset, before, delims, found, False),
                    pos - offset, ordinal)
    return Scan(text, offset, before, delims, found, False), -1, ordinal
