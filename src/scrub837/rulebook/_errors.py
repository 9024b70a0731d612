"""The one error a rule pack raises: it names the file and the key (TOML) or line (CSV)."""

from __future__ import annotations


class RulePackError(Exception):
    """A rule file that cannot be used.

    ``file`` is the file as shown to the user (``rules/codes/J9262.toml``); ``key`` the dotted
    TOML key (``J9262.billing_unit.amount``) or ``""``; ``line`` the 1-based CSV line where the
    bad row starts, or None. ``str(err)`` reads e.g.
    ``rules/codes/J9262.toml: key 'J9262.billing_unit.amount': expected a number, got 'x'``.
    """

    def __init__(self, file: str, key: str, message: str, *, line: int | None = None) -> None:
        where = f"line {line}" if line is not None else (f"key {key!r}" if key else "")
        super().__init__(f"{file}: {where}: {message}" if where else f"{file}: {message}")
        self.file = file
        self.key = key
        self.line = line
        self.message = message
