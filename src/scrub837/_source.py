"""The one place that turns a caller's source (bytes or a binary stream) into chunks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

CHUNK = 1 << 16  # 64 KiB: the segments of one chunk are alive at once


def iter_chunks(source: bytes | bytearray | memoryview | BinaryIO, size: int = CHUNK) -> Iterator[bytes]:
    """Chunks of ``source``: bytes-like objects are sliced, binary streams are read.

    A path is not accepted here on purpose: open the file at the edge and pass the stream.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source)
        for start in range(0, len(view), size):
            yield bytes(view[start : start + size])
        return
    read = getattr(source, "read", None)
    if read is None:
        raise TypeError(
            f"expected bytes or a binary stream, not {type(source).__name__} "
            "(open the file in 'rb' mode and pass the stream)"
        )
    while True:
        chunk = read(size)
        if not chunk:
            return
        if isinstance(chunk, str):
            raise TypeError("the stream is in text mode; open it in binary mode ('rb')")
        yield chunk
