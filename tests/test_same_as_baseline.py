"""Speed work changes no answer: every output of every input is byte for byte what the code of
a pinned baseline commit writes (277CA/TA1 control numbers and times aside, as tests/compare.py
normalises them).

The baseline's ``src/`` and ``rules/`` are taken from git (``git archive``) into a temporary
folder and run in a subprocess next to today's code, on the same inputs: the hostile corpus,
every sample, every public corpus file beside the project (``../shared/corpus``) and three
generated files (837P and 837I in several transactions, and one transaction large enough to
spool). Compared: every file of
``scrub --out``, the ``--format json`` stream, ``extract``'s stream, and the exit codes.

``BASELINE`` is the commit before the speed work of issue 14. A change that is *meant* to change
outputs (another issue's) moves it to the commit that made that change, with the reason in the
commit message. Skipped when git or the commit is not at hand (an unpacked sdist).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.compare import assert_same_outputs
from tests.conftest import ROOT, SAMPLES, SHARED
from tests.hostile.corpus import CASES

BASELINE = "8d7e9b3e5240775a2b883efbdc6f659947c85aa3"
CORPUS = SHARED / "corpus"

_RUN = ("import sys; sys.path.insert(0, sys.argv[1]); from scrub837.cli import run; "
        "raise SystemExit(run(sys.argv[2:], sys.stdout, sys.stderr))")


def _baseline_src(tmp: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    try:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", BASELINE,
                                  "src", "rules"], capture_output=True, check=True).stdout
    except subprocess.CalledProcessError:
        pytest.skip(f"baseline commit {BASELINE[:10]} is not in this checkout")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tmp, filter="data")
    return tmp / "src"


def _inputs(folder: Path) -> list[str]:
    """The inputs, copied under unique names into one folder (outputs are named by input)."""
    folder.mkdir()
    names = []

    def put(name: str, data: bytes) -> None:
        path = folder / name
        path.write_bytes(data)
        names.append(str(path))

    for i, case in enumerate(CASES):
        built = case.build()
        if isinstance(built, bytes) and len(built) < (4 << 20):
            put(f"hostile{i:02d}.837", built)
    for p in sorted(SAMPLES.iterdir()):
        if p.suffix in (".837", ".x12", ".txt"):
            put(f"sample-{p.name}", p.read_bytes())
    if CORPUS.is_dir():
        for i, p in enumerate(sorted(q for q in CORPUS.rglob("*") if q.is_file())):
            if p.suffix.lower() in (".837", ".837i", ".x12", ".txt"):
                put(f"corpus{i:02d}-{p.name}", p.read_bytes())
    # 837P and 837I in several transactions, and one transaction over SPOOL_LIMIT (5,000
    # claims), whose slim records go through the spool
    for label, kind, claims, per_st in (("P", "P", 3000, 700), ("I", "I", 1500, 700),
                                        ("spooled", "P", 5200, 6000)):
        out = folder / f"generated-{label}.837"
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--kind", kind,
                        "--claims", str(claims), "--seed", "14", "--claims-per-st", str(per_st),
                        "--out", str(out)], check=True)
        names.append(str(out))
    return names


def _run(src: Path, args: list[str], cwd: Path) -> tuple[int, bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRUB837")}
    done = subprocess.run([sys.executable, "-c", _RUN, str(src), *args], capture_output=True,
                          cwd=cwd, env=env, timeout=600)
    return done.returncode, done.stdout


def test_every_output_is_the_baselines(tmp_path: Path) -> None:
    base = _baseline_src(tmp_path / "baseline")
    inputs = _inputs(tmp_path / "in")
    assert len(inputs) > 20
    for label, src in (("before", base), ("after", ROOT / "src")):
        code, out = _run(src, ["scrub", *inputs, "--out", str(tmp_path / label), "-q"], tmp_path)
        (tmp_path / f"{label}.summary").write_bytes(out)
        (tmp_path / f"{label}.code").write_text(str(code))
        for command in (["scrub", "--format", "json"], ["extract"]):
            code, out = _run(src, [*command, *inputs], tmp_path)
            (tmp_path / f"{label}.{command[0]}").write_bytes(f"exit {code}\n".encode() + out)
    names = assert_same_outputs(tmp_path / "before", tmp_path / "after")
    assert len(names) >= len(inputs)  # every input has an answer
    for kind in ("P", "I", "spooled"):  # the generated files have every output
        assert {f"generated-{kind}.837.{ext}" for ext in ("277", "report.html", "report.json",
                "accepted.837", "rejected.837")} <= set(names)
    for suffix in ("summary", "code", "scrub", "extract"):
        before = (tmp_path / f"before.{suffix}").read_bytes()
        assert before, suffix
        assert before == (tmp_path / f"after.{suffix}").read_bytes(), suffix
