"""The rule book: the rule pack (``rules/``), the CMS crosswalk and MUE tables, payer overlays.

Everything is validated on load; a bad file raises :class:`RulePackError` naming the file and
the key (TOML) or line (CSV). Nothing in the files is executed: message templates may only use
plain ``{name}`` fields, checked on load.
"""

from __future__ import annotations

from scrub837.rulebook._crosswalk import CrosswalkTable, load_crosswalk, ndc11, read_crosswalk
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

__all__ = [
    "BUILTIN_RULE_IDS",
    "BillingUnit",
    "CodeRule",
    "CrosswalkEntry",
    "CrosswalkTable",
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
    "pack_problems",
    "read_crosswalk",
]
