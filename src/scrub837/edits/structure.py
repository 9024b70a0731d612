"""Claim structure that breaks drug-line adjudication: impossible dates, future dates, lines
without a date, CLM02 not the sum of the lines, duplicate REF*6R, control characters."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from scrub837._memo import IdentityMemo
from scrub837.claims.model import Claim, HlBlock
from scrub837.edits._engine import EditContext, Hit
from scrub837.edits._util import ccyymmdd, number
from scrub837.x12.lexer import Segment

# X12 basic and extended character sets are printable ASCII; anything else is suspect.
_BAD_CHAR = re.compile(r"[\x00-\x1f\x7f-\xff]")
_ZERO = Decimal(0)
#: the ASCII characters str.isprintable() rejects: C0 controls and DEL
_CONTROLS = bytes(range(0x20)) + b"\x7f"


# DTP02 formats the 5010 TR3s allow for each DTP01 qualifier of a claim (2300 and below); a
# qualifier not listed takes any of the four formats. 837P (005010X222A1) and 837I
# (005010X223A2) differ on 096: the 837P's discharge *date* (D8), the 837I's discharge *hour* (TM).
# The 837I's statement dates (434) are RD8 in the TR3; a one-day D8 is read too (real files send it).
_ANY = frozenset(("D8", "RD8", "DT", "TM"))
_D8 = frozenset(("D8",))
_D8_RD8 = frozenset(("D8", "RD8"))
_DTP_FORMATS: dict[str, dict[str, frozenset[str]]] = {
    "P": {"472": _D8_RD8, "314": _D8_RD8, "435": _D8, "096": _D8, "434": _D8_RD8,
          **{q: _D8 for q in ("431", "454", "304", "453", "439", "484", "455", "471", "360",
                              "361", "297", "296", "090", "091", "444", "050", "607", "463",
                              "461", "738", "739", "011", "573")}},
    "I": {"434": _D8_RD8, "435": frozenset(("D8", "DT")), "096": frozenset(("TM",)),
          "472": _D8_RD8, "050": _D8, "573": _D8},
}
_EXPECTED = {"D8": "CCYYMMDD", "RD8": "CCYYMMDD-CCYYMMDD in order", "DT": "CCYYMMDDHHMM",
             "TM": "HHMM"}


def _hhmm(text: str) -> bool:
    return len(text) == 4 and text.isdigit() and int(text[:2]) < 24 and int(text[2:]) < 60


def dtp_dates(fmt: str, value: str) -> list[date] | None:
    """The dates a DTP03 in format ``fmt`` names (none for TM), or None when it is not one."""
    if fmt == "D8":
        day = ccyymmdd(value)
        return None if day is None else [day]
    if fmt == "RD8":
        parts = value.split("-")
        days = [ccyymmdd(p) for p in parts]
        if len(parts) != 2 or days[0] is None or days[1] is None or days[0] > days[1]:
            return None
        return [days[0], days[1]]
    if fmt == "DT":
        day = ccyymmdd(value[:8])
        return None if len(value) != 12 or day is None or not _hhmm(value[8:]) else [day]
    if fmt == "TM":
        return [] if _hhmm(value) else None
    return None


#: what a DTP says: the latest date it names when it is a date of service (472/434), else
#: None, or the formats expected when its date is not one of them
_DtpAnswer = date | None | str


def _dtp_check(kind: str, elements: tuple[str, ...]) -> _DtpAnswer:
    """The latest date of service a claim's DTP names (None when it is no date of service or
    names none), or the expected formats when it is not one of them."""
    n = len(elements)
    qualifier = elements[1] if n > 1 else ""
    fmt = elements[2] if n > 2 else ""
    value = elements[3] if n > 3 else ""
    allowed = _DTP_FORMATS.get(kind, _DTP_FORMATS["P"]).get(qualifier, _ANY)
    parsed = dtp_dates(fmt, value) if fmt in allowed else None
    if parsed is None:
        return " or ".join(f"{f} ({_EXPECTED[f]})" for f in sorted(allowed))
    if parsed and qualifier in ("472", "434"):
        return max(parsed)
    return None


#: _dtp_check's recent answers by claim kind and the DTP's elements (a file's DTPs repeat:
#: the same dates on many lines)
_dtp_memo: dict[tuple[str, tuple[str, ...]], _DtpAnswer] = {}


def _answer(kind: str, elements: tuple[str, ...]) -> _DtpAnswer:
    key = (kind, elements)
    memo = _dtp_memo
    try:
        return memo[key]
    except KeyError:
        answer = _dtp_check(kind, elements)
        if len(memo) >= 1024:
            memo.clear()
        memo[key] = answer
        return answer


#: _dtp_check's answers by claim kind, element separator and the DTP's text: a claim checked
#: from its text neither splits its DTPs nor hashes their elements (~4 % of a scrub of a file
#: without drug lines, against asking _answer with the split elements)
_dtp_text_memo: dict[tuple[str, str, str], _DtpAnswer] = {}


def _dates_clean(dtps: list[str], sep: str, kind: str, today: date) -> bool:
    """No DTP of these (their texts) hits: each is no date of service, or one not after
    ``today``."""
    memo = _dtp_text_memo
    for text in dtps:
        key = (kind, sep, text)
        try:
            answer = memo[key]
        except KeyError:
            answer = _answer(kind, tuple(text.split(sep)))
            if len(memo) >= 1024:
                memo.clear()
            memo[key] = answer
        if answer is not None and (isinstance(answer, str) or answer > today):
            return False
    return True


def dates(claim: Claim, ctx: EditContext) -> list[Hit]:
    kind = ctx.kind
    today = ctx.today
    if not ctx.drug_lines:  # a claim without drug lines: its text, unless a DTP hits
        plain = claim.plain_scan()
        if plain is not None and _dates_clean(plain.dtps, claim.clm.delims.element, kind,
                                              today):
            return []
    out: list[Hit] = []
    for seg in claim.segments:
        elements = seg.elements
        if elements[0] != "DTP":
            continue
        answer = _answer(kind, elements)
        if answer is None:
            continue
        if isinstance(answer, str):
            out.append(Hit("CLAIM_DATE_INVALID", None, seg, "DTP03",
                           values={"qualifier": seg.get(1)[:3], "format": seg.get(2)[:3],
                                   "date": seg.get(3)[:20], "expected": answer}))
        elif answer > today:
            out.append(Hit("DOS_FUTURE", None, seg, "DTP03",
                           values={"date": seg.get(3)[:20], "today": today.isoformat()}))
    for drug in ctx.drugs:
        if not drug.service_date:
            out.append(Hit("LINE_DATE_MISSING", drug.line))
    return out


def charges_balance(claim: Claim, ctx: EditContext) -> list[Hit]:
    total = number(claim.charge)
    if total is None:
        return [Hit("CLAIM_CHARGE_MISMATCH", None, claim.clm, "CLM02",
                    values={"clm02": claim.charge[:20], "lines": "?"})]
    lines = _ZERO
    plain = None if ctx.drug_lines else claim.plain_scan()
    charges = plain.charges if plain is not None else None
    for charge_text in charges if charges is not None else [ln.charge for ln in claim.lines]:
        charge = number(charge_text)
        if charge:  # adding 0 (or nothing) changes neither the sum nor its exponent
            lines += charge
    if lines != total:
        return [Hit("CLAIM_CHARGE_MISMATCH", None, claim.clm, "CLM02",
                    values={"clm02": claim.charge[:20], "lines": format(lines, "f")})]
    return []


def line_controls(claim: Claim, ctx: EditContext) -> list[Hit]:
    if not ctx.drug_lines:  # a claim without drug lines: its text, unless two lines share one
        plain = claim.plain_scan()
        if plain is not None:
            controls = [c for c in plain.controls if c]
            if len(set(controls)) == len(controls):
                return []
    out: list[Hit] = []
    seen: set[str] = set()
    for line in claim.lines:
        control = line.line_control
        if not control:
            continue
        if control in seen:
            out.append(Hit("LINE_CONTROL_DUPLICATE", line, line.ref_6r, "REF02"))
        seen.add(control)
    return out


#: loops found clean, by identity: the reader gives every claim of a billing provider or
#: subscriber the same block, so each shared loop is searched once, not per claim
_clean_loops: IdentityMemo[HlBlock, bool] = IdentityMemo()


def _clean(segments: tuple[Segment, ...]) -> bool:
    """No control or non-ASCII character in these segments (the test of ``_BAD_CHAR`` on
    Latin-1 text, without a regex: one pass over the loop's text)."""
    join = "".join
    text = join([join(seg.elements) for seg in segments])
    return text.isascii() and text.isprintable()


def _text_clean(text: str, terminator: str) -> bool:
    """True when a loop's text as it stood in the file (elements, separators, terminators and
    the line breaks after them) has no control or non-ASCII character, so that none of its
    elements has one; False says nothing (the elements are tested then). '' (a loop built
    from segments, not read from a file's text) is never clean here."""
    if not text:
        return False
    if text.isascii() and text.isprintable():
        return True
    if "\n" not in text or not text.isascii():  # (no replace below removes a non-ASCII one)
        return False
    # a line break right after a terminator belongs to no element (the lexer skips it); one
    # anywhere else stays, and fails the test
    if "\r" not in text and len(terminator) == 1 and terminator.isprintable():
        # the test below without its copy of the text (the slow part of this edit): the
        # ASCII text's control characters (what isprintable rejects) are all such line
        # breaks, which is so when there are as many as there are terminators followed by one
        # (a printable terminator: those never overlap)
        controls = len(text) - len(text.encode("ascii").translate(None, _CONTROLS))
        return controls == text.count(terminator + "\n")
    text = text.replace(terminator + "\r\n", terminator).replace(terminator + "\n", terminator)
    return text.isascii() and text.isprintable()


def characters(claim: Claim, ctx: EditContext) -> list[Hit]:
    """Control and non-ASCII characters in the claim and in the loops it belongs to: the
    billing provider (2000A/2010Ax), the subscriber (2000B/2010Bx) and the patient (2000C/2010CA).
    A bad character in a shared loop rejects every claim under it, as pyx12 rejects the
    segment (999 IK4 code 6). A loop read from a file keeps its text (``text``): that is
    tested first, the segments only when it is not plainly clean."""
    out: list[Hit] = []
    clean = _clean_loops
    terminator = claim.clm.delims.segment
    for block in (claim.provider, claim.subscriber, claim.patient):
        if block is None:
            continue
        if clean.get(block):
            continue  # a shared loop (2000A/2000B) already found clean for an earlier claim
        if _text_clean(getattr(block, "text", ""), terminator) or _clean(block.segments):
            clean.put(block, True)
        else:
            _find(block.segments, out)
    if not (_text_clean(getattr(claim, "text", ""), terminator) or _clean(claim.segments)):
        _find(claim.segments, out)
    return out


def _find(segments: tuple[Segment, ...], out: list[Hit]) -> None:
    """The first bad character of each segment that has one (the loop's test found one)."""
    search = _BAD_CHAR.search
    for seg in segments:
        if not search("".join(seg.elements)):
            continue
        for index, value in enumerate(seg.elements):
            found = search(value)
            if found:
                out.append(Hit("BAD_CHARACTER", None, seg, f"{seg.elements[0][:3]}{index:02d}",
                               values={"char": f"0x{ord(found.group()):02X}"}))
                break


EDITS = (dates, charges_balance, line_controls, characters)
