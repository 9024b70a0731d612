"""Every 837 input the tests have, for the tests that compare a fast path with the exact one:
the hostile cases, the samples, the public corpus and generated 837P/837I files with each
line-break style (LF, CRLF, none, and a space before some segments)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, SAMPLES, SHARED
from tests.hostile.corpus import CASES


def every_input(tmp: Path, *, claims: int = 400) -> list[tuple[str, bytes]]:
    out = [(f"hostile{i}", b) for i, case in enumerate(CASES)
           if isinstance(b := case.build(), bytes) and len(b) < (4 << 20)]
    out += [(p.name, p.read_bytes()) for p in sorted(SAMPLES.iterdir())
            if p.suffix in (".837", ".x12", ".txt")]
    corpus = SHARED / "corpus"
    if corpus.is_dir():
        out += [(p.name, p.read_bytes()) for p in sorted(corpus.rglob("*"))
                if p.is_file() and p.suffix.lower() in (".837", ".837i", ".x12", ".txt")]
    for kind in ("P", "I"):
        path = tmp / f"g{kind}.837"
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--kind",
                        kind, "--claims", str(claims), "--seed", "7", "--out", str(path)],
                       check=True)
        data = path.read_bytes()
        out += [(f"g{kind}", data), (f"g{kind}-crlf", data.replace(b"~\n", b"~\r\n")),
                (f"g{kind}-flat", data.replace(b"~\n", b"~")),
                (f"g{kind}-mixed", data.replace(b"~\nDTP", b"~ \nDTP"))]
    return out
