"""One claim's part of the HTML report: its segments (the offending element marked, the finding
beside it), built with lxml, except the plain segment rows (no finding on them): they are most
of a report, so they are written as text with every value escaped by ``html.escape`` (a test
puts hostile markup in such a row).

A claim's section is built in two pieces because the claims stream before their transaction's
SE: the *body* (segments and findings, from the full claim as it was checked) is rendered when
the claim arrives; the *head* (verdict, ids, money) when its transaction ends, from the answer
the 277CA gives. A claim whose transaction never ends is never shown.

Masking (unless ``show_phi``): names keep their first letter and get three ``•``; ids, dates of
birth and addresses become ``••••``. The mask has a fixed width (it does not tell a value's
length) and ``•`` is no X12 delimiter, so a masked segment still reads as its elements.
"""

from __future__ import annotations

import re
from html import escape

from lxml import etree
from lxml.builder import E

from scrub837.claims.model import Claim, HlBlock
from scrub837.findings import Finding
from scrub837.outputs._html_text import (
    INVALID,
    MARK_TITLE,
    cell_pieces,
    findings_html,
    segment_cell_html,
)
from scrub837.outputs._html_text import text as html_text
from scrub837.verdicts.results import ClaimResult, dollars
from scrub837.x12.lexer import Segment

_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ELEMENT = re.compile(r"^([A-Z][A-Z0-9]{1,2}?)(\d{2})(?:-(\d+))?$")
MASK = "\u2022" * 4  # ••••


def safe(text: str) -> str:
    """Text lxml can hold: control characters are shown as \\xNN instead."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02X}", text)


def mask_name(value: str) -> str:
    """``SMITH`` -> ``S•••`` (fixed width, whatever the name's length)."""
    return value[:1] + MASK[1:] if value else ""


def mask_id(value: str) -> str:
    """An id, a date of birth or an address: ``••••`` (fixed width)."""
    return MASK if value else ""


def _split_element(element: str) -> tuple[str, int, int] | None:
    m = _ELEMENT.match(element)
    if not m:
        return None
    return m.group(1), int(m.group(2)), int(m.group(3) or 0)


_PRIVATE_IDS = frozenset(("NM1", "DMG", "N3", "N4", "REF"))  # the segments _masked_values masks
_PERSON = ("IL", "QC")  # NM101 of the subscriber and the patient
_PRIVATE_REFS = ("SY", "1W")  # REF01: social security number, member id


def _masked_values(seg: Segment, private: bool) -> list[str]:
    elements = seg.elements
    values = ([safe(v) for v in elements] if _NOT_XML.search("".join(elements))
              else list(elements))
    if not private:
        return values
    sid = values[0]
    names: tuple[int, ...] = ()
    ids: tuple[int, ...] = ()
    if sid == "NM1" and seg.get(1) in _PERSON:
        names, ids = (3, 4, 5), (9,)
    elif sid == "DMG":
        ids = (2,)
    elif sid in ("N3", "N4"):
        ids = tuple(range(1, len(values)))
    elif sid == "REF" and seg.get(1) in _PRIVATE_REFS:
        ids = (2,)
    for i in names:
        if i < len(values):
            values[i] = mask_name(values[i])
    for i in ids:
        if i < len(values):
            values[i] = mask_id(values[i])
    return values


def _marks(seg: Segment, values: list[str], findings: list[Finding]) -> dict[tuple[int, int], str]:
    """(element, component) -> ``reject``/``warn``: the elements the findings point to."""
    marks: dict[tuple[int, int], str] = {}
    for f in findings:
        target = _split_element(f.location.element)
        if target and target[0] == seg.id and target[1] < len(values):
            marks[(target[1], target[2])] = "reject" if f.rejects else "warn"
    return marks


def _row_text(seg: Segment, cls: str, found: list[Finding], private: bool) -> str | None:
    """A row with findings as text (see :mod:`._html_text`), or None when lxml must build it."""
    blocks = findings_html(found)
    if blocks is None:
        return None
    values = _masked_values(seg, private)
    delims = seg.delims
    cell = segment_cell_html(values, _marks(seg, values, found), delims.element,
                             delims.component, delims.segment)
    if cell is None:
        return None
    return f'<tr class="{cls}"><td class="ord">{seg.ordinal}</td>{cell}<td>{blocks}</td></tr>'


def _segment_cell(seg: Segment, findings: list[Finding], private: bool) -> etree._Element:
    values = _masked_values(seg, private)
    marks = _marks(seg, values, findings)
    sep, comp = seg.delims.element, seg.delims.component
    if not marks:  # most segments: one text node
        td = etree.Element("td", {"class": "seg"})
        td.text = sep.join(values) + seg.delims.segment
        return td
    cell = E.td({"class": "seg"})
    last: etree._Element | None = None
    for value, kind in cell_pieces(values, marks, sep, comp, seg.delims.segment):
        if kind is not None:
            last = E.mark(value, {"class": kind, "title": MARK_TITLE})
            cell.append(last)
        elif last is None:
            cell.text = (cell.text or "") + value
        else:
            last.tail = (last.tail or "") + value
    return cell


def finding_block(f: Finding) -> etree._Element:
    label = "REJECT" if f.rejects else "WARNING"
    return E.div(
        {"class": "finding"},
        E.span({"class": f"badge {'reject' if f.rejects else 'warn'}"}, label), " ",
        E.span({"class": "rule"}, f.rule_id), " ",
        E.span(" ".join(str(s) for s in f.stc) + " " if f.stc else ""),
        E.div(safe(f.message)),
        E.div({"class": "fix"}, E.strong("How to fix: "), safe(f.fix)) if f.fix else "",
        E.div({"class": "source"}, f"Source: {safe(f.source)}") if f.source else "",
    )


def _context(block: HlBlock | None, keep: tuple[str, ...]) -> list[Segment]:
    if block is None:
        return []
    return [s for s in block.segments if s.id in keep]


def _row(seg: Segment, cls: str, found: list[Finding], private: bool) -> str:
    """One segment's table row. Most rows have no finding: they are written as text (every
    value escaped), which is several times faster than building elements; rows with findings
    are built with lxml."""
    if not found:
        elements = seg.elements
        text = seg.delims.element.join(elements)
        if (private and elements[0] in _PRIVATE_IDS) or _NOT_XML.search(text):
            text = seg.delims.element.join(_masked_values(seg, private))
        text += seg.delims.segment
        if "&" in text or "<" in text or ">" in text:  # else escape() gives it back as is
            text = escape(text, quote=False)
        return (f'<tr class="{cls}"><td class="ord">{seg.ordinal}</td><td class="seg">'
                f'{text}</td><td></td></tr>')
    written = _row_text(seg, cls, found, private)
    if written is not None:
        return written
    tr = etree.Element("tr", {"class": cls})
    etree.SubElement(tr, "td", {"class": "ord"}).text = str(seg.ordinal)
    tr.append(_segment_cell(seg, found, private))
    notes = etree.SubElement(tr, "td")
    for f in found:
        notes.append(finding_block(f))
    return str(etree.tostring(tr, method="html", encoding="unicode"))


def _html(element: etree._Element) -> str:
    return str(etree.tostring(element, method="html", encoding="unicode"))


def _by_ordinal(findings: tuple[Finding, ...]) -> dict[int, list[Finding]]:
    by_ordinal: dict[int, list[Finding]] = {}
    for f in findings:
        by_ordinal.setdefault(f.location.segment, []).append(f)
    return by_ordinal


def claim_body(result: ClaimResult, *, show_phi: bool) -> bytes:
    """The segments of a claim as it was checked (``result`` has the claim's own findings): a
    rejected claim with its hierarchy (provider, subscriber, patient) and every segment; a claim
    with warnings only its CLM and the flagged segments (:func:`flagged`, :func:`warned_body`).
    Findings on no shown segment come first, in a box."""
    if not result.rejected:
        return warned_body(flagged(result), result.findings, show_phi=show_phi)
    claim: Claim = result.claim
    context = (_context(claim.provider, ("HL", "NM1")) + _context(claim.subscriber, (
        "HL", "SBR", "NM1")) + _context(claim.patient, ("HL", "PAT", "NM1")))
    return _body(context, list(claim.segments), {s.ordinal for s in claim.segments},
                 result.findings, not show_phi)


def flagged(result: ClaimResult) -> list[Segment]:
    """What the section of a claim with warnings only lists: its CLM and flagged segments."""
    claim = result.claim
    clm = claim.clm
    marked = {f.location.segment for f in result.findings}
    return [s for s in claim.segments if s is clm or s.ordinal in marked]


def warned_body(listed: list[Segment], findings: tuple[Finding, ...], *, show_phi: bool) -> bytes:
    """:func:`claim_body` of a claim with warnings only, from :func:`flagged` and its findings
    (kept small until its transaction ends shows whether the section is written at all)."""
    return _body([], listed, {s.ordinal for s in listed}, findings, not show_phi)


def _body(context: list[Segment], listed: list[Segment], own: set[int],
          findings: tuple[Finding, ...], private: bool) -> bytes:
    by_ordinal = _by_ordinal(findings)
    shown = {s.ordinal for s in context} | {s.ordinal for s in listed}
    rows = []
    for seg in context + listed:
        found = by_ordinal.get(seg.ordinal, [])
        cls = "context" if seg.ordinal not in own else ("hit" if found else "")
        rows.append(_row(seg, cls, found, private))
    elsewhere = [f for f in findings if f.location.segment not in shown]
    box = ""
    if elsewhere:
        blocks = findings_html(elsewhere)
        box = ('<div class="problem"><strong>Other problems of this claim: </strong>'
               + blocks + "</div>" if blocks is not None else
               _html(E.div({"class": "problem"}, E.strong("Other problems of this claim: "),
                           *[finding_block(f) for f in elsewhere])))
    return (box + '<table class="segs">' + "".join(rows) + "</table>").encode("utf-8")


def body_failed(exc: Exception) -> bytes:
    return _html(E.p(f"This claim's segments could not be shown ({type(exc).__name__}); its "
                     "findings are in the JSON report.")).encode("utf-8")


def claim_head(result: ClaimResult, transaction: tuple[str, tuple[Finding, ...]] | None) -> str:
    """The opening of a claim's section, from the claim's answer (``result`` is what the 277CA
    says). ``transaction``: the anchor and findings of its rejected transaction, if it is."""
    claim = result.claim
    rejected = result.rejected
    env = claim.envelope
    kind, label = ("reject", "REJECTED") if rejected else ("warn", "ACCEPTED WITH WARNINGS")
    title = f"Claim {safe(claim.clm01)} "
    about = safe(f"{claim.file}  \u00b7  ISA13 {env.isa13} / GS06 {env.gs06} / ST02 "
                 f"{env.st02}  \u00b7  837{env.kind}  \u00b7  payer {claim.payer_id}  "
                 f"\u00b7  billing NPI {claim.billing_npi}  \u00b7  charge "
                 f"{dollars(result.charge)}")
    text = (f'<section class="claim {"rejected" if rejected else "warned"}" '
            f'id="seg-{claim.clm.ordinal}">')
    if INVALID.search(title + about) is None:  # as lxml writes them (tests/test_html_text.py)
        text += (f'<h2>{html_text(title)}<span class="badge {kind}">{label}</span></h2>'
                 f'<p class="meta">{html_text(about)}</p>')
    else:  # a value lxml refuses: lxml's own answer
        text += (_html(E.h2(title, E.span({"class": f"badge {kind}"}, label)))
                 + _html(E.p({"class": "meta"}, about)))
    if transaction is not None:
        anchor, findings = transaction
        rules = ", ".join(dict.fromkeys(f.rule_id for f in findings if f.rejects))
        text += _html(E.div({"class": "problem"}, E.strong("Rejected with its transaction: "),
                            safe(f"ST02 {env.st02} is rejected ({rules}), and with it every "
                                 "claim in it, whatever its own segments say. "),
                            E.a({"href": f"#{anchor}"}, "See the transaction's problem.")))
    return text


SECTION_END = ('<p class="back"><a href="#worklist">\u2191 back to the worklist</a></p>'
               "</section>")
