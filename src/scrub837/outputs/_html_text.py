"""The HTML of a finding and of a flagged segment cell written as text: the bytes lxml's HTML
serializer gives for the same elements (``_html_claim`` builds them with lxml when a value
holds a character lxml refuses, so that the refusal, and the report's answer to it, stay the
same).

lxml writes text with ``&``, ``<`` and ``>`` escaped and a carriage return as ``&#13;``, and
everything else as it is (``tests/test_html_text.py`` checks that against lxml for every
character); the attribute values here are constants.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import escape

from scrub837.findings import Finding

#: characters lxml refuses in text (XML 1.0 has no place for them)
INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MARK_TITLE = "the element this finding is about"
EMPTY_MARK = "\u2205"  # shown for a marked element or component that is empty


def text(value: str) -> str:
    """``value`` as lxml writes a text node."""
    out = escape(value, quote=False)
    return out.replace("\r", "&#13;") if "\r" in out else out


def safe(value: str) -> str:
    """Control characters shown as \\xNN (what ``_html_claim.safe`` does)."""
    if _NOT_XML.search(value) is None:
        return value
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02X}", value)


#: finding blocks by their values (a rule's findings repeat their texts): bounded
_BLOCKS: dict[tuple[object, ...], tuple[object, str]] = {}
_BLOCKS_SIZE = 1024


def finding_html(f: Finding) -> str | None:
    """``finding_block(f)`` as text, or None when a value needs lxml's own answer."""
    key = (f.rule_id, f.rejects, f.message, f.fix, f.source)
    try:
        hit = _BLOCKS.get(key)
    except TypeError:  # a plugin's value that cannot be a key
        return _finding_html(f)
    if hit is not None and hit[0] == f.stc:
        return hit[1]
    out = _finding_html(f)
    if out is not None:
        if len(_BLOCKS) >= _BLOCKS_SIZE:
            _BLOCKS.clear()
        _BLOCKS[key] = (f.stc, out)
    return out


def _finding_html(f: Finding) -> str | None:
    rule, stc, fix, source = f.rule_id, f.stc, f.fix, f.source
    if type(rule) is not str or type(fix) is not str or type(source) is not str:
        return None
    codes = " ".join(str(s) for s in stc) + " " if stc else ""
    message = safe(f.message)
    if INVALID.search(rule + codes + message + fix + source) is not None:
        return None
    kind, label = ("reject", "REJECT") if f.rejects else ("warn", "WARNING")
    out = (f'<div class="finding"><span class="badge {kind}">{label}</span> <span class="rule">'
           f"{text(rule)}</span> <span>{text(codes)}</span><div>{text(message)}</div>")
    if fix:
        out += f'<div class="fix"><strong>How to fix: </strong>{text(safe(fix))}</div>'
    if source:
        out += f'<div class="source">Source: {text(safe(source))}</div>'
    return out + "</div>"


def findings_html(findings: list[Finding]) -> str | None:
    """The findings' blocks, one after the other, or None when one needs lxml."""
    out = []
    for f in findings:
        block = finding_html(f)
        if block is None:
            return None
        out.append(block)
    return "".join(out)


def segment_cell_html(values: list[str], marks: dict[tuple[int, int], str], sep: str,
                      comp: str, end: str) -> str | None:
    """The ``td.seg`` of a segment whose elements ``marks`` marks (element, component ->
    ``reject``/``warn``), as ``_segment_cell`` builds it; None when lxml must answer."""
    if INVALID.search(sep.join(values) + end + comp) is not None:
        return None
    pieces = ['<td class="seg">']
    put = pieces.append
    # the unmarked pieces between two marks (values and the delimiters between them) escaped
    # as one text: escaping is character by character, so the same text as piece by piece
    unmarked: list[str] = []
    for value, kind in cell_pieces(values, marks, sep, comp, end):
        if kind is None:
            unmarked.append(value)
            continue
        if unmarked:
            put(text("".join(unmarked)))
            unmarked.clear()
        put(f'<mark class="{kind}" title="{MARK_TITLE}">{text(value)}</mark>')
    if unmarked:
        put(text("".join(unmarked)))
    put("</td>")
    return "".join(pieces)


def cell_pieces(values: list[str], marks: dict[tuple[int, int], str], sep: str, comp: str,
                end: str) -> Iterator[tuple[str, str | None]]:
    """A marked segment's text in pieces, each with the kind of its mark (``reject``/``warn``)
    or None: what both renderers of a segment cell (text here, lxml in ``_html_claim``) write.
    A marked empty element or component is shown as the empty-set sign."""
    for i, value in enumerate(values):
        if i:
            yield sep, None
        kind = marks.get((i, 0))
        if kind is not None:
            yield value or EMPTY_MARK, kind
            continue
        subs = [k for (ei, k) in marks if ei == i and k]
        if not subs:
            yield value, None
            continue
        parts = value.split(comp)
        while len(parts) < max(subs):
            parts.append("")
        for j, part in enumerate(parts, start=1):
            if j > 1:
                yield comp, None
            kind = marks.get((i, j))
            yield (part or EMPTY_MARK, kind) if kind is not None else (part, None)
    yield end, None
