"""Findings: what an edit says about a claim, as immutable values with an exact address.

:class:`Finding` and :class:`Location` are named tuples: immutable, hashable and compared by
value like the frozen dataclasses they were, with the same fields, defaults, repr and methods,
but built in a fraction of the time (a scrub builds one or more per claim). Change a field with
``_replace`` (``dataclasses.replace`` does not apply to them).

A :class:`Finding` never carries element values from the claim in its structured fields except
the code-level facts an edit needs to explain itself (HCPCS code, modifier, NDC, unit counts);
patient identifiers never appear in a finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple


class Severity(str, Enum):
    """``reject`` makes the claim rejected in the 277CA; ``warn`` is reported only."""

    REJECT = "reject"
    WARN = "warn"


@dataclass(frozen=True, slots=True)
class Stc:
    """One 277CA STC01 composite: category (507), status (508), optional entity (98)."""

    category: str
    status: str
    entity: str = ""

    def __str__(self) -> str:
        return f"{self.category}:{self.status}" + (f":{self.entity}" if self.entity else "")

    @classmethod
    def parse(cls, text: str) -> "Stc":
        parts = text.split(":")
        if len(parts) not in (2, 3) or not all(parts[:2]):
            raise ValueError(f"STC pair must look like 'A7:218' or 'A7:218:85', not {text!r}")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else "")


class Location(NamedTuple):
    """Where a finding points: envelope, claim, line, segment and element.

    ``segment`` is the 1-based ordinal of the segment in the file (as pyx12 counts ``cur_line``);
    ``span`` is the byte range ``[start, end)`` of that segment in the file; ``path`` is the loop
    path, e.g. ``2000A/2000B/2300/2400[2]/SV101-2``.
    """

    file: str = ""
    isa13: str = ""
    gs06: str = ""
    st02: str = ""
    clm01: str = ""
    lx: str = ""
    ref_6r: str = ""
    segment: int = 0
    span: tuple[int, int] = (0, 0)
    path: str = ""
    element: str = ""

    def with_file(self, file: str) -> "Location":
        return self._replace(file=file)

    def describe(self) -> str:
        """A short human address: ``file segment 57 (2000B/2300/2400[1]/SV101-2)``."""
        where = [self.file or "<input>"]
        if self.segment:
            where.append(f"segment {self.segment}")
        if self.path:
            where.append(f"({self.path})")
        return " ".join(where)


class Finding(NamedTuple):
    """One problem found. ``stc`` lists the 277CA status composites, most specific first."""

    rule_id: str
    severity: Severity
    message: str
    location: Location
    stc: tuple[Stc, ...] = ()
    fix: str = ""
    source: str = ""
    line_level: bool = False
    extra: tuple[tuple[str, str], ...] = ()
    title: str = ""  # the rule's short title (for reports)

    @property
    def rejects(self) -> bool:
        return self.severity is Severity.REJECT

    def to_dict(self) -> dict[str, object]:
        loc = self.location
        return {
            "rule_id": self.rule_id,
            "severity": self.severity.value,
            "stc": [str(s) for s in self.stc],
            "message": self.message,
            "fix": self.fix,
            "source": self.source,
            "line_level": self.line_level,
            "location": {
                "file": loc.file,
                "isa13": loc.isa13,
                "gs06": loc.gs06,
                "st02": loc.st02,
                "clm01": loc.clm01,
                "lx": loc.lx,
                "ref_6r": loc.ref_6r,
                "segment": loc.segment,
                "span": list(loc.span),
                "path": loc.path,
                "element": loc.element,
            },
        }
