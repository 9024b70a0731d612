"""The rule book: the CMS data (HCPCS Level II, ASP pricing, the NDC-HCPCS crosswalk, the MUE
tables; built in, or a dataset folder, or CMS files given by option), the rule pack (``rules/``:
overlays of judgement per code, payer overlays, rule definitions).

Everything is validated on load; a bad file raises :class:`RulePackError` naming the file and
the key (TOML) or line (CSV). Nothing in the files is executed: message templates may only use
plain ``{name}`` fields, checked on load.
"""

from __future__ import annotations

from scrub837.rulebook._crosswalk import CrosswalkTable, load_crosswalk, ndc11, read_crosswalk
from scrub837.rulebook._dataset import Dataset, TableInfo
from scrub837.rulebook._errors import RulePackError
from scrub837.rulebook._explain import explain_code
from scrub837.rulebook._load import (
    BUILTIN_RULE_IDS,
    check_pack,
    default_pack,
    load_rulebook,
    pack_problems,
)
from scrub837.rulebook._model import (
    BillingUnit,
    CodeRule,
    CrosswalkEntry,
    EditDef,
    LookAlike,
    Mue,
    MueEntry,
    PackReport,
    PayerOverlay,
    Rulebook,
    Settings,
)
from scrub837.rulebook._mue import load_mue
from scrub837.rulebook._units import ParsedUnit, parse_unit

__all__ = [
    "BUILTIN_RULE_IDS",
    "BillingUnit",
    "CodeRule",
    "CrosswalkEntry",
    "CrosswalkTable",
    "Dataset",
    "EditDef",
    "LookAlike",
    "Mue",
    "MueEntry",
    "PackReport",
    "ParsedUnit",
    "PayerOverlay",
    "RulePackError",
    "Rulebook",
    "Settings",
    "TableInfo",
    "check_pack",
    "default_pack",
    "explain_code",
    "load_crosswalk",
    "load_mue",
    "load_rulebook",
    "ndc11",
    "pack_problems",
    "parse_unit",
    "read_crosswalk",
]
