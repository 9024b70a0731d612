"""The TA1 interchange acknowledgment, ``NAME.ta1``: written when an interchange envelope
(ISA/IEA) of the file has a problem or an interchange asks for one (ISA14 ``1``), one TA1
segment for each such interchange (the answers
are decided by :mod:`scrub837.verdicts.interchange`; README "What comes out" and
docs/report-schema.md say what they mean).

``TA1*ISA13*ISA09*ISA10*TA104*TA105``: the interchange's control number, date and time as its
ISA gave them, TA104 (``A`` no errors, ``E`` accepted with errors, ``R`` rejected) and TA105,
the X12 interchange note code (``001`` the control numbers in header and trailer do not match,
``021`` wrong IEA01 group count, ``023`` premature end of file, ...; ``000`` no error).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import BinaryIO

from scrub837.verdicts.interchange import Ta1Answer
from scrub837.outputs.ack277 import AckConfig, clean
from scrub837.outputs.control import ControlNumbers


def write_ta1(stream: BinaryIO, answers: Sequence[Ta1Answer], config: AckConfig,
              control: ControlNumbers, now: datetime) -> None:
    """One interchange holding a TA1 segment per answered interchange (no functional group,
    IEA01 = 0). Sender and receiver as the 277CA's: ``config``'s sender; as receiver
    the first interchange's sender (ISA05/ISA06) unless ``config`` names one."""
    first = answers[0] if answers else None
    receiver = clean(config.receiver_id or (first.sender[1] if first else ""), 15) or "UNKNOWN"
    receiver_q = clean(config.receiver_qualifier or (first.sender[0] if first else ""),
                       2) or "ZZ"
    usage = first.usage if first is not None else "P"
    isa13 = control.take()
    segments = ["*".join(["ISA", "00", " " * 10, "00", " " * 10,
                          clean(config.sender_qualifier, 2).ljust(2),
                          clean(config.sender_id, 15).ljust(15), receiver_q.ljust(2),
                          receiver.ljust(15), now.strftime("%y%m%d"), now.strftime("%H%M"), "^",
                          "00501", f"{isa13:09d}", "0", usage, ":"])]
    for a in answers:
        segments.append("*".join(["TA1", _digits(a.isa13, 9), _digits(a.date, 6),
                                  _digits(a.time, 4), a.status, a.note]))
    segments.append(f"IEA*0*{isa13:09d}")
    end = "~\n" if config.newline else "~"
    stream.write("".join(s + end for s in segments).encode("ascii", "replace"))


def _digits(value: str, size: int) -> str:
    """TA101-TA103 are fixed-size numbers: the original's when it is one, else zeros."""
    value = value.strip()
    return value if len(value) == size and value.isdigit() else "0" * size
