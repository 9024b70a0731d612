"""The small values of a claim: a diagnosis (HI composite) and a drug (loop 2410)."""

from __future__ import annotations

from dataclasses import dataclass

from scrub837.claims._build import ICD9_QUALIFIERS
from scrub837.x12.lexer import Segment


class Diagnosis:
    """One diagnosis from an HI composite. ``position`` counts principal+other dx (1..12) in
    file order, as SV107 pointers do; other qualifiers have position 0."""

    __slots__ = ("qualifier", "code", "position", "segment", "element")

    def __init__(self, qualifier: str, code: str, position: int, segment: Segment,
                 element: int) -> None:
        self.qualifier = qualifier
        self.code = code
        self.position = position
        self.segment = segment
        self.element = element  # HI01 -> 1

    @property
    def icd9(self) -> bool:
        return self.qualifier in ICD9_QUALIFIERS

    def _key(self) -> tuple[object, ...]:
        return (self.qualifier, self.code, self.position, self.segment, self.element)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Diagnosis) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"Diagnosis(qualifier={self.qualifier!r}, code={self.code!r}, "
                f"position={self.position!r}, element={self.element!r})")


class Drug:
    """Loop 2410: LIN (NDC), CTP (quantity, unit), REF*XZ/VY."""

    __slots__ = ("lin", "ctp", "refs")

    def __init__(self, lin: Segment, ctp: Segment | None, refs: tuple[Segment, ...]) -> None:
        self.lin = lin
        self.ctp = ctp
        self.refs = refs

    @property
    def qualifier(self) -> str:
        return self.lin.get(2)

    @property
    def ndc(self) -> str:
        elements = self.lin.elements
        return elements[3] if len(elements) > 3 else ""

    @property
    def quantity(self) -> str:
        return self.ctp.get(4) if self.ctp else ""

    @property
    def unit(self) -> str:
        return self.ctp.comp(5, 1) if self.ctp else ""

    @property
    def prescription(self) -> str:
        return next((r.get(2) for r in self.refs if r.get(1) == "XZ"), "")

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Drug) and (self.lin, self.ctp, self.refs)
                == (other.lin, other.ctp, other.refs))

    def __hash__(self) -> int:
        return hash((self.lin, self.ctp, self.refs))

    def __repr__(self) -> str:
        return f"Drug(ndc={self.ndc!r}, quantity={self.quantity!r}, unit={self.unit!r})"


@dataclass
class _DrugFields:
    lin: Segment
    ctp: Segment | None
    refs: tuple[Segment, ...]


@dataclass
class _DxFields:
    qualifier: str
    code: str
    position: int
    segment: Segment
    element: int


# dataclasses.fields() and dataclasses.replace() work on these values as they did when they
# were dataclasses: the fields are their constructors' arguments, read back as attributes
setattr(Drug, "__dataclass_fields__", _DrugFields.__dataclass_fields__)  # noqa: B010
setattr(Diagnosis, "__dataclass_fields__", _DxFields.__dataclass_fields__)  # noqa: B010
