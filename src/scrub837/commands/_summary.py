"""The CLI's one line per file (money formatted by :func:`scrub837.verdicts.results.dollars`, as in the
reports)."""

from __future__ import annotations

from scrub837.verdicts.results import FileSummary, dollars




def summary_line(s: FileSummary) -> str:
    """``NAME: 33 claims, 2 accepted, 31 rejected, $42,390.00 held back, 11 warnings``."""
    return (f"{s.file}: {s.claims} claims, {s.accepted} accepted, {s.rejected} rejected, "
            f"{dollars(s.charges_held)} held back"
            + (f", {s.warnings} warning{'s' if s.warnings != 1 else ''}" if s.warnings
               else "")
            + (f", {s.unsupported} transactions rejected (not an 837P/837I)"
               if s.unsupported and not s.unreadable else "")
            + "".join(f"; {a.describe()}" for a in s.interchanges if a.status != "A")
            + "\n")


def where(segment: int) -> str:
    return f"segment {segment}" if segment else "start of file"


def unreadable_line(s: FileSummary) -> str:
    """The stderr line for a file that cannot be read as an 837 (empty when it can)."""
    if not s.unreadable:
        return ""
    why = next((f"segment {f.location.segment}: {f.message}"
                for f in s.envelope_findings if f.rule_id == "X12_UNSUPPORTED"),
               "no 837P/837I transaction")
    detail = (f"{where(s.failure_segment)}: {s.failure_message}" if s.failure_message else why)
    return f"scrub837: {s.file}: cannot be read as an 837 ({detail})\n"
