"""Two questions about installed distributions, answered without importing
:mod:`importlib.metadata` when a plain look at ``sys.path`` can answer them for certain.

Importing ``importlib.metadata`` (with the ``email`` and ``zipfile`` packages it pulls in) is
~15 ms, a tenth of a one-claim scrub's start-up, to learn that no plugin is installed and which
version of simple-icd-10-cm is. Both answers below fall back to ``importlib.metadata`` whenever
the look is not conclusive (a zip or egg on ``sys.path``, a meta-path finder that supplies
distributions of its own, a file that cannot be read), so they never differ from it.
"""

from __future__ import annotations

import os
import re
import sys
from importlib.machinery import PathFinder
from importlib.util import find_spec

_INFO = (".dist-info", ".egg-info")


def may_declare(group: str) -> bool:
    """False only when no distribution on ``sys.path`` can declare an entry point in
    ``group``: no ``entry_points.txt`` of a ``*.dist-info``/``*.egg-info`` folder names it."""
    if any(getattr(f, "find_distributions", None) is not None and f is not PathFinder
           for f in sys.meta_path):
        return True  # distributions may come from elsewhere
    for entry in sys.path:
        root = entry or "."
        if root.lower().endswith(".egg"):
            return True
        try:
            names = os.listdir(root)
        except NotADirectoryError:
            return True  # a zip on sys.path
        except OSError:
            if os.path.exists(root):
                return True
            continue  # a path entry that does not exist: nothing there
        for name in names:
            if not name.lower().endswith(_INFO):
                continue
            path = os.path.join(root, name, "entry_points.txt")
            try:
                with open(path, encoding="utf-8") as f:
                    if group in f.read():
                        return True
            except (FileNotFoundError, NotADirectoryError):
                continue  # no entry points (or an .egg-info file, which has none)
            except (OSError, UnicodeDecodeError):
                return True  # let importlib.metadata meet (and report) the problem
    return False


def version(dist: str, package: str) -> str:
    """``importlib.metadata.version(dist)``, read from the one ``*.dist-info`` beside the
    importable ``package`` when there is exactly one for ``dist``."""
    spec = find_spec(package)
    if spec is not None and spec.origin and not any(
            getattr(f, "find_distributions", None) is not None and f is not PathFinder
            for f in sys.meta_path):
        origin = os.path.dirname(spec.origin)
        site = os.path.dirname(origin) if spec.submodule_search_locations else origin
        found = _version_in(site, dist) if _first_with(site, dist) else None
        if found:
            return found
    from importlib.metadata import version as metadata_version

    return metadata_version(dist)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()  # as importlib.metadata's Prepared.normalize


def _infos(root: str, dist: str) -> list[str]:
    try:
        names = os.listdir(root or ".")
    except OSError:
        return []
    want = _normal(dist)
    return [n for n in names if n.lower().endswith(_INFO)
            and _normal(n.rpartition(".")[0].partition("-")[0]) == want]


def _first_with(site: str, dist: str) -> bool:
    """``site`` is the first ``sys.path`` entry holding metadata for ``dist`` (the one
    importlib.metadata would read), and the only one in it."""
    here = os.path.realpath(site)
    for entry in sys.path:
        root = entry or "."
        if root.lower().endswith(".egg") or os.path.isfile(root):
            return False
        infos = _infos(root, dist)
        if infos:
            return os.path.realpath(root) == here and len(infos) == 1
    return False


def _version_in(site: str, dist: str) -> str | None:
    (info,) = _infos(site, dist)
    if not info.lower().endswith(".dist-info"):
        return None
    try:
        with open(os.path.join(site, info, "METADATA"), encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    break  # the end of the headers
                key, _, value = line.partition(":")
                if key.lower() == "version":  # as the email parser reads a header's value
                    return value.lstrip(" \t").rstrip("\r\n") or None
    except (OSError, UnicodeDecodeError):
        return None
    return None
