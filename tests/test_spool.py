"""A transaction of any size in flat memory: the spool, the duplicate-key table, and the outputs
of a scrub whose transactions spill to disk (byte for byte those of one held in memory)."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

import scrub837.verdicts.spool as spool
from scrub837.run.pipeline import OutputOptions, scrub_file
from scrub837.verdicts.results import TransactionResult
from scrub837.scrubber import Scrubber
from scrub837.verdicts.spool import SeenKeys, Spool
from tests.compare import assert_same_outputs
from tests.conftest import ROOT, SAMPLES

OPTIONS = replace(OutputOptions(), now=datetime(2026, 11, 2, 10, 0))


def generate(path: Path, claims: int, per_st: int) -> Path:
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--claims",
                    str(claims), "--claims-per-st", str(per_st), "--seed", "5", "--out",
                    str(path)], check=True, timeout=120)
    return path


def test_a_spool_gives_its_items_back_in_order_as_often_as_asked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spool, "SPOOL_BATCH", 4)
    s: Spool[tuple[int, str]] = Spool(limit=10)
    items = [(i, f"v{i}") for i in range(103)]
    for item in items:
        s.append(item)
    assert s.spilled > 90 and len(s) == 103
    assert s._file is not None and os.fstat(s._file.fileno()).st_nlink == 0  # no name on disk
    assert list(s) == items and list(s) == items
    first, second = iter(s), iter(s)  # two passes interleaved
    a = [next(first) for _ in range(50)]
    assert list(second) == items and a + list(first) == items
    assert s[0] == items[0] and s[-1] == items[-1] and s[:3] == items[:3] and s[57] == items[57]
    mapped = s.map(lambda t: t[0] * 2)
    assert list(mapped) == [i * 2 for i in range(103)] and len(s) == 0


def test_a_small_spool_never_touches_the_disk() -> None:
    s: Spool[int] = Spool(limit=5)
    for i in range(5):
        s.append(i)
    assert s.spilled == 0 and s._file is None and list(s) == [0, 1, 2, 3, 4]


def test_seen_keys_are_exact_then_fingerprinted() -> None:
    seen = SeenKeys(limit=100)
    keys = [f"CLM{i:07d}" for i in range(20_000)]
    assert [seen.add(k) for k in keys[:50]] == [False] * 50
    assert seen.add(keys[7]) is True
    assert not any(seen.add(k) for k in keys[50:])  # past the limit: fingerprints
    assert seen._exact is None
    assert all(seen.add(k) for k in keys)
    assert seen.add("CLM-NEW") is False


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.iterdir()
                                        if p.suffix in (".837", ".x12", ".txt")))
def test_spilled_transactions_give_the_same_outputs(tmp_path: Path, name: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    scrubber = Scrubber()
    scrub_file(SAMPLES / name, scrubber, tmp_path / "memory", OPTIONS)
    monkeypatch.setattr(spool, "SPOOL_LIMIT", 1)
    monkeypatch.setattr(spool, "SPOOL_BATCH", 2)
    scrub_file(SAMPLES / name, scrubber, tmp_path / "spilled", OPTIONS)
    assert_same_outputs(tmp_path / "memory", tmp_path / "spilled")


def _traced_peak(path: Path, out: Path, scrubber: Scrubber) -> int:
    tracemalloc.start()
    try:
        scrub_file(path, scrubber, out, OPTIONS)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_one_large_transaction_is_scrubbed_in_flat_memory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """3,000 claims in one ST/SE (many billing providers, rejected and accepted claims):
    spooled beyond 300 claims, the scrub's peak of traced memory is well under half that of
    holding the transaction, and every output is the same."""
    src = generate(tmp_path / "one.837", 3000, 3000)
    scrubber = Scrubber()
    txns = [t for t in scrubber.results(src.read_bytes(), "x") if isinstance(t, TransactionResult)]
    assert len(txns) == 1 and 0 < sum(c.rejected for c in txns[0].claims) < 3000
    held = _traced_peak(src, tmp_path / "memory", scrubber)
    monkeypatch.setattr(spool, "SPOOL_LIMIT", 300)
    monkeypatch.setattr(spool, "SPOOL_BATCH", 100)
    spooled = _traced_peak(src, tmp_path / "spilled", scrubber)
    assert spooled < held / 2, (spooled, held)
    assert_same_outputs(tmp_path / "memory", tmp_path / "spilled")


def test_a_full_disk_while_spooling_is_an_error_for_that_file_and_keeps_the_input(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from scrub837.run.pipeline import OutputError

    def full(*args: object, **kwargs: object) -> object:
        raise OSError(errno.ENOSPC, "No space left on device")

    src = tmp_path / "in.837"
    src.write_bytes((SAMPLES / "837p_defects.837").read_bytes())
    before = src.read_bytes()
    monkeypatch.setattr(spool, "SPOOL_LIMIT", 1)
    monkeypatch.setattr(spool.tempfile, "TemporaryFile", full)
    with pytest.raises(OutputError) as caught:
        scrub_file(src, Scrubber(), tmp_path / "out", OPTIONS)
    assert str(src) in str(caught.value) and "No space left" in str(caught.value)
    assert src.read_bytes() == before
    assert list((tmp_path / "out").iterdir()) == []  # no half-written output left behind


def test_seen_keys_stay_exact_for_their_keys_while_the_tables_grow() -> None:
    """40,000 keys past the limit grow every one of the 256 tables (64 slots, grown when 4/5
    full) several times: none is taken for another, and every one is found again."""
    seen = SeenKeys(limit=10)
    keys = [f"CLM{i:08d}" for i in range(40_000)]
    assert not any(seen.add(k) for k in keys)
    assert min(len(t) for t in seen._low) > 64  # every table grew
    assert all(seen.add(k) for k in keys)
    assert not any(seen.add(f"NEW{i:08d}") for i in range(1000))
