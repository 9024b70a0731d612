"""X12 lexer: bytes (in any chunking) -> segments with ordinal and byte span. No IO.

The delimiters come from each ISA: the element separator is byte 3, the repetition separator is
ISA11, the component separator is ISA16 and the segment terminator is the byte after ISA16. CR,
LF or CRLF after a terminator are skipped. Text is decoded as Latin-1, so every character index
is also a byte offset.

Feeding a file one byte at a time gives exactly the segments that feeding it whole gives.
"""

from __future__ import annotations

from typing import Any

from scrub837.x12.scan import Scan, scan_each, scan_regular, segments_of
from scrub837.x12.segment import Delimiters, Segment, X12SyntaxError, too_long

__all__ = ["DEFAULT_MAX_SEGMENT", "Delimiters", "Lexer", "Scan", "Segment", "X12SyntaxError",
           "isa_length", "iter_segments_bytes", "parse_isa", "segments_of"]

ISA_LENGTH = 106
ISA_MAX_LENGTH = 512  # an unpadded or overpadded ISA is read by its separators, up to this
DEFAULT_MAX_SEGMENT = 1 << 20  # 1 MiB: no legal 837 segment comes near this
_LINE_BREAKS = "\r\n"
_BOM = "\xef\xbb\xbf"  # UTF-8 byte-order mark, decoded as Latin-1


def _describe_start(text: str) -> str:
    if text.startswith(("\xff\xfe", "\xfe\xff")):
        return "the file is UTF-16 text; X12 must be single-byte ASCII"
    if "\x00" in text[:64]:
        return "the file holds binary data (NUL bytes), not X12"
    shown = text[:20].encode("latin-1").decode("ascii", "replace")
    shown = "".join(ch if ch.isprintable() else "?" for ch in shown)
    return f"the file does not start with an ISA segment (it starts with {shown!r})"


def isa_length(body: str) -> int:
    """Length of the ISA at the start of ``body`` (terminator included), found by counting 16
    element separators; 0 when ``body`` does not hold a whole ISA yet."""
    if len(body) < 4:
        return 0
    element = body[3]
    pos = 3
    for _ in range(15):
        pos = body.find(element, pos + 1, ISA_MAX_LENGTH)
        if pos < 0:
            return 0
    end = pos + 3  # ISA16 and the terminator follow the 16th separator
    return end if len(body) >= end else 0


def parse_isa(isa: str, offset: int, ordinal: int) -> Delimiters:
    """Read the delimiters from a whole ISA (terminator included)."""
    if len(isa) < 4 or not isa.startswith("ISA"):
        raise X12SyntaxError("the segment is not an ISA", offset=offset, segment=ordinal)
    element = isa[3]
    if element in isa[-2:]:
        raise X12SyntaxError(
            f"ISA delimiters collide (the element separator {element!r} is also the component "
            "separator or the segment terminator)",
            offset=offset,
            segment=ordinal,
        )
    fields = isa[:-1].split(element)
    if len(fields) != 17 or len(fields[16]) != 1:
        raise X12SyntaxError(
            "ISA does not have 16 elements ending in a one-character ISA16",
            offset=offset,
            segment=ordinal,
        )
    component = fields[16]
    terminator = isa[-1]
    repetition = fields[11]
    if len(repetition) != 1 or repetition.isalnum():
        repetition = ""  # 004010 puts the standards id 'U' here: no repetition separator
    chosen = [element, component, terminator] + ([repetition] if repetition else [])
    if len(set(chosen)) != len(chosen):
        raise X12SyntaxError(
            f"ISA delimiters collide (element {element!r}, component {component!r}, "
            f"repetition {repetition!r}, terminator {terminator!r})",
            offset=offset,
            segment=ordinal,
        )
    for ch in chosen:
        if ch.isalnum() or ch == " ":
            raise X12SyntaxError(
                f"ISA delimiter {ch!r} is a letter, digit or space", offset=offset, segment=ordinal
            )
    return Delimiters(element, component, repetition, terminator)


class Lexer:
    """Incremental lexer: ``feed(chunk)`` returns the segments completed by that chunk;
    ``close()`` returns nothing more and raises when the input ends inside a segment."""

    def __init__(self, *, max_segment: int = DEFAULT_MAX_SEGMENT,
                 only: frozenset[str] | None = None,
                 keys: frozenset[str] | None = None) -> None:
        """``only``: build segments with these ids only; the others are counted (their
        ordinals stay exact) but not split into elements (a fast scan for envelopes).
        ``keys``: a scanning lexer, read with :meth:`scan` and :meth:`close_scan`, answering
        :class:`Scan` values in which only the segments with these ids are built. ``only``
        and ``keys`` must hold ``IEA`` (after it the next ISA chooses the delimiters)."""
        for ids in (only, keys):
            if ids is not None and "IEA" not in ids:
                raise ValueError("the ids must include IEA")
        self._max_segment = max_segment
        self._only = only
        self._keys = keys
        self._pending: list[str] = []  # text after the last terminator, not yet a segment
        self._pending_len = 0
        self._offset = 0  # byte offset of the first pending character
        self._ordinal = 0
        self._delims: Delimiters | None = None
        self._seen_any = False
        #: (segment ordinal, byte offset, message) for irregularities read past with a warning
        self.notices: list[tuple[int, int, str]] = []

    @property
    def segments_read(self) -> int:
        return self._ordinal

    @property
    def offset(self) -> int:
        """Byte offset of the first character not yet part of a segment."""
        return self._offset

    def resume(self, delims: Delimiters, offset: int, ordinal: int) -> None:
        """Start mid-file: the next byte fed is at ``offset`` and follows segment ``ordinal``
        of an interchange with ``delims`` (``--jobs`` parts of one large file)."""
        self._delims = delims
        self._offset = offset
        self._ordinal = ordinal
        self._seen_any = True

    @property
    def delimiters(self) -> Delimiters | None:
        return self._delims

    def feed(self, data: bytes) -> list[Segment]:
        """The segments completed by ``data``."""
        if self._keys is not None:
            raise TypeError("a scanning lexer is read with scan()")
        return self._feed(data)

    def scan(self, data: bytes) -> list[Scan]:
        """The scans of the whole segments completed by ``data`` (a scanning lexer)."""
        if self._keys is None:
            raise TypeError("scan() needs a lexer made with keys=")
        return self._feed(data)

    def close(self) -> list[Segment]:
        """Nothing more, or the last IEA without a terminator; raises when the input ends
        inside a segment."""
        if self._keys is not None:
            raise TypeError("a scanning lexer is closed with close_scan()")
        return self._close()

    def close_scan(self) -> list[Scan]:
        if self._keys is None:
            raise TypeError("close_scan() needs a lexer made with keys=")
        return self._close()

    def _feed(self, data: bytes) -> list[Any]:
        if not data:
            return []
        self._seen_any = True
        text = data.decode("latin-1")
        out: list[Any] = []
        if self._delims is None:
            self._pending.append(text)
            self._pending_len += len(text)
            self._seek_isa(out, final=False)
            return out
        delims = self._delims
        if delims.segment not in text:
            self._pending.append(text)
            self._pending_len += len(text)
            self._check_pending_size()
            return out
        self._pending.append(text)
        buf = "".join(self._pending)
        self._pending.clear()
        self._pending_len = 0
        self._split(buf, out)
        return out

    def _close(self) -> list[Any]:
        out: list[Any] = []
        if self._delims is None:
            self._seek_isa(out, final=True)
        rest = "".join(self._pending)
        stripped = rest.strip(" \t\r\n\x00\x1a")
        if stripped and self._delims is not None and stripped.startswith("IEA" + self._delims.element):
            lead = len(rest) - len(rest.lstrip(" \t\r\n"))
            start = self._offset + lead
            self._ordinal += 1
            self.notices.append((self._ordinal, start, "the last segment (IEA) has no segment "
                                 "terminator; read as complete"))
            seg = Segment(self._ordinal, start, start + len(stripped),
                          tuple(stripped.split(self._delims.element)), self._delims)
            if self._keys is not None:
                out.append(Scan(stripped, start, self._ordinal - 1, self._delims, [(0, seg)],
                                False))
            else:
                out.append(seg)
            self._pending = []
            return out
        if stripped:
            lead = len(rest) - len(rest.lstrip(" \t\r\n"))
            raise X12SyntaxError(
                "file ends inside a segment (no segment terminator "
                f"{self._delims.segment if self._delims else ''!r} after the last segment; "
                "the file is truncated)",
                offset=self._offset + lead,
                segment=self._ordinal + 1,
            )
        if not self._seen_any:
            raise X12SyntaxError("the file is empty (0 bytes)", offset=0, segment=0)
        return out

    # -- internals -------------------------------------------------------------------------

    def _check_pending_size(self) -> None:
        if self._pending_len > self._max_segment:
            raise too_long(self._max_segment, self._delims.segment if self._delims else "",
                           self._offset, self._ordinal + 1)

    def _seek_isa(self, out: list[Any], *, final: bool) -> None:
        buf = "".join(self._pending)
        lead = len(buf) - len(buf.lstrip(" \t\r\n"))
        body = buf[lead:]
        if self._ordinal == 0 and body.startswith(_BOM):
            self.notices.append((1, self._offset + lead, "a UTF-8 byte-order mark before the ISA "
                                 "was skipped (X12 files are plain ASCII)"))
            lead += len(_BOM)
            body = body[len(_BOM) :]
        if not body:
            self._pending = [buf]
            return
        if not "ISA".startswith(body[:3]):
            if self._ordinal:
                raise X12SyntaxError(
                    "text after IEA that is not a new ISA interchange",
                    offset=self._offset + lead,
                    segment=self._ordinal + 1,
                )
            raise X12SyntaxError(_describe_start(body), offset=self._offset + lead, segment=0)
        length = isa_length(body)
        if not length:
            if final or len(body) >= ISA_MAX_LENGTH:
                raise X12SyntaxError(
                    f"the ISA segment is incomplete ({len(body)} bytes, ISA16 and the segment "
                    "terminator not found)",
                    offset=self._offset + lead,
                    segment=self._ordinal + 1,
                )
            self._pending = [buf]
            self._pending_len = len(buf)
            return
        self._delims = parse_isa(body[:length], self._offset + lead, self._ordinal + 1)
        if length != ISA_LENGTH:
            self.notices.append((self._ordinal + 1, self._offset + lead,
                                 f"ISA is {length} bytes, not {ISA_LENGTH} (its fixed-width "
                                 "fields are not padded); read by its separators"))
        self._offset += lead
        self._pending = []
        self._pending_len = 0
        self._split(body, out)

    def _split(self, buf: str, out: list[Any]) -> None:
        keys = self._keys
        if keys is not None:
            self._scan(buf, out, keys)
            return
        only = self._only
        if only is not None:  # envelopes only: a scan whose keys are the segments asked for
            self._scan(buf, out, only, as_segments=True)
            return
        self._split_all(buf, out)

    def _split_all(self, buf: str, out: list[Any]) -> None:
        """Every segment of ``buf`` built (the public :meth:`feed`)."""
        delims = self._delims
        assert delims is not None
        term = delims.segment
        sep = delims.element
        parts = buf.split(term)
        last = parts.pop()
        pos = self._offset
        ordinal = self._ordinal
        strip_cr = term == "\n"
        append = out.append
        new = tuple.__new__
        limit = self._max_segment
        for i, part in enumerate(parts):
            seg_start = pos
            size = len(part)
            pos += size + 1
            if size > limit:
                self._ordinal, self._offset = ordinal, seg_start
                self._pending_len = size
                self._check_pending_size()
            first = part[:1]
            if first == "\n" or first == "\r" or first == " ":
                stripped = part.lstrip(" \r\n")
                seg_start += len(part) - len(stripped)
                part = stripped
                if not part:
                    continue
            elif not first:
                continue
            if strip_cr and part[-1] == "\r":
                part = part[:-1]
                if not part:
                    continue
            ordinal += 1
            elements = tuple(part.split(sep))
            append(new(Segment, (ordinal, seg_start, pos, elements, delims)))
            if part[0] == "I" and elements[0] == "IEA":
                # The next interchange may choose other delimiters: find its ISA afresh.
                self._ordinal = ordinal
                self._offset = pos
                self._delims = None
                rest = term.join(parts[i + 1 :] + [last])
                self._pending = [rest]
                self._pending_len = len(rest)
                self._seek_isa(out, final=False)
                return
        self._ordinal = ordinal
        self._offset = pos
        self._pending = [last] if last else []
        self._pending_len = len(last)
        self._check_pending_size()

    def _scan(self, buf: str, out: list[Any], keys: frozenset[str], *,
              as_segments: bool = False) -> None:
        """One :class:`Scan` of the whole segments of ``buf``: the segments whose id is in
        ``keys`` built, the others left as text. Regular text (no segment longer than the
        bound, no empty segment) is scanned by one regular expression; anything else
        segment by segment, with the same answers."""
        delims = self._delims
        assert delims is not None
        term = delims.segment
        cut = buf.rfind(term) + 1
        text = buf[:cut] if cut < len(buf) else buf
        found = None
        if cut and len(text) <= self._max_segment:
            found = scan_regular(text, self._offset, self._ordinal, delims, keys)
        if found is None:
            scan, stop, self._ordinal = scan_each(text, self._offset, self._ordinal, delims,
                                                  keys, self._max_segment)
        else:
            scan, self._ordinal = found
            stop = scan.keys[-1][1].end - scan.offset if (
                scan.keys and scan.keys[-1][1][3][0] == "IEA") else -1
        if as_segments:  # the ``only`` lexer
            out.extend(seg for _, seg in scan.keys)
        elif text:
            out.append(scan)
        if stop >= 0:  # an IEA: the next interchange may choose other delimiters
            last_seg = scan.keys[-1][1]
            self._ordinal = last_seg.ordinal
            self._offset = last_seg.end
            self._delims = None
            rest = buf[stop:]
            self._pending = [rest]
            self._pending_len = len(rest)
            self._seek_isa(out, final=False)
            return
        last = buf[cut:]
        self._offset += cut
        self._pending = [last] if last else []
        self._pending_len = len(last)
        self._check_pending_size()

def iter_segments_bytes(data: bytes) -> list[Segment]:
    """All segments of a complete in-memory input (raises :class:`X12SyntaxError`)."""
    lexer = Lexer()
    out = lexer.feed(data)
    out.extend(lexer.close())
    return out
