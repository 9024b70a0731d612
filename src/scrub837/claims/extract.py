"""Drug lines as plain dicts (the ``scrub837 extract`` output). Pure."""

from __future__ import annotations

import json
from collections.abc import Callable

from scrub837.claims.model import Claim, HlBlock, ServiceLine
from scrub837.x12.lexer import Segment

JSONDict = dict[str, object]


def mask(value: str) -> str:
    """Keep the first character, hide the rest: ``SMITH`` -> ``S****``."""
    return value[:1] + "*" * (len(value) - 1) if value else ""


def _seg(seg: Segment | None) -> JSONDict | None:
    if seg is None:
        return None
    return {"segment": seg.ordinal, "span": [seg.start, seg.end]}


def _person(block: HlBlock | None, entity: str, show_phi: bool) -> JSONDict | None:
    if block is None:
        return None
    nm1 = block.nm1(entity)
    if nm1 is None:
        return {"hl": block.hl_id}
    hide: Callable[[str], str] = (lambda v: v) if show_phi else mask
    return {
        "hl": block.hl_id,
        "last_name": hide(nm1.get(3)),
        "first_name": hide(nm1.get(4)),
        "id_qualifier": nm1.get(8),
        "id": hide(nm1.get(9)),
    }


def _notes(claim: Claim) -> list[str]:
    """NTE02 of every NTE segment of the claim (its lines' too)."""
    if claim.text and "NTE" not in claim.text:  # no segment of it can be an NTE
        return []
    return [n.get(2) for n in claim.segments if n.id == "NTE"]


def claim_context(claim: Claim, *, show_phi: bool = False) -> JSONDict:
    env = claim.envelope
    payer = claim.subscriber.nm1("PR")
    return {
        "clm01": claim.clm01,
        "charge": claim.charge,
        "facility_code": claim.facility_code,
        "frequency": claim.frequency,
        "kind": f"837{env.kind}",
        "billing_provider_npi": claim.billing_npi,
        "payer": {"name": payer.get(3) if payer else "", "id": claim.payer_id},
        "subscriber": _person(claim.subscriber, "IL", show_phi),
        "patient": _person(claim.patient, "QC", show_phi),
        "diagnoses": [
            {"qualifier": d.qualifier, "code": d.code, "position": d.position,
             "segment": d.segment.ordinal, "element": f"HI{d.element:02d}"}
            for d in claim.diagnoses
        ],
        "prior_auth": [r.get(2) for r in claim.prior_auth],
        "notes": _notes(claim),
        "statement_dates": claim.statement_dates.get(3) if claim.statement_dates else "",
    }


def _envelope(claim: Claim) -> JSONDict:
    env = claim.envelope
    return {"file": claim.file, "isa13": env.isa13, "gs06": env.gs06, "st02": env.st02,
            "version": env.version}


def _line_location(claim: Claim, line: ServiceLine) -> JSONDict:
    segs = line.segments
    return {
        "line_segment": segs[0].ordinal if segs else 0,
        "line_span": [segs[0].start, segs[-1].end] if segs else [],
        "path": f"{claim.hl_path}/2400[{line.index}]",
    }


def _line(line: ServiceLine) -> JSONDict:
    return {
        "lx": line.line_number,
        "revenue_code": line.revenue_code,
        "qualifier": line.qualifier,
        "code": line.code,
        "modifiers": list(line.modifiers),
        "description": line.description,
        "charge": line.charge,
        "unit_basis": line.unit_basis,
        "units": line.units,
        "place_of_service": line.place_of_service,
        "dx_pointers": list(line.dx_pointers),
        "service_dates": line.service_dates,
        "service_date_source": "DTP*472" if line.dtp_472 else (
            "DTP*434" if line.claim_dates else ""),
        "ref_6r": line.line_control,
        "prior_auth": [r.get(2) for r in line.prior_auth],
        "notes": [n.get(2) for n in line.notes],
        ("SV2" if line.is_institutional else "SV1"): _seg(line.sv),
    }


def _drug(line: ServiceLine) -> JSONDict | None:
    drug = line.drug
    return None if drug is None else {
        "lin02": drug.qualifier,
        "ndc": drug.ndc,
        "ctp04": drug.quantity,
        "ctp05_1": drug.unit,
        "ref_xz": drug.prescription,
        "ref_vy": next((r.get(2) for r in drug.refs if r.get(1) == "VY"), ""),
        "LIN": _seg(drug.lin),
        "CTP": _seg(drug.ctp),
    }


def line_record(claim: Claim, line: ServiceLine, *, show_phi: bool = False) -> JSONDict:
    """One drug line with its claim context and location, as plain data."""
    return {
        "location": {**_envelope(claim), "claim_segment": claim.clm.ordinal,
                     "claim_span": list(claim.span), **_line_location(claim, line)},
        "claim": claim_context(claim, show_phi=show_phi),
        "line": _line(line),
        "drug": _drug(line),
    }


def _encoder() -> Callable[[object], str]:
    """``json.JSONEncoder(separators=(",", ":")).encode`` without its cost per call (it builds
    the C encoder and a table for circular references each time: records are trees)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    plain = json.JSONEncoder(separators=(",", ":"))
    if make is None:
        return plain.encode
    chunks = make(None, plain.default, json.encoder.encode_basestring_ascii, None, ":", ",",
                  False, False, True)

    def encode(value: object) -> str:
        return "".join(chunks(value, 0))
    return encode


_ENCODE = _encoder()
