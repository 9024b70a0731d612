"""How long the built-in CMS data takes to load, in a fresh process each time (best of
``--repeat``): the manifest, then the tables a one-claim 837P scrub needs (HCPCS, the
practitioner MUE, the crosswalk's NDC index, the ASP pricing file for drug-line detection),
and a whole one-claim scrub through the library for comparison.

    .venv/bin/python benchmarks/data_load.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

PROBE = r"""
import json, time
t0 = time.perf_counter()
from scrub837.rulebook import load_rulebook
t1 = time.perf_counter()
rb = load_rulebook()
t2 = time.perf_counter()
rule = rb.code("J9271"); rb.is_drug_code("Q5103"); rb.mue("J9271", "P")
rb.crosswalk_for("00006302602")
t3 = time.perf_counter()
from scrub837.scrubber import Scrubber
from tests.test_cms_codes import L, claim_837p
text = claim_837p([L("J9271", "200", "00006302602", "2")]).encode()
t4 = time.perf_counter()
result = Scrubber(rules=rb).scrub(text, "one.837")
t5 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "pack_and_manifest": t2 - t1, "tables": t3 - t2,
                  "data_total": t3 - t1, "one_claim_scrub": t5 - t4}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    runs = []
    for _ in range(args.repeat):
        out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                             check=True)
        runs.append(json.loads(out.stdout))
    best = {k: min(r[k] for r in runs) for k in runs[0]}
    for key, value in best.items():
        print(f"{key:20} {value * 1000:8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
