"""``--jobs`` on one large file: cut at ST/SE boundaries, parts scrubbed on worker processes,
joined. Real files (the samples and generated 837s), real processes; every output is compared
with a one-process run (277CA control numbers aside)."""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from scrub837.run.parallel import scrub_files_parallel
from scrub837.run.parts import NotSplittable, plan
from scrub837.run.pipeline import OutputOptions, scrub_file
from scrub837.scrubber import Scrubber
from scrub837.x12.lexer import iter_segments_bytes
from scrub837.x12.pyx12_adapter import validate_277ca
from tests.compare import assert_same_outputs
from tests.conftest import ROOT, SAMPLES

GEN = ROOT / "benchmarks" / "generate.py"
ARGS = argparse.Namespace(rules=None, crosswalk=None, mue=[], payers=None)


def generate(path: Path, kind: str, claims: int, per_st: int, *more: str) -> Path:
    subprocess.run([sys.executable, str(GEN), "--kind", kind, "--claims", str(claims),
                    "--claims-per-st", str(per_st), "--seed", "11", "--out", str(path), *more],
                   check=True, timeout=120)
    return path


def parts_of(data: bytes, target: int = 1) -> list[tuple[int, int, int]]:
    return [(p.start, p.end, p.ordinal) for p in plan(io.BytesIO(data), "x", target)]


@pytest.mark.parametrize("name", ["837p_clean.837", "837p_multi_isa.837", "837p_delims.837",
                                  "837i_outpatient.837", "837p_defects.837"])
def test_parts_start_at_each_transaction_as_the_whole_file_reader_sees_it(name: str) -> None:
    data = (SAMPLES / name).read_bytes()
    segments = iter_segments_bytes(data)
    sts = [s for s in segments if s.id == "ST"]
    ses = [s for s in segments if s.id == "SE"]
    parts = parts_of(data)  # the smallest target: one transaction per part
    assert [(st.start, se.end, st.ordinal - 1) for st, se in zip(sts, ses, strict=True)] == parts
    # a large target keeps runs of transactions together, but never across GS/GE
    groups = sum(1 for s in segments if s.id == "GS")
    assert len(parts_of(data, target=1 << 30)) == groups


def test_parts_of_a_generated_file_cover_its_transactions(tmp_path: Path) -> None:
    data = generate(tmp_path / "g.837", "P", 300, 20, "--no-newlines").read_bytes()
    parts = parts_of(data, target=len(data) // 4)
    assert 3 <= len(parts) <= 5
    for (start, end, _), nxt in zip(parts, parts[1:] + [None], strict=True):
        assert data[start:start + 3] == b"ST*"
        assert re.search(rb"~SE\*\d+\*\d{4}~$", data[start:end])  # ends with its SE
        if nxt is not None:
            assert nxt[0] == end  # consecutive transactions of one group: no gap
    assert sum(data[s:e].count(b"~CLM*") for s, e, _ in parts) == 300


@pytest.mark.parametrize("name", ["bad_truncated.837", "bad_835.x12",
                                  "bad_4010.837", "bad_not_x12.txt", "bad_empty.837"])
def test_irregular_files_are_not_cut(name: str) -> None:
    with pytest.raises(NotSplittable):
        list(plan(io.BytesIO((SAMPLES / name).read_bytes()), name, 1))


@pytest.mark.parametrize(("old", "new"), [
    (b"~\nST*", b"~\nREF*XX*1~\nST*"),  # a segment between transactions
    (b"~\nGE*", b"~\nGE*9"),  # a wrong group count
    (b"~\nISA*", b"~\nIEA*1*000000001~\nISA*"),  # an interchange closed twice
])
def test_envelope_problems_are_not_cut(old: bytes, new: bytes) -> None:
    data = (SAMPLES / "837p_multi_isa.837").read_bytes()
    broken = data.replace(old, new, 1)
    assert broken != data
    with pytest.raises(NotSplittable):
        list(plan(io.BytesIO(broken), "x", 1))


def test_a_wrong_se01_is_cut_and_reported_by_its_part(tmp_path: Path) -> None:
    src = SAMPLES / "bad_count_mismatch.837"  # SE01 wrong: a transaction's own problem
    assert len(parts_of(src.read_bytes())) == 1
    one, two = tmp_path / "one", tmp_path / "two"
    scrub_file(src, Scrubber(), one, OutputOptions())
    _run([src], two, 2, split_min=0)
    assert_same_outputs(one, two)


def _run(files: list[Path], out: Path, jobs: int, split_min: int) -> list[int]:
    outcomes = scrub_files_parallel([str(f) for f in files], ARGS, OutputOptions(), out, jobs,
                                    split_min=split_min)
    return [o.parts for o in outcomes]


@pytest.mark.parametrize(("kind", "newlines"), [("P", True), ("I", False)])
def test_one_file_in_parts_gives_the_outputs_of_one_process(tmp_path: Path, kind: str,
                                                            newlines: bool) -> None:
    src = generate(tmp_path / f"big{kind}.837", kind, 400, 25,
                   *([] if newlines else ["--no-newlines"]))
    one, two = tmp_path / "one", tmp_path / "two"
    scrub_file(src, Scrubber(), one, OutputOptions())
    assert _run([src], two, 2, split_min=0)[0] > 1  # it was cut
    names = assert_same_outputs(one, two)
    assert len(names) == 5
    assert not [p for p in two.iterdir() if p.name.startswith(".")]  # no fragments left
    ack = (two / f"{src.name}.277").read_bytes()
    result = validate_277ca(ack)
    assert result.crashed is None and result.ok, [i.message for i in result.issues[:5]]
    segs = [s.split(b"*") for s in ack.split(b"~")]
    for tag in (b"ST", b"TRN", b"REF"):  # control numbers from one shared counter: unique
        numbers = [s[2] for s in segs if s[0].strip() == tag and len(s) > 2 and
                   (tag != b"REF" or s[1] == b"D9") and (tag != b"TRN" or s[1] == b"1")]
        assert numbers and len(numbers) == len(set(numbers)), tag


def test_samples_in_parts_and_irregular_files_whole(tmp_path: Path) -> None:
    files = [SAMPLES / n for n in ("837p_multi_isa.837", "837p_defects.837",
                                   "bad_count_mismatch.837", "bad_truncated.837")]
    one, two = tmp_path / "one", tmp_path / "two"
    for f in files:
        scrub_file(f, Scrubber(), one, OutputOptions())
    parts = _run(files, two, 2, split_min=0)
    assert parts[0] > 1 and parts[2] == parts[3] == 1
    assert_same_outputs(one, two)


def test_the_cli_cuts_large_files_with_jobs(tmp_path: Path) -> None:
    src = generate(tmp_path / "cli.837", "P", 200, 20)
    runs = {}
    for label, extra in (("one", []), ("two", ["--jobs", "2", "--split-min-mb", "0"])):
        runs[label] = subprocess.run(
            [sys.executable, "-m", "scrub837", "scrub", str(src), "--out", str(tmp_path / label),
             *extra], capture_output=True, text=True, timeout=300)
    assert runs["one"].returncode == runs["two"].returncode == 1, runs["two"].stderr
    assert runs["one"].stdout == runs["two"].stdout
    assert_same_outputs(tmp_path / "one", tmp_path / "two")


def test_joining_copies_fragments_in_chunks(tmp_path: Path) -> None:
    """The join streams: its peak of traced memory stays far below the size of the fragments
    it copies (a 1 GB file's 277CA fragments are hundreds of MB)."""
    import tracemalloc
    from dataclasses import replace
    from datetime import datetime

    from scrub837.run.parts import join_parts, scrub_part

    src = generate(tmp_path / "j.837", "P", 12000, 6000)
    options = replace(OutputOptions(), now=datetime(2026, 11, 2, 10, 0))
    frags = tmp_path / "frags"
    frags.mkdir()
    with open(src, "rb") as f:
        parts = list(plan(f, str(src), src.stat().st_size))  # one part of two transactions
    outcomes = [scrub_part(src, str(src), p, Scrubber(), frags, options, "t") for p in parts]
    sizes = {s: Path(v).stat().st_size for o in outcomes for s, v in o.fragments.items()}
    assert len(parts) == 1 and sizes[".277"] > 2_500_000 and sizes[".accepted.837"] > 5_000_000
    (tmp_path / "out").mkdir()
    tracemalloc.start()
    try:
        join_parts(str(src), outcomes, tmp_path / "out", options)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_500_000, peak
    scrub_file(src, Scrubber(), tmp_path / "one", options)
    assert_same_outputs(tmp_path / "one", tmp_path / "out")
