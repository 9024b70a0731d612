"""JSON text for findings and claims without building a dict per finding: the same bytes as
``json`` gives for :meth:`Finding.to_dict` (ensure_ascii, the given separators), made from
pre-encoded fragments. A finding's rule, severity and STC codes, its message (the engine keeps
its rendered texts), fix, source and ``line_level`` repeat from claim to claim, and its
location's file and envelope ids from finding to finding of a transaction: each of these two
texts is found with one lookup by its values (bounded memos, checked by value; each group is
encoded once when it is new); only the location's own values are encoded per finding, by the
C string encoder ``json`` itself uses.

A value of an unexpected type (a plugin's finding with a non-string message, say) is encoded
by ``json`` from ``to_dict``, so the text is always what ``json`` would write.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii
from typing import Final

from scrub837.findings import Finding, Severity

#: memo entries kept per kind of fragment (cleared when full: a file has few distinct ones)
MEMO_SIZE: Final = 1024

_REJECT: Final = Severity.REJECT
string: Final = encode_basestring_ascii  # '"..."', non-ASCII as \\uXXXX, exactly as json does


def plain(text: str) -> bool:
    """``string(text)`` is ``text`` between quotes: printable ASCII without a quote or a
    backslash (what nearly every 837 value is). One test of several values joined tells
    for all of them."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


_Key = tuple[str, str, str, str, bool, bool]


class FindingEncoder:
    """``encode(finding)`` is ``json.dumps(finding.to_dict(), separators=(item, key))``."""

    def __init__(self, item: str = ",", key: str = ":") -> None:
        self.dumps = json.JSONEncoder(separators=(item, key), ensure_ascii=True).encode
        self._i, self._k = item, key
        self._rule: dict[str, tuple[object, object, str]] = {}  # rule -> severity, stc, text
        self._tail: dict[tuple[str, str, bool], str] = {}  # fix, source, line_level -> text
        self._where: dict[tuple[str, str, str, str], str] = {}  # file, isa13, gs06, st02
        #: rule, message, fix, source, line_level, whether it rejects -> severity, stc and the
        #: text before the location's file. Without the envelope ids in the key: a rule's
        #: messages (~900 distinct ones in a 20,000-claim file) would be as many again per
        #: transaction, and a memo that size would be cleared every few thousand claims. With
        #: the severity (as a bool: an Enum hashes in Python): a rule that warns or rejects
        #: with one message would take turns replacing its entry
        self._prefixes: dict[_Key, tuple[object, object, str]] = {}
        #: the location's keys after its CLM01, with the separators
        self._labels = tuple(f'{item}"{name}"{key}' for name in ("lx", "ref_6r", "segment",
                                                                  "span", "path", "element"))

    def _head(self, f: Finding) -> str:
        """``{"rule_id":..,"severity":..,"stc":[..],"message":`` (up to the message)."""
        hit = self._rule.get(f.rule_id)
        if hit is not None and hit[0] is f.severity and hit[1] == f.stc:
            return hit[2]
        i, k = self._i, self._k
        text = (f'{{"rule_id"{k}{self.dumps(f.rule_id)}{i}"severity"{k}'
                f'{self.dumps(f.severity.value)}{i}"stc"{k}'
                f'{self.dumps([str(s) for s in f.stc])}{i}"message"{k}')
        if len(self._rule) >= MEMO_SIZE:
            self._rule.clear()
        self._rule[f.rule_id] = (f.severity, f.stc, text)
        return text

    def _middle(self, fix: str, source: str, line_level: bool) -> str:
        """From the fix up to the location's file."""
        key = (fix, source, line_level)
        text = self._tail.get(key)
        if text is None:
            i, k = self._i, self._k
            text = (f'{i}"fix"{k}{self.dumps(fix)}{i}"source"{k}{self.dumps(source)}{i}'
                    f'"line_level"{k}{self.dumps(line_level)}{i}"location"{k}{{"file"{k}')
            if len(self._tail) >= MEMO_SIZE:
                self._tail.clear()
            self._tail[key] = text
        return text

    def _envelope(self, key: tuple[str, str, str, str]) -> str:
        """The location's file and envelope ids (``key``), up to its CLM01."""
        file, isa13, gs06, st02 = key
        if not (type(file) is str and type(isa13) is str and type(gs06) is str
                and type(st02) is str):
            raise TypeError("not a str")
        i, k, d = self._i, self._k, self.dumps
        text = (f'{d(file)}{i}"isa13"{k}{d(isa13)}{i}"gs06"{k}{d(gs06)}{i}"st02"{k}'
                f'{d(st02)}{i}"clm01"{k}')
        if len(self._where) >= MEMO_SIZE:
            self._where.clear()
        self._where[key] = text
        return text

    def _prefix(self, f: Finding, key: _Key) -> tuple[object, object, str]:
        """Everything before the location's file: the finding's rule, severity, STC codes,
        message, fix, source and ``line_level``."""
        if not (type(f.fix) is str and type(f.source) is str):
            raise TypeError("not a str")
        text = (f'{self._head(f)}{string(f.message)}'
                f'{self._middle(f.fix, f.source, f.line_level)}')
        if len(self._prefixes) >= MEMO_SIZE:
            self._prefixes.clear()
        hit = self._prefixes[key] = (f.severity, f.stc, text)
        return hit

    def encode(self, f: Finding) -> str:
        loc = f.location
        try:
            start, end = loc.span
            line_level = f.line_level
            segment = loc.segment
            if not (type(segment) is type(start) is type(end) is int
                    and type(line_level) is bool):
                return self.dumps(f.to_dict())
            # a rule's findings repeat their texts (the engine keeps its rendered messages),
            # and a transaction's findings their envelope: all but the location's own values
            # is two memo lookups
            key = (f.rule_id, f.message, f.fix, f.source, line_level,
                   f.severity is _REJECT)
            hit = self._prefixes.get(key)
            if hit is None or hit[0] is not f.severity or hit[1] != f.stc:
                hit = self._prefix(f, key)
            where = (loc.file, loc.isa13, loc.gs06, loc.st02)
            envelope = self._where.get(where)
            if envelope is None:
                envelope = self._envelope(where)
            lx, ref_6r, segment_, span, path, element = self._labels
            return (f'{hit[2]}{envelope}{string(loc.clm01)}{lx}{string(loc.lx)}{ref_6r}'
                    f'{string(loc.ref_6r)}{segment_}{segment}{span}[{start}{self._i}{end}]'
                    f'{path}{string(loc.path)}{element}{string(loc.element)}}}}}')
        except (TypeError, ValueError):  # a value json encodes differently: let json do it
            return self.dumps(f.to_dict())

    def encode_all(self, findings: tuple[Finding, ...]) -> str:
        """The findings as a JSON array."""
        if not findings:
            return "[]"
        encode = self.encode
        return "[" + self._i.join([encode(f) for f in findings]) + "]"
