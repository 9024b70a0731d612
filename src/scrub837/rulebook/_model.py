"""Rule-book values: frozen dataclasses, no IO."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING

from scrub837.findings import Severity, Stc
from scrub837.rulebook._classes import FilingClass

if TYPE_CHECKING:
    from scrub837.rulebook._dataset import Dataset

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
    ("5 mg", "per 250 mg"), ``up_to`` ("up to 250 mg": a part of a unit counts as one) or
    ``per_item`` ("per dose", "per vial": whole units, never converted from a quantity)."""

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
        if self.kind == "per_item":
            return self.unit.lower()
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
    mue_practitioner: Mue | None  # the pack's; Rulebook.mue() gives the loaded CMS table's
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
    unit_source: str = ""  # where billing_unit comes from (a CMS table, or the pack)
    in_cms: bool = False  # the loaded CMS HCPCS table lists the code


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
    alternate_id: str = ""  # NDC2 held an alternate id, not an NDC (ndc11 is then "")


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
    data: Dataset
    _by_payer: Mapping[str, PayerOverlay] = field(default_factory=dict)
    _derived: dict[str, CodeRule | None] = field(default_factory=dict)
    #: claim filing indicator (SBR09) -> its defaults (filing_indicators.toml)
    filing_classes: Mapping[str, FilingClass] = field(default_factory=dict)
    #: mue()'s answers by (code, claim kind): the scrub asks for every drug line
    _mues: dict[tuple[str, str], Mue | None] = field(default_factory=dict, compare=False,
                                                     repr=False)

    def code(self, hcpcs: str) -> CodeRule | None:
        """Everything known about ``hcpcs``: the CMS facts of the loaded data with the pack's
        judgement (``rules/codes``) on top; the pack alone for a code the data lacks."""
        try:
            return self._derived[hcpcs]
        except KeyError:
            from scrub837.rulebook._facts import derive

            rule = derive(self, hcpcs)
            self._derived[hcpcs] = rule
            return rule

    def is_drug_code(self, hcpcs: str) -> bool:
        """A drug line's code: a drug prefix (J), or priced as a Part B drug by the loaded ASP
        pricing file or crosswalk (Q5103, C9xxx, ...)."""
        return bool(hcpcs) and (hcpcs.startswith(self.settings.drug_prefixes)
                                or self.data.priced(hcpcs))

    def overlay_for(self, payer_id: str) -> PayerOverlay:
        """The overlay listing ``payer_id`` (2010BB NM109), else the default overlay."""
        return self._by_payer.get(payer_id.strip(), self.default_payer)

    def crosswalk_for(self, ndc11: str) -> tuple[CrosswalkEntry, ...]:
        return self.data.crosswalk_for(ndc11)

    def mue(self, hcpcs: str, claim_kind: str) -> Mue | None:
        """The MUE for an 837P (``"P"``, practitioner table) or 837I (``"I"``, outpatient
        hospital table) claim. The loaded CMS table wins over the pack: a code missing from a
        loaded table has no MUE; the pack's value applies only when no table is loaded."""
        key = (hcpcs, claim_kind)
        try:
            return self._mues[key]
        except KeyError:
            pass
        found = self._mue(hcpcs, claim_kind)
        if len(self._mues) >= 8192:
            self._mues.clear()
        self._mues[key] = found
        return found

    def _mue(self, hcpcs: str, claim_kind: str) -> Mue | None:
        setting = "outpatient" if claim_kind == "I" else "practitioner"
        info = self.data.table(f"mue_{setting}")
        if info is not None:
            row = self.data.mue(setting, hcpcs)
            if row is None:
                return None
            return Mue(Decimal(row.value), row.mai, info.label, row.rationale)
        rule = self.codes.get(hcpcs)
        if rule is None:
            return None
        return rule.mue_outpatient if setting == "outpatient" else rule.mue_practitioner

    def max_units(self, hcpcs: str, claim_kind: str) -> tuple[Decimal, str] | None:
        """The day's MUE value and where it comes from (``..., MAI 3``)."""
        mue = self.mue(hcpcs, claim_kind)
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
        for pack in self.codes.values():
            rule = self.code(pack.code) or pack  # CMS facts from the data are verified
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
