"""Coverage-guided fuzzing of the whole scrub with atheris (longer runs than the test suite).

    pip install atheris
    python fuzz/fuzz_scrub.py x12_samples/ -max_total_time=600

The seed corpus is the sample folder. A crash is any exception out of Scrubber.scrub, or a
claim count that does not add up; the input that caused it is written by libFuzzer.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from scrub837.scrubber import Scrubber

SCRUBBER = Scrubber()


def test_one(data: bytes) -> None:
    result = SCRUBBER.scrub(data, "fuzz.837")
    s = result.summary
    if s.claims != s.accepted + s.rejected:
        raise AssertionError("a claim without exactly one verdict")
    result.render_html()


def main() -> None:
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
