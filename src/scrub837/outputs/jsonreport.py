"""The JSON report (schema in docs/report-schema.md), streamed: transactions are written as
they finish, claim by claim; the summary comes last because it is only known at the end (a
reader that wants it first can read the file's tail, or use the CLI's summary line).

``add_claim`` (optional) takes each claim result as it is checked, so the lines with findings
can be described from the full claim even when the transaction result that follows holds slim
claims (which keep only the rejected lines)."""

from __future__ import annotations

import json
import shutil
from typing import BinaryIO

from scrub837.claims.model import Claim
from scrub837.claims.extract import mask
from scrub837.findings import Finding
from scrub837.claims.reader import EnvelopeProblem, ReadFailure
from scrub837.verdicts.spool import Spool
from scrub837.verdicts.results import ClaimResult, FileSummary, TransactionResult

SCHEMA = "scrub837.report/1"


#: one encoder for the whole run (json.dumps with options builds one per call): same bytes
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode


def _dumps(value: object) -> bytes:
    return _ENCODE(value).encode("ascii")


def _person(claim: Claim, show_phi: bool) -> dict[str, str]:
    nm1 = claim.patient.nm1("QC") if claim.patient is not None else claim.subscriber.nm1("IL")
    sub = claim.subscriber.nm1("IL")
    hide = (lambda v: v) if show_phi else mask
    return {"last_name": hide(nm1.get(3) if nm1 else ""),
            "first_name": hide(nm1.get(4) if nm1 else ""),
            "member_id": hide(sub.get(9) if sub else "")}


def lines_with_findings(result: ClaimResult) -> list[dict[str, object]]:
    """The claim's service lines that have line-level findings (in line order), each with the
    rule ids found on it; the findings themselves are in the claim's ``findings``."""
    rules: dict[str, list[str]] = {}
    for f in result.findings:
        if f.line_level and f.location.lx:
            found = rules.setdefault(f.location.lx, [])
            if f.rule_id not in found:
                found.append(f.rule_id)
    out: list[dict[str, object]] = []
    for line in result.claim.lines:
        if line.line_number not in rules:
            continue
        drug = line.drug
        out.append({
            "lx": line.line_number, "ref_6r": line.line_control,
            "procedure": line.code, "modifiers": list(line.modifiers),
            "revenue_code": line.revenue_code, "charge": line.charge, "units": line.units,
            "service_date": line.service_dates,
            "ndc": drug.ndc if drug is not None else "",
            "ndc_quantity": drug.quantity if drug is not None else "",
            "ndc_unit": drug.unit if drug is not None else "",
            "rejects": any(f.rejects and f.line_level and f.location.lx == line.line_number
                           for f in result.findings),
            "rule_ids": rules[line.line_number],
        })
    return out


def summary_dict(summary: FileSummary) -> dict[str, object]:
    return {
        "file": summary.file,
        "transactions": summary.transactions,
        "unsupported_transactions": summary.unsupported,
        "claims": summary.claims,
        "accepted": summary.accepted,
        "rejected": summary.rejected,
        "charges_total": format(summary.charges_total, "f"),
        "charges_held": format(summary.charges_held, "f"),
        "warnings": summary.warnings,
        "reasons": [{"rule_id": r, "claims": n} for r, n in summary.reasons],
        "unreadable": summary.unreadable,
        "failure": ({"message": summary.failure_message, "segment": summary.failure_segment}
                    if summary.failure_message else None),
        "exit_code": summary.exit_code,
        "interchanges": [{"isa13": a.isa13, "date": a.date, "time": a.time, "ta104": a.status,
                          "ta105": a.note} for a in summary.interchanges],
    }


class JsonReportWriter:
    def __init__(self, stream: BinaryIO, *, show_phi: bool = False, envelope: bool = True) -> None:
        """``envelope=False`` (a ``--jobs`` part) writes only the transactions, comma-separated;
        :meth:`join` writes the whole report from such parts."""
        self.stream = stream
        self.show_phi = show_phi
        self._first = True
        self._problems: list[Finding] = []
        self._failure: ReadFailure | None = None
        self._lines: Spool[list[dict[str, object]]] = Spool()  # streamed claims' lines
        if envelope:
            stream.write(b'{"schema":"' + SCHEMA.encode() + b'","transactions":[')

    @property
    def problems(self) -> list[Finding]:
        return self._problems

    def join(self, fragments: list[BinaryIO], problems: list[Finding],
             summary: FileSummary) -> None:
        """The report from parts written with ``envelope=False``, in order."""
        for fragment in fragments:
            first = fragment.read(1)
            if not first:
                continue
            self.stream.write((b"" if self._first else b",") + first)
            shutil.copyfileobj(fragment, self.stream)
            self._first = False
        self._problems = list(problems)
        self.close(summary)

    def add_claim(self, result: ClaimResult) -> None:
        self._lines.append(lines_with_findings(result))

    def add(self, item: object) -> None:
        if isinstance(item, TransactionResult):
            self._transaction(item)
            self._first = False
        elif isinstance(item, EnvelopeProblem):
            self._problems.extend(item.findings)
        elif isinstance(item, ReadFailure):
            self._failure = item

    def _transaction(self, t: TransactionResult) -> None:
        """Written claim by claim, so a 5,000-claim transaction is never one big object."""
        env = t.envelope
        streamed, self._lines = self._lines, Spool()
        if len(streamed) != len(t.claims):  # not streamed (or not these claims): use t's own
            streamed.close()
        head = {
            "isa13": env.isa13, "gs06": env.gs06, "st02": env.st02, "version": env.version,
            "kind": f"837{env.kind}" if env.kind else "", "supported": t.supported,
            "bht03": t.header.bht03 if t.header else "",
            "findings": [f.to_dict() for f in t.findings],
        }
        write = self.stream.write
        write((b"" if self._first else b",") + _dumps(head)[:-1] + b',"claims":[')
        lines = iter(streamed) if streamed else None
        for i, c in enumerate(t.claims):
            write((b"," if i else b"") + _dumps({
                "clm01": c.claim.clm01,
                "charge": c.claim.charge,
                "verdict": c.verdict.value,
                "segment": c.claim.clm.ordinal,
                "span": list(c.claim.span),
                "payer_id": c.claim.payer_id,
                "billing_provider_npi": c.claim.billing_npi,
                "patient": _person(c.claim, self.show_phi),
                "findings": [f.to_dict() for f in c.findings],
                "lines": next(lines) if lines is not None else lines_with_findings(c),
            }))
        write(b"]}")
        streamed.close()

    def close(self, summary: FileSummary) -> None:
        tail = {
            "envelope_findings": [f.to_dict() for f in self._problems],
            "failure": ({"file": self._failure.file, "message": self._failure.message,
                         "segment": self._failure.segment, "offset": self._failure.offset}
                        if self._failure else None),
            "summary": summary_dict(summary),
        }
        body = _dumps(tail)
        self.stream.write(b"]," + body[1:] + b"\n")
