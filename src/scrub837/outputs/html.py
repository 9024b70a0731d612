"""The annotated HTML report: one self-contained file (inline CSS, no scripts, nothing from the
network). Built with lxml, except the plain segment rows of a claim (no finding on them): they
are most of a report, so they are written as text with every value escaped by ``html.escape``
(a test puts hostile markup in such a row).

The summary leads, but it is known only at the end: claim sections are rendered as items arrive
into a spooled temporary file (memory up to 2 MB, then disk) and copied in after the summary.
Patient names, member ids, dates of birth and addresses are masked unless ``show_phi``.
"""

from __future__ import annotations

import re
import shutil
from html import escape
import tempfile
from collections.abc import Iterable
from typing import BinaryIO

from lxml import etree
from lxml.builder import E

from scrub837.claims import Claim, HlBlock
from scrub837.outputs import COPY_CHUNK
from scrub837.extract import mask
from scrub837.findings import Finding
from scrub837.reader import EnvelopeProblem, ReadFailure
from scrub837.results import ClaimResult, FileSummary, TransactionResult
from scrub837.x12.lexer import Segment

_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def safe(text: str) -> str:
    """Text lxml can hold: control characters are shown as \\xNN instead."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02X}", text)


_ELEMENT = re.compile(r"^([A-Z][A-Z0-9]{1,2}?)(\d{2})(?:-(\d+))?$")
_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1b1f24}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0}
.sub{color:#57606a;margin:0 0 16px}
table{border-collapse:collapse}
.summary td,.summary th{padding:4px 12px;border-bottom:1px solid #d0d7de;text-align:left}
.num{text-align:right;font-variant-numeric:tabular-nums}
section.claim{border:1px solid #d0d7de;border-radius:6px;margin:18px 0;padding:12px 14px}
section.rejected{border-left:6px solid #cf222e}section.warned{border-left:6px solid #bf8700}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.badge.reject{background:#ffebe9;color:#a40e26}.badge.warn{background:#fff8c5;color:#7d4e00}
.meta{color:#57606a;font-size:13px;margin:4px 0 8px}
table.segs{width:100%}table.segs td{vertical-align:top;padding:2px 8px;border-top:1px solid #eaeef2}
td.ord{color:#8c959f;text-align:right;width:3em;font:12px ui-monospace,Menlo,Consolas,monospace}
td.seg{font:13px ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-all;width:48%}
tr.context td.seg{color:#6e7781}
tr.hit td.seg{background:#fff5f5}
mark{background:#ffd8d3;outline:1px solid #cf222e;padding:0 1px}
mark.warn{background:#fff1b8;outline-color:#bf8700}
.finding{margin:0 0 6px}.finding .rule{font-weight:600}
.fix{margin:2px 0 0}.source{color:#57606a;font-size:12px}
.problem{background:#ffebe9;border:1px solid #cf222e;border-radius:6px;padding:8px 12px;margin:10px 0}
@media print{section.claim{break-inside:avoid}}
"""


def _split_element(element: str) -> tuple[str, int, int] | None:
    m = _ELEMENT.match(element)
    if not m:
        return None
    return m.group(1), int(m.group(2)), int(m.group(3) or 0)


_PRIVATE_IDS = frozenset(("NM1", "DMG", "N3", "N4"))  # the segments _masked_values may mask


def _masked_values(seg: Segment, private: bool) -> list[str]:
    elements = seg.elements
    values = ([safe(v) for v in elements] if _NOT_XML.search("".join(elements))
              else list(elements))
    if not private:
        return values
    sid = values[0]
    hide: tuple[int, ...] = ()
    if sid == "NM1" and seg.get(1) in ("IL", "QC"):
        hide = (3, 4, 5, 9)
    elif sid == "DMG":
        hide = (2,)
    elif sid in ("N3", "N4"):
        hide = tuple(range(1, len(values)))
    for i in hide:
        if i < len(values):
            values[i] = mask(values[i])
    return values


def _segment_cell(seg: Segment, findings: list[Finding], private: bool) -> etree._Element:
    values = _masked_values(seg, private)
    marks: dict[tuple[int, int], str] = {}
    for f in findings:
        target = _split_element(f.location.element)
        if target and target[0] == seg.id and target[1] < len(values):
            marks[(target[1], target[2])] = "reject" if f.rejects else "warn"
    sep, comp = seg.delims.element, seg.delims.component
    if not marks:  # most segments: one text node
        td = etree.Element("td", {"class": "seg"})
        td.text = sep.join(values) + seg.delims.segment
        return td
    cell = E.td({"class": "seg"})
    last: etree._Element | None = None

    def text(value: str) -> None:
        nonlocal last
        if last is None:
            cell.text = (cell.text or "") + value
        else:
            last.tail = (last.tail or "") + value

    def marked(value: str, kind: str) -> None:
        nonlocal last
        mk = E.mark(value or "\u2205", {"class": kind, "title": "the element this finding is about"})
        cell.append(mk)
        last = mk

    for i, value in enumerate(values):
        if i:
            text(sep)
        if (i, 0) in marks:
            marked(value, marks[(i, 0)])
            continue
        subs = [k for (ei, k) in marks if ei == i and k]
        if subs:
            parts = value.split(comp)
            while len(parts) < max(subs):
                parts.append("")
            for j, part in enumerate(parts, start=1):
                if j > 1:
                    text(comp)
                if (i, j) in marks:
                    marked(part, marks[(i, j)])
                else:
                    text(part)
            continue
        text(value)
    text(seg.delims.segment)
    return cell


def _finding_block(f: Finding) -> etree._Element:
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
        return (f'<tr class="{cls}"><td class="ord">{seg.ordinal}</td><td class="seg">'
                f'{escape(text, quote=False)}</td><td></td></tr>')
    tr = etree.Element("tr", {"class": cls})
    etree.SubElement(tr, "td", {"class": "ord"}).text = str(seg.ordinal)
    tr.append(_segment_cell(seg, found, private))
    notes = etree.SubElement(tr, "td")
    for f in found:
        notes.append(_finding_block(f))
    return str(etree.tostring(tr, method="html", encoding="unicode"))


def claim_section(result: ClaimResult, *, show_phi: bool) -> bytes:
    """The claim's section of the report (UTF-8 HTML)."""
    claim: Claim = result.claim
    private = not show_phi
    by_ordinal: dict[int, list[Finding]] = {}
    for f in result.findings:
        by_ordinal.setdefault(f.location.segment, []).append(f)
    rejected = result.rejected
    env = claim.envelope
    head = E.h2(f"Claim {safe(claim.clm01)} ", E.span(
        {"class": f"badge {'reject' if rejected else 'warn'}"},
        "REJECTED" if rejected else "ACCEPTED WITH WARNINGS"))
    meta = E.p({"class": "meta"},
               safe(f"{claim.file}  \u00b7  ISA13 {env.isa13} / GS06 {env.gs06} / ST02 "
                    f"{env.st02}  \u00b7  837{env.kind}  \u00b7  payer {claim.payer_id}  "
                    f"\u00b7  billing NPI {claim.billing_npi}  \u00b7  charge {claim.charge}"))
    if rejected:
        context = (_context(claim.provider, ("HL", "NM1")) + _context(claim.subscriber, (
            "HL", "SBR", "NM1")) + _context(claim.patient, ("HL", "PAT", "NM1")))
        listed = list(claim.segments)
    else:  # accepted with warnings: the CLM and the flagged segments are enough
        context = []
        listed = [s for s in claim.segments if s is claim.clm or s.ordinal in by_ordinal]
    own = {s.ordinal for s in claim.segments}
    shown = {s.ordinal for s in context} | {s.ordinal for s in listed}
    rows = []
    for seg in context + listed:
        found = by_ordinal.get(seg.ordinal, [])
        cls = "context" if seg.ordinal not in own else ("hit" if found else "")
        rows.append(_row(seg, cls, found, private))
    elsewhere = [f for f in result.findings if f.location.segment not in shown]
    section = E.section(
        {"class": f"claim {'rejected' if rejected else 'warned'}", "id": f"seg-{claim.clm.ordinal}"},
        head, meta,
        *([E.div({"class": "problem"}, E.strong("Transaction problems: "),
                 *[_finding_block(f) for f in elsewhere])] if elsewhere else []),
    )
    text = str(etree.tostring(section, method="html", encoding="unicode"))
    assert text.endswith("</section>")
    return (text[:-len("</section>")] + '<table class="segs">' + "".join(rows)
            + "</table></section>").encode("utf-8")


class HtmlReportWriter:
    def __init__(self, stream: BinaryIO, *, show_phi: bool = False,
                 title: str = "scrub837 report", envelope: bool = True) -> None:
        """``envelope=False`` (a ``--jobs`` part) writes only the claim sections to ``stream``;
        :meth:`join` writes the page from such parts."""
        self.stream = stream
        self.show_phi = show_phi
        self.title = title
        self._body: BinaryIO = (tempfile.SpooledTemporaryFile(max_size=2 << 20)  # type: ignore[assignment]
                                if envelope else stream)
        self._problems: list[Finding] = []
        self._failure: ReadFailure | None = None
        self._streamed = 0  # claims of the open transaction rendered as they came
        self._titles: dict[str, str] = {}

    def add(self, item: object) -> None:
        if isinstance(item, ClaimResult):  # streamed: render now, the claim is not kept
            self._streamed += 1
            self._note_titles(item.findings)
            if item.findings:
                self._body.write(self._section(item))
            return
        if isinstance(item, TransactionResult):
            streamed, self._streamed = self._streamed, 0
            if not item.supported:
                self._problems.extend(item.findings)
                return
            if streamed:
                if item.rejected:
                    self._body.write(self._transaction_block(item))
                return
            for c in item.claims:
                self._note_titles(c.findings)
                if c.findings:
                    self._body.write(self._section(c))
        elif isinstance(item, EnvelopeProblem):
            self._problems.extend(item.findings)
        elif isinstance(item, ReadFailure):
            self._failure = item

    def _note_titles(self, findings: tuple[Finding, ...]) -> None:
        for f in findings:
            if f.title and f.rule_id not in self._titles:
                self._titles[f.rule_id] = f.title

    def _section(self, c: ClaimResult) -> bytes:
        try:
            return claim_section(c, show_phi=self.show_phi)
        except Exception as exc:  # a report must never lose the answer for the other claims
            element = E.section({"class": "claim rejected" if c.rejected else "claim warned"},
                                E.h2(f"Claim {safe(c.claim.clm01)}"),
                                E.p(f"This claim could not be shown ({type(exc).__name__}); "
                                    "its findings are in the JSON report."))
        return bytes(etree.tostring(element, method="html", encoding="utf-8"))

    def _transaction_block(self, t: TransactionResult) -> bytes:
        env = t.envelope
        element = E.section(
            {"class": "claim rejected"},
            E.h2(f"Transaction ST02 {safe(env.st02)} ", E.span({"class": "badge reject"},
                                                              "ALL CLAIMS REJECTED")),
            E.p({"class": "meta"}, safe(f"ISA13 {env.isa13} / GS06 {env.gs06}: every claim of "
                                        f"this transaction ({len(t.claims)}) is rejected, "
                                        "including those shown above as accepted")),
            E.div({"class": "problem"}, *[_finding_block(f) for f in t.findings]),
            E.p(safe("Claims: " + ", ".join(c.claim.clm01 for c in t.claims[:200])
                     + (" ..." if len(t.claims) > 200 else ""))))
        return bytes(etree.tostring(element, method="html", encoding="utf-8"))

    def _summary(self, s: FileSummary) -> list[etree._Element]:
        def row(label: str, value: object) -> etree._Element:
            return E.tr(E.th(label), E.td({"class": "num"}, safe(str(value))))

        out = [E.table({"class": "summary"},
                       row("File", s.file), row("Transactions (837)", s.transactions),
                       row("Claims", s.claims), row("Accepted", s.accepted),
                       row("Rejected", s.rejected), row("Charges held back", s.charges_held),
                       row("Charges in the file", s.charges_total), row("Warnings", s.warnings))]
        if s.reasons:
            out.append(E.h2("Most common reasons"))
            out.append(E.table({"class": "summary"},
                               E.tr(E.th("Rule"), E.th("What is wrong"), E.th("Claims")),
                               *[E.tr(E.td(r), E.td(safe(self._titles.get(r, ""))),
                                      E.td({"class": "num"}, str(n)))
                                 for r, n in s.reasons[:10]]))
        if self._failure is not None:
            f = self._failure
            where = f"segment {f.segment}" if f.segment else "the start of the file"
            out.append(E.div({"class": "problem"}, E.strong("The file cannot be read as X12: "),
                             safe(f"{f.message} (at {where}, byte {f.offset}).")))
        if s.transactions == 0 and self._failure is None:
            out.append(E.div({"class": "problem"}, E.strong("No 837 claims: "),
                             "no 837P or 837I transaction could be read from this file."))
        if self._problems:
            out.append(E.div({"class": "problem"}, E.strong("Envelope problems"),
                             *[E.div(f"segment {f.location.segment}: ", _finding_block(f))
                               for f in self._problems]))
        out.append(E.p({"class": "sub"}, "Warnings do not reject a claim (a 277CA has no "
                       "warning status); they are shown here and in the JSON report."))
        return out

    @property
    def titles(self) -> dict[str, str]:
        return self._titles

    @property
    def problems(self) -> list[Finding]:
        return self._problems

    def join(self, fragments: list[BinaryIO], titles: list[dict[str, str]],
             problems: list[Finding], summary: FileSummary) -> None:
        """The page from parts written with ``envelope=False``, in order."""
        for part in titles:
            for rule, title in part.items():
                self._titles.setdefault(rule, title)
        self._problems = list(problems)
        self.close(summary, fragments)

    def close(self, summary: FileSummary, fragments: Iterable[BinaryIO] = ()) -> None:
        head = E.head(E.meta(charset="utf-8"), E.title(self.title), E.style(_CSS))
        body = E.body(E.h1(self.title), E.p({"class": "sub"}, "Pre-scrub of J-code drug lines."
                                                              " Patient names and IDs are "
                                                              + ("shown." if self.show_phi
                                                                 else "masked.")),
                      *self._summary(summary), E.div({"id": "claims"}, "\u00a0"))
        page = etree.tostring(E.html({"lang": "en"}, head, body), method="html",
                              encoding="utf-8", doctype="<!DOCTYPE html>")
        marker = b'<div id="claims">\xc2\xa0</div>'
        before, _, after = page.partition(marker)
        self.stream.write(before + b'<div id="claims">')
        self._body.seek(0)
        shutil.copyfileobj(self._body, self.stream)
        self._body.close()
        for fragment in fragments:  # claim sections written by --jobs parts, in order
            shutil.copyfileobj(fragment, self.stream, COPY_CHUNK)
        self.stream.write(b"</div>" + after)


def render_html(items: Iterable[object], summary: FileSummary, *, show_phi: bool = False,
                title: str = "scrub837 report") -> bytes:
    import io

    out = io.BytesIO()
    writer = HtmlReportWriter(out, show_phi=show_phi, title=title)
    for item in items:
        writer.add(item)
    writer.close(summary)
    return out.getvalue()
