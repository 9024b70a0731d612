"""How fast could any pure-Python scrub be, given the bytes it must write? A lower bound on
``scrub --out``'s time on one file, from its own outputs, as multiples of the plain tokenizer.

    python benchmarks/floor.py FILE [--repeat 5]

It runs ``scrub837 scrub FILE --out DIR`` once (not timed), then times, in this process, best
of ``--repeat``, interleaved so that a busy machine slows all alike:

- the plain tokenizer of ``run.py`` (the ratios' 1.0);
- ``read_claims`` over the file, counting claims: the project's lazy reader (envelopes, HL
  blocks, each claim's text as one slice; no line read, no value of a claim);
- the JSON report written from its values already gathered: one ``%`` template per claim,
  its strings, numbers, ``true``/``false``/``null`` as the slots (no dict, no encoder, no
  escaping; the templates made before the clock starts);
- the 277CA the same way: one template per segment, its elements as the slots;
- the accepted and rejected 837s and the HTML report written as they are (their bytes only);
- apart, ``scrub837 extract``'s records (run once, not timed) filled from their values the
  same way, one template per record, for extract's own bound (reader and records).

Each template is checked to give back the output's exact bytes before it is timed. What no
implementation can avoid is less than this (memos could fill several slots at once), but not
by much: a slot costs a few tens of nanoseconds, and the texts must still be written. The
budget of issue 14's 0.25x is four tokenizers; the last lines say what is left of it, per
claim, for everything not counted here: the lines' values, every edit, the findings, the HTML
report's formatting. ``--with-checks`` times ``fused_prototype.py``'s pass over the claims in
the same turns and adds it to the floor.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from scrub837 import read_claims
from scrub837.api import iter_items
from scrub837.claims.model import Claim
from scrub837.rulebook import load_rulebook
from scrub837.run import _runtime
from scrub837.scrubber import Scrubber

from _steps import file_parser, tokenize  # benchmarks/_steps.py

#: a JSON value that is no key: a string followed by , } or ], a number or a literal after
#: : [ or , and before , ] or }
_JSON_VALUE = re.compile(r'"(?:[^"\\]|\\.)*"(?=[,}\]])|(?<=[:\[,])(?:-?\d[\d.eE+-]*|true|false|null)'
                         r'(?=[,\]}])')

Units = list[tuple[str, tuple[str, ...]]]


def json_units(text: str, cut: str = r'\{"clm01":') -> Units:
    """The report cut before each claim object (or each ``cut``), each piece as a template
    and its values."""
    starts = [m.start() for m in re.finditer(cut, text)]
    cuts = [0, *starts[1:], len(text)] if starts else [0, len(text)]
    shapes: dict[str, str] = {}
    units: Units = []
    for a, b in zip(cuts, cuts[1:]):
        chunk = text[a:b]
        values = tuple(_JSON_VALUE.findall(chunk))
        shape = _JSON_VALUE.sub("\0", chunk).replace("%", "%%").replace("\0", "%s")
        units.append((shapes.setdefault(shape, shape), values))
    return units


def x12_units(text: str) -> Units:
    """An X12 text (ISA first) cut after each segment terminator and its line break, each
    segment as its id and separators (the template) and its elements (the values)."""
    sep, term = text[3], text[105]
    shapes: dict[str, str] = {}
    units: Units = []
    t = re.escape(term)
    for piece in re.findall(f"[^{t}]*{t}\r?\n?", text):
        end = piece.index(term)
        sid, *values = piece[:end].split(sep)
        shape = (sid.replace("%", "%%") + (sep.replace("%", "%%") + "%s") * len(values)
                 + piece[end:].replace("%", "%%"))
        units.append((shapes.setdefault(shape, shape), tuple(values)))
    return units


def fill(units: Units) -> str:
    """The output the templates make."""
    return "".join([s % v for s, v in units])


def check(units: Units, text: str) -> None:
    built = fill(units)
    if built != text:
        at = next(i for i, (x, y) in enumerate(zip(built, text)) if x != y)
        raise SystemExit(f"floor.py: a template does not give the output back (at {at})")


def write_units(units: Units) -> Callable[[], None]:
    def run() -> None:
        with open(os.devnull, "w", encoding="utf-8") as out:
            out.write(fill(units))
    return run


def write_bytes(blobs: list[bytes]) -> Callable[[], None]:
    def run() -> None:
        with open(os.devnull, "wb") as out:
            for blob in blobs:
                out.write(blob)
    return run


def reader(path: Path) -> Callable[[], None]:
    def run() -> None:
        with open(path, "rb") as f:
            sum(1 for _ in read_claims(f))
    return run


def best(steps: dict[str, Callable[[], None]], repeat: int) -> dict[str, float]:
    times = dict.fromkeys(steps, float("inf"))
    for _ in range(repeat):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name] = min(times[name], time.perf_counter() - start)
    return times


def main() -> None:
    parser = file_parser(__doc__, repeat=5)
    parser.add_argument("--with-checks", action="store_true",
                        help="time benchmarks/fused_prototype.py's checks too, in the same turns")
    args = parser.parse_args()
    _runtime.tune()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "scrub837", "scrub", str(args.file), "--out", tmp],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        today = time.perf_counter() - start
        outs = {p.name[len(args.file.name) + 1:]: p.read_bytes() for p in Path(tmp).iterdir()}
    need = {"report.json", "277", "accepted.837", "rejected.837", "report.html"}
    if not need <= outs.keys():
        raise SystemExit(f"floor.py: scrub --out wrote {sorted(outs)}, not {sorted(need)}")
    done = subprocess.run([sys.executable, "-m", "scrub837", "extract", str(args.file)],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    records = done.stdout.decode("utf-8")
    report = outs["report.json"].decode("utf-8")
    ack = outs["277"].decode("latin-1")
    json_u, ack_u = json_units(report), x12_units(ack)
    check(json_u, report)
    check(ack_u, ack)
    extract_u = json_units(records, r'\{"location":')
    check(extract_u, records)
    rb = load_rulebook()
    claims = drug = 0
    with open(args.file, "rb") as f:
        for c in read_claims(f):
            claims += 1
            drug += any(rb.is_drug_code(line.code) for line in c.lines)
    steps = {
        "tokenizer": lambda: tokenize(args.file),
        "read_claims (lazy: no line read)": reader(args.file),
        "JSON report from its values": write_units(json_u),
        "277CA from its elements": write_units(ack_u),
        "837s and HTML, bytes only": write_bytes(
            [outs["accepted.837"], outs["rejected.837"], outs["report.html"]]),
        "extract's records from their values": write_units(extract_u),
    }
    if args.with_checks:  # benchmarks/fused_prototype.py's pass, in the same turns
        from fused_prototype import Fused

        claims_read = [c for c in iter_items(args.file.read_bytes(), args.file.name, lazy=True)
                       if isinstance(c, Claim)]
        fused = Fused(Scrubber())

        steps["the checks, fused (a prototype)"] = lambda: fused.over(claims_read)
    t = best(steps, args.repeat)
    tok = t["tokenizer"]
    sizes = {"JSON report from its values": len(outs["report.json"]),
             "277CA from its elements": len(outs["277"]),
             "837s and HTML, bytes only": sum(len(outs[k]) for k in
                                              ("accepted.837", "rejected.837", "report.html"))}
    print(f"{args.file.name}: {claims:,} claims, {drug:,} with drug lines "
          f"({drug / claims:.0%}); {args.file.stat().st_size / 1e6:.1f} MB in, "
          f"{sum(len(b) for b in outs.values()) / 1e6:.1f} MB out; best of {args.repeat}")
    sizes["extract's records from their values"] = len(records.encode("utf-8"))
    filled = {"JSON report from its values": json_u, "277CA from its elements": ack_u,
              "extract's records from their values": extract_u}
    apart = ("tokenizer", "extract's records from their values", "the checks, fused (a prototype)")
    for name, seconds in t.items():
        if name in apart[1:]:
            continue
        print(_row(name, seconds, tok, sizes.get(name), filled.get(name)))
    floor = sum(v for k, v in t.items() if k not in apart)
    budget = 4 * tok
    print(f"  {'the floor (all but the tokenizer)':36s} {floor:7.3f} s  {floor / tok:5.2f} tokenizers"
          f"  -> at most {tok / floor:.3f}x with nothing else done")
    left = budget - floor
    print(f"  0.25x is 4 tokenizers ({budget:.3f} s): {left:.3f} s left, "
          f"{left / claims * 1e6:.1f} us a claim ({left / max(drug, 1) * 1e6:.1f} us a drug "
          "claim if the others cost nothing) for the lines' values, every edit, the findings "
          "and the HTML report's formatting")
    if args.with_checks:
        name = "the checks, fused (a prototype)"
        both = floor + t[name]
        print(_row(name, t[name], tok, None, None))
        print(f"  {'the floor and the checks':36s} {both:7.3f} s  {both / tok:5.2f} tokenizers"
              f"  -> at most {tok / both:.3f}x (no finding text, no HTML formatting)")
    print(f"  {'(today: scrub --out, one run)':36s} {today:7.3f} s  {today / tok:5.2f} tokenizers"
          f"  -> {tok / today:.3f}x (a whole process, before the timed turns)")
    name = "extract's records from their values"
    seconds = t[name]
    print(_row(name, seconds, tok, sizes[name], extract_u))
    least = t["read_claims (lazy: no line read)"] + seconds
    print(f"  extract: the reader and its records alone {least / tok:.2f} tokenizers -> at most "
          f"{tok / least:.3f}x with no value gathered (its target 0.40x is 2.5 tokenizers: "
          f"{(2.5 * tok - least) / max(len(extract_u), 1) * 1e6:.1f} us a record left to "
          "find the drug lines and read their values)")


def _row(name: str, seconds: float, tok: float, size: int | None, units: Units | None) -> str:
    what = "" if size is None else f"  ({size / 1e6:.1f} MB" + (
        f", {len(units):,} templates filled)" if units is not None else ")")
    return f"  {name:36s} {seconds:7.3f} s  {seconds / tok:5.2f} tokenizers{what}"


if __name__ == "__main__":
    main()
