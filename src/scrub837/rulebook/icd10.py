"""ICD-10-CM validity from simple-icd-10-cm (a maintained code table), in little memory.

Importing simple-icd-10-cm loads the whole classification (~185 MB resident). The scrub needs
only "does this code exist, and is it billable (a leaf)": so the code list is read from the
library once, in a child process, and cached as a small text file keyed by the library's
version (~1 MB, ~8 MB in memory as two frozensets). Set ``SCRUB837_CACHE`` to choose the
cache folder (default: ~/.cache/scrub837).

Building the two sets takes ~30 ms, most of a one-claim scrub's start-up, so the first
``LOOKUPS_BEFORE_INDEX`` lookups search the file's text instead (~0.02-0.4 ms each, the same
answers: a line is ``B CODE`` or ``C CODE``), and the sets are built on the next one.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

_DUMP = """
import sys
import simple_icd_10_cm as icd
out = []
for code in icd.get_all_codes(False):
    if code[:1].isalpha() and "-" not in code:
        out.append(("B " if icd.is_leaf(code) else "C ") + code)
sys.stdout.write("\\n".join(out))
"""
_LOCK = threading.Lock()


def _cache_file() -> Path:
    root = Path(os.environ.get("SCRUB837_CACHE") or Path.home() / ".cache" / "scrub837")
    return root / f"icd10cm-simple-icd-10-cm-{version('simple-icd-10-cm')}.txt"


#: lookups answered by searching the code list's text before the sets are built
LOOKUPS_BEFORE_INDEX = 32
# what str.splitlines() splits on besides "\n" (a code list with one is left to the sets),
# and with it (a code with one is too)
_OTHER_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_BREAKS = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_lookups = [0]  # lookups so far, LOOKUPS_BEFORE_INDEX once the sets are built


@lru_cache(maxsize=1)
def _text() -> str:
    with _LOCK:
        path = _cache_file()
        try:
            return path.read_text()
        except OSError:
            import subprocess  # only to build the cache: not in every start-up

            text = subprocess.run([sys.executable, "-c", _DUMP], check=True, capture_output=True,
                                  text=True, timeout=300).stdout
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                tmp.write_text(text)
                os.replace(tmp, path)
            except OSError:
                pass  # no writable cache: fine, it is rebuilt next time
            return text


@lru_cache(maxsize=1)
def _index() -> tuple[frozenset[str], frozenset[str]]:
    billable: set[str] = set()
    categories: set[str] = set()
    for line in _text().splitlines():
        (billable if line[:1] == "B" else categories).add(line[2:])
    if len(billable) < 50_000:
        raise RuntimeError("the ICD-10-CM code list from simple-icd-10-cm looks incomplete")
    _lookups[0] = LOOKUPS_BEFORE_INDEX  # from now on the sets answer: the text can go
    _searchable.cache_clear()
    _text.cache_clear()
    return frozenset(billable), frozenset(categories)


@lru_cache(maxsize=1)
def _searchable() -> str | None:
    """The code list between newlines when every line of it is ``B CODE`` or ``C CODE`` and
    lines end only at newlines, so that finding newline, ``B CODE``, newline in it says what
    ``CODE in billable`` would (for a code without line breaks); else None (the sets
    answer)."""
    text = _text()
    if not text or _OTHER_BREAKS.search(text):
        return None
    padded = "\n" + (text if text.endswith("\n") else text + "\n")
    bills = padded.count("\nB ")
    if bills < 50_000 or bills + padded.count("\nC ") != padded.count("\n") - 1:
        return None
    return padded


def status(code: str) -> str:
    """'billable', 'category' (valid but not a billable leaf) or 'invalid'."""
    code = code.replace(".", "").upper()
    if _lookups[0] < LOOKUPS_BEFORE_INDEX and not _BREAKS.search(code):
        _lookups[0] += 1
        text = _searchable()
        if text is not None:
            return _search(text, code)
    return _by_sets(code)


def _search(text: str, code: str) -> str:
    if f"\nB {code}\n" in text:
        return "billable"
    if f"\nC {code}\n" in text:
        return "category"
    return "invalid"


def _by_sets(code: str) -> str:
    billable, categories = _index()
    if code in billable:
        return "billable"
    if code in categories:
        return "category"
    return "invalid"


def library_version() -> str:
    return version("simple-icd-10-cm")
