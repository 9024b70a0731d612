"""BAD_CHARACTER's first test on a loop's file text (``Claim.text`` / ``HlBlock.text`` when the
reader keeps them) is sound: whenever it calls a loop clean, every element of the loop's
segments is clean, on every claim of the samples, the hostile corpus and generated files with
and without line breaks; and it does call ordinary claims clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scrub837.api import iter_items
from scrub837.claims import Claim
from scrub837.edits.structure import _clean, _text_clean
from scrub837.x12.lexer import Segment
from tests.conftest import ROOT, SAMPLES
from tests.hostile.corpus import CASES


def _text(data: str, segments: tuple[Segment, ...]) -> str:
    """The loop as it stood in the file: first segment .. last terminator, line breaks kept."""
    return data[segments[0].start:segments[-1].end]


def _loops(raw: bytes) -> list[tuple[str, str, tuple[Segment, ...]]]:
    data = raw.decode("latin-1")
    out = []
    try:
        for item in iter_items(raw, "x"):
            if isinstance(item, Claim):
                term = item.clm.delims.segment
                for block in (item.provider, item.subscriber, item.patient):
                    if block is not None:
                        out.append((_text(data, block.segments), term, block.segments))
                out.append((_text(data, item.segments), term, item.segments))
    except Exception:  # a hostile input may stop the reader; the loops before it count
        pass
    return out


def test_a_loop_called_clean_by_its_text_is_clean(tmp_path: Path) -> None:
    inputs = [p.read_bytes() for p in sorted(SAMPLES.glob("*.837"))]
    inputs += [b for b in (case.build() for case in CASES)
               if isinstance(b, bytes) and len(b) < (4 << 20)]
    for flags in ([], ["--no-newlines"]):
        out = tmp_path / f"g{len(flags)}.837"
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--claims",
                        "300", "--seed", "4", "--out", str(out), *flags], check=True)
        inputs.append(out.read_bytes())
    said_clean = checked = 0
    for raw in inputs:
        for text, term, segments in _loops(raw):
            checked += 1
            if _text_clean(text, term):
                said_clean += 1
                assert _clean(segments), text[:80]
    assert checked > 1000 and said_clean > checked * 0.9
    assert not _text_clean("", "~")  # a loop without text is tested by its segments
    assert not _text_clean("CLM*1*\x01~", "~") and not _text_clean("NM1*\n*X~\n", "~")
    assert _text_clean("CLM*1*2~\r\nHI*ABK:C50~\n", "~")


def _text_clean_by_copy(text: str, terminator: str) -> bool:
    """_text_clean as it read before its count of control characters (the reference)."""
    if not text:
        return False
    if text.isascii() and text.isprintable():
        return True
    if "\n" not in text:
        return False
    text = text.replace(terminator + "\r\n", terminator).replace(terminator + "\n", terminator)
    return text.isascii() and text.isprintable()


def test_text_clean_counts_as_the_copy_tested() -> None:
    import itertools

    pieces = ["A", "~", "\n", "\r", "\x01", "\x7f", " ", "\xe9", "\t", "*"]
    checked = 0
    for term in ("~", "\n", "\x1c", "'"):
        for n in range(1, 6):
            for parts in itertools.product(pieces + [term], repeat=n):
                text = "".join(parts)
                assert _text_clean(text, term) == _text_clean_by_copy(text, term), (text, term)
                checked += 1
    assert checked > 10000
