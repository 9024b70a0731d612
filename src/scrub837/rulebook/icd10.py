"""ICD-10-CM validity from simple-icd-10-cm (a maintained code table), in little memory.

Importing simple-icd-10-cm loads the whole classification (~185 MB resident). The scrub needs
only "does this code exist, and is it billable (a leaf)": so the code list is read from the
library once, in a child process, and cached as a small text file keyed by the library's
version (~1 MB, ~8 MB in memory as two frozensets). Set ``SCRUB837_CACHE`` to choose the
cache folder (default: ~/.cache/scrub837).
"""

from __future__ import annotations

import os
import subprocess
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


@lru_cache(maxsize=1)
def _index() -> tuple[frozenset[str], frozenset[str]]:
    with _LOCK:
        path = _cache_file()
        try:
            text = path.read_text()
        except OSError:
            text = subprocess.run([sys.executable, "-c", _DUMP], check=True, capture_output=True,
                                  text=True, timeout=300).stdout
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                tmp.write_text(text)
                os.replace(tmp, path)
            except OSError:
                pass  # no writable cache: fine, it is rebuilt next time
    billable: set[str] = set()
    categories: set[str] = set()
    for line in text.splitlines():
        (billable if line[:1] == "B" else categories).add(line[2:])
    if len(billable) < 50_000:
        raise RuntimeError("the ICD-10-CM code list from simple-icd-10-cm looks incomplete")
    return frozenset(billable), frozenset(categories)


def status(code: str) -> str:
    """'billable', 'category' (valid but not a billable leaf) or 'invalid'."""
    billable, categories = _index()
    code = code.replace(".", "").upper()
    if code in billable:
        return "billable"
    if code in categories:
        return "category"
    return "invalid"


def library_version() -> str:
    return version("simple-icd-10-cm")
