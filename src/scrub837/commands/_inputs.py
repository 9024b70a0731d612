"""Opening the inputs named on the command line (``-`` is standard input)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from scrub837.cli import UsageError


def check_inputs(names: list[str]) -> None:
    if names.count("-") > 1:
        raise UsageError("standard input ('-') can be named once")
    for name in names:
        if name == "-":
            continue
        path = Path(name)
        if not path.exists():
            raise UsageError(f"{name}: no such file")
        if path.is_dir():
            raise UsageError(f"{name}: is a folder, not a file")


@contextmanager
def open_input(name: str) -> Iterator[BinaryIO]:
    if name == "-":
        yield sys.stdin.buffer
        return
    with open(name, "rb") as stream:
        yield stream


def display_name(name: str) -> str:
    """The name used in messages, reports and output file names ('-' is 'stdin')."""
    return "stdin" if name == "-" else name
