"""The session store: one append-only JSON Lines file per session, written and parsed here.

The write path is :meth:`Session._write` (every record, one ``O_APPEND`` write) and
:meth:`SessionStore.create`; a cross-process lock can wrap those two places.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from pygent.agent.session.ids import (
    ID_PATTERN,
    iso,
    new_session_id,
    now_iso,
    session_id_time,
    validate_session_id,
    workspace_key,
)
from pygent.agent.session.index import SessionIndex
from pygent.agent.session.text import message_text, title_from_text
from pygent.errors import PygentError, session_not_found
from pygent.protocol.updates import OUTCOME_REJECTED
from pygent.redact import redact_value

if TYPE_CHECKING:
    from pygent.tools.base import ToolRegistry

__all__ = [
    "APPROVAL_WAIT_KEY",
    "DURATION_KEY",
    "FORMAT_VERSION",
    "OUTCOME_KEY",
    "SESSION_FILE_SUFFIX",
    "USAGE_KEY",
    "Session",
    "SessionInfo",
    "SessionStore",
]

#: File name suffix of session files.
SESSION_FILE_SUFFIX = ".jsonl"
#: Version of the record format, written into every header.
FORMAT_VERSION = 1

_RESERVED_META_KEYS = frozenset({"type", "ts"})

#: Record key of a tool result: milliseconds the tool ran (waiting for the person excluded).
DURATION_KEY = "durationMs"
#: Record key of a tool result: milliseconds spent waiting for the person's approval or review.
APPROVAL_WAIT_KEY = "approvalWaitMs"
#: Key (in :meth:`Session.message_extras`) of the usage of the turn a message ends.
USAGE_KEY = "usage"
#: Record key of a tool result the person turned down (value ``"rejected"``).
OUTCOME_KEY = "outcome"


def _dumps(record: dict[str, Any]) -> bytes:
    record = redact_value(record, keys_only=True)  # no key reaches the file (pygent.redact)
    try:
        return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode(
            "utf-8"
        )
    except UnicodeEncodeError:  # lone surrogates (e.g. undecodable tool output): escape them
        return (json.dumps(record, ensure_ascii=True, separators=(",", ":")) + "\n").encode("ascii")


_OPEN_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)


def _append_bytes(path: Path, data: bytes, *, fsync: bool = False, create: bool = True) -> None:
    # One write() on an O_APPEND descriptor: concurrent writers never interleave within a line.
    # Only the header write creates the file: a record for a session deleted meanwhile must not
    # bring it back as a file without a header.
    fd = os.open(path, _OPEN_FLAGS if create else _OPEN_FLAGS & ~os.O_CREAT, 0o600)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)


# -- the session ----------------------------------------------------------------------------


class SessionInfo(TypedDict):
    """A session as listed (wire names, so the server can send it unchanged)."""

    sessionId: str
    title: str
    cwd: str
    model: str
    created: str
    updatedAt: str
    messageCount: int


@dataclass
class Session:
    """One conversation: its header, its messages (OpenAI format) and the file they live in.

    Use :meth:`SessionStore.create` or :meth:`SessionStore.load` to get one. Change the history
    only through :meth:`append` and :meth:`replace_history`: each call is persisted at once.

    Attributes:
        id: The session id (see :func:`new_session_id`).
        path: The session's ``.jsonl`` file.
        cwd: The working directory the session was started in.
        created: Creation time, ISO 8601 UTC.
        updated: Time of the last record, ISO 8601 UTC.
        model: The model the session uses (changed with :meth:`set_meta`).
        mode: The permission mode chosen for the session, if any.
        title: Title (from the first user message unless set explicitly).
        messages: The history as OpenAI-format message dicts.
        warnings: Problems found while loading (corrupt lines that were skipped).
        meta: Other metadata set with :meth:`set_meta`.
        fsync: Call ``fsync`` after each record (slower; survives power loss).
    """

    id: str
    path: Path
    cwd: str
    created: str
    updated: str
    model: str
    mode: str | None = None
    title: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    fsync: bool = False
    _extras: list[dict[str, Any]] = field(default_factory=list, repr=False)
    _needs_newline: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- writing ----------------------------------------------------------------------------

    def _write(self, record: dict[str, Any]) -> None:
        data = _dumps(record)
        with self._lock:
            if self._needs_newline:
                # The file ends in a partial line (a crash): start ours on a fresh line.
                data = b"\n" + data
            try:
                _append_bytes(self.path, data, fsync=self.fsync, create=False)
            except FileNotFoundError:
                raise session_not_found(self.id) from None
            self._needs_newline = False
            self.updated = str(record.get("ts") or now_iso())

    def append(
        self,
        message: dict[str, Any],
        *,
        status: str | None = None,
        duration_ms: float | None = None,
        approval_wait_ms: float | None = None,
        outcome: str | None = None,
    ) -> None:
        """Persist one OpenAI-format message and add it to :attr:`messages`.

        The first user message also sets the title (a ``meta`` record) unless one is set.
        ``status`` and the timings are kept next to the message (in its record), so the message
        itself stays valid for the model; replay shows them.

        Args:
            message: ``{"role": ..., "content": ..., ...}`` exactly as sent to the model.
            status: For ``tool`` results, ``"failed"`` when the call failed.
            duration_ms: For ``tool`` results, how long the tool ran (without waiting for the
                person).
            approval_wait_ms: For ``tool`` results, how long the person took to answer the
                permission question or review the edit (None when nobody was asked).
            outcome: For ``tool`` results, ``"rejected"`` when the person turned the call down.
        """
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise ValueError("a session message must be a dict with a 'role'")
        # Memory holds what the file holds: a key never goes back to the model either.
        message = redact_value(message, keys_only=True)
        if not self.title and message["role"] == "user":
            title = title_from_text(message_text(message))
            if title:
                self.set_meta(title=title)
        record: dict[str, Any] = {"type": "message", "ts": now_iso(), "message": message}
        extra: dict[str, Any] = {}
        if status is not None:
            record["status"] = extra["status"] = status
        if duration_ms is not None:
            record[DURATION_KEY] = extra[DURATION_KEY] = round(duration_ms, 1)
        if approval_wait_ms is not None:
            record[APPROVAL_WAIT_KEY] = extra[APPROVAL_WAIT_KEY] = round(approval_wait_ms, 1)
        if outcome == OUTCOME_REJECTED:
            record[OUTCOME_KEY] = extra[OUTCOME_KEY] = OUTCOME_REJECTED
        self._write(record)
        self.messages.append(message)
        self._extras.append(extra)

    def extend(self, messages: Iterable[dict[str, Any]]) -> None:
        """Append several messages (one record each)."""
        for message in messages:
            self.append(message)

    def set_meta(self, **values: Any) -> None:
        """Persist metadata changes: ``title``, ``mode``, ``model`` or any JSON value.

        Example:
            ``session.set_meta(mode="auto-edit", model="openai/gpt-4o")``
        """
        if not values:
            return
        reserved = _RESERVED_META_KEYS.intersection(values)
        if reserved:
            raise ValueError(f"reserved metadata keys: {', '.join(sorted(reserved))}")
        record: dict[str, Any] = {"type": "meta", "ts": now_iso(), **values}
        self._write(record)
        self._apply_meta(values)

    def _apply_meta(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if key == "title":
                self.title = str(value or "")
            elif key == "mode":
                self.mode = None if value is None else str(value)
            elif key == "model":
                self.model = str(value)
            else:
                self.meta[key] = value

    def record_usage(self, usage: dict[str, Any]) -> None:
        """Persist a finished turn's token usage, after the turn's last message.

        Replay sends it as the ``usage_update`` that ended the live turn, so a resumed session
        shows its tokens and cost. Nothing is written while the history is empty.

        Args:
            usage: ``{inputTokens, outputTokens, cachedReadTokens, totalTokens, costUsd}``.
        """
        if not self.messages:
            return
        numbers = _usage_numbers(usage)
        self._write({"type": "usage", "ts": now_iso(), "usage": numbers})
        self._extras[-1][USAGE_KEY] = numbers

    def replace_history(self, messages: list[dict[str, Any]]) -> None:
        """Replace the whole history with ``messages`` (compaction), persisted as one record.

        Earlier records stay in the file (it is append-only) but loading yields exactly
        ``messages`` followed by whatever is appended later.
        """
        copied = [dict(m) for m in messages]
        for message in copied:
            if not isinstance(message.get("role"), str):
                raise ValueError("every message must be a dict with a 'role'")
        record = {
            "type": "compaction",
            "ts": now_iso(),
            "replaced": len(self.messages),
            "messages": copied,
        }
        self._write(record)
        self.messages = copied
        self._extras = [{} for _ in copied]

    # -- reading ----------------------------------------------------------------------------

    def info(self) -> SessionInfo:
        """This session as a list entry."""
        return SessionInfo(
            sessionId=self.id,
            title=self.title,
            cwd=self.cwd,
            model=self.model,
            created=self.created,
            updatedAt=self.updated,
            messageCount=len(self.messages),
        )

    def message_status(self, index: int) -> str | None:
        """The status stored with message ``index`` (``"failed"`` for failed tool results)."""
        if 0 <= index < len(self._extras):
            status = self._extras[index].get("status")
            return str(status) if status is not None else None
        return None

    def message_extras(self, index: int) -> dict[str, Any]:
        """What is stored next to message ``index``: ``status``, the tool timings
        (:data:`DURATION_KEY`, :data:`APPROVAL_WAIT_KEY`) and the usage of the turn it ends
        (:data:`USAGE_KEY`); empty when nothing is (sessions written before they existed).
        The dict is the session's own: do not change it.
        """
        if 0 <= index < len(self._extras):
            return self._extras[index]
        return {}

    def replay_updates(self, registry: ToolRegistry | None = None) -> list[dict[str, Any]]:
        """The history as ACP session updates (see :func:`pygent.agent.session.replay.replay_updates`)."""
        from pygent.agent.session.replay import replay_updates

        return replay_updates(self, registry)


# -- loading --------------------------------------------------------------------------------


def _split_lines(data: bytes) -> tuple[list[bytes], bool]:
    """Lines of ``data`` and whether the last one lacks its newline (a cut-off write)."""
    lines = data.split(b"\n")
    partial = lines[-1] != b""
    if not partial:
        lines.pop()
    return lines, partial


def _parse_session(path: Path, session_id: str) -> Session:
    from loguru import logger

    data = path.read_bytes()
    lines, partial = _split_lines(data)
    warnings: list[str] = []
    header: dict[str, Any] | None = None
    messages: list[dict[str, Any]] = []
    extras: list[dict[str, Any]] = []
    meta: dict[str, Any] = {}
    last_ts: str | None = None
    loads = json.loads
    last_index = len(lines) - 1
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            record = loads(line)
            if not isinstance(record, dict):
                raise ValueError("not an object")
            kind = record.get("type")
            if kind == "message":
                message = record.get("message")
                if not isinstance(message, dict) or not isinstance(message.get("role"), str):
                    raise ValueError("message record without a message")
                messages.append(message)
                extra: dict[str, Any] = {}
                status = record.get("status")
                if status is not None:
                    extra["status"] = status
                if DURATION_KEY in record:
                    _copy_number(record, extra, DURATION_KEY)
                if APPROVAL_WAIT_KEY in record:
                    _copy_number(record, extra, APPROVAL_WAIT_KEY)
                if record.get(OUTCOME_KEY) == OUTCOME_REJECTED:
                    extra[OUTCOME_KEY] = OUTCOME_REJECTED
                extras.append(extra)
            elif kind == "usage":
                usage = record.get("usage")
                if not isinstance(usage, dict):
                    raise ValueError("usage record without usage")
                if extras:
                    extras[-1][USAGE_KEY] = _usage_numbers(usage)
            elif kind == "meta":
                meta.update({k: v for k, v in record.items() if k not in ("type", "ts")})
            elif kind == "compaction":
                replacement = record.get("messages")
                if not isinstance(replacement, list) or not all(
                    isinstance(m, dict) and isinstance(m.get("role"), str) for m in replacement
                ):
                    raise ValueError("compaction record without messages")
                messages = list(replacement)
                extras = [{} for _ in messages]
            elif kind == "session" and header is None:
                header = record
            # Unknown record types come from newer versions: skip them quietly.
            ts = record.get("ts")
            if isinstance(ts, str):
                last_ts = ts
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            if number == last_index:
                text = (
                    f"The last line of session {session_id} is incomplete or corrupt "
                    "(probably cut off by a crash or a kill); it was skipped."
                )
            else:
                text = (
                    f"Line {number + 1} of session {session_id} is corrupt ({exc}); "
                    "it was skipped, the rest of the session was loaded."
                )
            warnings.append(text)
            logger.warning("{} ({})", text, path)
    if header is None:
        text = f"Session {session_id} has no valid header line; defaults were used."
        warnings.append(text)
        logger.warning("{} ({})", text, path)
        header = {}
    created = str(header.get("created") or iso(session_id_time(session_id)))
    if last_ts is None:
        last_ts = iso(datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc))
    session = Session(
        id=session_id,
        path=path,
        cwd=str(header.get("cwd") or ""),
        created=created,
        updated=last_ts,
        model=str(header.get("model") or ""),
        messages=messages,
        warnings=warnings,
    )
    session._extras = extras
    session._needs_newline = partial
    if "mode" in header and header["mode"] is not None:
        session.mode = str(header["mode"])
    session._apply_meta(meta)
    if not session.title:
        for message in messages:
            if message.get("role") == "user":
                session.title = title_from_text(message_text(message))
                break
    return session


#: The fields of a stored turn usage (the wire names of ``usage_update``).
_USAGE_FIELDS = ("inputTokens", "outputTokens", "cachedReadTokens", "totalTokens", "costUsd")


def _usage_numbers(usage: dict[str, Any]) -> dict[str, Any]:
    """The known usage fields of a stored record that are numbers (an edited file may hold junk)."""
    return {
        key: value
        for key in _USAGE_FIELDS
        if isinstance(value := usage.get(key), (int, float)) and not isinstance(value, bool)
    }


def _copy_number(record: dict[str, Any], extra: dict[str, Any], key: str) -> None:
    value = record.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        extra[key] = value


# -- the store ------------------------------------------------------------------------------


class SessionStore:
    """The sessions of one workspace.

    Args:
        workspace_root: The workspace (project root) the sessions belong to.
        base_dir: Root of all session directories (default: :func:`pygent.settings.paths.sessions_dir`).
    """

    def __init__(self, workspace_root: Path, *, base_dir: Path | None = None) -> None:
        from pygent.settings.paths import sessions_dir

        self.workspace_root = Path(workspace_root).expanduser().resolve()
        self.directory = (base_dir or sessions_dir()) / workspace_key(self.workspace_root)
        self.index = SessionIndex(self.directory)

    def path_for(self, session_id: str) -> Path:
        """The file of session ``session_id`` (validated; the file may not exist)."""
        return self.directory / (validate_session_id(session_id) + SESSION_FILE_SUFFIX)

    def _ensure_dir(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(self.directory, 0o700)

    def create(
        self, model: str, cwd: Path | str | None = None, *, mode: str | None = None
    ) -> Session:
        """Start a new, empty session and write its header.

        Args:
            model: The model string the session uses.
            cwd: Working directory (default: the workspace root).
            mode: The permission mode to remember for the session.
        """
        self._ensure_dir()
        session_id = new_session_id()
        path = self.directory / (session_id + SESSION_FILE_SUFFIX)
        now = now_iso()
        from pygent import __version__

        header: dict[str, Any] = {
            "type": "session",
            "version": FORMAT_VERSION,
            "id": session_id,
            "created": now,
            "cwd": str(Path(cwd).resolve()) if cwd is not None else str(self.workspace_root),
            "model": model,
            "pygentVersion": __version__,
        }
        if mode is not None:
            header["mode"] = mode
        _append_bytes(path, _dumps(header))
        with contextlib.suppress(OSError):  # O_CREAT's mode is subject to umask; be explicit
            os.chmod(path, 0o600)
        from loguru import logger

        logger.info("session start: {} model={} file={}", session_id, model, path)
        return Session(
            id=session_id,
            path=path,
            cwd=header["cwd"],
            created=now,
            updated=now,
            model=model,
            mode=mode,
        )

    def exists(self, session_id: str) -> bool:
        """True when the (valid) session id names a session of this workspace."""
        return self.path_for(session_id).is_file()

    def load(self, session_id: str) -> Session:
        """Load a session: header, metadata and history (the last compaction onwards).

        Corrupt lines are skipped and listed in ``session.warnings``.

        Raises:
            PygentError: ``invalid_params`` for a malformed id, ``session_not_found`` when missing.
        """
        path = self.path_for(session_id)
        valid_id = path.stem
        try:
            return _parse_session(path, valid_id)
        except FileNotFoundError:
            raise session_not_found(valid_id) from None
        except IsADirectoryError:
            raise session_not_found(valid_id) from None

    def delete(self, session_id: str) -> None:
        """Delete a session's file.

        Raises:
            PygentError: ``invalid_params`` for a malformed id, ``session_not_found`` when missing.
        """
        path = self.path_for(session_id)
        try:
            path.unlink()
        except FileNotFoundError:
            raise session_not_found(path.stem) from None
        self.index.update(path.stem, None)

    def list(self) -> list[SessionInfo]:
        """This workspace's sessions, most recently updated first.

        Served from the workspace's :class:`~pygent.agent.session.index.SessionIndex`: one
        ``scandir``, and only new or changed files are read (appended bytes only).
        """
        if not self.directory.is_dir():
            return []
        files: list[tuple[str, str, int, int]] = []
        suffix = len(SESSION_FILE_SUFFIX)
        for entry in os.scandir(self.directory):
            name = entry.name
            if not name.endswith(SESSION_FILE_SUFFIX) or not ID_PATTERN.match(name[:-suffix]):
                continue
            try:
                stat = entry.stat()
            except OSError:
                continue
            files.append((name[:-suffix], entry.path, stat.st_size, stat.st_mtime_ns))
        infos = [
            SessionInfo(
                sessionId=item["sessionId"],
                title=str(item.get("title") or item.get("userTitle") or ""),
                cwd=str(item.get("cwd") or ""),
                model=str(item.get("model") or ""),
                created=item["created"],
                updatedAt=item["updatedAt"],
                messageCount=int(item.get("messageCount") or 0),
            )
            for item in self.index.refresh(files)
        ]
        infos.sort(key=lambda i: (i["updatedAt"], i["sessionId"]), reverse=True)
        return infos

    def latest(self) -> Session | None:
        """The most recently updated session of this workspace, or None."""
        for info in self.list():
            try:
                return self.load(info["sessionId"])
            except PygentError:
                continue
        return None
