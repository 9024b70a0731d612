"""``scrub837 extract``'s records as JSON text, written from templates.

Each record is what ``json.dumps(line_record(claim, line), separators=(",", ":"))`` writes,
byte for byte: the values are put into fixed templates when none of them holds a character
JSON escapes (a quote, a backslash, a control character or one outside ASCII), else the record
is encoded from :func:`~scrub837.claims.extract.line_record`'s parts. The claim's part is
written once for all of its lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from scrub837.claims.extract import (
    _ENCODE,
    _drug,
    _envelope,
    _line,
    _notes,
    claim_context,
    mask,
)
from scrub837.claims._build import DX_QUALIFIERS, POINTER_QUALIFIERS
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
        seen = [_get(clm, 1), _get(clm, 2), _get(parts, 0), _get(parts, 2), claim.envelope.kind,
                statement.get(3) if statement else ""]
        npi, seen_npi, _ = self._block("provider", claim.provider)
        subscriber, seen_subscriber, _ = self._block("subscriber", claim.subscriber)
        patient, seen_patient, _ = self._block("patient", claim.patient)
        dx = []
        for d in claim.diagnoses:
            seen += (d.qualifier, d.code)
            dx.append(_DX % (d.qualifier, d.code, d.position, d.segment.ordinal, d.element))
        auth = [r.get(2) for r in claim.prior_auth]
        notes = _notes(claim)
        if _ESCAPED("".join(seen + seen_npi + seen_subscriber + seen_patient + auth + notes)):
            return _ENCODE(claim_context(claim, show_phi=self._show_phi))
        return _CONTEXT % (seen[0], seen[1], seen[2], seen[3], "837" + seen[4], npi, subscriber,
                           patient, ",".join(dx), _strings(auth), _strings(notes), seen[5])

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
        """The claim's context from what :func:`_records_from_text` read (its text has no
        character JSON escapes); None when one of its HL blocks' values has one."""
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




_BREAK = re.compile("[ \r\n]*")
_GUARDS: dict[tuple[str, str], Callable[[str], object]] = {}


def _guard(sep: str, term: str) -> Callable[[str], object]:
    """A search for a segment :func:`_records_from_text` reads that has no element (it then
    leaves the claim to be read whole)."""
    found = _GUARDS.get((sep, term))
    if found is None:
        t = re.escape(term)
        found = re.compile(f"(?:^|{t}[ \r\n]*)(?:LX|SV1|SV2|LIN|CTP|DTP|REF|NTE|HI|SBR|NM1|SVD)"
                           f"{t}").search
        if len(_GUARDS) > 16:
            _GUARDS.clear()
        _GUARDS[(sep, term)] = found
    return found


class _Line:
    """What :func:`_records_from_text` read of one line: loop 2400 (and 2410) as
    :func:`~scrub837.claims._build.read_line` reads it, values as elements."""

    __slots__ = ("index", "lx", "ordinal", "start", "end", "sv", "sv_at", "dtp", "ref_6r",
                 "auth", "notes", "lin", "lin_at", "ctp", "ctp_at", "drug_refs", "loop")

    def __init__(self, index: int, lx: str, ordinal: int, start: int) -> None:
        self.index = index
        self.lx = lx
        self.ordinal = ordinal
        self.start = start
        self.end = 0
        self.sv: list[str] | None = None
        self.sv_at = ""  # '{"segment":..,"span":[..]}' of the SV1/SV2
        self.dtp: list[str] | None = None
        self.ref_6r: list[str] | None = None
        self.auth: list[str] = []
        self.notes: list[str] = []
        self.lin: list[str] | None = None
        self.lin_at = ""
        self.ctp: list[str] | None = None
        self.ctp_at = "null"
        self.drug_refs: list[list[str]] = []
        self.loop = 0  # 0: 2400, 1: 2410, 2: 2420/2430


_AT = '{"segment":%d,"span":[%d,%d]}'
_PAD = [""] * 8  # elements a record reads beyond a segment's last one


def _records_from_text(encoder: LineEncoder, claim: Claim,
                       indexes: Sequence[int] | None) -> list[str] | None:
    """The records of a claim's lines ``indexes`` (0-based; None: every line) written from the
    claim's text in one pass over its segments as text, without building its segments or
    lines: the bytes :meth:`LineEncoder.encode` writes for them, the loops told apart as
    :func:`~scrub837.claims._build.read_head` and :func:`~scrub837.claims._build.read_line`
    tell them. None (the claim is then encoded line by line) when the text is not evenly
    broken (the same line break after every terminator, no empty segment, no space before a
    segment), holds a character JSON escapes or a segment read here without elements, or a
    line has no SV1/SV2."""
    text = claim.text
    if not text or not claim._marks:
        return None
    clm = claim.clm
    delims = clm.delims
    term = delims.segment
    if len(term) != 1 or term in " \r\n" or text[-1] != term:
        return None
    sep = delims.element
    comp = delims.component
    after = clm.end - clm.start  # just after the CLM's terminator
    brk = text[after : _BREAK.match(text, after).end()]  # type: ignore[union-attr]
    joint = term + brk
    parts = text[:-1].split(joint)
    if (" " in brk or text.count(term) != len(parts) or "" in parts
            or _ESCAPED("".join(parts)) or _guard(sep, term)(text)):
        return None
    step = len(joint)
    pos = clm.start + len(parts[0]) + step
    ordinal = clm.ordinal
    # the 2300 loop: diagnoses, REF*G1, DTP*434 (its sub-loops skipped); every NTE
    dx: list[str] = []
    position = 0
    auth: list[str] = []
    dates = ""
    notes: list[str] = []
    head = True  # in the 2300 loop itself (no SBR or NM1 yet)
    lines: list[_Line] = []
    line: _Line | None = None
    for part in parts[1:]:
        ordinal += 1
        start = pos
        pos += len(part) + step
        cut = part.find(sep)
        sid = part[:cut] if cut >= 0 else part
        if sid == "LX":
            line = _Line(len(lines) + 1, part[cut + 1 :].split(sep, 1)[0], ordinal, start)
            lines.append(line)
            line.end = pos - step + 1
            continue
        if sid == "NTE":
            elements = part.split(sep)
            notes.append(elements[2] if len(elements) > 2 else "")
        if line is None:
            if not head:
                continue
            if sid == "HI":
                for index, value in enumerate(part.split(sep)[1:], start=1):
                    if not value:
                        continue
                    pieces = value.split(comp)
                    qualifier = pieces[0]
                    if qualifier not in DX_QUALIFIERS:
                        continue
                    got = 0
                    if qualifier in POINTER_QUALIFIERS:
                        position += 1
                        got = position
                    dx.append(_DX % (qualifier, pieces[1] if len(pieces) > 1 else "", got,
                                     ordinal, index))
            elif sid == "REF":
                elements = part.split(sep)
                if elements[1] == "G1":
                    auth.append(elements[2] if len(elements) > 2 else "")
            elif sid == "DTP":
                elements = part.split(sep)
                if elements[1] == "434":
                    dates = elements[3] if len(elements) > 3 else ""
            elif sid == "SBR" or sid == "NM1":
                head = False
            continue
        line.end = end = pos - step + 1
        if (sid == "SV1" or sid == "SV2") and line.sv is None:
            line.sv = part.split(sep)
            line.sv_at = _AT % (ordinal, start, end)
        elif sid == "LIN":
            line.lin = part.split(sep)
            line.lin_at = _AT % (ordinal, start, end)
            line.loop = 1
        elif sid == "NM1" or sid == "SVD":
            line.loop = 2
        elif line.loop == 0:
            if sid == "DTP":
                elements = part.split(sep)
                if elements[1] == "472":
                    line.dtp = elements
            elif sid == "REF":
                elements = part.split(sep)
                if elements[1] == "6R":
                    line.ref_6r = elements
                elif elements[1] == "G1":
                    line.auth.append(elements[2] if len(elements) > 2 else "")
            elif sid == "NTE":
                line.notes.append(notes[-1])
        elif line.loop == 1:
            if sid == "CTP":
                if line.ctp is None:
                    line.ctp = part.split(sep)
                    line.ctp_at = _AT % (ordinal, start, end)
            elif sid == "REF":
                line.drug_refs.append(part.split(sep))
    if len(lines) != len(claim._marks):
        return None
    picked = lines if indexes is None else [lines[at] for at in indexes]
    for ln in picked:
        if ln.sv is None:
            return None
    context = encoder._text_context(claim, dx, auth, dates, notes)
    if context is None:
        return None
    where = encoder._location(claim)
    path = claim.hl_path
    return [where + ',"line_segment":%d,"line_span":[%d,%d],"path":"%s/2400[%d]"},"claim":' % (
        ln.ordinal, ln.start, ln.end, path, ln.index) + context + ',"line":'
        + _line_text(ln, comp, dates) + "}" for ln in picked]


def _line_text(ln: _Line, comp: str, dates: str) -> str:
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
                    _strings(ln.notes), sv[0], ln.sv_at)
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
                                        ln.lin_at, ln.ctp_at)
