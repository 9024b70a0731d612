"""Every broken-input class is answered by the reader: a clear failure (file, segment, what is
wrong) or a located finding; never an exception, and large inputs are streamed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scrub837.api import iter_items
from scrub837.claims.model import Claim
from scrub837.claims.reader import EnvelopeProblem, ReadFailure, TransactionEnd
from tests.hostile.corpus import CASES, Case


def _chunks(case: Case) -> Iterator[bytes]:
    built = case.build()
    if isinstance(built, bytes):
        for i in range(0, len(built), 1 << 16):
            yield built[i : i + (1 << 16)]
    else:
        yield from built


def _source(case: Case) -> "_Stream":
    return _Stream(_chunks(case))


class _Stream:
    """A binary stream over a chunk generator (so 100 MB inputs are never held in memory)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks

    def read(self, size: int = -1) -> bytes:
        return next(self._chunks, b"")


def test_corpus_has_at_least_forty_classes() -> None:
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_reader_answers_every_class(case: Case) -> None:
    items = list(iter_items(_source(case), "hostile.837"))  # must not raise
    failures = [i for i in items if isinstance(i, ReadFailure)]
    findings = [f for i in items if isinstance(i, (TransactionEnd, EnvelopeProblem))
                for f in i.findings]
    supported = [i for i in items if isinstance(i, TransactionEnd) and i.supported]
    assert len(failures) <= 1
    if case.kind == "failure":
        if case.expect == "no 837":
            assert not supported
            return
        assert failures, f"expected a read failure, got {findings}"
        failure = failures[0]
        assert case.expect in failure.message
        assert failure.file == "hostile.837"
        assert "hostile.837" in failure.describe() and "segment" in failure.describe() or \
            "start of file" in failure.describe()
    elif case.kind in ("finding", "warning"):
        assert not failures, failures[0].describe()
        if case.expect != "ok":
            hits = [f for f in findings if f.rule_id == case.expect]
            assert hits, f"expected {case.expect}, got {[f.rule_id for f in findings]}"
            assert all(h.location.file == "hostile.837" for h in hits)
            assert all(h.location.segment > 0 for h in hits)
    else:  # "claim": read cleanly; the edit engine judges it (tests/test_hostile_scrub.py)
        assert not failures
        assert any(isinstance(i, Claim) for i in items)
