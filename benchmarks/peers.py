"""Other Python X12 837 parsers on PyPI, each timed parsing the same file through its own
documented API, in a throwaway virtual environment of its own (never a dependency of
scrub837). One that does not install, or cannot read the file, is skipped with the reason.

    python benchmarks/peers.py FILE [--kind P] [--peers-dir DIR] [--repeat 3]

``run.py --peers`` runs the same on its pyx12-sized files. The environments are kept in
``--peers-dir`` (default ``$TMPDIR/scrub837-peers``) and reused by later runs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import venv
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _steps  # noqa: E402  (benchmarks/_steps.py)

# every probe: argv = FILE KIND EXPECTED_CLAIMS; prints one JSON line with seconds (the
# parse alone, imports excluded), claims (when its API exposes them) or skip (a reason)
_HEAD = """
import json, sys, time
from importlib.metadata import version
path, kind, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
def done(t, claims=None, **more):
    print(json.dumps({'seconds': time.perf_counter() - t, 'claims': claims, **more}))
"""


@dataclass(frozen=True)
class Peer:
    name: str  # the PyPI distribution
    install: tuple[str, ...]  # pip requirements (the peer, and what it needs to import)
    what: str  # what its parse does, in a few words
    probe: str  # the timed parse (after _HEAD)


PEERS = (
    Peer("linuxforhealth-x12", ("linuxforhealth-x12", "pydantic<2"),
         "Pydantic models, validated (X12ModelReader.models); needs pydantic 1",
         """
from linuxforhealth.x12.io import X12ModelReader
t = time.perf_counter()
n = 0
with X12ModelReader(path) as r:
    for m in r.models():
        for a in m.loop_2000a:
            for b in a.loop_2000b:
                n += len(b.loop_2300 or [])
                n += sum(len(c.loop_2300 or []) for c in (b.loop_2000c or []))
done(t, n, version=version('linuxforhealth-x12'))
"""),
    Peer("x12sdk", ("x12sdk",), "Pydantic 2 models, validated (X12ModelReader.models)",
         """
from x12sdk.io import X12ModelReader
t = time.perf_counter()
n = 0
with X12ModelReader(path) as r:
    for m in r.models():
        n += sum(1 for _ in m.claims())
done(t, n, version=version('x12sdk'))
"""),
    Peer("openx12", ("openx12",), "claims as dicts, no validation (x837p/x837i.parse)",
         """
from openx12 import x837i, x837p
t = time.perf_counter()
with open(path) as f:
    doc = (x837p if kind == 'P' else x837i).parse(f.read())
done(t, len(doc.claims), version=version('openx12'))
"""),
    Peer("kw-x12-parser", ("kw-x12-parser[dataframe]",),
         "a pandas DataFrame of key columns (casual_parse_x837p), 837P only",
         """
if kind != 'P':
    print(json.dumps({'skip': 'parses 837P only'})); raise SystemExit
from kw_x12_parser import casual_parse_x837p
t = time.perf_counter()
df = casual_parse_x837p(path)
done(t, len(df), version=version('kw-x12-parser'))
"""),
    Peer("badx12", ("badx12",),
         "a generic document tree (Parser.parse_document); needs a shim on Python >= 3.10",
         """
import collections, collections.abc
collections.Iterable = collections.abc.Iterable  # badx12 0.2.2 imports it from collections
from badx12 import Parser
t = time.perf_counter()
doc = Parser().parse_document(path)
body = [seg for g in doc.interchange.groups for ts in g.transaction_sets
        for seg in ts.transaction_body]
done(t, None, segments=len(body), version=version('badx12'))
"""),
    Peer("ansi-x12", ("ansi-x12",),
         "generic envelopes and segments, no 837 model (tokenize/parse/inspect)",
         """
from x12 import inspect_x12_interchange, parse_x12_interchange, tokenize_x12
t = time.perf_counter()
with open(path, 'rb') as f:
    payload = f.read()
inspection = inspect_x12_interchange(parse_x12_interchange(tokenize_x12(payload)))
done(t, None, segments=inspection.total_segment_count, version=version('ansi-x12'))
"""),
    Peer("pyedi", ("pyedi",), "generic JSON through pyx12's maps (X12Parser.parse)",
         """
import io, contextlib
from pyedi import X12Parser
t = time.perf_counter()
noise = io.StringIO()
with contextlib.redirect_stdout(noise):
    out = X12Parser().parse(path)
n = sum(1 for tr in out['transactions'] for s in tr['segments'] if s['segment_id'] == 'CLM')
errors = noise.getvalue().count('Error at line')
done(t, n, version=version('pyedi'), printed_errors=errors)
"""),
    Peer("tigershark3", ("tigershark3", "typing_extensions"),
         "typed message classes (X12Parser(MSG837).parse); needs typing_extensions",
         """
import os
if kind != 'P':
    print(json.dumps({'skip': 'no 837I 5010 message class'})); raise SystemExit
import tigershark3
sys.path.insert(0, os.path.dirname(tigershark3.__file__))  # it imports itself as 'x12'
from x12.base import Source, X12Parser
from x12.msg_837_5010_X222_A1 import MSG837
t = time.perf_counter()
with open(path) as f:
    msg = X12Parser(MSG837).parse(Source(f.read()))
done(t, None, segments=sum(1 for _ in msg.segment_iter()), version=version('tigershark3'))
"""),
)


def default_dir() -> Path:
    return Path(tempfile.gettempdir()) / "scrub837-peers"


def install(peer: Peer, folder: Path) -> tuple[str | None, str]:
    """The peer's Python (its environment made and filled once), or None and the reason."""
    env = folder / peer.name
    python = env / "bin" / "python"
    marker = env / "installed.txt"
    wanted = "\n".join(peer.install)
    if marker.is_file() and marker.read_text() == wanted:
        return str(python), ""
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(env)
        done = subprocess.run([str(python), "-m", "pip", "install", "-q", *peer.install],
                              capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.SubprocessError) as e:
        return None, f"no environment: {e}"
    if done.returncode != 0:
        lines = [x for x in (done.stderr + done.stdout).splitlines()
                 if x.strip() and not x.startswith("WARNING: Location")]
        return None, "does not install: " + (lines[-1] if lines else f"pip {done.returncode}")
    marker.write_text(wanted)
    return str(python), ""


def measure(path: Path, kind: str, claims: int, folder: Path | None = None,
            log: bool = True) -> list[dict[str, object]]:
    """Every peer on ``path`` (``claims`` claims): one dict each, with ``skip`` (the reason)
    or the best time (``_steps.REPEAT`` runs) and peak RSS."""
    folder = folder or default_dir()
    folder.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, object]] = []
    for peer in PEERS:
        python, reason = install(peer, folder)
        row: dict[str, object] = {"peer": peer.name, "what": peer.what, "claims": claims}
        if python is not None:
            try:
                r = _steps.step(_HEAD + peer.probe, str(path), kind, str(claims),
                                python=python)
            except _steps.StepFailed as e:
                reason = "cannot read the file: " + _last_error(str(e))
            else:
                if "skip" in r:
                    reason = str(r["skip"])
                elif r.get("claims") is not None and r["claims"] != claims:
                    reason = f"read {r['claims']} of {claims} claims"
                else:
                    row.update({k: v for k, v in r.items() if k != "claims"})
        if reason:
            row["skip"] = reason
        if log:
            print(f"  peer {peer.name}: " + (f"skipped ({reason})" if reason else
                  f"{claims / float(row['seconds']):,.0f} claims/s"),  # type: ignore[arg-type]
                  file=sys.stderr)
        results.append(row)
    return results


def _last_error(text: str) -> str:
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    line = lines[-1] if lines else text
    return line if len(line) <= 100 else line[:97] + "..."


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("file", type=Path)
    p.add_argument("--kind", choices=("P", "I"), default="P")
    p.add_argument("--peers-dir", type=Path, default=None)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    _steps.REPEAT[0] = max(1, args.repeat)
    claims = _steps.count_claims(args.file)
    for row in measure(args.file, args.kind, claims, args.peers_dir, log=False):
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
