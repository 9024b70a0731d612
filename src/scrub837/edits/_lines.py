"""A drug line's values as the built-in edits read them, parsed once per claim.

Thirteen edits look at every drug line; each used to read the same properties again (the code
and its rule, modifiers, units, date of service, the 2410 NDC and quantity). The engine's
:class:`~scrub837.edits.EditContext` holds one :class:`DrugLine` per drug line instead.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from scrub837.claims.model import Drug, ServiceLine
from scrub837.edits._util import ccyymmdd, number
from scrub837.rulebook import CodeRule


class DrugLine:
    """One drug line: the :class:`ServiceLine` and the values read from it (never changed
    after ``__init__``; no setter guards them, which would cost as much as the parsing)."""

    __slots__ = ("line", "code", "rule", "institutional", "modifiers", "units_text", "units",
                 "basis", "dates", "service_date", "dos", "pointers", "drug", "qualifier",
                 "ndc", "quantity_text", "quantity", "ctp_unit")

    line: ServiceLine
    code: str  # SV101-2 / SV202-2
    rule: CodeRule | None  # the rule book's entry for the code
    institutional: bool
    modifiers: tuple[str, ...]
    units_text: str  # SV104 / SV205 as sent
    units: Decimal | None  # ... as a number (None when not one)
    basis: str  # SV103 / SV204
    dates: str  # DTP*472 DTP03 (D8 or RD8), else the claim's statement dates
    service_date: str  # the first date of ``dates``
    dos: date | None  # ``service_date`` as a date
    pointers: tuple[str, ...]  # SV107 diagnosis pointers (837P)
    drug: Drug | None  # loop 2410
    qualifier: str  # LIN02 ('' without 2410)
    ndc: str  # LIN03
    quantity_text: str  # CTP04
    quantity: Decimal | None
    ctp_unit: str  # CTP05-1

    def __init__(self, line: ServiceLine, rule: CodeRule | None) -> None:
        self.line = line
        self.code = line.code
        self.rule = rule
        self.institutional = line.is_institutional
        self.modifiers = line.modifiers
        self.units_text = units = line.units
        self.units = number(units)
        self.basis = line.unit_basis
        self.dates = line.service_dates
        self.service_date = day = line.service_date
        self.dos = ccyymmdd(day)
        self.pointers = line.dx_pointers
        self.drug = drug = line.drug
        if drug is None:
            self.qualifier = self.ndc = self.quantity_text = self.ctp_unit = ""
            self.quantity = None
        else:
            self.qualifier = drug.qualifier
            self.ndc = drug.ndc
            self.quantity_text = quantity = drug.quantity
            self.quantity = number(quantity)
            self.ctp_unit = drug.unit
