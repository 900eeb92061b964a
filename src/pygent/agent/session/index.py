"""The sessions index: one small JSON file per workspace so listing never reads whole sessions.

``<workspace sessions dir>/index.json`` holds, per session file, what a list shows (title,
created, updated, model, cwd, message count) plus how far the file was scanned (``size``) and its
``mtime_ns``. :meth:`SessionIndex.refresh` stats every session file (one ``scandir``) and:

* uses the entry as is when size and mtime match;
* when the file only grew (sessions are append-only), scans just the new bytes;
* else (new file, shrunk, rewritten) scans the whole file.

It is a cache, never the truth: a missing, corrupt or foreign index is rebuilt from the files, and
an entry is trusted only while its file's size and mtime match. Writes are atomic (a temporary
file, then ``os.replace``), so two servers on one workspace never see a half-written index; when
both write, the last one wins and the other's changes are picked up by the next refresh (the
files say what changed). ``create`` and ``delete`` update the index at once; appends are noticed
on the next listing.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pygent.agent.session.ids import iso, session_id_time
from pygent.agent.session.text import message_text, title_from_text

__all__ = ["INDEX_FILE", "INDEX_VERSION", "SessionIndex", "scan_entry"]

#: File name of the index inside a workspace's sessions directory.
INDEX_FILE = "index.json"
#: Bump when the entry format changes: an index of another version is rebuilt.
INDEX_VERSION = 1

_MESSAGE_PREFIX = b'{"type":"message"'
_lock = threading.Lock()
_COMPLETE = frozenset({"size", "fileSize", "mtime_ns", "created", "updatedAt", "messageCount"})


def _updated_at(mtime: float, created: str) -> str:
    """The file's modification time, but never a moment before the session was created.

    File systems keep modification times on a coarse clock (a few milliseconds on Linux), so a
    file written just after its header's ``created`` can look older than it by that much. A gap
    of more than a second is real (the file was copied or restored) and is kept.
    """
    updated = datetime.fromtimestamp(mtime, tz=timezone.utc)
    try:
        born = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return iso(updated)
    if born.tzinfo is not None and timedelta(0) < born - updated < timedelta(seconds=1):
        return created
    return iso(updated)


def _first_user_title(line: bytes) -> str:
    with contextlib.suppress(ValueError, AttributeError, TypeError, KeyError):
        return title_from_text(message_text(json.loads(line)["message"]))
    return ""


def scan_entry(data: bytes, entry: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fold session-file bytes (whole lines) into an index entry; ``entry`` continues a scan.

    Message lines are counted, not parsed; only header, meta and compaction lines are parsed
    (and the first user message, for a title when none was set).
    """
    state: dict[str, Any] = dict(entry or {})
    state.setdefault("messageCount", 0)
    state.setdefault("title", "")
    state.setdefault("userTitle", "")
    count = int(state["messageCount"])
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        if line.startswith(_MESSAGE_PREFIX) and line.rstrip().endswith(b"}"):
            count += 1
            if not state["userTitle"] and b'"role":"user"' in line:
                state["userTitle"] = _first_user_title(line) or ""
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        kind = record.get("type")
        if kind == "message" and isinstance(record.get("message"), dict):  # written by hand
            count += 1
            if not state["userTitle"] and record["message"].get("role") == "user":
                state["userTitle"] = title_from_text(message_text(record["message"]))
        elif kind == "session" and "created" not in state:
            state["created"] = str(record.get("created") or "")
            state["cwd"] = str(record.get("cwd") or "")
            state["model"] = str(record.get("model") or "")
        elif kind == "meta" and "title" in record:
            state["title"] = str(record.get("title") or "")
        elif kind == "compaction" and isinstance(record.get("messages"), list):
            count = len(record["messages"])
            state["userTitle"] = ""
            for message in record["messages"]:
                if isinstance(message, dict) and message.get("role") == "user":
                    state["userTitle"] = title_from_text(message_text(message))
                    break
    state["messageCount"] = count
    return state


@dataclass
class _FileStat:
    session_id: str
    path: str
    size: int
    mtime_ns: int


class SessionIndex:
    """The index of one workspace's sessions directory.

    Args:
        directory: The workspace's sessions directory.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / INDEX_FILE

    def read(self) -> dict[str, dict[str, Any]]:
        """The entries by session id ({} when the index is missing, corrupt or of another version)."""
        try:
            data = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
            return {}
        sessions = data.get("sessions")
        if not isinstance(sessions, dict):
            return {}
        # An entry is used as is only when complete; anything else is rescanned.
        return {
            k: v
            for k, v in sessions.items()
            if isinstance(v, dict) and v.get("sessionId") == k and v.keys() >= _COMPLETE
        }

    def write(self, entries: dict[str, dict[str, Any]]) -> None:
        """Replace the index atomically (never fails: the index is only a cache)."""
        payload = json.dumps(
            {"version": INDEX_VERSION, "sessions": entries},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8", "surrogatepass")
        try:
            fd, temp = tempfile.mkstemp(prefix=".index-", suffix=".tmp", dir=self.directory)
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
            os.replace(temp, self.path)
        except OSError:  # e.g. Windows refuses to replace a file another process has open
            with contextlib.suppress(OSError):
                os.unlink(temp)

    def update(self, session_id: str, path: Path | None) -> None:
        """Record one session now (after ``create``), or drop it (``path`` None, after ``delete``)."""
        with _lock:
            entries = self.read()
            if path is None:
                if entries.pop(session_id, None) is None:
                    return
            else:
                try:
                    stat = path.stat()
                except OSError:
                    return
                entry = self._scan(
                    _FileStat(session_id, str(path), stat.st_size, stat.st_mtime_ns), None
                )
                if entry is None:
                    return
                entry["sessionId"] = session_id
                entries[session_id] = entry
            self.write(entries)

    @staticmethod
    def _scan(file: _FileStat, entry: dict[str, Any] | None) -> dict[str, Any] | None:
        start = 0
        if entry is not None:
            scanned = entry.get("size")
            # Grown: sessions are append-only, so only the new bytes need reading. Same size
            # but a new mtime (rewritten, restored): read it all.
            if isinstance(scanned, int) and 0 < scanned <= file.size != entry.get("fileSize"):
                start = scanned
            else:
                entry = None
        try:
            with open(file.path, "rb") as handle:
                handle.seek(start)
                data = handle.read(file.size - start)
        except OSError:
            return None
        # Only whole lines count: a write in progress is picked up next time.
        end = data.rfind(b"\n") + 1
        fresh = scan_entry(data[:end], entry)
        fresh["size"] = start + end
        fresh["fileSize"] = file.size
        fresh["mtime_ns"] = file.mtime_ns
        # Both are fixed while size and mtime match: computed here once, not on every listing.
        created = str(fresh.get("created") or iso(session_id_time(file.session_id)))
        fresh["created"] = created
        fresh["updatedAt"] = _updated_at(file.mtime_ns / 1e9, created)
        return fresh

    def refresh(self, files: list[tuple[str, str, int, int]]) -> list[dict[str, Any]]:
        """Entries for ``files`` (``(id, path, size, mtime_ns)``), rescanning only what changed.

        Writes the index back when anything changed. Returns the entries (with ``sessionId``,
        ``created`` and ``updatedAt``), in the order of ``files``.
        """
        with _lock:
            entries = self.read()
            changed = set(entries) - {f[0] for f in files}
            out: list[dict[str, Any]] = []
            for session_id, path, size, mtime_ns in files:
                entry = entries.get(session_id)
                current = (
                    entry is not None
                    and entry.get("mtime_ns") == mtime_ns
                    and entry.get("fileSize") == size
                )
                if not current:
                    scanned = self._scan(_FileStat(session_id, path, size, mtime_ns), entry)
                    if scanned is None:
                        continue
                    scanned["sessionId"] = session_id
                    entry = entries[session_id] = scanned
                    changed.add(session_id)
                assert entry is not None
                out.append(entry)
            for gone in set(entries) - {f[0] for f in files}:
                entries.pop(gone, None)
            if changed:
                self.write(entries)
        return out
