"""Rule-book values: frozen dataclasses, no IO."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_CEILING, Decimal

from scrub837.findings import Severity, Stc
from scrub837.rulebook._classes import FilingClass

# CTP05-1 unit -> (dimension, factor to the dimension's base unit: mg for mass, mL for volume)
_CTP_UNITS = {"ME": ("mass", Decimal(1)), "GR": ("mass", Decimal(1000)),
              "ML": ("volume", Decimal(1)), "F2": ("iu", Decimal(1)), "UN": ("count", Decimal(1))}
# billing-unit unit (HCPCS descriptor dosage) -> (dimension, factor to the base unit)
BILLING_UNITS = {"MG": ("mass", Decimal(1)), "MCG": ("mass", Decimal("0.001")),
                 "G": ("mass", Decimal(1000)), "ML": ("volume", Decimal(1)),
                 "IU": ("iu", Decimal(1)), "UNITS": ("iu", Decimal(1))}
#: the CTP05-1 codes the 837P/837I guides allow, and how to say them
CTP_UNIT_NAMES = {"ME": "mg", "GR": "g", "ML": "mL", "F2": "IU", "UN": "unit(s)"}
CONTAINERS = ("single-dose", "multi-dose", "unknown")


@dataclass(frozen=True, slots=True)
class BillingUnit:
    """The HCPCS descriptor dosage: ``amount`` ``unit`` per billing unit. ``kind`` is ``per``
    ("5 mg", "per 250 mg") or ``up_to`` ("up to 250 mg": a part of a unit counts as one)."""

    amount: Decimal
    unit: str
    kind: str

    def convert(self, quantity: Decimal, ctp_unit: str) -> Decimal | None:
        """Billing units that ``quantity`` in CTP05-1 ``ctp_unit`` makes (ME/GR against a mass
        unit, ML against mL, F2 against IU/units); ``up_to`` codes round up to whole units.
        None when the dimensions differ (mL of a drug billed per mg needs the crosswalk) or
        ``ctp_unit`` is UN (a count of packages)."""
        src = _CTP_UNITS.get(ctp_unit)
        dst = BILLING_UNITS.get(self.unit)
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
    """A code that is confused with this one, and how they differ."""

    code: str
    why: str


@dataclass(frozen=True, slots=True)
class Mue:
    """A per-day maximum carried by the pack (copied from a CMS MUE table)."""

    units: Decimal
    mai: int
    source: str
    rationale: str = ""


@dataclass(frozen=True, slots=True)
class CodeRule:
    """Everything the pack knows about one HCPCS code."""

    code: str
    descriptor: str
    short: str
    source: str
    verified: bool
    effective: date | None  # valid from: CMS ADD DT
    terminated: date | None  # valid through: CMS TERM DT
    replaced_by: tuple[str, ...]
    billing_unit: BillingUnit | None  # None for NOC codes
    unlisted: bool
    mue_practitioner: Mue | None
    mue_outpatient: Mue | None
    container: str  # "single-dose", "multi-dose" or "unknown"
    container_source: str
    container_verified: bool
    ndc_required: bool
    ctp_units: frozenset[str]  # empty: the pack's list
    whole_units: bool
    dx_supported: tuple[str, ...]  # ICD-10-CM prefixes; empty: no diagnosis-support edit
    dx_source: str
    dx_verified: bool
    lookalikes: tuple[LookAlike, ...]
    seed_page: str
    seed_says: str
    note: str
    action_effective: date | None = None  # CMS ACT EFF DT: date of the latest action on the code
    file: str = ""


@dataclass(frozen=True, slots=True)
class EditDef:
    """Severity, 277CA STC composites and wording of one rule id. ``fields`` names the
    ``{name}`` values the edit supplies to ``message`` and ``fix`` (``code`` always)."""

    rule_id: str
    severity: Severity
    stc: tuple[Stc, ...]
    title: str
    message: str
    fix: str
    source: str
    example: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CrosswalkEntry:
    """One row of the CMS ASP NDC-HCPCS crosswalk."""

    hcpcs: str
    ndc11: str  # 11 digits, no hyphens
    labeler: str
    drug_name: str
    hcpcs_dosage: str
    pkg_size: Decimal | None
    pkg_qty: Decimal | None
    bill_units: Decimal | None  # HCPCS billing units in one package item (PKG SIZE)
    bill_units_pkg: Decimal | None  # HCPCS billing units in the whole NDC package


@dataclass(frozen=True, slots=True)
class MueEntry:
    """One row of a CMS NCCI MUE table."""

    code: str
    value: int
    mai: int  # 1 line edit, 2 absolute date-of-service edit, 3 clinical date-of-service edit
    rationale: str


@dataclass(frozen=True, slots=True)
class PayerOverlay:
    """What one payer (by 2010BB payer id) changes; ``severity`` None switches a rule off."""

    name: str
    payer_ids: tuple[str, ...]
    ndc_required: bool | None
    prior_auth: frozenset[str]
    quantity_limits: Mapping[str, Decimal]
    pos_allowed: Mapping[str, frozenset[str]]
    severity: Mapping[str, Severity | None]
    source: str
    file: str
    example: bool = False  # an illustration, not a real payer's policy


@dataclass(frozen=True, slots=True)
class Settings:
    """``[settings]`` of pack.toml; ``sources`` maps each setting name to its source."""

    drug_prefixes: tuple[str, ...]
    jw_jz_required_from: date
    icd10_from: date
    modifiers_not_on_drug_lines: frozenset[str]
    ndc_required_default: bool
    ctp_units: frozenset[str]
    whole_units_default: bool
    sources: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PackReport:
    """``scrub837 rules check``: counts, problems (fail the check) and unverified entries."""

    directory: str
    codes: int
    edits: int
    payers: int
    problems: tuple[str, ...] = ()
    unverified: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rulebook:
    """A loaded, checked rule pack with its crosswalk and MUE tables."""

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
    crosswalk_skipped: int = 0  # crosswalk rows whose NDC column held no usable NDC
    #: claim filing indicator (SBR09) -> its defaults (filing_indicators.toml)
    filing_classes: Mapping[str, FilingClass] = field(default_factory=dict)

    def code(self, hcpcs: str) -> CodeRule | None:
        return self.codes.get(hcpcs)

    def is_drug_code(self, hcpcs: str) -> bool:
        return bool(hcpcs) and hcpcs.startswith(self.settings.drug_prefixes)

    def overlay_for(self, payer_id: str) -> PayerOverlay:
        """The overlay listing ``payer_id`` (2010BB NM109), else the default overlay."""
        return self._by_payer.get(payer_id.strip(), self.default_payer)

    def crosswalk_for(self, ndc11: str) -> tuple[CrosswalkEntry, ...]:
        return self.crosswalk.get(ndc11, ())

    def max_units(self, hcpcs: str, claim_kind: str) -> tuple[Decimal, str] | None:
        """The day's MUE for an 837P (``"P"``, practitioner table) or 837I (``"I"``, outpatient
        hospital table) claim, and where it comes from. A loaded CMS MUE file overrides the
        pack: a code missing from a loaded table has no MUE."""
        table = "outpatient" if claim_kind == "I" else "practitioner"
        loaded = self.mue_override.get(table)
        if loaded is not None:
            row = loaded.get(hcpcs)
            if row is None:
                return None
            return Decimal(row.value), f"{self.mue_source[table]}, MAI {row.mai}"
        rule = self.codes.get(hcpcs)
        if rule is None:
            return None
        mue = rule.mue_outpatient if table == "outpatient" else rule.mue_practitioner
        return (mue.units, f"{mue.source}, MAI {mue.mai}") if mue is not None else None

    def edit(self, rule_id: str, overlay: PayerOverlay | None = None) -> EditDef | None:
        """The rule's definition with the overlay's severity; None when unknown or switched
        off for this payer."""
        definition = self.edits.get(rule_id)
        if definition is None:
            return None
        if overlay is not None and rule_id in overlay.severity:
            severity = overlay.severity[rule_id]
            if severity is None:
                return None
            if severity is not definition.severity:
                return replace(definition, severity=severity)
        return definition

    def unverified(self) -> list[str]:
        """Entries that are judgement or examples rather than copied CMS facts."""
        out = []
        for rule in self.codes.values():
            if not rule.verified:
                out.append(f"{rule.code}: code facts not verified ({rule.source})")
            if rule.container != "unknown" and not rule.container_verified:
                out.append(f"{rule.code}: container '{rule.container}' ({rule.container_source})")
            if rule.dx_supported and not rule.dx_verified:
                out.append(f"{rule.code}: diagnosis list {', '.join(rule.dx_supported)} "
                           f"({rule.dx_source})")
        for overlay in self.payers:
            if overlay.example:
                out.append(f"{overlay.file}: payer overlay '{overlay.name}' is an example, "
                           "not a real payer's policy")
        return out
