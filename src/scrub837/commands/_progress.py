"""Progress on standard error for long work (tqdm): bytes read of the total, claims, rate and
time left. Shown only for an input of at least PROGRESS_MIN_BYTES when standard error is a
terminal and ``--quiet`` is not given; with ``--jobs`` one bar for the run counts the parts."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TextIO

PROGRESS_MIN_BYTES = 4 << 20  # "a file over a few MB"


def wanted(stderr: TextIO, quiet: bool) -> bool:
    if quiet:
        return False
    isatty = getattr(stderr, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def input_size(name: str) -> int:
    """The size of a regular file (0 for standard input, a pipe or anything else)."""
    if name == "-":
        return 0
    try:
        st = os.stat(name)
    except OSError:
        return 0
    return st.st_size if os.path.isfile(name) else 0


class Bar:
    """One tqdm bar; ``file(bytes, claims)`` is an OutputOptions.progress callback and
    ``parts(bytes, claims, done, planned)`` a ``--jobs`` one."""

    def __init__(self, stderr: TextIO, total: int, desc: str) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, desc=desc, unit="B", unit_scale=True,
                         unit_divisor=1024, file=stderr, leave=True, dynamic_ncols=True,
                         mininterval=0.2, smoothing=0.1)

    def file(self, done: int, claims: int) -> None:
        bar = self._bar
        elapsed = bar.format_dict.get("elapsed") or 0.0
        rate = f", {claims / elapsed:,.0f} claims/s" if elapsed > 0.5 else ""
        bar.set_postfix_str(f"{claims:,} claims{rate}", refresh=False)
        bar.update(max(0, min(done, bar.total or done) - bar.n))

    def parts(self, done: int, claims: int, parts_done: int, planned: int) -> None:
        self._bar.set_description_str(f"parts {parts_done}/{planned}", refresh=False)
        self.file(done, claims)

    def close(self) -> None:
        self._bar.close()


def for_file(stderr: TextIO, quiet: bool, name: str,
             shown: str) -> tuple[Callable[[int, int], None] | None, Bar | None]:
    """A progress callback for one input, or (None, None) when none is shown."""
    size = input_size(name)
    if size < PROGRESS_MIN_BYTES or not wanted(stderr, quiet):
        return None, None
    bar = Bar(stderr, size, os.path.basename(shown))
    return bar.file, bar


def for_run(stderr: TextIO, quiet: bool, names: list[str]) -> Bar | None:
    """One bar for a ``--jobs`` run (its parts), when it is large enough to need one."""
    total = sum(input_size(n) for n in names)
    if total < PROGRESS_MIN_BYTES or not wanted(stderr, quiet):
        return None
    return Bar(stderr, total, "parts")
