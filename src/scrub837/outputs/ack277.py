"""The 277CA (005010X214) writer: one 277 per 837 transaction, in one interchange per input.

Accepted claims get ``STC*A1:20`` (acknowledgement/receipt, accepted for processing): a
pre-scrub is not the payer's adjudication system, so A2 (accepted into adjudication) would say
more than it knows. Rejected claims get the A3/A6/A7/A8 composites of their rejecting findings
(STC01, then STC10/STC11), action code U, and STC12 with what to fix. Each line whose finding
rejected the claim gets a 2220D loop. Warnings never appear: a 277CA has no warning status.
"""

from __future__ import annotations

import re
from itertools import chain, groupby
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import BinaryIO

from scrub837.claims.model import Claim, ServiceLine
from scrub837.edits._util import ccyymmdd
from scrub837.findings import Finding, Stc
from scrub837.outputs.control import ControlNumbers
from scrub837.verdicts.results import ClaimResult, TransactionResult, money
from scrub837.verdicts.spool import Spool, spooled
from scrub837.x12.lexer import Segment

#: Our delimiters (* : ^ ~), the ones 837s commonly use (| > { !), and '<' (fix texts write
#: placeholders like <NDC>): replaced by spaces in every value copied into the 277CA.
_BAD = str.maketrans({c: " " for c in "*:^~\r\n|<>{!"})
_NOT_PRINTABLE = re.compile(r"[^ -~]+")
#: a value ``clean`` leaves as it is: printable ASCII words, none of _BAD, single spaces between
_PLAIN = re.compile(r"(?:[\x22-\x29\x2b-\x39\x3b\x3d\x3f-\x5d\x5f-\x7a\x7d]+"
                    r"(?: [\x22-\x29\x2b-\x39\x3b\x3d\x3f-\x5d\x5f-\x7a\x7d]+)*)?").fullmatch
STC12_MAX = 264
SOURCE_ENTITIES = ("AY", "PR")  # 2100A NM101: clearinghouse or payer
SOURCE_QUALIFIERS = ("46", "FI", "PI", "XV")  # 2100A NM108


@dataclass(frozen=True)
class AckConfig:
    sender_id: str = "SCRUB837"
    sender_qualifier: str = "ZZ"
    receiver_id: str = ""  # default: the 837's ISA06 (the submitter)
    receiver_qualifier: str = ""  # default: the 837's ISA05
    source_name: str = "SCRUB837 PRE-SCRUB"
    source_id: str = "SCRUB837"
    source_entity: str = "AY"  # 2100A NM101 and the entity of the 2200B/2200C receipt STC
    source_id_qualifier: str = "46"  # 2100A NM108
    newline: bool = True  # a line break after each segment terminator

    def __post_init__(self) -> None:
        if self.source_entity not in SOURCE_ENTITIES:
            raise ValueError(f"source_entity must be one of {SOURCE_ENTITIES}")
        if self.source_id_qualifier not in SOURCE_QUALIFIERS:
            raise ValueError(f"source_id_qualifier must be one of {SOURCE_QUALIFIERS}")


def clean(value: str, limit: int = 80) -> str:
    """A value copied into the 277CA: no delimiter or control characters, bounded length."""
    if len(value) <= limit and _PLAIN(value) is not None:
        return value  # nothing to remove or collapse (most values): the same string
    text = _NOT_PRINTABLE.sub("", value.translate(_BAD))
    return " ".join(text.split())[:limit]


def _amount(value: Decimal) -> str:
    text = format(value.quantize(Decimal("0.01")), "f")
    return text[:-3] if text.endswith(".00") else text.rstrip("0")


def _stc(composites: Iterable[Stc], date: str, action: str, amount: str, text: str = "") -> str:
    comps = list(composites)[:3]
    parts = ["STC", str(comps[0]), date, action, amount]
    if len(comps) > 1 or text:
        parts += ["", "", "", "", ""]
        parts.append(str(comps[1]) if len(comps) > 1 else "")
        parts.append(str(comps[2]) if len(comps) > 2 else "")
        if text:
            parts.append(text)
    while parts[-1] == "":
        parts.pop()
    return "*".join(parts)


def _dates(claim: Claim) -> str:
    first, last = claim.date_range()
    if not first:
        return ""
    return f"D8*{first}" if first == last else f"RD8*{first}-{last}"


def _fix_text(rejecting: Iterable[Finding]) -> str:
    """STC12: 'RULE - what to fix' for each rejecting rule, as many as fit in 264 characters."""
    parts: list[str] = []
    seen: set[str] = set()
    for f in rejecting:
        if f.rule_id in seen:
            continue
        seen.add(f.rule_id)
        part = clean(f"{f.rule_id} - {f.fix or f.message}", 4 * STC12_MAX)
        candidate = "; ".join([*parts, part])
        if len(candidate) <= STC12_MAX:
            parts.append(part)
        elif not parts:
            cut = part[:STC12_MAX - 3].rsplit(" ", 1)[0]
            parts.append(cut + "...")
            break
        else:
            break
    return "; ".join(parts)


def _name(nm1: Segment | None, fallback: str) -> list[str]:
    """NM102..NM105 of a copied NM1 (entity type, last/organisation, first, middle)."""
    if nm1 is None or not nm1.get(3):
        return ["2", fallback, "", ""]
    person = nm1.get(2) == "1"
    return ["1" if person else "2", clean(nm1.get(3), 60),
            clean(nm1.get(4), 35) if person else "", clean(nm1.get(5), 25) if person else ""]


def _composites(findings: Iterable[Finding]) -> list[Stc]:
    out: list[Stc] = []
    for f in findings:
        for s in f.stc:
            if s not in out:
                out.append(s)
    return out or [Stc("A3", "21")]


def _provider_key(c: ClaimResult) -> tuple[str, int]:
    return (c.claim.provider.hl_id, c.claim.provider.hl.ordinal)


class _Totals:
    """One billing provider's counts and amounts in a transaction (for its 2200C)."""

    __slots__ = ("acc", "rej", "acc_amt", "rej_amt")

    def __init__(self) -> None:
        self.acc = self.rej = 0
        self.acc_amt = self.rej_amt = Decimal(0)

    def add(self, c: ClaimResult) -> None:
        if c.rejected:
            self.rej += 1
            self.rej_amt += c.charge
        else:
            self.acc += 1
            self.acc_amt += c.charge


def _totals(claims: Iterable[ClaimResult]) -> _Totals:
    totals = _Totals()
    for c in claims:
        totals.add(c)
    return totals


class Ack277Writer:
    """Streaming: ``add`` writes one 277 per supported 837 transaction as it comes; ``close``
    ends the interchange. Unsupported transactions get no 277 (the reports list them)."""

    def __init__(self, stream: BinaryIO, config: AckConfig, control: ControlNumbers,
                 now: datetime, *, envelope: bool = True) -> None:
        """``envelope=False`` writes only the 277 transactions (a ``--jobs`` part): whoever
        joins the parts writes ISA/GS with :meth:`open_for` and GE/IEA with :meth:`close`."""
        self.stream = stream
        self.envelope = envelope
        self.first_isa: Segment | None = None  # the ISA of the first 277 written
        self.config = config
        self.control = control
        self.now = now
        self.ymd = now.strftime("%Y%m%d")
        self.hm = now.strftime("%H%M")
        self._isa13 = 0
        self._gs06 = 0
        self._transactions = 0
        self._opened = False
        self._st02 = ""

    def _write(self, segments: list[str]) -> None:
        end = "~\n" if self.config.newline else "~"
        self.stream.write("".join(s + end for s in segments).encode("ascii", "replace"))

    @property
    def transactions(self) -> int:
        return self._transactions

    def open_for(self, isa: Segment, transactions: int = 0) -> None:
        """Write ISA/GS answering the interchange ``isa``; ``transactions`` already written
        elsewhere (joined parts) count in GE01."""
        self._open_isa(isa)
        self._transactions += transactions

    def _open_isa(self, isa: Segment) -> None:
        cfg = self.config
        receiver = clean(cfg.receiver_id or isa.get(6).strip(), 15) or "UNKNOWN"
        receiver_q = clean(cfg.receiver_qualifier or isa.get(5).strip(), 2) or "ZZ"
        usage = isa.get(15) if isa.get(15) in ("P", "T") else "P"
        self._isa13 = self.control.take()
        self._gs06 = self.control.take()
        self._write([
            "*".join(["ISA", "00", " " * 10, "00", " " * 10,
                      clean(cfg.sender_qualifier, 2).ljust(2), clean(cfg.sender_id, 15).ljust(15),
                      receiver_q.ljust(2), receiver.ljust(15),
                      self.now.strftime("%y%m%d"), self.hm, "^", "00501", f"{self._isa13:09d}",
                      "0", usage, ":"]),
            (f"GS*HN*{clean(cfg.sender_id, 15)}*{receiver}*{self.ymd}*{self.hm}*{self._gs06}*X*"
             "005010X214"),
        ])
        self._opened = True

    def add(self, result: TransactionResult) -> None:
        if not result.supported or result.header is None:
            return
        if self.first_isa is None:
            self.first_isa = result.envelope.isa
        if not self._opened and self.envelope:
            self._open_isa(result.envelope.isa)
        self._transactions += 1
        batch: list[str] = []
        count = 0
        for seg in self._transaction(result):  # a large transaction is written as it goes
            batch.append(seg)
            if len(batch) >= 4096:
                count += len(batch)
                self._write(batch)
                batch = []
        count += len(batch)
        batch.append(f"SE*{count + 1}*{self._st02}")
        self._write(batch)

    def close(self) -> None:
        if not self._opened:
            return
        self._write([f"GE*{self._transactions}*{self._gs06}", f"IEA*1*{self._isa13:09d}"])

    # -- one 277 ---------------------------------------------------------------------------

    def _transaction(self, result: TransactionResult) -> Iterator[str]:
        """The 277's segments from ST to the last claim (``add`` writes SE). Two passes over
        the claims: totals first (they come before the claims), then the claims, so a
        spooled transaction is never held in memory."""
        cfg = self.config
        header = result.header
        assert header is not None
        # per billing provider (2000A loop), in order: the reader gives each claim the latest
        # HL 20 before it, so a provider's claims are together and its HL ordinal only grows
        providers: Spool[_Totals] = Spool()
        contiguous = True
        last: tuple[str, int] | None = None
        totals = _Totals()
        for c in result.claims:
            key = _provider_key(c)
            if key != last:
                if last is not None:
                    contiguous = contiguous and key[1] > last[1]
                    providers.append(totals)
                totals, last = _Totals(), key
            totals.add(c)
        if last is not None:
            providers.append(totals)
        grouped: dict[tuple[str, int], list[ClaimResult]] = {}
        if not contiguous:  # a hand-built result: claims listed under their provider, in memory
            for c in result.claims:
                grouped.setdefault(_provider_key(c), []).append(c)
            providers.close()
            providers = spooled(_totals(claims) for claims in grouped.values())
        # ST02, the 2200A trace, one 2200C trace per provider, one REF*D9 per claim: reserved
        # at once (one locked update of a --control-state file per transaction, not per claim)
        numbers = self._numbers(2 + len(providers) + len(result.claims))
        st02 = f"{next(numbers):04d}"
        self._st02 = st02
        submitter = header.first("NM1", "41")
        acc_amt = rej_amt = Decimal(0)
        n_acc = n_rej = 0
        for t in providers:
            acc_amt += t.acc_amt
            rej_amt += t.rej_amt
            n_acc += t.acc
            n_rej += t.rej
        entity = cfg.source_entity
        sub_type, sub_name, sub_first, sub_middle = _name(submitter, "SUBMITTER")
        segs = [f"ST*277*{st02}*005010X214",
                f"BHT*0085*08*{clean(header.bht03, 30) or st02}*{self.ymd}*{self.hm}*TH",
                "HL*1**20*1",
                (f"NM1*{entity}*2*{clean(cfg.source_name, 60)}*****{cfg.source_id_qualifier}*"
                 f"{clean(cfg.source_id, 80)}"),
                f"TRN*1*{next(numbers)}",
                f"DTP*050*D8*{self.ymd}",
                f"DTP*009*D8*{self.ymd}",
                "HL*2*1*21*1",
                (f"NM1*41*{sub_type}*{sub_name}*{sub_first}*{sub_middle}***46*"
                 f"{(clean(submitter.get(9), 80) if submitter else '') or 'UNKNOWN'}"),
                f"TRN*2*{clean(header.bht03, 50) or st02}"]
        total = _amount(acc_amt + rej_amt)
        if result.rejected:
            # STC12 is not used at 2200B: the reason is in the composites (and the reports)
            segs.append(_stc(_composites(result.findings), self.ymd, "U", total))
        else:
            segs.append(_stc([Stc("A1", "19", entity)], self.ymd, "WQ", total))
        segs += [f"QTY*90*{n_acc}", f"QTY*AA*{n_rej}",
                 f"AMT*YU*{_amount(acc_amt)}", f"AMT*YY*{_amount(rej_amt)}"]
        # 2200C (STC02 not used there): receipt, or the transaction's rejection when the whole
        # ST/SE is rejected
        provider_status = ((_composites(result.findings), "", "U") if result.rejected
                           else ([Stc("A1", "19", entity)], "", "WQ"))
        yield from segs
        groups: Iterable[tuple[tuple[str, int], Iterable[ClaimResult]]] = (
            groupby(result.claims, key=_provider_key) if contiguous else grouped.items())
        hl = 2
        for (_, claims), t in zip(groups, providers, strict=True):
            claims = iter(claims)
            head = next(claims)
            claims = chain((head,), claims)
            hl += 1
            prov_hl = hl
            nm1 = head.claim.provider.nm1("85")
            kind, name, first, middle = _name(nm1, "BILLING PROVIDER")
            sent = nm1.get(8) if nm1 is not None else ""
            qualifier = sent if sent in ("FI", "SV", "XX") else "XX"
            yield from [f"HL*{prov_hl}*2*19*1",
                        (f"NM1*85*{kind}*{name}*{first}*{middle}***{qualifier}*"
                         f"{(clean(nm1.get(9), 80) if nm1 else '') or '0000000000'}"),
                        f"TRN*1*{next(numbers)}",
                        _stc(*provider_status, _amount(t.acc_amt + t.rej_amt)),
                        f"QTY*QA*{t.acc}", f"QTY*QC*{t.rej}",
                        f"AMT*YU*{_amount(t.acc_amt)}",
                        f"AMT*YY*{_amount(t.rej_amt)}"]
            for c in claims:
                hl += 1
                yield from self._claim(c, hl, prov_hl, next(numbers))
        providers.close()

    def _numbers(self, count: int) -> Iterator[int]:
        """``count`` numbers reserved at once, produced one by one (a large transaction needs
        millions)."""
        return self.control.numbers(count)

    def _claim(self, c: ClaimResult, hl: int, parent: int, trace: int) -> list[str]:
        claim = c.claim
        sub = claim.subscriber.nm1("IL")
        pat = claim.patient.nm1("QC") if claim.patient is not None else sub
        last = (clean(pat.get(3), 60) if pat else "") or "UNKNOWN"
        first = clean(pat.get(4), 35) if pat else ""
        member = (clean(sub.get(9), 80) if sub else "") or "UNKNOWN"
        segs = [f"HL*{hl}*{parent}*PT",
                f"NM1*QC*1*{last}*{first}****MI*{member}",
                f"TRN*2*{clean(claim.clm01, 50) or 'UNKNOWN'}"]
        charge = _amount(money(claim.charge))
        if c.rejected:
            rejecting = c.rejecting
            segs.append(_stc(_composites(rejecting), self.ymd, "U", charge,
                             _fix_text(rejecting)))
        else:
            segs.append(_stc([Stc("A1", "20")], self.ymd, "WQ", charge))
        segs.append(f"REF*D9*{trace}")
        bill_type = clean(claim.facility_code + claim.frequency, 3)
        if claim.kind == "I" and len(bill_type) == 3:
            segs.append(f"REF*BLT*{bill_type}")
        dates = _dates(claim)
        segs.append(f"DTP*472*{dates}" if dates else f"DTP*472*D8*{self.ymd}")
        for line in c.rejected_lines:
            segs += self._line(c, line)
        return segs

    def _line(self, c: ClaimResult, line: ServiceLine) -> list[str]:
        findings = [f for f in c.line_findings(line) if f.rejects]
        code = clean(line.code, 48)
        revenue = clean(line.revenue_code, 48)
        if code:
            comp = ":".join([clean(line.qualifier, 2) or "HC", code,
                             *(clean(m, 2) for m in line.modifiers)])
        else:  # an 837I line with a revenue code only: SVC01 NU (National Uniform Billing)
            comp = f"NU:{revenue or 'UNKNOWN'}"
        parts = ["SVC", comp, _amount(money(line.charge))]
        if code and revenue:
            parts += ["", revenue]
        units = clean(line.units, 15)
        if units:
            parts += [""] * (7 - len(parts)) + [units]
        segs = ["*".join(parts),
                _stc(_composites(findings)[:3], self.ymd, "U", "").rstrip("*")]
        if line.line_control:
            segs.append(f"REF*FJ*{clean(line.line_control, 50)}")
        if line.drug is not None and line.drug.prescription:
            segs.append(f"REF*XZ*{clean(line.drug.prescription, 50)}")
        date = line.service_date
        if ccyymmdd(date) is not None:
            segs.append(f"DTP*472*D8*{date}")
        return segs
