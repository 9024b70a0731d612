"""``scrub837 extract``'s records as JSON text, written from templates.

Each record is what ``json.dumps(line_record(claim, line), separators=(",", ":"))`` writes,
byte for byte: the values are put into fixed templates when none of them holds a character
JSON escapes (a quote, a backslash, a control character or one outside ASCII), else the record
is encoded from :func:`~scrub837.claims.extract.line_record`'s parts. The claim's part is
written once for all of its lines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from scrub837.claims.extract import (
    _ENCODE,
    _drug,
    _envelope,
    _line,
    _notes,
    claim_context,
    mask,
)
from scrub837.claims._from_text import TextLine, read_text
from scrub837.claims.model import Claim, HlBlock, ServiceLine
from scrub837.x12.lexer import Segment

#: a character JSON (with ensure_ascii) writes escaped
_ESCAPED = re.compile(r'[^ !#-\[\]-~]').search

_WHERE = '{"location":{"file":"%s","isa13":"%s","gs06":"%s","st02":"%s","version":"%s",'

_CONTEXT = ('{"clm01":"%s","charge":"%s","facility_code":"%s","frequency":"%s","kind":"%s",'
            '"billing_provider_npi":"%s",%s,"patient":%s,"diagnoses":[%s],"prior_auth":%s,'
            '"notes":%s,"statement_dates":"%s"}')  # %s after the NPI: payer and subscriber
_PERSON = '{"hl":"%s","last_name":"%s","first_name":"%s","id_qualifier":"%s","id":"%s"}'
_DX = '{"qualifier":"%s","code":"%s","position":%d,"segment":%d,"element":"HI%02d"}'
_LINE = ('{"lx":"%s","revenue_code":"%s","qualifier":"%s","code":"%s","modifiers":%s,'
         '"description":"%s","charge":"%s","unit_basis":"%s","units":"%s",'
         '"place_of_service":"%s","dx_pointers":%s,"service_dates":"%s",'
         '"service_date_source":"%s","ref_6r":"%s","prior_auth":%s,"notes":%s,"%s":%s}')
_DRUG = ('{"lin02":"%s","ndc":"%s","ctp04":"%s","ctp05_1":"%s","ref_xz":"%s","ref_vy":"%s",'
         '"LIN":%s,"CTP":%s}')


def _strings(values: list[str]) -> str:
    return '["' + '","'.join(values) + '"]' if values else "[]"


def _seg(seg: Segment | None) -> str:
    if seg is None:
        return "null"
    return '{"segment":%d,"span":[%d,%d]}' % (seg.ordinal, seg.start, seg.end)


def _person(block: HlBlock | None, entity: str, show_phi: bool, seen: list[str]) -> str:
    if block is None:
        return "null"
    nm1 = block.nm1(entity)
    hl = block.hl_id
    seen.append(hl)
    if nm1 is None:
        return '{"hl":"%s"}' % hl
    last, first, qualifier, ident = nm1.get(3), nm1.get(4), nm1.get(8), nm1.get(9)
    if not show_phi:
        last, first, ident = mask(last), mask(first), mask(ident)
    seen += (last, first, qualifier, ident)
    return _PERSON % (hl, last, first, qualifier, ident)


def _get(elements: Sequence[str], index: int) -> str:
    return elements[index] if index < len(elements) else ""


class LineEncoder:
    """Drug-line records as compact JSON text, one claim's part written once (and the parts
    of its HL blocks once for all of their claims)."""

    def __init__(self, *, show_phi: bool = False) -> None:
        self._show_phi = show_phi
        self._claim: Claim | None = None
        self._where = ""  # '{"location":{' .. the claim's location
        self._context = ""  # the claim's context
        #: the last block read for each role: (block, its text, its values to check)
        self._blocks: dict[str, tuple[HlBlock | None, str, list[str], bool]] = {}
        #: the last envelope read: (its header, the file, the location's start; None when
        #: one of its values needs escapes)
        self._envelope: tuple[object, str, str | None] = (None, "", None)

    def encode(self, claim: Claim, line: ServiceLine) -> str:
        if claim is not self._claim:
            self._claim = claim
            self._where = self._location(claim)
            self._context = self._claim_context(claim)
        segs = line.segments
        if segs:
            at = ',"line_segment":%d,"line_span":[%d,%d],' % (segs[0].ordinal, segs[0].start,
                                                            segs[-1].end)
        else:
            at = ',"line_segment":0,"line_span":[],'
        return (self._where + at + '"path":"%s/2400[%d]"},"claim":' % (claim.hl_path, line.index)
                + self._context + ',"line":' + self._line(line) + "}")

    def _location(self, claim: Claim) -> str:
        header = claim.header
        known = self._envelope
        if known[0] is not header or known[1] != claim.file:
            env = header.envelope
            values = (claim.file, env.isa13, env.gs06, env.st02, env.version)
            known = self._envelope = (header, claim.file, None if _ESCAPED("".join(values))
                                      else _WHERE % values)
        start, end = claim.span
        if known[2] is None:
            plain = _ENCODE({**_envelope(claim), "claim_segment": claim.clm.ordinal,
                             "claim_span": [start, end]})
            return '{"location":' + plain[:-1]
        return known[2] + '"claim_segment":%d,"claim_span":[%d,%d]' % (claim.clm.ordinal,
                                                                       start, end)

    def _block(self, role: str, block: HlBlock | None) -> tuple[str, list[str], bool]:
        """A block's part of the context (written once for the claims that share it), its
        values, and whether one of them needs escapes."""
        known = self._blocks.get(role)
        if known is not None and known[0] is block:
            return known[1], known[2], known[3]
        seen: list[str] = []
        if role == "provider":
            assert block is not None
            npi = block.nm1("85")
            text = npi.get(9) if npi else ""
            seen.append(text)
        elif role == "subscriber":
            assert block is not None
            payer = block.nm1("PR")
            name, ident = (payer.get(3), payer.get(9)) if payer else ("", "")
            seen += (name, ident)
            text = '"payer":{"name":"%s","id":"%s"},"subscriber":%s' % (
                name, ident, _person(block, "IL", self._show_phi, seen))
        else:
            text = _person(block, "QC", self._show_phi, seen)
        escaped = bool(_ESCAPED("".join(seen)))
        self._blocks[role] = (block, text, seen, escaped)
        return text, seen, escaped

    def _claim_context(self, claim: Claim) -> str:
        clm = claim.clm.elements
        statement = claim.statement_dates
        composite = _get(clm, 5)
        parts = composite.split(claim.clm.delims.component) if composite else []
        dates = statement.get(3) if statement else ""
        seen = [_get(clm, 1), _get(clm, 2), _get(parts, 0), _get(parts, 2), claim.envelope.kind,
                dates]
        dx = []
        for d in claim.diagnoses:
            seen += (d.qualifier, d.code)
            dx.append(_DX % (d.qualifier, d.code, d.position, d.segment.ordinal, d.element))
        auth = [r.get(2) for r in claim.prior_auth]
        notes = _notes(claim)
        context = None if _ESCAPED("".join(seen + auth + notes)) else self._text_context(
            claim, dx, auth, dates, notes)
        if context is None:  # a value of the claim or of its HL blocks needs escapes
            return _ENCODE(claim_context(claim, show_phi=self._show_phi))
        return context

    def records(self, claim: Claim, indexes: Sequence[int] | None = None) -> list[str]:
        """The records of the claim's lines ``indexes`` (0-based positions; None: every
        line): from the claim's text in one pass when it allows (:func:`_records_from_text`),
        else line by line; the same bytes either way."""
        found = _records_from_text(self, claim, indexes)
        if found is not None:
            return found
        lines = claim.lines
        picked = lines if indexes is None else [lines[at] for at in indexes]
        return [self.encode(claim, line) for line in picked]

    def _text_context(self, claim: Claim, dx: list[str], auth: list[str],
                      dates: str, notes: list[str]) -> str | None:
        """The claim's context from its 2300 values already read (``dx`` written, the
        others as they are), when none of them needs escapes; None when one of its HL
        blocks' values does."""
        clm = claim.clm.elements
        composite = _get(clm, 5)
        parts = composite.split(claim.clm.delims.component) if composite else []
        npi, _, odd_npi = self._block("provider", claim.provider)
        subscriber, _, odd_subscriber = self._block("subscriber", claim.subscriber)
        patient, _, odd_patient = self._block("patient", claim.patient)
        if odd_npi or odd_subscriber or odd_patient:
            return None
        return _CONTEXT % (_get(clm, 1), _get(clm, 2), _get(parts, 0), _get(parts, 2),
                           "837" + claim.envelope.kind, npi, subscriber, patient,
                           ",".join(dx), _strings(auth), _strings(notes), dates)

    def _line(self, line: ServiceLine) -> str:
        """The record's line and drug parts: '{...},"drug":...' (the line's fields read
        directly, as :func:`~scrub837.claims.extract.line_record` reads them)."""
        lx, sv, dtp, ref_6r, auth_refs, note_segs, drug, _, dates = line.fields()
        proc = line.proc
        inst = line.is_institutional
        elements: tuple[str, ...] = sv.elements if sv is not None else ()
        pointers: list[str] = []
        if sv is not None and not inst:
            value = _get(elements, 7)
            if value:
                pointers = [p for p in value.split(sv.delims.component) if p]
        modifiers = [m for m in proc[2:6] if m]
        auth = [r.get(2) for r in auth_refs]
        notes = [n.get(2) for n in note_segs]
        service = (_get(dtp.elements, 3) if dtp else dates)
        values = [_get(lx.elements, 1) if lx else str(line.index),
                  _get(elements, 1) if inst else "", _get(proc, 0), _get(proc, 1),
                  _get(proc, 6), _get(elements, 3 if inst else 2),
                  _get(elements, 4 if inst else 3), _get(elements, 5 if inst else 4),
                  "" if inst else _get(elements, 5), service,
                  _get(ref_6r.elements, 2) if ref_6r else ""]
        if drug is not None:
            values += (drug.qualifier, drug.ndc, drug.quantity, drug.unit,
                       drug.prescription,
                       next((r.get(2) for r in drug.refs if r.get(1) == "VY"), ""))
        if _ESCAPED("".join(values + modifiers + pointers + auth + notes)):
            return _ENCODE(_line(line)) + ',"drug":' + _ENCODE(_drug(line))
        source = "DTP*472" if dtp else ("DTP*434" if dates else "")
        text = _LINE % (values[0], values[1], values[2], values[3], _strings(modifiers),
                        values[4], values[5], values[6], values[7], values[8],
                        _strings(pointers), values[9], source, values[10], _strings(auth),
                        _strings(notes), "SV2" if inst else "SV1",
                        _seg(sv))
        if drug is None:
            return text + ',"drug":null'
        return text + ',"drug":' + _DRUG % (*values[11:17], _seg(drug.lin),
                                            _seg(drug.ctp))


_PAD = [""] * 8  # elements a record reads beyond a segment's last one


def _at(place: tuple[int, int, int] | None) -> str:
    return "null" if place is None else '{"segment":%d,"span":[%d,%d]}' % place


def _records_from_text(encoder: LineEncoder, claim: Claim,
                       indexes: Sequence[int] | None) -> list[str] | None:
    """The records of a claim's lines ``indexes`` (0-based; None: every line) from what
    :func:`~scrub837.claims._from_text.read_text` reads of its text, without building its
    segments or lines: the bytes :meth:`LineEncoder.encode` writes for them. None when the
    text cannot be read that way, or one of the claim's values (its HL blocks' among them)
    holds a character JSON escapes: the claim is then encoded line by line."""
    got = read_text(claim, indexes, _ESCAPED)
    if got is None:
        return None
    dates = got.dates
    context = encoder._text_context(
        claim, [_DX % d for d in got.diagnoses], got.prior_auth, dates, got.notes)
    if context is None:
        return None
    where = encoder._location(claim)
    path = claim.hl_path
    comp = claim.clm.delims.component
    return [where + ',"line_segment":%d,"line_span":[%d,%d],"path":"%s/2400[%d]"},"claim":' % (
        ln.place[0], ln.place[1], ln.end, path, ln.index) + context + ',"line":'
        + _line_text(ln, comp, dates) + "}" for ln in got.lines]


def _line_text(ln: TextLine, comp: str, dates: str) -> str:
    """A line's part of a record, as :meth:`LineEncoder._line` writes it."""
    sv = ln.sv + _PAD  # type: ignore[operator]
    if sv[0] == "SV2":
        composite, revenue, pos, pointers = sv[2], sv[1], "", []
        charge, basis, units = sv[3], sv[4], sv[5]
    else:
        composite, revenue, pos, value = sv[1], "", sv[5], sv[7]
        charge, basis, units = sv[2], sv[3], sv[4]
        pointers = [p for p in value.split(comp) if p] if value else []
    proc = composite.split(comp) + _PAD if composite else _PAD
    dtp = ln.dtp
    if dtp is not None:
        service, source = dtp[3] if len(dtp) > 3 else "", "DTP*472"
    else:
        service, source = dates, ("DTP*434" if dates else "")
    ref = ln.ref_6r
    text = _LINE % (ln.lx, revenue, proc[0], proc[1], _strings([m for m in proc[2:6] if m]),
                    proc[6], charge, basis, units, pos, _strings(pointers), service, source,
                    ref[2] if ref is not None and len(ref) > 2 else "", _strings(ln.auth),
                    _strings(ln.notes), sv[0], _at(ln.sv_at))
    lin = ln.lin
    if lin is None:
        return text + ',"drug":null'
    ctp = ln.ctp
    if ctp is not None:
        ctp = ctp + _PAD
        quantity, unit = ctp[4], ctp[5].split(comp, 1)[0]
    else:
        quantity = unit = ""
    lin = lin + _PAD
    xz = vy = None
    for r in ln.drug_refs:
        if len(r) > 1:
            if xz is None and r[1] == "XZ":
                xz = r[2] if len(r) > 2 else ""
            elif vy is None and r[1] == "VY":
                vy = r[2] if len(r) > 2 else ""
    return text + ',"drug":' + _DRUG % (lin[2], lin[3], quantity, unit, xz or "", vy or "",
                                        _at(ln.lin_at), _at(ln.ctp_at))
