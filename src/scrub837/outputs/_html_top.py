"""The page around the claim sections: everything before them (known only at the end, from the
summary and the writers' :class:`~scrub837.outputs.html.HtmlPart` records) and the closing tags.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from lxml import etree
from lxml.builder import E

from scrub837.outputs._html_claim import MASK, finding_block, safe
from scrub837.outputs._html_page import (BUILTIN_TITLES, CSS, Row, filter_css, filter_notes,
                                         reasons_table, worklist, worklist_row)
from scrub837.verdicts.results import FileSummary, dollars

if TYPE_CHECKING:
    from scrub837.outputs.html import HtmlPart, ReportLimits

CLAIMS = "\u00a0claims\u00a0"
ROWS_REJECTED = "\u00a0rows-r\u00a0"
ROWS_WARNED = "\u00a0rows-w\u00a0"


def _rows(parts: list[HtmlPart], offsets: list[dict[str, int]], rejected: bool,
          limits: ReportLimits) -> list[tuple[Row, str]]:
    out = []
    kind = "r" if rejected else "w"
    rows_limit = limits.rejected_rows if rejected else limits.warned_rows
    full = limits.rejected_full if rejected else limits.warned_full
    for part, offset in zip(parts, offsets, strict=True):
        for row in (part.rejected_rows if rejected else part.warned_rows):
            index = offset[kind] + row.index
            if index >= rows_limit:
                break
            href = ""
            if row.body and index < full:
                href = f"#seg-{row.ordinal}"
            elif row.txn >= 0 and offset["t"] + row.txn < limits.transactions:
                href = f"#{row.txn_anchor}"
            out.append((row, href))
    return out


def _render(rows: list[tuple[Row, str]], kind: str, titles: dict[str, str]) -> Iterator[bytes]:
    for n, (row, href) in enumerate(rows, start=1):
        yield worklist_row(n, row, href, kind, titles)


def _left_out(what: str, total: int, listed: int, full: int, json_name: str) -> list[etree._Element]:
    if total <= min(listed, full):
        return []
    shown = min(total, full)
    text = (f"This page lists the first {min(total, listed):,} of the {total:,} {what} in the "
            f"table below and shows the first {shown:,} with their segments further down. "
            f"Every claim, with all its findings, is in {json_name} (transactions[].claims[], "
            "verdict and findings).")
    return [E.p({"class": "left-out"}, text)]


def page_top(title: str, show_phi: bool, json_name: str, limits: ReportLimits,
             s: FileSummary, parts: list[HtmlPart]
             ) -> tuple[list[bytes | Iterator[bytes] | None], list[dict[str, int]]]:
    """The page in pieces (bytes, worklist rows written one at a time, and None where the
    claim sections go), and each part's index offsets."""
    offsets = []
    total = {"r": 0, "w": 0, "t": 0}
    titles = dict(BUILTIN_TITLES)
    warns: dict[str, int] = {}
    for part in parts:
        offsets.append(dict(total))
        total["r"] += part.rejected
        total["w"] += part.warned
        total["t"] += part.txns
        for rule, text in part.titles.items():
            titles.setdefault(rule, text)
        for rule, n in part.warn_counts.items():
            warns[rule] = warns.get(rule, 0) + n
    problems = [f for p in parts for f in p.problems]
    failure = next((p.failure for p in parts if p.failure is not None), None)
    unanswered = sum(p.unanswered for p in parts)
    st02 = next((p.unanswered_st02 for p in parts if p.unanswered), "")

    masked = (E.span("Patient names and ids are masked (", E.code(MASK[:1] + MASK[1:]),
                     "); run with --show-phi to show them.") if not show_phi
              else E.span("Patient names and ids are shown (--show-phi)."))
    out: list[etree._Element] = [
        E.h1(safe(title)),
        E.p({"class": "sub"}, "Pre-scrub of drug lines (J-codes and the codes CMS prices as drugs): ", safe(s.file), ". ", masked)]
    held = dollars(s.charges_held)
    out.append(E.p({"class": "verdict"}, E.strong("No claim was answered.")) if not s.claims
               else E.p({"class": "verdict"},
                   E.strong(f"{s.rejected:,} of {s.claims:,} claims rejected"), " \u00b7 ",
                   E.span({"class": "held"}, f"{held} held back"),
                   f" of {dollars(s.charges_total)} \u00b7 {s.accepted:,} accepted \u00b7 "
                   f"{s.warnings:,} warnings"))
    if failure is not None:
        where = f"segment {failure.segment}" if failure.segment else "the start of the file"
        answered = (f"the {s.claims:,} claims of the {s.transactions:,} complete transactions "
                    "before it are answered in the 277CA and below"
                    if s.transactions else "no transaction was complete before it, so no claim "
                    "is answered")
        out.append(E.div({"class": "problem"}, E.strong("The file cannot be read as X12: "),
                         safe(f"{failure.message} (at {where}, byte {failure.offset}); "
                              f"{answered}.")))
    if unanswered:
        out.append(E.div({"class": "problem"}, E.strong("Claims not answered: "), safe(
            f"transaction ST02 {st02} never ended (no SE), so the 277CA answers none of the "
            f"{unanswered:,} claims read from it and they are not shown here. Resend the "
            "complete file.")))
    if s.transactions == 0 and failure is None:
        out.append(E.div({"class": "problem"}, E.strong("No 837 claims: "),
                         "no 837P or 837I transaction could be read from this file."))
    if problems:
        out.append(E.div({"class": "problem"}, E.strong("Envelope problems"),
                         *[E.div(f"segment {f.location.segment}: ", finding_block(f))
                           for f in problems]))

    labels = ("Transactions (837)", "Claims", "Accepted", "Rejected", "Charges held back",
              "Charges in the file", "Warnings")
    values = (f"{s.transactions:,}", f"{s.claims:,}", f"{s.accepted:,}", f"{s.rejected:,}",
              held, dollars(s.charges_total), f"{s.warnings:,}")
    out.append(E.table({"class": "summary strip"}, E.tr(*[E.th(x) for x in labels]),
                       E.tr(*[E.td({"class": "num"}, v) for v in values])))
    warn_list = sorted(warns.items(), key=lambda kv: (-kv[1], kv[0]))
    rejects, warned = [r for r, _ in s.reasons], [r for r, _ in warn_list]
    rules = rejects + warned
    rejected_rows = _rows(parts, offsets, True, limits)
    warned_rows = _rows(parts, offsets, False, limits)
    nav = [E.a({"href": "#worklist"}, f"Rejected claims ({total['r']:,})")]
    if total["w"]:
        nav += [" \u00b7 ", E.a({"href": "#warned"}, f"Accepted with warnings ({total['w']:,})")]
    if rules:
        nav += [" \u00b7 ", E.a({"href": "#reasons"}, f"Reasons ({len(set(rules)):,})")]
    if s.claims:
        out.append(E.p({"class": "nav"}, *nav))
    work: list[etree._Element] = filter_notes(rejects, warned, titles)
    work.append(E.h2({"id": "worklist"}, f"Rejected claims: the worklist ({total['r']:,})"))
    work.extend(_left_out("rejected claims", total["r"], limits.rejected_rows,
                          limits.rejected_full, json_name))
    if rejected_rows:
        work.append(worklist("reject", ROWS_REJECTED))
    else:
        work.append(E.p({"class": "sub"}, "No claim was rejected."))
    if total["w"]:
        # a reason that rejects lists no accepted claim: its filter hides these (.warned)
        work.append(E.h2({"id": "warned", "class": "warned"},
                         f"Accepted with warnings ({total['w']:,})"))
        for note in _left_out("claims accepted with warnings", total["w"],
                              limits.warned_rows, limits.warned_full, json_name):
            note.set("class", "left-out warned")
            work.append(note)
        table = worklist("warn", ROWS_WARNED)
        table.set("class", table.get("class") + " warned")
        work.append(table)
    if s.claims or total["r"] or total["w"]:
        out.append(E.div({"id": "work"}, *work))
    if rules:
        out.append(E.h2({"id": "reasons"}, "Reasons"))
        out.append(E.p({"class": "sub"}, "Claims per rule. Click a rule to list only the "
                       "claims that have it. Warnings do not reject a claim (a 277CA has no "
                       "warning status); they are shown here and in the JSON report."))
        out.append(reasons_table(list(s.reasons), warn_list, titles))
    if total["r"] or total["w"] or total["t"]:
        out.append(E.h2("The claims, with their segments"))
        out.append(E.p({"class": "sub"}, "In file order. A rejected claim is shown with its "
                       "provider, subscriber and patient lines (grey) and all its segments; a "
                       "claim with warnings only with its CLM and the flagged segments."))
    out.append(E.div({"id": "claims"}, CLAIMS))
    head = E.head(E.meta(charset="utf-8"),
                  E.meta(name="viewport", content="width=device-width, initial-scale=1"),
                  E.title(safe(title)), E.style(CSS + filter_css(rejects, warned)))
    page = etree.tostring(E.html({"lang": "en"}, head, E.body(*out)), method="html",
                          encoding="utf-8", doctype="<!DOCTYPE html>")
    pieces: list[bytes | Iterator[bytes] | None] = []
    for marker, rows, kind in ((ROWS_REJECTED, rejected_rows, "reject"),
                               (ROWS_WARNED, warned_rows, "warn")):
        before, found, page = page.partition(marker.encode("utf-8"))
        pieces.append(before)
        if found:
            pieces.append(_render(rows, kind, titles))
        else:
            page, before = before, b""
            pieces.pop()
    before, _, after = page.partition(CLAIMS.encode("utf-8"))
    pieces += [before, None, after]
    return pieces, offsets
