"""Cutting is exact or refused, on every kind of input: the broken-input corpus, the samples
and the public corpus (when ``../shared/corpus`` is beside the project). Each input is either
refused by :func:`plan` (it is then scrubbed whole) or cut into one-transaction parts whose
joined outputs equal a one-process run byte for byte (277CA control numbers aside). In process,
one part after another: the worker pool is tested in tests/test_parts.py."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import pytest

from scrub837.run.parts import NotSplittable, join_parts, plan, scrub_part
from scrub837.run.pipeline import OutputOptions, scrub_file
from scrub837.scrubber import Scrubber
from tests.compare import assert_same_outputs
from tests.conftest import SAMPLES, SHARED
from tests.hostile.corpus import CASES

CORPUS = SHARED / "corpus"


@lru_cache(maxsize=1)
def scrubber() -> Scrubber:
    return Scrubber()


def _inputs() -> list[tuple[str, bytes]]:
    out = []
    for case in CASES:
        built = case.build()
        if isinstance(built, bytes) and len(built) < (4 << 20):
            out.append((f"hostile: {case.name}", built))
    out += [(f"sample: {p.name}", p.read_bytes()) for p in sorted(SAMPLES.iterdir())
            if p.suffix in (".837", ".x12", ".txt")]
    if CORPUS.is_dir():
        out += [(f"corpus: {p.relative_to(CORPUS)}", p.read_bytes())
                for p in sorted(CORPUS.rglob("*")) if p.is_file() and p.suffix.lower() in
                (".837", ".837i", ".x12", ".txt")]
    return out


INPUTS = _inputs()


def test_the_inputs_include_cut_and_refused_files() -> None:
    cut = refused = 0
    for _, data in INPUTS:
        try:
            list(plan(io.BytesIO(data), "x", 1))
            cut += 1
        except NotSplittable:
            refused += 1
    assert cut >= 10 and refused >= 30, (cut, refused)


@pytest.mark.parametrize(("label", "data"), INPUTS, ids=[label for label, _ in INPUTS])
def test_each_input_is_cut_exactly_or_refused(tmp_path: Path, label: str, data: bytes) -> None:
    path = tmp_path / "in.837"
    path.write_bytes(data)
    try:
        parts = list(plan(io.BytesIO(data), str(path), 1))
    except NotSplittable:
        return  # scrubbed whole: tests/test_hostile_scrub.py and the samples cover that
    options = replace(OutputOptions(), now=datetime(2026, 11, 2, 10, 0))
    one, two = tmp_path / "one", tmp_path / "two"
    scrub_file(path, scrubber(), one, options)
    two.mkdir()
    outcomes = [scrub_part(path, str(path), p, scrubber(), two, options, "t") for p in parts]
    assert not [o.irregular for o in outcomes if o.irregular]
    join_parts(str(path), outcomes, two, options)
    assert_same_outputs(one, two)
