"""Comparing the outputs of two runs: byte for byte, except the 277CA's and TA1's control
numbers and times (which differ between runs by design)."""

from __future__ import annotations

import re
from pathlib import Path


def normal_277(data: bytes) -> bytes:
    text = data.decode()
    text = re.sub(r"^ISA(\*[^*]*){8}\*\d{6}\*\d{4}\*\^\*00501\*\d{9}", "ISA", text, flags=re.M)
    text = re.sub(r"\*\d{8}\*\d{4}\*\d+\*X\*005010X214", "*X*005010X214", text)
    text = re.sub(r"^(ST\*277|TRN\*1|REF\*D9|GE|IEA|SE)\*.*$", r"\1", text, flags=re.M)
    return re.sub(r"\*\d{8}\*\d{4}\*TH", "*TH", text).encode()


def assert_same_outputs(one: Path, two: Path) -> list[str]:
    """Every output of ``one`` equals its namesake in ``two``; returns the names."""
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in two.iterdir())
    for name in names:
        a, b = (one / name).read_bytes(), (two / name).read_bytes()
        if name.endswith((".277", ".ta1")):  # the TA1's ISA/IEA: control number and time too
            assert normal_277(a) == normal_277(b), name
        else:
            assert a == b, name
    return names
