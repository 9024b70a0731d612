"""The drug-line values the built-in edits read (edits/_lines.DrugLine) are the ServiceLine and
Drug properties, on every line of every sample and of generated 837P/837I files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scrub837 import read_claims
from scrub837.claims import ServiceLine
from scrub837.edits._lines import DrugLine
from scrub837.edits._util import ccyymmdd, number
from scrub837.scrubber import Scrubber
from tests.conftest import ROOT, SAMPLES


def _lines(paths: list[Path]) -> list[ServiceLine]:
    out: list[ServiceLine] = []
    for path in paths:
        try:
            out.extend(line for claim in read_claims(path.read_bytes()) for line in claim.lines)
        except Exception:  # samples include files that cannot be read to the end
            continue
    return out


def _expected(line: ServiceLine) -> dict[str, object]:
    drug = line.drug
    return {
        "code": line.code, "modifiers": line.modifiers, "institutional": line.is_institutional,
        "units_text": line.units, "units": number(line.units), "basis": line.unit_basis,
        "dates": line.service_dates, "service_date": line.service_date,
        "dos": ccyymmdd(line.service_date), "pointers": line.dx_pointers, "drug": drug,
        "qualifier": drug.qualifier if drug else "", "ndc": drug.ndc if drug else "",
        "quantity_text": drug.quantity if drug else "",
        "quantity": number(drug.quantity) if drug else None,
        "ctp_unit": drug.unit if drug else "",
    }


def test_drug_line_values_are_the_line_properties(tmp_path: Path) -> None:
    generated = []
    for kind in ("P", "I"):
        out = tmp_path / f"{kind}.837"
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--kind", kind,
                        "--claims", "400", "--seed", "3", "--out", str(out)], check=True)
        generated.append(out)
    lines = _lines(sorted(SAMPLES.glob("*.837")) + generated)
    assert len(lines) > 1000 and any(ln.is_institutional for ln in lines)
    odd = 0
    rulebook = Scrubber(plugins=False).rulebook
    for line in lines:
        drug = DrugLine(line, rulebook)
        assert drug.rule is rulebook.code(line.code)
        got = {name: getattr(drug, name) for name in _expected(line)}
        assert got == _expected(line), line
        odd += bool(not drug.modifiers or drug.drug is None or not drug.pointers)
    assert odd  # lines without modifiers, 2410 or pointers were among them
