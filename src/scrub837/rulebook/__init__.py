"""The rule book: the rule pack (``rules/``), the CMS crosswalk and MUE tables, payer overlays.

Everything is validated on load; a bad file raises :class:`RulePackError` naming the file and
the key (or line). Nothing in the files is executed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from scrub837.rulebook._cms import load_crosswalk, load_mue, ndc11
from scrub837.rulebook._errors import RulePackError
from scrub837.rulebook._explain import explain_code
from scrub837.rulebook._model import (
    BillingUnit,
    CodeRule,
    CrosswalkEntry,
    EditDef,
    LookAlike,
    Mue,
    MueEntry,
    PayerOverlay,
    Rulebook,
    Settings,
)
from scrub837.rulebook._pack import load_codes, load_edits, load_overlay, load_settings, read_toml


def default_pack() -> Path:
    """The pack shipped in the package, or the repository's ``rules/`` in a source checkout."""
    shipped = Path(str(files("scrub837"))) / "rules"
    if (shipped / "pack.toml").is_file():
        return shipped
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "rules"
        if (candidate / "pack.toml").is_file():
            return candidate
    raise RulePackError("rules/", "", "no rule pack found (pack.toml missing from the package)")


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def load_rulebook(
    directory: Path | None = None,
    *,
    crosswalk: Path | None = None,
    mue: Sequence[Path] = (),
    payers: Path | None = None,
) -> Rulebook:
    root = directory if directory is not None else default_pack()
    if not root.is_dir():
        raise RulePackError(str(root), "", "rule pack folder not found")
    pack_file = root / "pack.toml"
    pack, settings = load_settings(read_toml(pack_file, _shown(pack_file, root)),
                                   _shown(pack_file, root))
    edits_file = root / "edits.toml"
    edits = load_edits(read_toml(edits_file, _shown(edits_file, root)), _shown(edits_file, root))
    codes_file = root / "codes.toml"
    codes = load_codes(read_toml(codes_file, _shown(codes_file, root)), _shown(codes_file, root),
                       settings)
    overlays = []
    default = None
    payer_dirs = [root / "payers"] + ([payers] if payers is not None else [])
    seen_ids: dict[str, str] = {}
    for folder in payer_dirs:
        if folder is payers and not folder.is_dir():
            raise RulePackError(str(folder), "", "payer overlay folder not found")
        for file in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
            shown = _shown(file, root)
            overlay = load_overlay(read_toml(file, shown), shown, edits)
            if file.name == "default.toml" and folder == root / "payers":
                default = overlay
                continue
            for pid in overlay.payer_ids:
                if pid in seen_ids:
                    raise RulePackError(shown, "payer.payer_ids",
                                        f"payer id {pid!r} is already used by {seen_ids[pid]}")
                seen_ids[pid] = shown
            overlays.append(overlay)
    if default is None:
        raise RulePackError(_shown(root / "payers" / "default.toml", root), "",
                            "the default payer overlay is required")
    for overlay in overlays + [default]:
        for code in list(overlay.prior_auth) + list(overlay.quantity_limits) + list(
                overlay.pos_allowed):
            if code not in codes:
                raise RulePackError(overlay.file, code, "code is not in codes.toml")
    for rule in codes.values():
        for look in rule.lookalikes:
            if look.code == rule.code:
                raise RulePackError(_shown(codes_file, root), f"{rule.code}.lookalikes",
                                    "a code is not its own look-alike")
    xw_path = crosswalk if crosswalk is not None else root / "crosswalk_sample.csv"
    xw = load_crosswalk(xw_path)
    mue_tables = {}
    mue_source = {}
    for path in mue:
        kind, table = load_mue(path)
        mue_tables[kind] = table
        mue_source[kind] = f"CMS NCCI MUE file {path.name}"
    return Rulebook(
        directory=str(root),
        name=pack.data["name"],  # type: ignore[arg-type]
        version=pack.data["version"],  # type: ignore[arg-type]
        as_of=str(pack.data.get("as_of", "")),
        settings=settings,
        codes=codes,
        edits=edits,
        payers=tuple(overlays),
        default_payer=default,
        crosswalk=xw,
        crosswalk_source=str(xw_path),
        mue_override=mue_tables,
        mue_source=mue_source,
        _by_payer={pid: o for o in overlays for pid in o.payer_ids},
    )


@dataclass(frozen=True)
class PackReport:
    directory: str
    codes: int
    edits: int
    payers: int
    problems: tuple[str, ...] = ()
    unverified: tuple[str, ...] = field(default=())


#: Rule ids the built-in edits emit; every one must be defined in edits.toml.
BUILTIN_RULE_IDS = (
    "UNITS_INVALID", "UNITS_FRACTIONAL", "UNITS_BASIS", "UNITS_OVER_MAX", "UNITS_NDC_MISMATCH",
    "MOD_JW_JZ_BOTH", "MOD_WASTE_MISSING", "MOD_JW_MULTIDOSE", "MOD_JW_ORPHAN",
    "MOD_NOT_FOR_DRUG", "MOD_JG_TB", "NDC_MISSING", "NDC_FORMAT", "NDC_QUALIFIER",
    "NDC_CTP_MISSING", "NDC_QTY_INVALID", "NDC_UOM_INVALID", "NDC_HCPCS_MISMATCH",
    "NDC_NOT_IN_CROSSWALK", "DX_POINTER_INVALID", "DX_CODE_INVALID", "DX_NOT_BILLABLE",
    "DX_ICD9_QUALIFIER", "DX_NOT_SUPPORTED", "AUTH_MISSING", "PAYER_POS_NOT_ALLOWED",
    "NOC_DESCRIPTION_MISSING", "NOC_NDC_MISSING", "CODE_NOT_EFFECTIVE", "CODE_UNKNOWN",
    "CLAIM_DATE_INVALID", "DOS_FUTURE", "LINE_DATE_MISSING", "CLAIM_CHARGE_MISMATCH",
    "LINE_CONTROL_DUPLICATE", "CLAIM_DUPLICATE", "BAD_CHARACTER",
)


def check_pack(directory: Path | None = None) -> PackReport:
    """Load a pack (raising :class:`RulePackError` on the first broken file) and report
    problems that are not syntax: rule ids the engine needs but the pack lacks."""
    rb = load_rulebook(directory)
    missing = [r for r in BUILTIN_RULE_IDS if r not in rb.edits]
    problems = tuple(f"edits.toml has no definition for rule id {r}" for r in missing)
    return PackReport(rb.directory, len(rb.codes), len(rb.edits), len(rb.payers) + 1, problems,
                      tuple(rb.unverified()))


__all__ = [
    "BUILTIN_RULE_IDS",
    "BillingUnit",
    "CodeRule",
    "CrosswalkEntry",
    "EditDef",
    "LookAlike",
    "Mue",
    "MueEntry",
    "PackReport",
    "PayerOverlay",
    "RulePackError",
    "Rulebook",
    "Settings",
    "check_pack",
    "default_pack",
    "explain_code",
    "load_crosswalk",
    "load_mue",
    "load_rulebook",
    "ndc11",
]
