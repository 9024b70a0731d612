"""Is an upload complete? A file in the inbox is complete when it ends with an IEA that closes
its last ISA (IEA02 equals that ISA's ISA13), with nothing after it but line breaks and blanks.

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
    """(element separator, segment terminator) from the first ISA, or None."""
    head = head.lstrip(b"\xef\xbb\xbf" + _BLANK)
    if len(head) < _ISA_LEN or not head.startswith(b"ISA"):
        return None
    return head[3:4], head[105:106]


def _last_segment(tail: bytes, term: bytes) -> bytes | None:
    body = tail.rstrip(_BLANK)
    if term not in _BLANK:
        if not body.endswith(term):
            return None
        body = body[:-1]
    return body[body.rfind(term) + 1:].lstrip(_BLANK)


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
        seg = _last_segment(tail, term)
        if seg is None:
            return False
        iea = seg.split(sep)
        if len(iea) != 3 or iea[0] != b"IEA" or not iea[2].strip().isdigit():
            return False
        isa13 = _last_isa13(fd, size, sep, term)
        return isa13 is not None and isa13.isdigit() and int(isa13) == int(iea[2].strip())
    except OSError:
        return False
    finally:
        os.close(fd)
