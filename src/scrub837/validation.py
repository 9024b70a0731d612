"""``--validate``: pyx12 implementation-guide validation folded into the verdicts.

pyx12 writes a 999; every transaction its IK5 rejects (or, when pyx12 crashed or found errors it
could not tie to a transaction, every transaction) has all its claims rejected with STC A3:684
("Rejected. Syntax error noted ... see 999"). pyx12 is slow (~100 µs a segment) and needs the
whole input in a file, so this path is optional."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import BinaryIO

from scrub837.findings import Finding, Location, Severity, Stc
from scrub837.reader import EnvelopeProblem
from scrub837.results import ClaimResult, TransactionResult
from scrub837.scrubber import Scrubber
from scrub837.x12.pyx12_adapter import IgResult, validate_837

IG_STC = (Stc("A3", "684"),)


def rejected_transactions(result: IgResult) -> set[str] | None:
    """ST02 values the 999 rejects; None means 'could not tell: all of them'."""
    if result.crashed or not result.ack:
        return None
    rejected: set[str] = set()
    current = ""
    text = result.ack.decode("ascii", "replace")
    term = text[105] if len(text) > 105 else "~"
    for raw in text.split(term):
        parts = raw.strip().split("*")
        if parts[0] == "AK2" and len(parts) > 2:
            current = parts[2]
        elif parts[0] == "IK5" and len(parts) > 1 and parts[1] in ("R", "E", "M", "W", "X"):
            rejected.add(current)
    if not result.ok and not rejected:
        return None
    return rejected


def _finding(t: TransactionResult, message: str) -> Finding:
    env = t.envelope
    return Finding(
        rule_id="IG_INVALID", severity=Severity.REJECT, message=message,
        location=Location(file="", isa13=env.isa13, gs06=env.gs06, st02=env.st02,
                          segment=env.st.ordinal, span=(env.st.start, env.st.end), path="ST"),
        stc=IG_STC, fix="correct the syntax errors listed in the 999",
        source="pyx12 implementation-guide validation (005010X222A1 / X223A2)")


def apply_ig_validation(results: Iterable[object], data: bytes, ack_stream: BinaryIO,
                        scrubber: Scrubber) -> Iterator[object]:
    ig = validate_837(data)
    ack_stream.write(ig.ack)
    bad = rejected_transactions(ig)
    first = (ig.crashed or (ig.issues[0].message if ig.issues else "")) or "see the 999"
    notes = []
    if ig.note:
        notes.append(ig.note)
    if ig.crashed:
        notes.append(f"pyx12 could not validate this file: {ig.crashed}")
    for item in results:
        if isinstance(item, TransactionResult) and item.supported and not ig.ok and (
                bad is None or item.envelope.st02 in bad):
            finding = _finding(item, f"implementation-guide validation failed: {first[:200]}")
            item = replace(item, findings=item.findings + (finding,), claims=tuple(
                ClaimResult(c.claim, c.findings + (finding,)) for c in item.claims))
        yield item
    if notes:
        yield EnvelopeProblem(tuple(Finding(
            rule_id="IG_NOTE", severity=Severity.WARN, message=n, location=Location(),
            source="pyx12") for n in notes))
