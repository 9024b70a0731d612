"""The one error a rule pack raises: it names the file and the key (or line)."""

from __future__ import annotations


class RulePackError(Exception):
    def __init__(self, file: str, key: str, message: str) -> None:
        super().__init__(f"{file}: {key}: {message}" if key else f"{file}: {message}")
        self.file = file
        self.key = key
        self.message = message
