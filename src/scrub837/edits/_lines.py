"""A drug line's values as the built-in edits read them, parsed once per claim.

Thirteen edits look at every drug line; each used to read the same properties again (the code
and its rule, modifiers, units, date of service, the 2410 NDC and quantity). The engine's
:class:`~scrub837.edits.EditContext` holds one :class:`DrugLine` per drug line instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from scrub837.claims.model import Drug, ServiceLine
from scrub837.edits._util import ccyymmdd, number
from scrub837.rulebook import CodeRule, Rulebook


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

    def __init__(self, line: ServiceLine, rulebook: Rulebook) -> None:
        # read straight from the segments' elements: the same values as the ServiceLine and
        # Drug properties named beside each (tests/test_edits_lines.py holds them equal), at
        # half the cost of a property call per value
        self.line = line
        proc = line.proc
        self.code = code = proc[1] if len(proc) > 1 else ""  # .code
        self.rule = rulebook.code(code)
        mods = proc[2:6]  # .modifiers: the non-empty SV101-3..6 / SV202-3..6
        self.modifiers = mods if "" not in mods else tuple(filter(None, mods))
        self.institutional = inst = line.is_institutional
        sv = line.sv
        units = basis = ""
        pointers: tuple[str, ...] = ()
        if sv is not None:
            elements = sv.elements
            n = len(elements)
            if inst:  # SV205 units, SV204 basis, no pointers
                units = elements[5] if n > 5 else ""
                basis = elements[4] if n > 4 else ""
            else:  # SV104, SV103, SV107 (.dx_pointers: its non-empty components)
                units = elements[4] if n > 4 else ""
                basis = elements[3] if n > 3 else ""
                value = elements[7] if n > 7 else ""
                if value:
                    pointers = tuple(filter(None, value.split(sv.delims.component)))
        self.units_text = units  # .units
        self.units = number(units)
        self.basis = basis  # .unit_basis
        self.pointers = pointers
        self.dates = dates = line.service_dates
        self.service_date = day = dates.split("-")[0] if dates else ""  # .service_date
        self.dos = ccyymmdd(day)
        self.drug = drug = line.drug
        self.qualifier = self.ndc = self.quantity_text = self.ctp_unit = ""
        self.quantity = None
        if drug is not None:
            elements = drug.lin.elements
            n = len(elements)
            self.qualifier = elements[2] if n > 2 else ""  # Drug.qualifier
            self.ndc = elements[3] if n > 3 else ""  # Drug.ndc
            ctp = drug.ctp
            if ctp is not None:
                elements = ctp.elements
                n = len(elements)
                self.quantity_text = quantity = elements[4] if n > 4 else ""  # Drug.quantity
                self.quantity = number(quantity)
                unit = elements[5] if n > 5 else ""  # Drug.unit: CTP05-1
                self.ctp_unit = unit.split(ctp.delims.component)[0] if unit else ""

    def values(self) -> tuple[object, ...]:
        """Every value of the line a line-local edit may read (see ``_engine.line_local``):
        the procedure (code, modifiers, description), setting, units and basis and loop
        2410 as read; lines with equal values get the same verdicts. Not the date of
        service: a file's dates vary too much for a memo by them to pay (the edits that read
        it are not line-local)."""
        drug = self.drug
        return (self.line.proc, self.institutional, self.units_text, self.basis,
                drug is not None, drug is not None and drug.ctp is not None, self.qualifier,
                self.ndc, self.quantity_text, self.ctp_unit)


#: drug lines by code and date of service
Groups = dict[tuple[str, str], list[DrugLine]]


def by_code_and_date(drugs: Iterable[DrugLine], *, span: bool = False) -> Groups:
    """Drug lines grouped by code and date of service (the first day, or with ``span`` the
    whole ``DTP*472`` text, so a date span is its own group), in the order they came."""
    groups: Groups = {}
    for drug in drugs:
        key = (drug.code, drug.dates if span else drug.service_date)
        group = groups.get(key)
        if group is None:
            groups[key] = [drug]
        else:
            group.append(drug)
    return groups


def by_day_and_span(drugs: Sequence[DrugLine]) -> tuple[Groups, Groups]:
    """:func:`by_code_and_date` by day and with ``span``: the same groups (one dict) when no
    line's dates are a span (without a '-' the first day is the whole text)."""
    by_day = by_code_and_date(drugs)
    for drug in drugs:
        if "-" in drug.dates:
            return by_day, by_code_and_date(drugs, span=True)
    return by_day, by_day
