"""The measured steps of ``run.py`` and ``ab.py``: each a small program run in a fresh process
that times its own work and prints one JSON line; peak RSS read by the parent with ``wait4``.

Child processes get a bytecode cache (``PYTHONPYCACHEPREFIX`` under the run's work folder,
``PYTHONDONTWRITEBYTECODE`` removed), as an installed package has: pip compiles a wheel's
modules at install, and a developer's editable checkout keeps ``__pycache__``. Without it
(``--no-bytecode-cache``, or an environment that sets ``PYTHONDONTWRITEBYTECODE`` and keeps no
cache) every process compiles scrub837's ~150 modules again, ~0.07 s of each start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

TOKENIZER = """
import json, sys, time
t = time.perf_counter()
with open(sys.argv[1], 'rb') as f:
    text = f.read().decode('latin-1')
elem, term = text[3], text[105]
claims = 0
for seg in text.split(term):
    if seg.strip().split(elem)[0] == 'CLM':
        claims += 1
print(json.dumps({'claims': claims, 'seconds': time.perf_counter() - t}))
"""



def tokenize(path: Path) -> int:
    """TOKENIZER's work (the same loop), in this process: the CLM segments of ``path``
    counted. The in-process tools (``extract_parts.py``, ``floor.py``,
    ``fused_prototype.py``) time it beside their own steps."""
    with open(path, "rb") as f:
        text = f.read().decode("latin-1")
    elem, term = text[3], text[105]
    return sum(1 for seg in text.split(term) if seg.strip().split(elem)[0] == "CLM")


def file_parser(doc: str, repeat: int) -> argparse.ArgumentParser:
    """The command line of an in-process tool: its docstring's first paragraph, one FILE and
    ``--repeat`` (best of)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--repeat", type=int, default=repeat)
    return parser


EXTRACT = """
import json, sys, time, gc
gc.set_threshold(50_000, 50, 100)
from scrub837 import read_claims
t = time.perf_counter()
claims = drug = 0
with open(sys.argv[1], 'rb') as f:
    for c in read_claims(f):
        claims += 1
        drug += sum(1 for line in c.lines if line.code.startswith('J'))
print(json.dumps({'claims': claims, 'seconds': time.perf_counter() - t, 'drug_lines': drug}))
"""

# the share of claims with at least one drug line (a J-code or a code CMS prices as a drug),
# as the scrub's edits see it; not timed
DRUG_SHARE = """
import json, sys
from scrub837 import read_claims
from scrub837.rulebook import load_rulebook
rb = load_rulebook()
claims = drug = 0
with open(sys.argv[1], 'rb') as f:
    for c in read_claims(f):
        claims += 1
        drug += any(rb.is_drug_code(line.code) for line in c.lines)
print(json.dumps({'claims': claims, 'drug_claims': drug, 'seconds': 0.0}))
"""

CLI = """
import io, json, sys, time, gc
try:  # the process settings of scrub837's main() (an older checkout keeps them elsewhere)
    from scrub837.run import _runtime
except ImportError:
    from scrub837 import _runtime
_runtime.tune()
from scrub837.cli import run
args = sys.argv[1:]
class Sink:  # counts output lines without keeping them (stdout to a file would do the same)
    lines = 0
    def write(self, text):
        self.lines += text.count(chr(10))
    def writelines(self, lines):
        for text in lines: self.write(text)
    def flush(self):
        pass
out = Sink()
t = time.perf_counter()
code = run(args, out, sys.stderr)
seconds = time.perf_counter() - t
print(json.dumps({'seconds': seconds, 'exit': code, 'stdout_lines': out.lines}))
"""

# start-up after the interpreter: from the first line of the program (Python and site are
# up) to the end of the command, imports included, as `python -m scrub837 ARGS` does
STARTUP = """
import time
t = time.perf_counter()
import sys
from scrub837.cli import main
sys.argv[0] = 'scrub837'
try:
    main()
except SystemExit:
    pass
import json
print(json.dumps({'seconds': time.perf_counter() - t}), file=sys.__stderr__)
"""

PYX12 = """
import io, json, sys, time, os, logging
import pyx12.params, pyx12.x12n_document
logging.getLogger('pyx12').setLevel(logging.CRITICAL)
t = time.perf_counter()
ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), sys.argv[1], io.StringIO(), None)
print(json.dumps({'seconds': time.perf_counter() - t, 'ok': bool(ok)}))
"""

REPEAT = [3]  # runs of each step (set by --repeat)
ENV: dict[str, str] = dict(os.environ)  # the children's environment (see bytecode_cache)


def bytecode_cache(folder: Path) -> None:
    """Give child processes a bytecode cache in ``folder`` (see the module's docstring)."""
    ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    ENV["PYTHONPYCACHEPREFIX"] = str(folder)


def step(code: str, *args: str, python: str | None = None,
         repeat: int | None = None) -> dict[str, object]:
    """Run a step ``repeat`` (default REPEAT) times, a fresh process each time: its best time
    and its largest peak RSS. The best of several runs is the usual answer to a machine
    shared with others."""
    runs = [once(code, *args, python=python) for _ in range(repeat or REPEAT[0])]
    best = min(runs, key=lambda r: float(r["seconds"]))  # type: ignore[arg-type]
    best["peak_rss_mb"] = max(float(r["peak_rss_mb"]) for r in runs)  # type: ignore[arg-type]
    best["runs"] = len(runs)
    return best


def once(code: str, *args: str, python: str | None = None,
         stderr_json: bool = False) -> dict[str, object]:
    """One run of ``code`` with ``args``: its JSON line (from standard output, or standard
    error with ``stderr_json``), its peak RSS (MB) and its wall time as a whole process
    (``process_seconds``, the interpreter's start included)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen([python or sys.executable, "-c", code, *args], stdout=out,
                                stderr=err, env=ENV)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        out.seek(0)
        err.seek(0)
        text = {"out": out.read().decode("utf-8", "replace"),
                "err": err.read().decode("utf-8", "replace")}
    source = text["err" if stderr_json else "out"]
    lines = [line for line in source.strip().splitlines() if line.startswith("{")]
    if not lines:
        raise StepFailed(f"status {status}: {(text['err'] or text['out'])[-1500:]}")
    result: dict[str, object] = json.loads(lines[-1])
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    result["process_seconds"] = wall
    return result


class StepFailed(RuntimeError):
    pass


def process_time(argv: list[str], repeat: int) -> dict[str, object]:
    """Best wall time of ``argv`` as a whole process (its output discarded), and its peak."""
    best: dict[str, object] = {}
    for _ in range(repeat):
        t = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=ENV)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t
        if os.waitstatus_to_exitcode(status) not in (0, 1):  # 1: a claim was rejected
            raise StepFailed(f"{argv[:4]} exited with status {status}")
        if not best or seconds < float(best["seconds"]):  # type: ignore[arg-type]
            best = {"seconds": seconds, "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
                    "runs": repeat}
    return best


def count_claims(path: Path) -> int:
    return int(str(once(TOKENIZER, str(path))["claims"]))


def machine() -> str:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{platform.system()} {platform.machine()}, {cpu or 'unknown CPU'}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}")


def generate(path: Path, claims: int, kind: str, seed: int, drug_share: float | None = None,
             per_st: int | None = None, size_mb: float | None = None) -> None:
    cmd = [sys.executable, str(HERE / "generate.py"), "--kind", kind, "--seed", str(seed),
           "--out", str(path)]
    cmd += ["--size-mb", str(size_mb)] if size_mb else ["--claims", str(claims)]
    if drug_share is not None:
        cmd += ["--drug-share", str(drug_share)]
    if per_st is not None:
        cmd += ["--claims-per-st", str(per_st)]
    subprocess.run(cmd, check=True)
