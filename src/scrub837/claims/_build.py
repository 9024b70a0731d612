"""Build one :class:`~scrub837.claims.model.Claim` from its segments (CLM .. last segment).

Loop detection inside 2300 follows the 5010 guides: 2310x start with NM1, 2320 with SBR, 2330x
with NM1 after SBR, 2400 with LX, 2410 with LIN, 2420x with NM1 inside a line, 2430 with SVD.
"""

from __future__ import annotations

from scrub837.claims.model import (
    DX_QUALIFIERS,
    POINTER_QUALIFIERS,
    Claim,
    Diagnosis,
    Drug,
    HlBlock,
    ServiceLine,
    TransactionHeader,
)
from scrub837.x12.lexer import Segment


class _Line:
    __slots__ = ("lx", "sv", "dtp", "ref_6r", "auth", "notes", "lin", "ctp", "drug_refs", "segs",
                 "loop")

    def __init__(self, lx: Segment | None) -> None:
        self.lx = lx
        self.sv: Segment | None = None
        self.dtp: Segment | None = None
        self.ref_6r: Segment | None = None
        self.auth: list[Segment] = []
        self.notes: list[Segment] = []
        self.lin: Segment | None = None
        self.ctp: Segment | None = None
        self.drug_refs: list[Segment] = []
        self.segs: list[Segment] = [lx] if lx is not None else []
        self.loop = "2400"

    def freeze(self, index: int, claim_dates: str) -> ServiceLine:
        drug = Drug(self.lin, self.ctp, tuple(self.drug_refs)) if self.lin is not None else None
        sv = self.sv
        institutional = sv is not None and sv.elements[0] == "SV2"
        proc = tuple(sv.components(2 if institutional else 1)) if sv is not None else ()
        return ServiceLine(
            index=index, lx=self.lx, sv=self.sv, dtp_472=self.dtp, ref_6r=self.ref_6r,
            prior_auth=tuple(self.auth), notes=tuple(self.notes), drug=drug,
            segments=tuple(self.segs), claim_dates=claim_dates if self.dtp is None else "",
            proc=proc, is_institutional=institutional,
        )


def _diagnoses(hi: Segment, position: int, out: list[Diagnosis]) -> int:
    comp = hi.delims.component
    for index, value in enumerate(hi.elements[1:], start=1):
        if not value:
            continue
        parts = value.split(comp)
        qualifier = parts[0]
        if qualifier not in DX_QUALIFIERS:
            continue
        code = parts[1] if len(parts) > 1 else ""
        pos = 0
        if qualifier in POINTER_QUALIFIERS:
            position += 1
            pos = position
        out.append(Diagnosis(qualifier, code, pos, hi, index))
    return position


def build_claim(
    file: str,
    header: TransactionHeader,
    provider: HlBlock,
    subscriber: HlBlock,
    patient: HlBlock | None,
    segs: list[Segment],
    sequence: int,
) -> Claim:
    diagnoses: list[Diagnosis] = []
    position = 0
    prior_auth: list[Segment] = []
    statement: Segment | None = None
    lines: list[_Line] = []
    line: _Line | None = None
    loop = "2300"
    for seg in segs[1:]:
        sid = seg.elements[0]
        if sid == "LX":
            line = _Line(seg)
            lines.append(line)
            loop = "2400"
            continue
        if line is None:
            # 2300 and its sub-loops 2310x / 2320 / 2330x
            if sid == "SBR":
                loop = "2320"
            elif sid == "NM1":
                loop = "2330" if loop in ("2320", "2330") else "2310"
            elif loop == "2300":
                if sid == "HI":
                    position = _diagnoses(seg, position, diagnoses)
                elif sid == "REF" and seg.get(1) == "G1":
                    prior_auth.append(seg)
                elif sid == "DTP" and seg.get(1) == "434":
                    statement = seg
            continue
        line.segs.append(seg)
        if sid in ("SV1", "SV2") and line.sv is None:
            line.sv = seg
        elif sid == "LIN":
            line.lin = seg
            line.loop = "2410"
        elif sid == "NM1":
            line.loop = "2420"
        elif sid == "SVD":
            line.loop = "2430"
        elif line.loop == "2400":
            if sid == "DTP" and seg.get(1) == "472":
                line.dtp = seg
            elif sid == "REF":
                qual = seg.get(1)
                if qual == "6R":
                    line.ref_6r = seg
                elif qual == "G1":
                    line.auth.append(seg)
            elif sid == "NTE":
                line.notes.append(seg)
        elif line.loop == "2410":
            if sid == "CTP" and line.ctp is None:
                line.ctp = seg
            elif sid == "REF":
                line.drug_refs.append(seg)
    claim_dates = statement.get(3) if statement is not None else ""
    return Claim(
        file=file,
        header=header,
        provider=provider,
        subscriber=subscriber,
        patient=patient,
        segments=tuple(segs),
        diagnoses=tuple(diagnoses),
        prior_auth=tuple(prior_auth),
        statement_dates=statement,
        lines=tuple(ln.freeze(i, claim_dates) for i, ln in enumerate(lines, start=1)),
        sequence=sequence,
    )
