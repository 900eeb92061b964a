"""Cross-process session locks: one turn at a time per session, across servers, TUIs and ``pygent run``.

A turn appends many records to a session file; two processes running turns on one session would
interleave their histories. :class:`SessionLock` is held while a turn (or a compaction) runs and is
released when it ends. Loading, listing and replaying stay allowed without it: they only read.

The lock is ``<session>.jsonl.lock`` beside the session file, holding the holder's pid, host and
program as JSON, and an OS lock on that file held for the whole turn:

* POSIX: ``fcntl.flock(LOCK_EX | LOCK_NB)`` on the whole file.
* Windows: ``msvcrt.locking(LK_NBLCK)`` on one byte far past the end of the file (a locked byte
  range cannot be read by others on Windows, so the holder's description stays readable).

The kernel drops an OS lock when its process dies, even by SIGKILL or power loss of a local disk,
so a stale lock never blocks anyone: a lock file whose OS lock is free is stale by definition and
is taken over, whatever pid it names. The pid and host in the file are only there to tell the
person *who* holds it. On a network file system, locks from another host are honoured when the
file system forwards them (NFSv4, SMB); the message names that host so the person can check it.

Why not a lock held for as long as a session is open: editors keep sessions open for hours, and a
person who continues a session from the terminal while an editor still shows it must not be
refused. Instead, the process that takes the lock re-reads the session from disk when the file
changed since it last read or wrote it (compare :func:`file_stamp`), so every turn builds on the
whole history.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from pygent.errors import PygentError, session_busy, session_not_found

__all__ = ["LOCK_SUFFIX", "SessionLock", "file_stamp", "lock_path", "read_holder"]

LOCK_SUFFIX = ".lock"
IS_WINDOWS = sys.platform == "win32"
#: Windows locks this byte offset (past any holder description) rather than the description itself.
_WINDOWS_LOCK_OFFSET = 1 << 20
_LOCK_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOINHERIT", 0)


def lock_path(session_path: Path) -> Path:
    """The lock file of a session file (``<id>.jsonl.lock``)."""
    return session_path.with_name(session_path.name + LOCK_SUFFIX)


def file_stamp(path: Path) -> tuple[int, int] | None:
    """``(size, mtime_ns)`` of a file, None when it cannot be read: a cheap "did it change" test."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def read_holder(session_path: Path) -> dict[str, Any] | None:
    """The holder described in a session's lock file (pid, host, program, since), if readable."""
    try:
        raw = lock_path(session_path).read_bytes()[:4096]
        data = json.loads(raw.decode("utf-8").strip() or "null")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def describe_holder(holder: dict[str, Any] | None) -> str:
    """ "pygent serve (pid 4242 on host build-7)" for a holder description."""
    if not holder:
        return "another process"
    program = str(holder.get("program") or "another pygent process")
    pid = holder.get("pid")
    host = holder.get("host")
    where = f"pid {pid}" if pid is not None else "unknown pid"
    if host and host != socket.gethostname():
        where += f" on host {host}"
    return f"{program} ({where})"


def _try_os_lock(fd: int) -> bool:
    """Take the OS lock on ``fd`` without waiting; False when another process holds it."""
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _os_unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        with contextlib.suppress(OSError):
            os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)


def _same_file(fd: int, path: Path) -> bool:
    """True when ``path`` still names the file open as ``fd`` (it was not unlinked and recreated)."""
    if IS_WINDOWS:  # an open file cannot be deleted from under us there
        return True
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


class SessionLock:
    """The turn lock of one session file.

    Args:
        session_path: The session's ``.jsonl`` file.
        session_id: The session id (for the error message).
        program: Who takes the lock, as shown to someone refused (``"pygent serve"``).

    Example:
        ``lock = SessionLock(session.path, session.id); lock.acquire(); try: ... finally: lock.release()``
    """

    def __init__(self, session_path: Path, session_id: str, program: str = "pygent") -> None:
        self.session_path = Path(session_path)
        self.path = lock_path(self.session_path)
        self.session_id = session_id
        self.program = program
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock now or fail; never waits.

        Raises:
            PygentError: ``session_busy`` naming the holder (program, pid, host) when another
                process (or another :class:`SessionLock` in this one) holds it.
        """
        if self._fd is not None:
            return
        for _ in range(5):  # retries only when a releasing holder unlinked the file meanwhile
            try:
                fd = os.open(self.path, _LOCK_FLAGS, 0o600)
            except FileNotFoundError:  # the session's directory is gone: so is the session
                raise session_not_found(self.session_id) from None
            except OSError as exc:
                raise PygentError(
                    "internal",
                    f"Cannot lock session {self.session_id!r}: {exc.strerror or exc}.",
                    f"Check that {self.path.parent} is writable.",
                    {"sessionId": self.session_id},
                ) from None
            if not _try_os_lock(fd):
                os.close(fd)
                raise session_busy(self.session_id, describe_holder(read_holder(self.session_path)))
            if not _same_file(fd, self.path):
                _os_unlock(fd)
                os.close(fd)
                continue
            self._fd = fd
            self._write_holder(fd)
            return
        raise session_busy(self.session_id, "another process")  # pragma: no cover - a lock storm

    def _write_holder(self, fd: int) -> None:
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "program": self.program,
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        data = json.dumps(holder).encode("utf-8") + b"\n"
        with contextlib.suppress(OSError):  # the description is a courtesy; the OS lock is the lock
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, data)

    def release(self) -> None:
        """Release the lock and remove the lock file (safe to call twice)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        # Unlink while still locked: a process that opened the old file meanwhile sees it was
        # replaced (``_same_file``) and retries on the new one instead of sharing a dead lock.
        if not IS_WINDOWS:
            with contextlib.suppress(OSError):
                self.path.unlink()
        else:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
        _os_unlock(fd)
        os.close(fd)
        if IS_WINDOWS:
            with contextlib.suppress(OSError):  # fails while another process has it open: fine
                self.path.unlink()

    def __enter__(self) -> SessionLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
