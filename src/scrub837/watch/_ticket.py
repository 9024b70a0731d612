"""What the watcher decided for one claimed input, kept in the work folder so that a re-scrub
after a crash gives the same answer, byte for byte.

A ticket (``WORK/.ticket.TOKEN.json``, TOKEN from the claim name, kept when a crashed claim is
recovered) is written after hashing and before scrubbing. It pins the output stem, whether the
input is a duplicate (and of which stem), the 277CA creation date/time, and every block of
control numbers the 277CA took (recorded, fsynced, before a number is written anywhere): a
re-scrub replays them in the same order. It is removed once the input is archived.

``STEM.done`` in the outbox is written last, after every other output of the input is in
place: JSON naming the input, its sha256 and the outputs in the order they were renamed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from scrub837.watch._fs import write_atomic
from scrub837.outputs.control import ControlNumbers

TICKET_PREFIX = ".ticket."
DONE = ".done"
DUPLICATE = ".duplicate.json"


@dataclass
class Ticket:
    path: Path
    name: str
    sha256: str
    stem: str
    now: str
    duplicate_of: str | None = None
    takes: list[tuple[int, int]] = field(default_factory=list)  # (count, first) in order

    @staticmethod
    def path_for(work: Path, token: str) -> Path:
        return work / f"{TICKET_PREFIX}{token}.json"

    @classmethod
    def load(cls, path: Path) -> Ticket | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(path, str(data["name"]), str(data["sha256"]), str(data["stem"]),
                       str(data["now"]), data.get("duplicate_of"),
                       [(int(c), int(f)) for c, f in data.get("takes", [])])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # none, or torn (written atomically, so only by hand)

    def save(self) -> None:
        write_atomic(self.path, json.dumps({
            "name": self.name, "sha256": self.sha256, "stem": self.stem, "now": self.now,
            "duplicate_of": self.duplicate_of, "takes": self.takes}), 0o600)

    @property
    def created(self) -> datetime:
        return datetime.fromisoformat(self.now)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


class ReplayedNumbers(ControlNumbers):
    """The run's control numbers, with the blocks this input took before replayed first."""

    def __init__(self, base: ControlNumbers, ticket: Ticket) -> None:
        super().__init__()
        self.base = base
        self.ticket = ticket
        self._used = 0

    def take(self, count: int = 1) -> int:
        with self._lock:
            if self._used < len(self.ticket.takes):
                recorded, first = self.ticket.takes[self._used]
                if recorded == count:
                    self._used += 1
                    return first
                del self.ticket.takes[self._used:]  # a different scrub (new rules): new numbers
            first = self.base.take(count)
            self.ticket.takes.append((count, first))
            self.ticket.save()  # on disk before the number is written into an output
            self._used += 1
            return first


def write_done(outbox: Path, stem: str, name: str, sha256: str, outputs: list[str],
               mode: int, duplicate_of: str | None = None) -> Path:
    path = outbox / f"{stem}{DONE}"
    record: dict[str, object] = {"file": name, "stem": stem, "sha256": sha256,
                                 "outputs": outputs}
    if duplicate_of is not None:
        record["duplicate_of"] = duplicate_of
    write_atomic(path, json.dumps(record), mode)
    return path


def read_done(outbox: Path, stem: str) -> dict[str, object] | None:
    try:
        data = json.loads((outbox / f"{stem}{DONE}").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_duplicate(outbox: Path, stem: str, name: str, sha256: str, first: str,
                    mode: int) -> Path:
    """The answer to a duplicate upload: which earlier upload it repeats, where its answer is."""
    first_done = read_done(outbox, first)
    answer = first_done.get("outputs") if first_done else None
    path = outbox / f"{stem}{DUPLICATE}"
    write_atomic(path, json.dumps({
        "file": name, "sha256": sha256, "status": "duplicate",
        "message": "this content was already received; it was not processed again",
        "duplicate_of": first, "answer": answer or [f"{first}.277", f"{first}.report.json"],
        "answer_done": f"{first}{DONE}"}), mode)
    return path


def new_now() -> str:
    return datetime.now().isoformat(timespec="seconds")
