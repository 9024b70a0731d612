"""Opening the inputs named on the command line (``-`` is standard input).

An input that cannot be opened (missing, a folder, permission denied) is that input's failure
(exit 3 naming it): the others are still scrubbed."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from scrub837.cli import UsageError


def check_inputs(names: list[str]) -> None:
    """Problems with the command line itself (exit 2 before anything is read)."""
    if names.count("-") > 1:
        raise UsageError("standard input ('-') can be named once")


def input_problem(name: str) -> str | None:
    """Why ``name`` cannot be scrubbed before it is opened, or None."""
    if name == "-":
        return None
    path = Path(name)
    if path.is_dir():
        return "is a folder, not a file"
    if not path.exists():
        return "no such file"
    return None


def cannot_open(name: str, exc: OSError) -> str:
    """The message for an input that could not be opened or read."""
    return f"scrub837: {display_name(name)}: cannot read the input: {exc.strerror or exc}"


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
