"""Finding, loading and checking a rule pack folder.

::

    rules/pack.toml              pack metadata and settings
    rules/edits.toml             one table per rule id
    rules/codes/*.toml           one [CODE] table per HCPCS code (a file per code or a group)
    rules/payers/default.toml    the overlay for payers no other overlay lists
    rules/payers/*.toml          payer overlays, chosen by 2010BB payer id
    rules/filing_indicators.toml defaults by claim filing indicator (SBR09); optional

The CMS facts (HCPCS Level II, ASP pricing, the crosswalk, the MUE tables) come from a dataset
(:mod:`scrub837.rulebook._dataset`: the built-in one by default); CMS files given by option
replace its tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

from scrub837.rulebook._classes import FILE as CLASSES_FILE
from scrub837.rulebook._classes import load_filing_classes
from scrub837.rulebook._codes import load_codes
from scrub837.rulebook._dataset import Dataset, Table, table_from_file
from scrub837.rulebook._errors import RulePackError
from scrub837.rulebook._facts import disagreements
from scrub837.rulebook._model import (
    CodeRule,
    EditDef,
    PackReport,
    PayerOverlay,
    Rulebook,
    Settings,
)
from scrub837.rulebook._pack import load_edits, load_pack
from scrub837.rulebook._payers import index_overlays, load_overlay
from scrub837.rulebook._tables import read_toml

#: Rule ids the built-in edits emit; every one must be defined in edits.toml.
BUILTIN_RULE_IDS = (
    "UNITS_INVALID", "UNITS_FRACTIONAL", "UNITS_BASIS", "UNITS_OVER_MAX", "UNITS_NDC_MISMATCH",
    "MOD_JW_JZ_BOTH", "MOD_WASTE_MISSING", "MOD_JW_MULTIDOSE", "MOD_JW_ORPHAN",
    "MOD_NOT_FOR_DRUG", "MOD_JG_TB", "NDC_MISSING", "NDC_FORMAT", "NDC_QUALIFIER",
    "NDC_CTP_MISSING", "NDC_QTY_INVALID", "NDC_UOM_INVALID", "NDC_HCPCS_MISMATCH",
    "NDC_NOT_IN_CROSSWALK", "DX_POINTER_INVALID", "DX_CODE_INVALID", "DX_NOT_BILLABLE",
    "DX_ICD9_QUALIFIER", "DX_NOT_SUPPORTED", "AUTH_MISSING", "PAYER_POS_NOT_ALLOWED",
    "NOC_DESCRIPTION_MISSING", "NOC_NDC_MISSING", "CODE_NOT_EFFECTIVE", "CODE_UNKNOWN",
    "CODE_INVALID", "DATA_PERIOD", "CLAIM_DATE_INVALID", "DOS_FUTURE", "LINE_DATE_MISSING", "CLAIM_CHARGE_MISMATCH",
    "LINE_CONTROL_DUPLICATE", "CLAIM_DUPLICATE", "BAD_CHARACTER",
)


def default_pack() -> Path:
    """The pack shipped in the package (``scrub837/rules``), or the repository's top-level
    ``rules/`` in a source checkout or editable install."""
    shipped = Path(str(files("scrub837"))) / "rules"
    if (shipped / "pack.toml").is_file():
        return shipped
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "rules"
        if (candidate / "pack.toml").is_file():
            return candidate
    raise RulePackError("rules/", "", "no rule pack found (pack.toml missing from the package)")


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def _load_codes(root: Path, settings: Settings) -> dict[str, CodeRule]:
    sources = sorted((root / "codes").glob("*.toml")) if (root / "codes").is_dir() else []
    if (root / "codes.toml").is_file():  # a single-file pack
        sources.insert(0, root / "codes.toml")
    if not sources:
        raise RulePackError(_shown(root / "codes", root), "", "no code files (codes/*.toml)")
    codes: dict[str, CodeRule] = {}
    for path in sources:
        shown = _shown(path, root)
        stem = path.stem if path.parent.name == "codes" else ""
        for code, rule in load_codes(read_toml(path, shown), shown, settings, stem).items():
            if code in codes:
                raise RulePackError(shown, code, f"{code} is already defined in "
                                    f"{codes[code].file}")
            codes[code] = rule
    return codes


def _load_payers(root: Path, extra: Path | None, known: dict[str, EditDef],
                 codes: dict[str, CodeRule]) -> tuple[PayerOverlay, list[PayerOverlay]]:
    default_file = root / "payers" / "default.toml"
    default = load_overlay(read_toml(default_file, _shown(default_file, root)),
                           _shown(default_file, root), known, codes, default=True)
    files_ = [p for p in sorted((root / "payers").glob("*.toml")) if p != default_file]
    if extra is not None:
        if not extra.is_dir():
            raise RulePackError(str(extra), "", "payer overlay folder not found")
        files_ += sorted(extra.glob("*.toml"))
    overlays = [load_overlay(read_toml(p, _shown(p, root)), _shown(p, root), known, codes)
                for p in files_]
    return default, overlays


def cms_tables(*, hcpcs: Path | None = None, asp: Path | None = None,
               crosswalk: Path | None = None, mue: Sequence[Path] = ()) -> dict[str, Table]:
    """Tables read from CMS files given by option (``--hcpcs``, ``--asp``, ``--crosswalk``,
    ``--mue``), to stand in for the dataset's."""
    out: dict[str, Table] = {}
    for kind, path in (("hcpcs", hcpcs), ("asp", asp), ("crosswalk", crosswalk)):
        if path is not None:
            out[kind] = table_from_file(kind, path)
    for path in mue:
        table = table_from_file("mue", path)
        setting = table.info.name.removeprefix("mue_")
        if table.info.name in out:
            raise RulePackError(str(path), "", f"a second {setting} MUE table (the first is "
                                f"{out[table.info.name].info.source})")
        out[table.info.name] = table
    return out


def load_rulebook(directory: Path | None = None, *, crosswalk: Path | None = None,
                  mue: Sequence[Path] = (), payers: Path | None = None,
                  hcpcs: Path | None = None, asp: Path | None = None,
                  data: Path | Dataset | None = None) -> Rulebook:
    """Load and check a rule pack (default: the shipped one) over a CMS dataset (``data``: a
    folder built by ``scrub837 data import``, default ``$SCRUB837_DATA`` or the built-in one).
    ``hcpcs``/``asp``/``crosswalk``/``mue``: CMS files as published that replace the dataset's
    tables; ``payers``: an extra folder of overlays."""
    root = directory if directory is not None else default_pack()
    if not root.is_dir():
        raise RulePackError(str(root), "", "rule pack folder not found")
    pack_file, edits_file = root / "pack.toml", root / "edits.toml"
    meta, settings = load_pack(read_toml(pack_file, _shown(pack_file, root)),
                               _shown(pack_file, root))
    edits = load_edits(read_toml(edits_file, _shown(edits_file, root)), _shown(edits_file, root))
    codes = _load_codes(root, settings)
    default, overlays = _load_payers(root, payers, edits, codes)
    by_payer = index_overlays(overlays)
    dataset = data if isinstance(data, Dataset) else Dataset(data)
    extra = cms_tables(hcpcs=hcpcs, asp=asp, crosswalk=crosswalk, mue=mue)
    if extra:
        dataset = dataset.with_tables(extra)
    return Rulebook(
        directory=str(root), name=meta["name"], version=meta["version"], as_of=meta["as_of"],
        settings=settings, codes=codes, edits=edits, payers=tuple(overlays),
        default_payer=default, data=dataset, _by_payer=by_payer,
        filing_classes=load_filing_classes(root / CLASSES_FILE,
                                           _shown(root / CLASSES_FILE, root)))


def pack_problems(rb: Rulebook) -> list[str]:
    """What is wrong with a pack that loads: things the engine needs but the pack lacks, and
    entries that cannot have an effect."""
    out = [f"edits.toml has no definition for rule id {r}" for r in BUILTIN_RULE_IDS
           if r not in rb.edits]
    out += disagreements(rb)
    for rule in rb.codes.values():
        if not rb.is_drug_code(rule.code):
            out.append(f"{rule.file}: {rule.code} does not start with a drug prefix "
                       f"{list(rb.settings.drug_prefixes)}, so no edit ever sees it")
        for successor in rule.replaced_by:
            if successor not in rb.codes and rb.data.hcpcs(successor) is None:
                out.append(f"{rule.file}: {rule.code}.replaced_by names {successor}, which is "
                           "not in the pack")
    for overlay in (rb.default_payer, *rb.payers):
        for code, limit in overlay.quantity_limits.items():
            mues = [m.units for m in (rb.mue(code, "P"), rb.mue(code, "I")) if m]
            if mues and all(limit >= m for m in mues):
                out.append(f"{overlay.file}: quantity limit {limit} for {code} is not lower "
                           f"than its MUE ({', '.join(str(m) for m in mues)}): it has no effect")
    return out


def check_pack(directory: Path | None = None, rb: Rulebook | None = None) -> PackReport:
    """Load a pack (raising :class:`RulePackError` on the first broken file) and report the
    problems that are not syntax, and the entries that are judgement rather than CMS facts."""
    rb = rb if rb is not None else load_rulebook(directory)
    return PackReport(rb.directory, len(rb.codes), len(rb.edits), len(rb.payers) + 1,
                      tuple(pack_problems(rb)), tuple(rb.unverified()))
