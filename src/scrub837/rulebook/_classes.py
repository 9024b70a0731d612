"""filing_indicators.toml: what a claim filing indicator (2000B SBR09) changes by default.

SBR09 says which kind of plan pays the claim (``MB`` Medicare Part B, ``MA`` Part A, ``MC``
Medicaid, ``CI`` commercial, ...). A payer class may say whether drug lines need the NDC (loop
2410), for some claim kinds (``P`` 837P, ``I`` 837I). A payer overlay that says
``ndc_required`` for the claim's payer id wins over the class; a class wins over the code's and
the pack's default. A pack without the file has no classes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from scrub837.rulebook._tables import Table, read_toml

FILE = "filing_indicators.toml"
_SBR09 = re.compile(r"[0-9A-Z]{1,2}")
_KINDS = frozenset(("P", "I"))


@dataclass(frozen=True, slots=True)
class FilingClass:
    """One claim filing indicator code (SBR09) and the defaults it sets."""

    code: str
    name: str
    ndc_required: bool | None  # None: the pack's and the code's default
    claim_kinds: frozenset[str]  # the claim kinds it applies to ("P", "I")
    source: str
    file: str

    def ndc_required_for(self, kind: str) -> bool | None:
        return self.ndc_required if kind in self.claim_kinds else None


def load_filing_classes(path: Path, shown: str) -> dict[str, FilingClass]:
    """Every ``[SBR09]`` table of the file; a missing file means no classes."""
    if not path.is_file():
        return {}
    root = Table(read_toml(path, shown), shown, "")
    out: dict[str, FilingClass] = {}
    for code in list(root.data):
        if not _SBR09.fullmatch(code):
            raise root.fail(code, "needs a claim filing indicator code (SBR09: 1-2 letters or "
                            "digits, e.g. MB, MC, CI)")
        t = root.table(code, required=True)
        assert t is not None
        kinds = t.strings("claim_kinds") or ("P", "I")
        if not set(kinds) <= _KINDS:
            raise t.fail("claim_kinds", f"claim kinds are 'P' (837P) and 'I' (837I), got "
                         f"{list(kinds)!r}")
        out[code] = FilingClass(code=code, name=t.text("name", required=True),
                                ndc_required=t.optional_flag("ndc_required"),
                                claim_kinds=frozenset(kinds),
                                source=t.text("source", required=True), file=shown)
        t.done()
    root.done()
    return out


def ndc_required_by_class(classes: Mapping[str, FilingClass], sbr09: str,
                          kind: str) -> bool | None:
    """The class default for a claim's SBR09 and kind, or None when the class says nothing."""
    found = classes.get(sbr09.strip())
    return found.ndc_required_for(kind) if found is not None else None
