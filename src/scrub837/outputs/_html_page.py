"""The top of the HTML report: the verdict, the summary, the reasons and the worklist.

The worklist is two tables (rejected claims, then accepted claims with warnings), one row a
claim, each linking to the claim's section. A reason links to ``#only-RULE``; without a script,
CSS hides the rows without that rule while that anchor is the page's target (``:target``), so
a click on a reason lists the claims that have it and "show all" brings the rest back.
"""

from __future__ import annotations

import re
from html import escape
from dataclasses import dataclass
from hashlib import blake2b

from lxml import etree
from lxml.builder import E

from scrub837.outputs._html_claim import safe
from scrub837.rulebook._catalog import ENVELOPE

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1b1f24}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:22px 0 6px}section h2{margin:0}
.sub{color:#57606a;margin:0 0 12px}
.verdict{font-size:18px;margin:10px 0 14px}.verdict .held{color:#a40e26;font-weight:600}
table{border-collapse:collapse}
.summary td,.summary th,.worklist td,.worklist th{padding:4px 10px;border-bottom:1px solid #d0d7de;
text-align:left;vertical-align:top}
.worklist th,.summary thead th{background:#f6f8fa;position:sticky;top:0}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.nowrap,.worklist th{white-space:nowrap}
.strip th{background:#f6f8fa;font-weight:600;font-size:12px;color:#57606a}.strip td{font-size:15px}
.nav{margin:12px 0}
.worklist{width:100%}.worklist tr.w:hover td{background:#f6f8fa}
.worklist tr.reject td:first-child{border-left:4px solid #cf222e}
.worklist tr.warn td:first-child{border-left:4px solid #bf8700}
.more{color:#57606a;font-size:12px}
.title{color:#57606a}
.left-out{background:#ddf4ff;border:1px solid #54aeff;border-radius:6px;padding:8px 12px;margin:10px 0}
.filter{display:none;background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:6px 12px}
.filter:target{display:block}
.filter[id^="only-"]:target~.warned{display:none}
section.claim{border:1px solid #d0d7de;border-radius:6px;margin:18px 0;padding:12px 14px}
section.rejected{border-left:6px solid #cf222e}section.warned{border-left:6px solid #bf8700}
section:target{box-shadow:0 0 0 3px #54aeff}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;
white-space:nowrap}
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
.back{margin:6px 0 0;font-size:12px}
a{color:#0969da}
@media print{section.claim{break-inside:avoid}.filter{display:none}}
"""

#: what the envelope and file rules mean, for the reasons table (their findings carry no title)
BUILTIN_TITLES = {rule: title for rule, title, *_ in ENVELOPE}

_SAFE_CLASS = re.compile(r"[^A-Za-z0-9_-]")


def rule_class(rule: str) -> str:
    """A CSS class (and id part) for a rule id; ids with other characters get a hash."""
    cls = _SAFE_CLASS.sub("_", rule)
    if cls != rule or not cls:
        cls += "-" + blake2b(rule.encode("utf-8", "replace"), digest_size=4).hexdigest()
    return cls


@dataclass(frozen=True, slots=True)
class Row:
    """One claim of the worklist, as data: rows are rendered when the whole file is known, so
    that a link goes only to a section the page really holds (``--jobs`` parts count their
    claims from 0; the join adds the claims of the parts before)."""

    index: int  # among the writer's rejected (or warned) claims
    ordinal: int  # the CLM segment's: the claim's section is #seg-N
    body: bool  # a section was written for the claim
    txn: int  # its rejected transaction's block index, -1
    txn_anchor: str
    clm01: str
    patient: str
    payer: str
    dates: str
    charge: str
    rules: tuple[str, ...]  # the rejecting rules, then the warnings, no repeats
    rejecting: int  # how many of ``rules`` reject


def date_text(first: str, last: str) -> str:
    def us(d: str) -> str:
        return f"{d[4:6]}/{d[6:]}/{d[:4]}" if len(d) == 8 else d

    if not first:
        return ""
    return us(first) if last in ("", first) else f"{us(first)}\u2013{us(last)}"


def _text(value: str) -> str:
    return escape(safe(value), quote=False)


def worklist_row(n: int, row: Row, href: str, kind: str, titles: dict[str, str]) -> bytes:
    """One worklist row as HTML text (every value escaped): rows are written one at a time."""
    name = _text(row.clm01) or "(no CLM01)"
    clm = (f'<a href="{escape(href)}">{name}</a>' if href else
           f'<span class="nolink" title="not shown in full on this page: see the JSON report">'
           f"{name}</span>")
    first = row.rules[0] if row.rules else ""
    reason = (f'<span class="rule">{_text(first)}</span> '
              f'<span class="title">{_text(titles.get(first, ""))}</span>')
    if len(row.rules) > 1:
        reason += (f' <span class="more" title="{escape(safe(", ".join(row.rules[1:])))}">'
                   f"+{len(row.rules) - 1} more</span>")
    classes = " ".join(f"{'r' if i < row.rejecting else 'v'}-{rule_class(r)}"
                       for i, r in enumerate(row.rules))
    return (f'<tr class="w {kind} {classes}"><td class="num">{n:,}</td>'
            f'<td class="nowrap">{clm}</td><td class="nowrap">{_text(row.patient)}</td>'
            f'<td class="nowrap">{_text(row.payer)}</td><td class="nowrap">{row.dates}</td>'
            f'<td class="num">{row.charge}</td><td>{reason}</td></tr>').encode("utf-8")


def worklist(kind: str, marker: str) -> etree._Element:
    """The table, with ``marker`` where its rows go."""
    head = E.tr(E.th("#"), E.th("Claim (CLM01)"), E.th("Patient"), E.th("Payer"),
                E.th("Service date"), E.th({"class": "num"}, "Charge"),
                E.th("Reason" if kind == "reject" else "Warning"))
    return E.table({"class": "worklist" + (" warnlist" if kind == "warn" else "")},
                   E.thead(head), E.tbody(marker))


def reasons_table(rejects: list[tuple[str, int]], warns: list[tuple[str, int]],
                  titles: dict[str, str]) -> etree._Element:
    rows = []
    for label, kind, items in (("REJECTS", "reject", rejects), ("WARNING", "warn", warns)):
        for rule, n in items:
            rows.append(E.tr(
                E.td(E.span({"class": f"badge {kind}"}, label)),
                E.td(E.a({"href": f"#{'only' if kind == 'reject' else 'warn'}-{rule_class(rule)}",
                          "class": "rule"}, safe(rule))),
                E.td(safe(titles.get(rule) or BUILTIN_TITLES.get(rule, ""))),
                E.td({"class": "num"}, f"{n:,}")))
    return E.table({"class": "summary reasons"},
                   E.thead(E.tr(E.th(""), E.th("Rule"), E.th("What is wrong"), E.th("Claims"))),
                   E.tbody(*rows))


def filter_notes(rejects: list[str], warns: list[str],
                 titles: dict[str, str]) -> list[etree._Element]:
    return [E.p({"class": "filter", "id": f"{prefix}-{rule_class(r)}"},
                f"Showing only the claims {what} ", E.strong(safe(r)), " ",
                safe(titles.get(r) or BUILTIN_TITLES.get(r, "")), " (among the rows listed). ",
                E.a({"href": "#worklist"}, "Show all claims"))
            for prefix, what, rules in (("only", "rejected for", rejects),
                                        ("warn", "with the warning", warns))
            for r in rules]


def filter_css(rejects: list[str], warns: list[str]) -> str:
    """While ``#only-RULE`` (``#warn-RULE``) is the target, hide the rows without the rule
    rejecting (warning)."""
    return "".join(f"#{prefix}-{c}:target~table tr.w:not(.{row}-{c}){{display:none}}"
                   for prefix, row, rules in (("only", "r", rejects), ("warn", "v", warns))
                   for c in map(rule_class, rules))
