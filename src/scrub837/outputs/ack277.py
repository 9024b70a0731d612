"""The 277CA (005010X214) writer: one 277 per 837 transaction, in one interchange per input.

Accepted claims get ``STC*A1:20`` (acknowledgement/receipt, accepted for processing): a
pre-scrub is not the payer's adjudication system, so A2 (accepted into adjudication) would say
more than it knows. Rejected claims get the A3/A6/A7/A8 composites of their rejecting findings
(STC01, then STC10/STC11), action code U, and STC12 with what to fix. Each line whose finding
rejected the claim gets a 2220D loop. Warnings never appear: a 277CA has no warning status.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import islice
from typing import BinaryIO

from scrub837.claims.model import Claim, HlBlock
from scrub837.findings import Finding, Stc
from scrub837.outputs._ack277_text import (MEMO_SIZE, STC12_MAX, Charges, _amount, _charge,
                                           _composites, _fix_text, _name, _stc, clean,
                                           stc_around)
from scrub837.outputs.control import ControlNumbers
from scrub837.outputs._ack277_claims import Totals, line_loop, provider_key, totals_of
from scrub837.verdicts.results import ClaimResult, TransactionResult
from scrub837.verdicts.spool import Spool, spooled
from scrub837.x12.lexer import Segment

__all__ = ["STC12_MAX", "Ack277Writer", "AckConfig", "_amount", "_charge", "_fix_text", "clean"]

#: characters per write (the joined text stays small: in the processor's caches, off mmap)
_BATCH = 32 * 1024
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
        self._end = "~\n" if config.newline else "~"
        #: STC of an accepted claim up to its amount, and DTP*472 of a claim without dates
        self._accepted = _stc([Stc("A1", "20")], self.ymd, "WQ", "1")[:-1]
        self._no_dates = f"DTP*472*D8*{self.ymd}"
        self._charges = Charges()
        #: the 2100D NM1*QC of the last subscriber's loops (by identity: its claims share them)
        self._last_person: tuple[object, object, str] = (None, None, "")
        #: a billing provider's NM1*85 by its elements (a file has few providers)
        self._providers: dict[tuple[str, ...], str] = {}
        #: a rejected claim's STC before and after its amount, by its findings' values
        self._fixes: dict[tuple[tuple[str, tuple[Stc, ...], str], ...], tuple[str, str]] = {}

    def _write(self, segments: list[str]) -> None:
        end = self._end
        self.stream.write((end.join(segments) + end).encode("ascii", "replace"))

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
        write = self.stream.write
        batch: list[str] = []
        count = 0
        size = 0
        for text, n in self._transaction(result):  # a large transaction is written as it goes
            batch.append(text)
            count += n
            size += len(text)
            if size >= _BATCH:
                write("".join(batch).encode("ascii", "replace"))
                batch = []
                size = 0
        batch.append(f"SE*{count + 1}*{self._st02}{self._end}")
        write("".join(batch).encode("ascii", "replace"))

    def close(self) -> None:
        if not self._opened:
            return
        self._write([f"GE*{self._transactions}*{self._gs06}", f"IEA*1*{self._isa13:09d}"])

    # -- one 277 ---------------------------------------------------------------------------

    def _transaction(self, result: TransactionResult) -> Iterator[tuple[str, int]]:
        """The 277's text from ST to the last claim (``add`` writes SE), in pieces, each with
        its number of segments. Two passes over the claims: totals first (they come before
        the claims), then the claims, so a spooled transaction is never held in memory."""
        cfg = self.config
        end = self._end
        header = result.header
        assert header is not None
        # per billing provider (2000A loop), in order: the reader gives each claim the latest
        # HL 20 before it, so a provider's claims are together and its HL ordinal only grows
        providers: Spool[Totals] = Spool()
        contiguous = True
        last: tuple[str, int] | None = None
        block: object = None
        totals = Totals()
        charges = self._charges
        known = charges.known
        for c in result.claims:
            claim = c.claim
            if claim.provider is not block:
                block = claim.provider
                key = (claim.provider.hl_id, claim.provider.hl.ordinal)
                if key != last:
                    if last is not None:
                        contiguous = contiguous and key[1] > last[1]
                        providers.append(totals)
                    totals, last = Totals(), key
            elements = claim.clm.elements
            text = elements[2] if len(elements) > 2 else ""
            hit = known.get(text)
            amount = (hit if hit is not None else charges(text))[0]
            if c.rejected:
                totals.rej += 1
                totals.rej_amt += amount
            else:
                totals.acc += 1
                totals.acc_amt += amount
        if last is not None:
            providers.append(totals)
        grouped: dict[tuple[str, int], list[ClaimResult]] = {}
        if not contiguous:  # a hand-built result: claims listed under their provider, in memory
            for c in result.claims:
                grouped.setdefault(provider_key(c), []).append(c)
            providers.close()
            providers = spooled(totals_of(claims) for claims in grouped.values())
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
        provider_status = (stc_around(_composites(result.findings), "", "U") if result.rejected
                           else stc_around([Stc("A1", "19", entity)], "", "WQ"))
        yield end.join(segs) + end, len(segs)
        # each provider's claims: the next acc + rej of them (in file order, or its group's)
        claims = iter(result.claims)
        lists = iter(grouped.values())
        hl = 2
        rejected_text, person = self._rejected, self._person
        accepted, no_dates = self._accepted, self._no_dates
        kind_of: object = None
        kind = ""
        for t in providers:
            group = islice(claims, t.acc + t.rej) if contiguous else next(lists)
            hl += 1
            prov_hl = hl
            pieces: list[str] = []
            count = 0
            for c in group:
                claim = c.claim
                if not pieces:  # the 2000C, from the provider's first claim
                    segs = self._provider(claim.provider, prov_hl, next(numbers), t,
                                          provider_status)
                    pieces.append(end.join(segs) + end)
                    count = len(segs)
                elif count >= 1024:  # a provider of many claims: written as it goes
                    yield "".join(pieces), count
                    pieces, count = [""], 0
                hl += 1
                if claim.header is not kind_of:
                    kind_of, kind = claim.header, claim.kind
                if c.rejected or kind == "I":
                    text, n = rejected_text(c, hl, prov_hl, next(numbers), kind)
                    pieces.append(text)
                    count += n
                    continue
                # an accepted 837P claim (most claims): one f-string
                elements = claim.clm.elements
                text = elements[2] if len(elements) > 2 else ""
                hit = known.get(text)
                charge = (hit if hit is not None else charges(text))[1]
                text = elements[1] if len(elements) > 1 else ""
                if not (text.isalnum() and text.isascii() and len(text) <= 50):
                    text = clean(text, 50) or "UNKNOWN"
                lo, hi = claim.span_dates
                if not lo:
                    lo, hi = claim.date_range()
                if not lo:
                    dtp = no_dates
                elif lo == hi:
                    dtp = f"DTP*472*D8*{lo}"
                else:
                    dtp = f"DTP*472*RD8*{lo}-{hi}"
                seen = self._last_person  # the claims of a subscriber follow each other
                who = (seen[2] if seen[0] is claim.subscriber and seen[1] is claim.patient
                       else person(claim))
                pieces.append(f"HL*{hl}*{prov_hl}*PT{end}{who}{end}TRN*2*{text}{end}"
                              f"{accepted}{charge}{end}REF*D9*{next(numbers)}{end}{dtp}{end}")
                count += 6
            yield "".join(pieces), count
        providers.close()

    def _numbers(self, count: int) -> Iterator[int]:
        """``count`` numbers reserved at once, produced one by one (a large transaction needs
        millions)."""
        return self.control.numbers(count)

    def _provider(self, provider: HlBlock, hl: int, trace: int, t: Totals,
                  status: tuple[str, str]) -> list[str]:
        """A billing provider's 2000C/2200C loops."""
        nm1 = provider.nm1("85")
        values = nm1.elements if nm1 is not None else ()
        text = self._providers.get(values)
        if text is None:
            kind, name, first, middle = _name(nm1, "BILLING PROVIDER")
            sent = nm1.get(8) if nm1 is not None else ""
            qualifier = sent if sent in ("FI", "SV", "XX") else "XX"
            text = (f"NM1*85*{kind}*{name}*{first}*{middle}***{qualifier}*"
                    f"{(clean(nm1.get(9), 80) if nm1 else '') or '0000000000'}")
            if len(self._providers) >= MEMO_SIZE:
                self._providers.clear()
            self._providers[values] = text
        return [f"HL*{hl}*2*19*1", text, f"TRN*1*{trace}",
                f"{status[0]}{_amount(t.acc_amt + t.rej_amt)}{status[1]}",
                f"QTY*QA*{t.acc}", f"QTY*QC*{t.rej}",
                f"AMT*YU*{_amount(t.acc_amt)}",
                f"AMT*YY*{_amount(t.rej_amt)}"]

    def _rejected(self, c: ClaimResult, hl: int, parent: int, trace: int,
                  kind: str) -> tuple[str, int]:
        """A claim's 2000D/2200D loops (and, rejected, its lines' 2220D) as text, with the
        number of segments: every claim but an accepted 837P's (which ``_transaction``
        writes itself, the same way)."""
        claim = c.claim
        elements = claim.clm.elements
        clm01 = elements[1] if len(elements) > 1 else ""
        charge = self._charges(elements[2] if len(elements) > 2 else "")[1]
        first, last = claim.date_range()
        if c.rejected:
            stc = self._rejected_stc(c.rejecting, charge)
        else:
            stc = self._accepted + charge
        segs = [f"HL*{hl}*{parent}*PT", self._person(claim),
                f"TRN*2*{clean(clm01, 50) or 'UNKNOWN'}", stc, f"REF*D9*{trace}"]
        if kind == "I":
            bill_type = clean(claim.facility_code + claim.frequency, 3)
            if len(bill_type) == 3:
                segs.append(f"REF*BLT*{bill_type}")
        if not first:
            segs.append(self._no_dates)
        elif first == last:
            segs.append(f"DTP*472*D8*{first}")
        else:
            segs.append(f"DTP*472*RD8*{first}-{last}")
        if c.rejected:
            rejecting = c.rejecting_by_line()
            if rejecting:
                for line in claim.lines:  # in line order
                    on_line = rejecting.get(line.line_number)
                    if on_line is not None:
                        segs += line_loop(line, on_line, self.ymd)
        end = self._end
        return end.join(segs) + end, len(segs)

    def _rejected_stc(self, rejecting: tuple[Finding, ...], charge: str) -> str:
        """A rejected claim's STC: its findings' composites and fixes repeat from claim to
        claim (kept by their values)."""
        if not charge:  # no amount: STC04 (and what is empty before it) left off
            return _stc(_composites(rejecting), self.ymd, "U", charge, _fix_text(rejecting))
        key = tuple([(f.rule_id, f.stc, f.fix or f.message) for f in rejecting])
        try:
            parts = self._fixes.get(key)
        except TypeError:  # a plugin's value that cannot be a key
            parts = ("", "")
        if parts is None:
            text = _stc(_composites(rejecting), self.ymd, "U", "\0", _fix_text(rejecting))
            before, _, after = text.partition("\0")
            parts = (before, after) if text.count("\0") == 1 else ("", "")
            if len(self._fixes) >= MEMO_SIZE:
                self._fixes.clear()
            self._fixes[key] = parts
        if not parts[0]:  # not to be made from parts
            return _stc(_composites(rejecting), self.ymd, "U", charge, _fix_text(rejecting))
        return parts[0] + charge + parts[1]

    def _person(self, claim: Claim) -> str:
        """The claim's 2100D NM1*QC (patient, else subscriber): the same for the claims of one
        subscriber (the reader gives them one loop object), so made once for them."""
        sub, patient = claim.subscriber, claim.patient
        seen = self._last_person
        if seen[0] is sub and seen[1] is patient:
            return seen[2]
        nm1 = sub.nm1("IL")
        pat = patient.nm1("QC") if patient is not None else nm1
        name = first = ""
        if pat is not None:
            values = pat.elements
            n = len(values)
            name = clean(values[3], 60) if n > 3 else ""
            first = clean(values[4], 35) if n > 4 else ""
        member = nm1.elements[9] if nm1 is not None and len(nm1.elements) > 9 else ""
        text = f"NM1*QC*1*{name or 'UNKNOWN'}*{first}****MI*{clean(member, 80) or 'UNKNOWN'}"
        self._last_person = (sub, patient, text)
        return text
