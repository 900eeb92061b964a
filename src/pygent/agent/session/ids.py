"""Session ids (ULIDs), their validation, the workspace key and the timestamps records carry."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from pygent.errors import PygentError

__all__ = [
    "ID_PATTERN",
    "iso",
    "new_session_id",
    "now_iso",
    "session_id_time",
    "validate_session_id",
    "workspace_key",
]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_PATTERN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_ID_LENGTH = 26

# -- ids ------------------------------------------------------------------------------------

_id_lock = threading.Lock()
_last_ms = -1
_last_rand = 0


def _encode_base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_session_id(now_ms: int | None = None) -> str:
    """A new session id: a ULID (26 Crockford base32 characters, 48-bit millisecond time first).

    Ids sort by creation time, and ids made in the same millisecond by this process still sort
    in creation order (the random part is incremented). They are safe as file names everywhere.

    Args:
        now_ms: Milliseconds since the epoch (default: now); for tests.
    """
    global _last_ms, _last_rand
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    with _id_lock:
        if ms <= _last_ms and now_ms is None:
            ms = _last_ms
            rand = (_last_rand + 1) & ((1 << 80) - 1)
        else:
            rand = secrets.randbits(80)
        _last_ms, _last_rand = ms, rand
    return _encode_base32(ms & ((1 << 48) - 1), 10) + _encode_base32(rand, 16)


def validate_session_id(session_id: object) -> str:
    """Check that ``session_id`` is a well-formed session id and return it (upper case).

    Anything else (empty, too long, path separators, ``..``, other characters) is rejected, so an
    id can never name a file outside the sessions directory.

    Raises:
        PygentError: code ``invalid_params``, saying what a valid id looks like.
    """
    if not isinstance(session_id, str) or not session_id.strip():
        raise PygentError(
            "invalid_params",
            "The session id is empty.",
            "Give a session id as shown by `pygent sessions list`.",
            {"sessionId": session_id if isinstance(session_id, str) else None},
        )
    candidate = session_id.strip().upper()
    if not ID_PATTERN.match(candidate):
        shown = session_id if len(session_id) <= 80 else session_id[:77] + "..."
        raise PygentError(
            "invalid_params",
            f"{shown!r} is not a valid session id: ids are {_ID_LENGTH} letters and digits "
            "(like 01JDQ8M3V6Y5W1ZP9K4T2X7R0B).",
            "List this workspace's sessions with `pygent sessions list`.",
            {"sessionId": shown},
        )
    return candidate


def session_id_time(session_id: str) -> datetime:
    """The creation time encoded in a (valid) session id."""
    ms = 0
    for char in session_id[:10]:
        ms = (ms << 5) | _CROCKFORD.index(char)
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


# -- helpers --------------------------------------------------------------------------------


def now_iso() -> str:
    """Now, ISO 8601 UTC with milliseconds (``2026-01-02T03:04:05.678Z``)."""
    return iso(datetime.now(timezone.utc))


def iso(moment: datetime) -> str:
    """``moment`` as ISO 8601 UTC with milliseconds."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def workspace_key(workspace_root: Path) -> str:
    """The directory name for a workspace's sessions: ``<folder>-<10 hex of sha256(path)>``.

    Readable (the folder name) and unique per resolved workspace path.
    """
    resolved = Path(workspace_root).expanduser().resolve()
    # normcase: on Windows, C:\Repo and c:\repo are the same workspace.
    digest = hashlib.sha256(
        os.path.normcase(str(resolved)).encode("utf-8", "surrogatepass")
    ).hexdigest()[:10]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", resolved.name).strip("._") or "root"
    return f"{name[:40]}-{digest}"
