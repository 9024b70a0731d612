"""codes/*.toml: one ``[CODE]`` table per HCPCS code (a file may hold one code or a group)."""

from __future__ import annotations

import re
from datetime import date

from scrub837.rulebook._model import (
    BILLING_UNITS,
    CONTAINERS,
    BillingUnit,
    CodeRule,
    LookAlike,
    Mue,
    Settings,
)
from scrub837.rulebook._tables import HCPCS, Table, code_of

# an ICD-10-CM code or category prefix, with or without the dot: F10, C92.1, C921, F11.20
_DX_PREFIX = re.compile(r"[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?")


def _billing_unit(t: Table) -> BillingUnit | None:
    bu = t.table("billing_unit")
    if bu is None:
        return None
    amount = bu.number("amount", required=True, positive=True)
    unit = bu.text("unit", required=True)
    kind = bu.text("kind", required=True)
    if unit not in BILLING_UNITS:
        raise bu.fail("unit", f"expected one of {sorted(BILLING_UNITS)}, got {unit!r}")
    if kind not in ("per", "up_to"):
        raise bu.fail("kind", f"expected 'per' or 'up_to', got {kind!r}")
    bu.done()
    return BillingUnit(amount, unit, kind)  # type: ignore[arg-type]


def _mue(t: Table, name: str) -> Mue | None:
    sub = t.table(name)
    if sub is None:
        return None
    units = sub.number("units", required=True, positive=True)
    assert units is not None
    if units != units.to_integral_value():
        raise sub.fail("units", f"MUE values are whole numbers, got {units}")
    mai = sub.integer("mai", required=True)
    if mai not in (1, 2, 3):
        raise sub.fail("mai", f"the MUE adjudication indicator is 1, 2 or 3, got {mai}")
    mue = Mue(units, mai, sub.text("source", required=True), sub.text("rationale"))
    sub.done()
    return mue


def _container(t: Table) -> tuple[str, str, bool]:
    ct = t.table("container")
    if ct is None:
        return "unknown", "", False
    kind = ct.text("type", required=True)
    if kind not in CONTAINERS:
        raise ct.fail("type", f"expected one of {list(CONTAINERS)}, got {kind!r}")
    out = kind, ct.text("source", required=True), ct.flag("verified", required=True)
    ct.done()
    return out


def _dx(t: Table) -> tuple[tuple[str, ...], str, bool]:
    dt = t.table("dx_supported")
    if dt is None:
        return (), "", False
    codes = dt.strings("codes", required=True)
    if not codes:
        raise dt.fail("codes", "needs at least one ICD-10-CM prefix (or drop dx_supported)")
    for dx in codes:
        if not _DX_PREFIX.fullmatch(dx):
            raise dt.fail("codes", f"{dx!r} is not an ICD-10-CM code or prefix like C92.1")
    out = codes, dt.text("source", required=True), dt.flag("verified", required=True)
    dt.done()
    return out


def _lookalikes(t: Table, code: str) -> tuple[LookAlike, ...]:
    looks: list[LookAlike] = []
    for lt in t.tables("lookalikes"):
        other = code_of(lt, "code", lt.raw("code"))
        if other == code:
            raise lt.fail("code", "a code is not its own look-alike")
        if any(look.code == other for look in looks):
            raise lt.fail("code", f"{other} is listed twice")
        looks.append(LookAlike(other, lt.text("why", required=True)))
        lt.done()
    return tuple(looks)


def _dates(t: Table) -> tuple[date | None, date | None, date | None]:
    effective, terminated = t.day("effective", required=True), t.day("terminated")
    action = t.day("action_effective")
    if effective and terminated and terminated < effective:
        raise t.fail("terminated", f"{terminated} is before 'effective' {effective}")
    if effective and action and action < effective:
        raise t.fail("action_effective", f"{action} is before 'effective' {effective}")
    return effective, terminated, action


def load_code(code: str, body: object, file: str, settings: Settings) -> CodeRule:
    t = Table(body, file, code)
    if not HCPCS.fullmatch(code):
        raise t.fail("", f"{code!r} is not a HCPCS code like J9262")
    billing_unit = _billing_unit(t)
    unlisted = t.flag("unlisted")
    if billing_unit is None and not unlisted:
        raise t.fail("billing_unit", "is required unless unlisted = true")
    if billing_unit is not None and unlisted:
        raise t.fail("billing_unit", "an unlisted (NOC) code has no descriptor dosage")
    ctp_units = frozenset(t.strings("ctp_units"))
    if ctp_units - settings.ctp_units:
        raise t.fail("ctp_units", f"{sorted(ctp_units - settings.ctp_units)} not in the pack's "
                     f"ctp_units {sorted(settings.ctp_units)}")
    effective, terminated, action = _dates(t)
    replaced_by = tuple(code_of(t, "replaced_by", c) for c in t.strings("replaced_by"))
    if replaced_by and terminated is None:
        raise t.fail("replaced_by", "only a terminated code has successors")
    container, container_source, container_verified = _container(t)
    dx_codes, dx_source, dx_verified = _dx(t)
    seed_page, seed_says = t.text("seed_page"), t.text("seed_says")
    if bool(seed_page) != bool(seed_says):
        raise t.fail("seed_says" if seed_page else "seed_page",
                     "seed_page and seed_says go together")
    rule = CodeRule(
        code=code,
        descriptor=t.text("descriptor", required=True),
        short=t.text("short"),
        source=t.text("source", required=True),
        verified=t.flag("verified", required=True),
        effective=effective,
        terminated=terminated,
        replaced_by=replaced_by,
        billing_unit=billing_unit,
        unlisted=unlisted,
        mue_practitioner=_mue(t, "mue_practitioner"),
        mue_outpatient=_mue(t, "mue_outpatient"),
        container=container,
        container_source=container_source,
        container_verified=container_verified,
        ndc_required=t.flag("ndc_required", default=settings.ndc_required_default),
        ctp_units=ctp_units,
        whole_units=t.flag("whole_units", default=settings.whole_units_default),
        dx_supported=dx_codes,
        dx_source=dx_source,
        dx_verified=dx_verified,
        lookalikes=_lookalikes(t, code),
        seed_page=seed_page,
        seed_says=seed_says,
        note=t.text("note"),
        action_effective=action,
        file=file,
    )
    t.done()
    return rule


def load_codes(data: dict[str, object], file: str, settings: Settings,
               stem: str = "") -> dict[str, CodeRule]:
    """The ``[CODE]`` tables of one file. A file named after a code (``J9262.toml``) must hold
    exactly that code."""
    if not data:
        raise Table(data, file, "").fail("", "defines no codes")
    if HCPCS.fullmatch(stem) and set(data) != {stem}:
        other = sorted(set(data) - {stem}) or [stem]
        raise Table(data, file, "").fail(other[0], f"{file} is named after {stem} and may hold "
                                         f"only [{stem}]")
    return {code: load_code(code, body, file, settings) for code, body in data.items()}
