"""Is an upload complete? A file in the inbox is complete when its last segment is an IEA
(after its last ISA, by construction), with nothing after it but line breaks and blanks: the
IEA with its segment terminator, or, when the terminator is missing (or is itself a line
break), an IEA02 equal to the last ISA's ISA13 digit for digit (so a control number cut short
is not taken for a whole one). An IEA02 that does not match a terminated IEA is an envelope
error for the scrubber to report, not a reason to wait.

Only the first ISA (for the delimiters), the tail, and the bytes back to the last ISA are read:
a file of one interchange costs one backward scan, once per size/mtime (the watcher caches the
answer by stamp). Nothing here opens more than the one file or keeps it open.
"""

from __future__ import annotations

import os
from pathlib import Path

_BLANK = b" \t\r\n"
_TAIL = 1 << 16
_CHUNK = 1 << 20
_ISA_LEN = 106


def _delimiters(head: bytes) -> tuple[bytes, bytes] | None:
    """(element separator, segment terminator) from the first ISA, or None. The terminator is
    the byte after ISA16 (16 separators in): ISA fields are fixed-width by the standard, but
    not in every file that is sent."""
    head = head.lstrip(b"\xef\xbb\xbf" + _BLANK)
    if len(head) < 4 or not head.startswith(b"ISA"):
        return None
    sep = head[3:4]
    pos = 3
    for _ in range(15):
        pos = head.find(sep, pos + 1)
        if pos < 0:
            return None
    term = head[pos + 2:pos + 3]  # after the 16th separator: ISA16 (one byte), then this
    return (sep, term) if term and term != sep else None


def _last_segment(tail: bytes, term: bytes) -> tuple[bytes, bool]:
    """The last segment, and whether its terminator is there (never known for a blank one)."""
    body = tail.rstrip(_BLANK)
    terminated = term not in _BLANK and body.endswith(term)
    if terminated:
        body = body[:-1]
    return body[body.rfind(term) + 1:].lstrip(_BLANK), terminated


def _last_isa13(fd: int, size: int, sep: bytes, term: bytes) -> bytes | None:
    """ISA13 of the last ``ISA`` segment (one that starts the file or follows a segment
    terminator), scanning backwards from the end."""
    needle = b"ISA" + sep
    end = size
    while end > 0:
        start = max(0, end - _CHUNK)
        block = os.pread(fd, min(size, end + len(needle) - 1) - start, start)
        hi = len(block)
        while (q := block.rfind(needle, 0, hi)) >= 0:
            hi = q + len(needle) - 1
            p = start + q
            back = min(p, 64)
            before = os.pread(fd, back, p - back).rstrip(_BLANK) if back else b""
            if (not before and p == back) or before.endswith(term):
                fields = os.pread(fd, _ISA_LEN, p).split(sep)
                return fields[13].strip() if len(fields) > 13 else None
        end = start
    return None


def complete(path: Path) -> bool | None:
    """True when ``path`` ends with an IEA that closes its last ISA; None when it cannot be
    opened (waiting will not help: the watcher takes it and answers "cannot read"). Never
    raises."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        size = os.fstat(fd).st_size
        delims = _delimiters(os.pread(fd, 4096, 0))
        if delims is None:
            return False
        sep, term = delims
        tail = os.pread(fd, min(size, _TAIL), max(0, size - _TAIL))
        seg, terminated = _last_segment(tail, term)
        iea = seg.split(sep)
        if len(iea) != 3 or iea[0] != b"IEA" or not iea[2].strip().isdigit():
            return False
        if terminated:
            return True
        isa13 = _last_isa13(fd, size, sep, term)  # no terminator: the number must be whole
        return isa13 is not None and isa13 == iea[2].strip()
    except OSError:
        return False
    finally:
        os.close(fd)
