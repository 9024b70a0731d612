"""The 277CA (005010X214) writer: one 277 per 837 transaction, in one interchange per input.

Accepted claims get ``STC*A1:20`` (acknowledgement/receipt, accepted for processing): a
pre-scrub is not the payer's adjudication system, so A2 (accepted into adjudication) would say
more than it knows. Rejected claims get the A3/A6/A7/A8 composites of their rejecting findings
(STC01, then STC10/STC11), action code U, and STC12 with what to fix. Each line whose finding
rejected the claim gets a 2220D loop. Warnings never appear: a 277CA has no warning status.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import BinaryIO

from scrub837.claims import Claim, ServiceLine
from scrub837.edits._util import ccyymmdd
from scrub837.findings import Finding, Stc
from scrub837.outputs.control import ControlNumbers
from scrub837.results import ClaimResult, TransactionResult, money

_BAD = str.maketrans({c: " " for c in "*:^~\r\n|>{!"})
STC12_MAX = 264


@dataclass(frozen=True)
class AckConfig:
    sender_id: str = "SCRUB837"
    sender_qualifier: str = "ZZ"
    receiver_id: str = ""  # default: the 837's ISA06 (the submitter)
    receiver_qualifier: str = ""  # default: the 837's ISA05
    source_name: str = "SCRUB837 PRE-SCRUB"
    source_id: str = "SCRUB837"
    newline: bool = True


def clean(value: str, limit: int = 80) -> str:
    """A value copied into the 277CA: no delimiter or control characters, bounded length."""
    text = "".join(ch for ch in value.translate(_BAD) if " " <= ch <= "~")
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


def _composites(findings: Iterable[Finding]) -> list[Stc]:
    out: list[Stc] = []
    for f in findings:
        for s in f.stc:
            if s not in out:
                out.append(s)
    return out or [Stc("A3", "21")]


class Ack277Writer:
    def __init__(self, stream: BinaryIO, config: AckConfig, control: ControlNumbers,
                 now: datetime) -> None:
        self.stream = stream
        self.config = config
        self.control = control
        self.now = now
        self.ymd = now.strftime("%Y%m%d")
        self.hm = now.strftime("%H%M")
        self._isa13 = 0
        self._transactions = 0
        self._opened = False

    def _write(self, segments: list[str]) -> None:
        end = "~\n" if self.config.newline else "~"
        self.stream.write("".join(s + end for s in segments).encode("ascii", "replace"))

    def _open(self, first: TransactionResult) -> None:
        cfg = self.config
        isa = first.envelope.isa
        receiver = clean(cfg.receiver_id or isa.get(6).strip(), 15) or "UNKNOWN"
        receiver_q = clean(cfg.receiver_qualifier or isa.get(5).strip(), 2) or "ZZ"
        usage = isa.get(15) if isa.get(15) in ("P", "T") else "P"
        self._isa13 = self.control.take()
        self._gs06 = self.control.take()
        self._write([
            "*".join(["ISA", "00", " " * 10, "00", " " * 10, clean(cfg.sender_qualifier, 2).ljust(2),
                      clean(cfg.sender_id, 15).ljust(15), receiver_q.ljust(2), receiver.ljust(15),
                      self.now.strftime("%y%m%d"), self.hm, "^", "00501", f"{self._isa13:09d}",
                      "0", usage, ":"]),
            f"GS*HN*{clean(cfg.sender_id, 15)}*{receiver}*{self.ymd}*{self.hm}*{self._gs06}*X*"
            "005010X214",
        ])
        self._opened = True

    def add(self, result: TransactionResult) -> None:
        if not result.supported or result.header is None:
            return
        if not self._opened:
            self._open(result)
        self._transactions += 1
        self._write(self._transaction(result))

    def close(self) -> None:
        if not self._opened:
            return
        self._write([f"GE*{self._transactions}*{self._gs06}", f"IEA*1*{self._isa13:09d}"])

    # -- one 277 ---------------------------------------------------------------------------

    def _transaction(self, result: TransactionResult) -> list[str]:
        cfg = self.config
        st02 = f"{self.control.take():04d}"
        header = result.header
        assert header is not None
        submitter = header.first("NM1", "41")
        accepted = [c for c in result.claims if not c.rejected]
        rejected = [c for c in result.claims if c.rejected]
        acc_amt = sum((c.charge for c in accepted), Decimal(0))
        rej_amt = sum((c.charge for c in rejected), Decimal(0))
        segs = [f"ST*277*{st02}*005010X214",
                f"BHT*0085*08*{clean(header.bht03, 30) or st02}*{self.ymd}*{self.hm}*TH",
                "HL*1**20*1",
                f"NM1*AY*2*{clean(cfg.source_name, 60)}*****46*{clean(cfg.source_id, 80)}",
                f"TRN*1*{self.control.take()}",
                f"DTP*050*D8*{self.ymd}",
                f"DTP*009*D8*{self.ymd}",
                "HL*2*1*21*1",
                f"NM1*41*2*{clean(submitter.get(3), 60) if submitter else 'SUBMITTER'}*****46*"
                f"{clean(submitter.get(9), 80) if submitter else 'UNKNOWN'}",
                f"TRN*2*{clean(header.bht03, 50) or st02}"]
        total = _amount(acc_amt + rej_amt)
        if result.rejected:
            # STC12 is not used at 2200B: the reason is in the composites (and the reports)
            segs.append(_stc(_composites(result.findings), self.ymd, "U", total))
        else:
            segs.append(_stc([Stc("A1", "19", "PR")], self.ymd, "WQ", total))
        segs += [f"QTY*90*{len(accepted)}", f"QTY*AA*{len(rejected)}",
                 f"AMT*YU*{_amount(acc_amt)}", f"AMT*YY*{_amount(rej_amt)}"]
        hl = 2
        providers: dict[str, list[ClaimResult]] = {}
        order: list[str] = []
        for c in result.claims:
            key = c.claim.provider.hl_id + "|" + str(c.claim.provider.hl.ordinal)
            if key not in providers:
                providers[key] = []
                order.append(key)
            providers[key].append(c)
        for key in order:
            claims = providers[key]
            hl += 1
            prov_hl = hl
            block = claims[0].claim.provider
            nm1 = block.nm1("85")
            p_acc = [c for c in claims if not c.rejected]
            p_rej = [c for c in claims if c.rejected]
            segs += [f"HL*{prov_hl}*2*19*1",
                     f"NM1*85*2*{clean(nm1.get(3), 60) if nm1 else 'BILLING PROVIDER'}*****"
                     f"{clean(nm1.get(8), 2) if nm1 and nm1.get(8) else 'XX'}*"
                     f"{clean(nm1.get(9), 80) if nm1 else '0000000000'}",
                     f"TRN*1*{self.control.take()}",
                     _stc([Stc("A1", "19", "85")], "", "WQ",
                          _amount(sum((c.charge for c in claims), Decimal(0)))),
                     f"QTY*QA*{len(p_acc)}", f"QTY*QC*{len(p_rej)}",
                     f"AMT*YU*{_amount(sum((c.charge for c in p_acc), Decimal(0)))}",
                     f"AMT*YY*{_amount(sum((c.charge for c in p_rej), Decimal(0)))}"]
            for c in claims:
                hl += 1
                segs += self._claim(c, hl, prov_hl)
        segs.append(f"SE*{len(segs) + 1}*{st02}")
        return segs

    def _claim(self, c: ClaimResult, hl: int, parent: int) -> list[str]:
        claim = c.claim
        sub = claim.subscriber.nm1("IL")
        pat = claim.patient.nm1("QC") if claim.patient is not None else sub
        last = clean(pat.get(3), 60) if pat else "UNKNOWN"
        first = clean(pat.get(4), 35) if pat else ""
        member = clean(sub.get(9), 80) if sub and sub.get(9) else "UNKNOWN"
        segs = [f"HL*{hl}*{parent}*PT",
                f"NM1*QC*1*{last}*{first}****MI*{member}",
                f"TRN*2*{clean(claim.clm01, 50) or 'UNKNOWN'}"]
        charge = _amount(money(claim.charge))
        if c.rejected:
            rejecting = c.rejecting
            note = rejecting[0].fix or rejecting[0].message
            text = clean(f"{rejecting[0].rule_id}: {note}", STC12_MAX)
            segs.append(_stc(_composites(rejecting), self.ymd, "U", charge, text))
        else:
            segs.append(_stc([Stc("A1", "20")], self.ymd, "WQ", charge))
        segs.append(f"REF*D9*{self.control.take()}")
        if claim.kind == "I" and claim.facility_code:
            segs.append(f"REF*BLT*{clean(claim.facility_code + claim.frequency, 3)}")
        dates = _dates(claim)
        segs.append(f"DTP*472*{dates}" if dates else f"DTP*472*D8*{self.ymd}")
        for line in c.rejected_lines:
            segs += self._line(c, line)
        return segs

    def _line(self, c: ClaimResult, line: ServiceLine) -> list[str]:
        findings = [f for f in c.line_findings(line) if f.rejects]
        comp = ":".join([clean(line.qualifier, 2) or "HC", clean(line.code, 48),
                         *(clean(m, 2) for m in line.modifiers)])
        parts = ["SVC", comp, _amount(money(line.charge))]
        if line.revenue_code:
            parts += ["", clean(line.revenue_code, 48)]
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
