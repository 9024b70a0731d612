"""Filesystem moves for the watcher: claim names, no-clobber renames, atomic notes, liveness.

Every move is one ``rename`` inside one filesystem, so a file is always under exactly one name;
a move never replaces an existing file (``renameat2(RENAME_NOREPLACE)``, or a hard link then
unlink where that is not supported, and a suffix ``.1``, ``.2``... on a clash).
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import secrets
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

HOST = (socket.gethostname().replace(".", "_").replace("/", "_").replace("~", "_")
        or "localhost")
IGNORED_SUFFIXES = (".part", ".tmp")
_RENAME_NOREPLACE = 1
_AT_FDCWD = -100


def _load_renameat2() -> object | None:
    try:
        func = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    func.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    func.restype = ctypes.c_int
    return func


_renameat2 = _load_renameat2()


@dataclass(frozen=True)
class ClaimName:
    """``NAME.HOST.PID.CLAIMTIME.TOKEN``: who claimed the input, and when."""

    name: str
    host: str
    pid: int
    claimed_at: int
    token: str

    @classmethod
    def new(cls, name: str) -> ClaimName:
        return cls(name, HOST, os.getpid(), int(time.time()), secrets.token_hex(8))

    @classmethod
    def parse(cls, text: str) -> ClaimName | None:
        parts = text.rsplit(".", 4)
        if len(parts) != 5 or not parts[0]:
            return None
        name, host, pid, claimed_at, token = parts
        if not (pid.isdigit() and claimed_at.isdigit() and token):
            return None
        return cls(name, host, int(pid), int(claimed_at), token)

    @property
    def file_name(self) -> str:
        return f"{self.name}.{self.host}.{self.pid}.{self.claimed_at}.{self.token}"

    @property
    def claim_id(self) -> str:
        """The claim without the file name (recorded in the sha256 index)."""
        return f"{self.host}.{self.pid}.{self.claimed_at}.{self.token}"


def _rename_noreplace(src: Path, dst: Path) -> None:
    """Rename without replacing ``dst``; FileExistsError when it exists."""
    if _renameat2 is not None:
        rc = _renameat2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst),  # type: ignore[operator]
                        _RENAME_NOREPLACE)
        if rc == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
            raise OSError(err, os.strerror(err), str(src), None, str(dst))
    try:  # filesystems without RENAME_NOREPLACE (some network filesystems)
        os.link(src, dst)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if os.path.lexists(dst):
            raise FileExistsError(errno.EEXIST, "File exists", str(dst)) from None
        os.rename(src, dst)
        return
    os.unlink(src)


def move_noclobber(src: Path, folder: Path, name: str) -> Path:
    """Move ``src`` into ``folder`` as ``name`` (or ``name.1``, ``name.2``...); never replaces."""
    n = 0
    while True:
        target = folder / (name if n == 0 else f"{name}.{n}")
        try:
            _rename_noreplace(src, target)
        except FileExistsError:
            n += 1
            continue
        fsync_dir(folder)
        return target


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, text: str, mode: int) -> None:
    """Write ``text`` to a hidden temporary file, fsync it, and rename it to ``path``."""
    tmp = path.with_name(temp_name(path.name))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as f:
            f.write(text if text.endswith("\n") else text + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def watcher_alive(pid: int) -> bool:
    """True when ``pid`` runs on this host and looks like a scrub837 process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # no /proc: assume it is alive
    except OSError:
        return True
    return b"scrub837" in cmdline


def claim_alive(claim_id: str, stale_after: float) -> bool:
    """May the watcher that made this claim (``HOST.PID.TIME.TOKEN``) still be working on it?
    On this host: its pid is a live scrub837 process other than this one; elsewhere: the claim
    is younger than ``stale_after`` seconds."""
    claim = ClaimName.parse(f"x.{claim_id}")
    if claim is None:
        return True
    if claim.host == HOST:
        return claim.pid != os.getpid() and watcher_alive(claim.pid)
    return time.time() - claim.claimed_at < stale_after


def temp_name(name: str) -> str:
    """``.NAME.w~HOST~PID~HEX.tmp``: a watcher's temporary file, with who writes it."""
    return f".{name}.w~{HOST}~{os.getpid()}~{secrets.token_hex(4)}.tmp"


def temp_writer(name: str) -> tuple[str, int] | None:
    """(host, pid) of a :func:`temp_name`, or None for any other name."""
    if not (name.startswith(".") and name.endswith(".tmp")):
        return None
    _, tag, tail = name[:-4].rpartition(".w~")
    parts = tail.split("~")
    if not tag or len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


def same_filesystem(*folders: Path) -> bool:
    return len({os.stat(f).st_dev for f in folders}) == 1


def ignored(name: str) -> bool:
    """Names the watcher never picks up: uploads in progress and hidden files."""
    return name.startswith(".") or name.endswith(IGNORED_SUFFIXES)


def errno_name(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, type(exc).__name__)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_note(note: Path | None, name: str) -> str:
    try:
        if note is not None:
            return note.read_text(encoding="utf-8", errors="replace")
    except OSError:
        pass
    return f"file: {name}\nproblem: the file cannot be read as X12 837\n"


def files_stamp(roots: Iterable[Path]) -> tuple[tuple[str, int, int], ...]:
    """Size and mtime of every file under ``roots`` (files or folders): a change detector."""
    out = []
    for root in roots:
        try:
            paths = sorted(root.rglob("*")) if root.is_dir() else [root]
        except OSError:
            paths = []
        for p in paths:
            try:
                st = p.stat()
            except OSError:
                continue
            out.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(out)
