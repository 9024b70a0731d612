"""Rule-book values: frozen dataclasses, no IO."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, Decimal

from scrub837.findings import Severity, Stc

# CTP05-1 unit -> (dimension, factor to the base unit: mg for mass, mL for volume)
_CTP_UNITS = {"ME": ("mass", Decimal(1)), "GR": ("mass", Decimal(1000)),
              "ML": ("volume", Decimal(1)), "F2": ("iu", Decimal(1)), "UN": ("unit", Decimal(1))}
_BILLING_UNITS = {"MG": ("mass", Decimal(1)), "MCG": ("mass", Decimal("0.001")),
                  "G": ("mass", Decimal(1000)), "ML": ("volume", Decimal(1)),
                  "IU": ("iu", Decimal(1)), "UNITS": ("iu", Decimal(1))}
CTP_UNIT_NAMES = {"ME": "mg", "GR": "g", "ML": "mL", "F2": "IU", "UN": "unit(s)"}


@dataclass(frozen=True, slots=True)
class BillingUnit:
    """The HCPCS descriptor dosage: ``amount`` ``unit`` per billing unit; ``kind`` is ``per``
    ("5 mg", "per 250 mg") or ``up_to`` ("up to 10 mg": part of a unit rounds up)."""

    amount: Decimal
    unit: str
    kind: str

    def convert(self, quantity: Decimal, ctp_unit: str) -> Decimal | None:
        """Billing units that ``quantity`` in CTP05-1 ``ctp_unit`` makes; None when the
        dimensions differ (e.g. mL of a drug billed per mg needs the crosswalk)."""
        src = _CTP_UNITS.get(ctp_unit)
        dst = _BILLING_UNITS.get(self.unit)
        if src is None or dst is None or src[0] != dst[0] or self.amount <= 0:
            return None
        units = quantity * src[1] / (self.amount * dst[1])
        if self.kind == "up_to":
            units = units.to_integral_value(rounding=ROUND_CEILING)
        return units

    def __str__(self) -> str:
        amount = format(self.amount.normalize(), "f")
        return f"{'up to ' if self.kind == 'up_to' else ''}{amount} {self.unit.lower()}"


@dataclass(frozen=True, slots=True)
class LookAlike:
    code: str
    why: str


@dataclass(frozen=True, slots=True)
class Mue:
    units: Decimal
    mai: int
    source: str


@dataclass(frozen=True, slots=True)
class CodeRule:
    code: str
    descriptor: str
    short: str
    source: str
    verified: bool
    effective: date | None
    terminated: date | None
    replaced_by: tuple[str, ...]
    billing_unit: BillingUnit | None
    unlisted: bool
    mue_practitioner: Mue | None
    mue_outpatient: Mue | None
    container: str  # "single-dose", "multi-dose" or "unknown"
    container_source: str
    container_verified: bool
    ndc_required: bool
    ctp_units: frozenset[str]
    whole_units: bool
    dx_supported: tuple[str, ...]
    dx_source: str
    dx_verified: bool
    lookalikes: tuple[LookAlike, ...]
    seed_page: str
    seed_says: str
    note: str


@dataclass(frozen=True, slots=True)
class EditDef:
    rule_id: str
    severity: Severity
    stc: tuple[Stc, ...]
    title: str
    message: str
    fix: str
    source: str
    example: str


@dataclass(frozen=True, slots=True)
class CrosswalkEntry:
    hcpcs: str
    ndc11: str
    labeler: str
    drug_name: str
    hcpcs_dosage: str
    pkg_size: Decimal | None
    pkg_qty: Decimal | None
    bill_units: Decimal | None
    bill_units_pkg: Decimal | None


@dataclass(frozen=True, slots=True)
class MueEntry:
    code: str
    value: int
    mai: int
    rationale: str


@dataclass(frozen=True, slots=True)
class PayerOverlay:
    name: str
    payer_ids: tuple[str, ...]
    ndc_required: bool | None
    prior_auth: frozenset[str]
    quantity_limits: Mapping[str, Decimal]
    pos_allowed: Mapping[str, frozenset[str]]
    severity: Mapping[str, Severity | None]  # None: the rule is off for this payer
    source: str
    file: str


@dataclass(frozen=True, slots=True)
class Settings:
    drug_prefixes: tuple[str, ...]
    jw_jz_required_from: date
    icd10_from: date
    modifiers_not_on_drug_lines: frozenset[str]
    ndc_required_default: bool
    ctp_units: frozenset[str]
    whole_units_default: bool
    sources: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rulebook:
    directory: str
    name: str
    version: str
    as_of: str
    settings: Settings
    codes: Mapping[str, CodeRule]
    edits: Mapping[str, EditDef]
    payers: tuple[PayerOverlay, ...]
    default_payer: PayerOverlay
    crosswalk: Mapping[str, tuple[CrosswalkEntry, ...]]
    crosswalk_source: str
    mue_override: Mapping[str, Mapping[str, MueEntry]]  # "practitioner"/"outpatient" -> code
    mue_source: Mapping[str, str]
    _by_payer: Mapping[str, PayerOverlay] = field(default_factory=dict)

    def code(self, hcpcs: str) -> CodeRule | None:
        return self.codes.get(hcpcs)

    def is_drug_code(self, hcpcs: str) -> bool:
        return bool(hcpcs) and hcpcs.startswith(self.settings.drug_prefixes)

    def overlay_for(self, payer_id: str) -> PayerOverlay:
        return self._by_payer.get(payer_id, self.default_payer)

    def crosswalk_for(self, ndc11: str) -> tuple[CrosswalkEntry, ...]:
        return self.crosswalk.get(ndc11, ())

    def max_units(self, hcpcs: str, claim_kind: str) -> tuple[Decimal, str] | None:
        """The day's MUE for an 837P (practitioner) or 837I (outpatient hospital) claim;
        a loaded CMS MUE file overrides the pack."""
        table = "outpatient" if claim_kind == "I" else "practitioner"
        loaded = self.mue_override.get(table, {}).get(hcpcs)
        if loaded is not None:
            return Decimal(loaded.value), f"{self.mue_source[table]}, MAI {loaded.mai}"
        if table in self.mue_override:
            return None  # the loaded CMS table has no row for this code
        rule = self.codes.get(hcpcs)
        if rule is None:
            return None
        mue = rule.mue_outpatient if table == "outpatient" else rule.mue_practitioner
        return (mue.units, f"{mue.source}, MAI {mue.mai}") if mue is not None else None

    def edit(self, rule_id: str, overlay: PayerOverlay | None = None) -> EditDef | None:
        definition = self.edits.get(rule_id)
        if definition is None:
            return None
        if overlay is not None and rule_id in overlay.severity:
            severity = overlay.severity[rule_id]
            if severity is None:
                return None
            if severity is not definition.severity:
                from dataclasses import replace

                return replace(definition, severity=severity)
        return definition

    def unverified(self) -> list[str]:
        out = []
        for rule in self.codes.values():
            if not rule.verified:
                out.append(f"{rule.code}: code facts not verified ({rule.source})")
            if rule.container != "unknown" and not rule.container_verified:
                out.append(f"{rule.code}: container '{rule.container}' ({rule.container_source})")
            if rule.dx_supported and not rule.dx_verified:
                out.append(f"{rule.code}: diagnosis list {', '.join(rule.dx_supported)} "
                           f"({rule.dx_source})")
        return out
