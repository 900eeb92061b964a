"""The server's side of the cross-process session lock: take it for a turn, refresh, release.

Kept apart from the request dispatch so that ``server.py`` calls three functions and nothing else
(see :mod:`pygent.agent.session_lock` for the lock itself and why it is held per turn).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pygent.agent.session_lock import SessionLock, file_stamp

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["PROGRAM", "acquire", "delete_unlocked", "refresh", "release", "remember"]

#: How a server names itself to a process it refuses.
PROGRAM = "pygent serve"


def acquire(state: Any) -> SessionLock:
    """Take ``state.session``'s turn lock (never waits).

    Raises:
        PygentError: ``session_busy`` naming the process that holds it.
    """
    lock = SessionLock(state.session.path, state.session.id, PROGRAM)
    lock.acquire()
    return lock


def remember(state: Any) -> None:
    """Record the session file's current stamp: what this server last read or wrote."""
    state.stamp = file_stamp(state.session.path)


def refresh(state: Any) -> bool:
    """Re-read the session when another process wrote to it since :func:`remember` (under the lock).

    Returns:
        True when the session was reloaded.
    """
    if file_stamp(state.session.path) == getattr(state, "stamp", None):
        return False
    state.session = state.store.load(state.session.id)
    return True


def release(state: Any, lock: SessionLock) -> None:
    """Remember the file as this turn left it, then release the lock."""
    try:
        remember(state)
    finally:
        lock.release()


def delete_unlocked(store: Any, session_id: str, session_path: Path) -> None:
    """Delete a session unless another process is running a turn on it (``session_busy``)."""
    if not session_path.is_file():
        store.delete(session_id)  # raises session_not_found
        return
    with SessionLock(session_path, session_id, PROGRAM):
        store.delete(session_id)
