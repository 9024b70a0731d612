"""``--validate``: pyx12 implementation-guide validation folded into the verdicts.

pyx12 writes a 999; every transaction its IK5 rejects (or, when pyx12 crashed or found errors it
could not tie to a transaction, every transaction) has all its claims rejected with STC A3:684
("Rejected. Syntax error noted ... see 999"). pyx12 is slow (~100 µs a segment) and needs the
whole input in a file, so this path is optional."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import BinaryIO

from scrub837.findings import Finding, Location, Severity, Stc
from scrub837.outputs.ack277 import AckConfig, clean
from scrub837.outputs.control import ControlNumbers
from scrub837.claims.reader import EnvelopeProblem
from scrub837.verdicts.results import ClaimResult, TransactionResult
from scrub837.verdicts.transactions import Checker
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


def restamp_999(ack: bytes, config: AckConfig, control: ControlNumbers,
                now: datetime) -> bytes:
    """pyx12's 999 with the 277CA's identity and numbering: ISA05/06 and GS02 the configured
    sender, ISA07/08 and GS03 the configured receiver (default: the 837's sender, as pyx12
    has it), the date and time of the run, and ISA13, GS06 and every ST02 taken from the
    277CA's control-number counter (the ``--control-state`` file when given), so no two 999s
    share an interchange number (pyx12's own are minute-based). Empty stays empty."""
    text = ack.decode("ascii", "replace")
    if len(text) < 106 or not text.startswith("ISA"):
        return ack
    sep, term = text[3], text[105]
    newline = "\n" if text[106:107] == "\n" else ""
    segments = [raw.strip("\r\n").split(sep) for raw in text.split(term)]
    segments = [s for s in segments if s and s[0]]
    isa = segments[0]
    if len(isa) < 17:
        return ack
    receiver = clean(config.receiver_id or isa[8].strip(), 15) or "UNKNOWN"
    receiver_q = clean(config.receiver_qualifier or isa[7].strip(), 2) or "ZZ"
    sender = clean(config.sender_id, 15)
    st_count = sum(1 for s in segments if s[0] == "ST")
    numbers = control.numbers(2 + st_count)
    isa13, gs06 = next(numbers), next(numbers)
    out: list[list[str]] = []
    st02 = ""
    for seg in segments:
        tag = seg[0]
        if tag == "ISA":
            seg = ["ISA", isa[1], isa[2], isa[3], isa[4],
                   clean(config.sender_qualifier, 2).ljust(2), sender.ljust(15),
                   receiver_q.ljust(2), receiver.ljust(15), now.strftime("%y%m%d"),
                   now.strftime("%H%M"), isa[11], isa[12], f"{isa13:09d}", isa[14], isa[15],
                   isa[16]]
        elif tag == "GS" and len(seg) > 8:
            seg = ["GS", seg[1], sender, receiver, now.strftime("%Y%m%d"), now.strftime("%H%M"),
                   str(gs06), *seg[7:]]
        elif tag == "ST" and len(seg) > 2:
            st02 = f"{next(numbers):04d}"
            seg = [*seg[:2], st02, *seg[3:]]
        elif tag == "SE" and len(seg) > 2:
            seg = [*seg[:2], st02]
        elif tag == "GE" and len(seg) > 2:
            seg = [*seg[:2], str(gs06)]
        elif tag == "IEA" and len(seg) > 2:
            seg = [*seg[:2], f"{isa13:09d}"]
        out.append(seg)
    return "".join(sep.join(seg) + term + newline for seg in out).encode("ascii", "replace")


def apply_ig_validation(results: Iterable[object], data: bytes, ack_stream: BinaryIO,
                        scrubber: Checker, *, ack: AckConfig | None = None,
                        control: ControlNumbers | None = None,
                        now: datetime | None = None) -> Iterator[object]:
    """``ack``/``control``/``now`` given (the pipeline): the 999 is restamped with the
    277CA's identity and control numbers (:func:`restamp_999`)."""
    ig = validate_837(data)
    if ack is not None and control is not None:
        ack_stream.write(restamp_999(ig.ack, ack, control, now or datetime.now()))
    else:
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
