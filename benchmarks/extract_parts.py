"""Where ``scrub837 extract``'s time goes, by part, on one file: the reader, the drug test,
reading the drug claims' text, and writing the records from the values read (in-process
timers around the same loop as the command, streaming; best of --repeat), with the tokenizer
of ``run.py`` for the ratios.

    python benchmarks/extract_parts.py FILE [--repeat 3]

It answers one question: how fast could extract be if reading cost nothing? (The answer is
the last ratio it prints.)"""

from __future__ import annotations

import time
from pathlib import Path

from scrub837.api import iter_items
from scrub837.claims import _extract_json as encoding
from scrub837.claims._from_text import read_text
from scrub837.claims.model import Claim
from scrub837.rulebook._dataset import Dataset
from scrub837.run import _runtime

from _steps import file_parser, tokenize  # benchmarks/_steps.py


def tokenizer(path: Path) -> float:
    t = time.perf_counter()
    tokenize(path)
    return time.perf_counter() - t


def parts(path: Path, data: Dataset) -> tuple[float, list[float], int]:
    clock = time.perf_counter
    encoder = encoding.LineEncoder()
    spent = [0.0, 0.0, 0.0]  # drug test, reading the text, writing
    drugs: dict[str, bool] = {}
    records = 0
    start = clock()
    with path.open("rb") as stream:
        for claim in iter_items(stream, str(path), lazy=True):
            if not isinstance(claim, Claim):
                continue
            a = clock()
            picked = []
            for at, code in enumerate(claim.procedure_codes()):
                drug = drugs.get(code)
                if drug is None:
                    drug = drugs[code] = code.startswith("J") or data.priced(code)
                if drug:
                    picked.append(at)
            b = clock()
            spent[0] += b - a
            if not picked:
                continue
            got = read_text(claim, picked, encoding._ESCAPED)
            c = clock()
            spent[1] += c - b
            if got is None:  # read the ServiceLine way: counted as writing
                records += len(encoder.records(claim, picked))
                spent[2] += clock() - c
                continue
            context = encoder._text_context(claim, [encoding._DX % d for d in got.diagnoses],
                                            got.prior_auth, got.dates, got.notes)
            assert context is not None
            where = encoder._location(claim)
            comp = claim.clm.delims.component
            out = [where + ',"line_segment":%d,"line_span":[%d,%d],"path":"%s/2400[%d]"},'
                   '"claim":' % (ln.place[0], ln.place[1], ln.end, claim.hl_path, ln.index)
                   + context + ',"line":' + encoding._line_text(ln, comp, got.dates) + "}"
                   for ln in got.lines]
            records += len(out)
            spent[2] += clock() - c
    return clock() - start, spent, records


def main() -> None:
    args = file_parser(__doc__, repeat=3).parse_args()
    _runtime.tune()
    data = Dataset()
    tok = min(tokenizer(args.file) for _ in range(args.repeat))
    total, (test, read, write), n = min((parts(args.file, data) for _ in range(args.repeat)),
                                        key=lambda r: r[0])
    reader = total - test - read - write
    print(f"{args.file.name}: tokenizer {tok:.3f} s; extract's loop {total:.3f} s "
          f"({tok / total:.3f}x): the reader {reader:.3f} s, the drug test {test:.3f} s, "
          f"reading the drug claims' text {read:.3f} s, writing {n:,} records {write:.3f} s")
    print(f"  the reader and the drug test alone: {tok / (reader + test):.3f}x the tokenizer; "
          f"with the text read for nothing: {tok / (reader + test + write):.3f}x")


if __name__ == "__main__":
    main()
