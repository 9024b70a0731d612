"""The JSON report (schema in docs/report-schema.md), streamed: transactions are written as
they finish, claim by claim; the summary comes last because it is only known at the end (a
reader that wants it first can read the file's tail, or use the CLI's summary line).

``add_claim`` (optional) takes each claim result as it is checked, so the lines with findings
can be described from the full claim even when the transaction result that follows holds slim
claims (which keep only the rejected lines)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from typing import BinaryIO

from scrub837.claims.model import Claim
from scrub837.claims.extract import mask
from scrub837.findings import Finding
from scrub837.outputs._json import FindingEncoder, plain, string
from scrub837.claims.reader import EnvelopeProblem, ReadFailure
from scrub837.verdicts.spool import Spool
from scrub837.verdicts.results import ClaimResult, FileSummary, TransactionResult

SCHEMA = "scrub837.report/1"
#: characters per write: small enough for the joined text to stay in the processor's caches
#: and off mmap (a write of 256 claims' ~200 KB took ~10x as long per claim as 32 KB ones)
_BATCH = 32 * 1024


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


_REJECTED, _ACCEPTED = '"rejected"', '"accepted"'


class _Parties:
    """A claim's ``"payer_id"``, ``"billing_provider_npi"`` and ``"patient"`` members as JSON
    text. They come from its loops: claims of one provider share its loop object, and
    consecutive claims of one subscriber theirs, so each part is made once for a run of them."""

    __slots__ = ("show_phi", "_provider", "_npi", "_subscriber", "_patient", "_who", "_text")

    def __init__(self, show_phi: bool) -> None:
        self.show_phi = show_phi
        self._provider: object = None
        self._npi = ""
        self._subscriber: object = None
        self._patient: object = None
        self._who = ("", "")
        self._text = ""

    def text(self, claim: Claim) -> str:
        provider, sub, patient = claim.provider, claim.subscriber, claim.patient
        if provider is self._provider and sub is self._subscriber and patient is self._patient:
            return self._text
        if provider is not self._provider:
            npi = provider.nm1("85")
            self._npi = string(npi.get(9) if npi else "")
            self._provider = provider
        if sub is not self._subscriber or patient is not self._patient:
            subscriber, payer = sub.nm1("IL"), sub.nm1("PR")
            person = patient.nm1("QC") if patient is not None else subscriber
            last = person.get(3) if person else ""
            first = person.get(4) if person else ""
            member = subscriber.get(9) if subscriber else ""
            if not self.show_phi:
                last, first, member = mask(last), mask(first), mask(member)
            self._who = (string(payer.get(9) if payer else ""),
                         f'{{"last_name":{string(last)},"first_name":{string(first)},'
                         f'"member_id":{string(member)}}}')
            self._subscriber, self._patient = sub, patient
        payer_id, person_text = self._who
        self._text = (f'"payer_id":{payer_id},"billing_provider_npi":{self._npi},"patient":'
                      f"{person_text}")
        return self._text


def _claim_text(c: ClaimResult, encode: Callable[[tuple[Finding, ...]], str], lines: str,
                parties: _Parties) -> str:
    """A claim's object as ``_dumps`` writes it, from encoded strings (``lines``: the JSON
    array); TypeError or ValueError for a value json writes its own way."""
    claim = c.claim
    clm = claim.clm
    elements = clm.elements
    # a slim claim (no text) ends with its last segment; else its span says
    start, ordinal = clm.start, clm.ordinal
    end = claim.segments[-1].end if not claim.text else claim.span[1]
    if type(start) is not int or type(end) is not int or type(ordinal) is not int:
        raise TypeError("not an int")
    return (f'{{"clm01":{string(elements[1] if len(elements) > 1 else "")},"charge":'
            f'{string(elements[2] if len(elements) > 2 else "")},"verdict":'
            f'{_REJECTED if c.rejected else _ACCEPTED},"segment":{ordinal},'
            f'"span":[{start},{end}],{parties.text(claim)},"findings":{encode(c.findings)},'
            f'"lines":{lines}}}')


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


def _lines_text(result: ClaimResult) -> str:
    """:func:`lines_with_findings` as JSON text, written directly (the same bytes as
    ``_dumps``); most claims have no line-level finding: ``[]``."""
    rules: dict[str, list[str]] = {}
    rejecting: set[str] = set()  # lines with a finding that rejects
    for f in result.findings:
        if f.line_level:
            lx = f.location.lx
            if f.rejects:
                rejecting.add(lx)
            if lx:
                found = rules.get(lx)
                if found is None:
                    rules[lx] = [f.rule_id]
                elif f.rule_id not in found:
                    found.append(f.rule_id)
    if not rules:
        return "[]"
    try:
        out = []
        for line in result.claim.lines:
            lx = line.line_number
            on_line = rules.get(lx)
            if on_line is None:
                continue
            drug = line.drug
            ndc = quantity = unit = ""
            if drug is not None:
                ndc, quantity, unit = drug.ndc, drug.quantity, drug.unit
            ref_6r, code, modifiers = line.line_control, line.code, line.modifiers
            revenue, charge, units, dates = (line.revenue_code, line.charge, line.units,
                                             line.service_dates)
            if plain(lx + ref_6r + code + "".join(modifiers) + revenue + charge + units + dates
                     + ndc + quantity + unit + "".join(on_line)):  # no escapes: as they are
                ids = '","'.join(on_line)
                mods = '"' + '","'.join(modifiers) + '"' if modifiers else ""
                out.append(
                    f'{{"lx":"{lx}","ref_6r":"{ref_6r}","procedure":"{code}","modifiers":'
                    f'[{mods}],"revenue_code":"{revenue}",'
                    f'"charge":"{charge}","units":"{units}","service_date":"{dates}","ndc":'
                    f'"{ndc}","ndc_quantity":"{quantity}","ndc_unit":"{unit}","rejects":'
                    f'{"true" if lx in rejecting else "false"},"rule_ids":["{ids}"]}}')
                continue
            out.append(
                f'{{"lx":{string(lx)},"ref_6r":{string(ref_6r)},"procedure":'
                f'{string(code)},"modifiers":[{",".join(map(string, modifiers))}],'
                f'"revenue_code":{string(revenue)},"charge":{string(charge)},'
                f'"units":{string(units)},"service_date":{string(dates)},'
                f'"ndc":{string(ndc)},"ndc_quantity":{string(quantity)},"ndc_unit":'
                f'{string(unit)},"rejects":{"true" if lx in rejecting else "false"},"rule_ids":'
                f'[{",".join(map(string, on_line))}]}}')
        return "[" + ",".join(out) + "]"
    except TypeError:  # a value json writes its own way
        return _ENCODE(lines_with_findings(result))


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
        #: each streamed claim's lines with findings (a JSON array), or its whole object
        #: when it has no findings
        self._lines: Spool[str] = Spool()
        self._parties = _Parties(show_phi)  # of the streamed claims
        self._findings = FindingEncoder()
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
        """A claim as it is checked: its lines with findings, as JSON; a claim without
        findings (most claims) is written now, while its values are at hand, and kept
        for its SE, where it is used unless the transaction gave it findings."""
        if result.findings:
            self._lines.append(_lines_text(result))
            return
        try:
            text = _claim_text(result, self._findings.encode_all, "[]", self._parties)
        except (TypeError, ValueError):  # a value json writes its own way: at the SE
            text = "[]"
        self._lines.append(text)

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
        encode, parties = self._findings.encode_all, _Parties(self.show_phi)
        batch: list[str] = []
        size = 0
        for c in t.claims:
            text = next(lines) if lines is not None else _lines_text(c)
            if text[0] != "{" or c.findings:  # else a claim without findings, written as checked
                if text[0] == "{":
                    text = "[]"  # its transaction gave it findings: written again
                try:
                    text = _claim_text(c, encode, text, parties)
                except (TypeError, ValueError):  # a value json writes its own way: json does
                    text = _ENCODE(self._claim_dict(c, json.loads(text)))
            batch.append(text)
            size += len(text)
            if size >= _BATCH:  # a comma before every batch but the first
                write(",".join(batch).encode("ascii"))
                batch.clear()
                batch.append("")
                size = 0
        if batch and batch != [""]:
            write(",".join(batch).encode("ascii"))
        write(b"]}")
        streamed.close()

    def _claim_dict(self, c: ClaimResult, lines: object) -> dict[str, object]:
        return {
            "clm01": c.claim.clm01,
            "charge": c.claim.charge,
            "verdict": c.verdict.value,
            "segment": c.claim.clm.ordinal,
            "span": list(c.claim.span),
            "payer_id": c.claim.payer_id,
            "billing_provider_npi": c.claim.billing_npi,
            "patient": _person(c.claim, self.show_phi),
            "findings": [f.to_dict() for f in c.findings],
            "lines": lines,
        }

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
