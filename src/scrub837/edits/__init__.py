"""Edits: small functions ``(claim, ctx) -> hits``, one module per concern.

Built-in modules each expose ``EDITS``, a tuple of edit functions. Third-party edits register
under the entry-point group ``scrub837.edits`` and satisfy :class:`Edit`.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from scrub837.edits._engine import Edit, EditContext, Engine, Hit, NamedEdit
from scrub837.edits._locate import locate

BUILTIN_MODULES = (
    "validity",
    "units",
    "modifiers",
    "ndc",
    "diagnosis",
    "authorization",
    "unlisted",
    "structure",
    "period",
)
ENTRY_POINT_GROUP = "scrub837.edits"


class PluginError(Exception):
    """A third-party edit could not be loaded or does not satisfy :class:`Edit`."""


def builtin_edits() -> tuple[Edit, ...]:
    out: list[Edit] = []
    for name in BUILTIN_MODULES:
        module = importlib.import_module(f"scrub837.edits.{name}")
        for func in module.EDITS:
            out.append(NamedEdit(f"{name}.{func.__name__}", func))
    return tuple(out)


def plugin_edits() -> tuple[Edit, ...]:
    """Edits registered by installed packages under ``scrub837.edits``."""
    out: list[Edit] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:
            raise PluginError(f"edit plugin {ep.name!r} ({ep.value}) failed to load: "
                              f"{type(exc).__name__}: {exc}") from exc
        edit = obj() if isinstance(obj, type) else obj
        if not isinstance(edit, Edit):
            raise PluginError(f"edit plugin {ep.name!r} ({ep.value}) is not an Edit: it needs "
                              "'name', 'definitions' and __call__(claim, ctx)")
        out.append(edit)
    return tuple(out)


__all__ = [
    "Edit",
    "EditContext",
    "Engine",
    "Hit",
    "NamedEdit",
    "PluginError",
    "builtin_edits",
    "locate",
    "plugin_edits",
]
