"""Where a finding is: the full :class:`~scrub837.findings.Location` of a segment of a claim
(envelope control numbers, CLM01, the line's LX and REF*6R, ordinal, byte span, loop path)."""

from __future__ import annotations

from scrub837._memo import IdentityMemo
from scrub837.claims.model import Claim, ServiceLine, TransactionHeader
from scrub837.findings import Location
from scrub837.x12.lexer import Segment

_new = tuple.__new__

#: ISA13, GS06 and ST02 by transaction header (every claim of a transaction shares its header)
_envelopes: IdentityMemo[TransactionHeader, tuple[str, str, str]] = IdentityMemo(16)


def locate(claim: Claim, line: ServiceLine | None, seg: Segment, element: str = "") -> Location:
    header = claim.header
    ids = _envelopes.get(header)
    if ids is None:
        env = header.envelope
        ids = (env.isa13, env.gs06, env.st02)
        _envelopes.put(header, ids)
    clm = claim.clm
    ordinal = seg.ordinal
    if ordinal < clm.ordinal:  # a segment of the provider/subscriber/patient loops
        path = _hl_loop_path(claim, seg)
    else:
        path = claim.hl_path
        if line is not None:
            drug = line.drug
            if drug is not None and ordinal >= drug.lin.ordinal and seg.id in (
                    "LIN", "CTP", "REF"):
                path = f"{path}/2400[{line.index}]/2410"
            else:
                path = f"{path}/2400[{line.index}]"
    path = f"{path}/{element or seg.id}"
    if line is None:
        return _new(Location, (claim.file, ids[0], ids[1], ids[2], claim.clm01, "", "", ordinal,
                               (seg.start, seg.end), path, element))
    return _new(Location, (claim.file, ids[0], ids[1], ids[2], claim.clm01, line.line_number,
                           line.line_control, ordinal, (seg.start, seg.end), path, element))


_NM1_LOOPS = {"85": "2010AA", "87": "2010AB", "PE": "2010AC", "IL": "2010BA", "PR": "2010BB",
              "QC": "2010CA"}


def _hl_loop_path(claim: Claim, seg: Segment) -> str:
    """``2000A/2000B/2010BA`` for a segment of the claim's HL loops (before its CLM)."""
    path = ""
    for level, block in (("2000A", claim.provider), ("2000B", claim.subscriber),
                         ("2000C", claim.patient)):
        if block is None:
            continue
        path += ("/" if path else "") + level
        if block.segments[0].ordinal <= seg.ordinal <= block.segments[-1].ordinal:
            sub = ""
            for s in block.segments:
                if s.ordinal > seg.ordinal:
                    break
                if s.id == "NM1":
                    sub = _NM1_LOOPS.get(s.get(1), "")
            return path + (f"/{sub}" if sub else "")
    return path
