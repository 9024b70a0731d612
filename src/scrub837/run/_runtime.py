"""Process settings for long scrubs, applied at the edges (the CLI, ``--jobs`` workers).

* Claims are trees (no reference cycles): reference counting frees them, so the cycle
  collector need not scan the young generation every 700 allocations.
* glibc raises its mmap threshold each time a large block is freed, after which large buffers
  (pickled spool batches, joined output strings) come from the heap and fragment it: a
  1.85-million-claim transaction grew to 220 MB resident. Fixing the threshold (and the trim
  threshold) at 128 KiB returns such buffers to the system. Linux/glibc only; elsewhere nothing.
"""

from __future__ import annotations

import ctypes
import gc
import sys

_M_TRIM_THRESHOLD = -1  # glibc <malloc.h>
_M_MMAP_THRESHOLD = -3


def tune() -> None:
    gc.set_threshold(50_000, 50, 100)
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 128 * 1024)
        libc.mallopt(_M_TRIM_THRESHOLD, 128 * 1024)
    except (OSError, AttributeError):  # not glibc (e.g. musl): keep its defaults
        pass
