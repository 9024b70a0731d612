"""Loading and checking a rule pack folder (pack.toml, edits.toml, codes.toml, payers/*.toml)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from scrub837.rulebook._errors import RulePackError
from scrub837.rulebook._model import (
    BillingUnit,
    CodeRule,
    EditDef,
    LookAlike,
    Mue,
    PayerOverlay,
    Settings,
)
from scrub837.rulebook._tables import Table, code_key, severity_of, stc_of, template

_BILLING_UNITS = {"MG", "MCG", "G", "ML", "IU", "UNITS"}
_CONTAINERS = {"single-dose", "multi-dose", "unknown"}


def read_toml(path: Path, shown: str) -> dict[str, object]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise RulePackError(shown, "", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulePackError(shown, "", f"not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulePackError(shown, "", f"cannot read: {exc}") from None


def load_settings(data: dict[str, object], file: str) -> tuple[Table, Settings]:
    root = Table(data, file, "")
    pack = root.table("pack", required=True)
    assert pack is not None
    pack.text("name", required=True)
    pack.text("version", required=True)
    pack.text("as_of")
    pack.done()
    s = root.table("settings", required=True)
    assert s is not None
    sources = {k: s.text(k) for k in list(s.data) if k.endswith("_source")}
    prefixes = s.strings("drug_prefixes")
    if not prefixes or not all(p.isalnum() for p in prefixes):
        raise s.fail("drug_prefixes", "needs one or more alphanumeric prefixes, e.g. [\"J\"]")
    settings = Settings(
        drug_prefixes=prefixes,
        jw_jz_required_from=s.day("jw_jz_required_from", required=True),  # type: ignore[arg-type]
        icd10_from=s.day("icd10_from", required=True),  # type: ignore[arg-type]
        modifiers_not_on_drug_lines=frozenset(s.strings("modifiers_not_on_drug_lines")),
        ndc_required_default=s.flag("ndc_required_default", default=True),
        ctp_units=frozenset(s.strings("ctp_units")),
        whole_units_default=s.flag("whole_units_default", default=True),
        sources=sources,
    )
    s.done()
    root.done()
    return pack, settings


def load_edits(data: dict[str, object], file: str) -> dict[str, EditDef]:
    out = {}
    for rule_id, body in data.items():
        if not (rule_id.isupper() and rule_id.replace("_", "").isalnum()):
            raise RulePackError(file, rule_id, "rule ids are UPPER_CASE words")
        t = Table(body, file, rule_id)
        out[rule_id] = EditDef(
            rule_id=rule_id,
            severity=severity_of(t, "severity", t.text("severity", required=True)),  # type: ignore[arg-type]
            stc=stc_of(t, "stc"),
            title=t.text("title", required=True),
            message=template(t, "message"),
            fix=template(t, "fix"),
            source=t.text("source", required=True),
            example=t.text("example"),
        )
        t.done()
    return out


def _mue(t: Table, name: str) -> Mue | None:
    sub = t.table(name)
    if sub is None:
        return None
    units = sub.number("units", required=True)
    mai = sub.integer("mai", required=True)
    if mai not in (1, 2, 3):
        raise sub.fail("mai", f"MUE adjudication indicator is 1, 2 or 3, got {mai}")
    mue = Mue(units, mai, sub.text("source", required=True))  # type: ignore[arg-type]
    sub.done()
    return mue


def load_codes(data: dict[str, object], file: str, settings: Settings) -> dict[str, CodeRule]:
    out = {}
    for code, body in data.items():
        t = Table(body, file, code)
        code_key(t, "", code)
        bu = t.table("billing_unit")
        billing_unit = None
        if bu is not None:
            amount = bu.number("amount", required=True)
            unit = bu.text("unit", required=True)
            kind = bu.text("kind", required=True)
            if unit not in _BILLING_UNITS:
                raise bu.fail("unit", f"expected one of {sorted(_BILLING_UNITS)}, got {unit!r}")
            if kind not in ("per", "up_to"):
                raise bu.fail("kind", f"expected 'per' or 'up_to', got {kind!r}")
            if not amount:
                raise bu.fail("amount", "must be greater than zero")
            bu.done()
            billing_unit = BillingUnit(amount, unit, kind)
        unlisted = t.flag("unlisted")
        if billing_unit is None and not unlisted:
            raise t.fail("billing_unit", "is required unless unlisted = true")
        container, c_source, c_verified = "unknown", "", False
        ct = t.table("container")
        if ct is not None:
            container = ct.text("type", required=True)
            if container not in _CONTAINERS:
                raise ct.fail("type", f"expected one of {sorted(_CONTAINERS)}, got {container!r}")
            c_source = ct.text("source", required=True)
            c_verified = ct.flag("verified")
            ct.done()
        dx_codes: tuple[str, ...] = ()
        dx_source, dx_verified = "", False
        dt = t.table("dx_supported")
        if dt is not None:
            dx_codes = dt.strings("codes")
            dx_source = dt.text("source", required=True)
            dx_verified = dt.flag("verified")
            dt.done()
        seed_page = seed_says = ""
        st = t.table("seed")
        if st is not None:
            seed_page, seed_says = st.text("page", required=True), st.text("says", required=True)
            st.done()
        looks = []
        for lt in t.tables("lookalikes"):
            looks.append(LookAlike(code_key(lt, "code", lt.text("code", required=True)),
                                   lt.text("why", required=True)))
            lt.done()
        ctp_units = frozenset(t.strings("ctp_units"))
        bad = ctp_units - settings.ctp_units
        if bad:
            raise t.fail("ctp_units", f"{sorted(bad)} not in the pack's ctp_units")
        effective, terminated = t.day("effective"), t.day("terminated")
        if effective and terminated and terminated < effective:
            raise t.fail("terminated", "is before 'effective'")
        out[code] = CodeRule(
            code=code,
            descriptor=t.text("descriptor", required=True),
            short=t.text("short"),
            source=t.text("source", required=True),
            verified=t.flag("verified"),
            effective=effective,
            terminated=terminated,
            replaced_by=t.strings("replaced_by"),
            billing_unit=billing_unit,
            unlisted=unlisted,
            mue_practitioner=_mue(t, "mue_practitioner"),
            mue_outpatient=_mue(t, "mue_outpatient"),
            container=container,
            container_source=c_source,
            container_verified=c_verified,
            ndc_required=t.flag("ndc_required", default=settings.ndc_required_default),
            ctp_units=ctp_units,
            whole_units=t.flag("whole_units", default=settings.whole_units_default),
            dx_supported=dx_codes,
            dx_source=dx_source,
            dx_verified=dx_verified,
            lookalikes=tuple(looks),
            seed_page=seed_page,
            seed_says=seed_says,
            note=t.text("note"),
        )
        t.done()
    return out


def load_overlay(data: dict[str, object], file: str, edits: dict[str, EditDef]) -> PayerOverlay:
    root = Table(data, file, "")
    t = root.table("payer", required=True)
    assert t is not None
    ndc = t.raw("ndc_required")
    if ndc is not None and not isinstance(ndc, bool):
        raise t.fail("ndc_required", f"expected true or false, got {ndc!r}")
    prior = frozenset(code_key(t, "prior_auth", c) for c in t.strings("prior_auth"))
    limits = {}
    qt = t.table("quantity_limits")
    if qt is not None:
        for code in list(qt.data):
            code_key(qt, code, code)
            limits[code] = qt.number(code, required=True)
        qt.done()
    pos = {}
    pt = t.table("pos_allowed")
    if pt is not None:
        for code in list(pt.data):
            code_key(pt, code, code)
            places = pt.strings(code)
            if not all(p.isdigit() and len(p) == 2 for p in places):
                raise pt.fail(code, f"place-of-service codes are two digits, got {places!r}")
            pos[code] = frozenset(places)
        pt.done()
    severity = {}
    sv = t.table("severity")
    if sv is not None:
        for rule_id in list(sv.data):
            if rule_id not in edits:
                raise sv.fail(rule_id, "no such rule id in edits.toml")
            severity[rule_id] = severity_of(sv, rule_id, sv.raw(rule_id), allow_off=True)
        sv.done()
    overlay = PayerOverlay(
        name=t.text("name", required=True),
        payer_ids=t.strings("payer_ids"),
        ndc_required=ndc,
        prior_auth=prior,
        quantity_limits=limits,  # type: ignore[arg-type]
        pos_allowed=pos,
        severity=severity,
        source=t.text("source", required=True),
        file=file,
    )
    t.done()
    root.done()
    return overlay
