"""Sessions: conversations saved as append-only JSON Lines files, one per session, per workspace.

A session file lives at ``sessions_dir() / <workspace key> / <id>.jsonl``. The first line is a
header record; every later line is one record, written with a single ``O_APPEND`` write so that two
frontends appending to the same session never interleave lines, and a crash loses at most a partial
last line (which loading skips with a warning)::

    {"type":"session","id":"01J...","created":"...","cwd":"/repo","model":"openai/gpt-4o","pygentVersion":"0.1.0"}
    {"type":"meta","ts":"...","title":"Fix the parser"}
    {"type":"message","ts":"...","message":{"role":"user","content":"Fix the parser"}}
    {"type":"message","ts":"...","message":{"role":"assistant","content":"Done."}}
    {"type":"compaction","ts":"...","messages":[...],"replaced":12}

A ``compaction`` record replaces all history before it (see :meth:`Session.replace_history`).
Sessions belong to the workspace, not to a frontend: the TUI, the server and ``pygent run`` all
read and write the same files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from pygent.errors import PygentError, session_not_found

if TYPE_CHECKING:
    from pygent.tools.base import ToolRegistry

__all__ = [
    "SESSION_FILE_SUFFIX",
    "Session",
    "SessionInfo",
    "SessionStore",
    "message_text",
    "new_session_id",
    "validate_session_id",
    "workspace_key",
]

SESSION_FILE_SUFFIX = ".jsonl"
#: Version of the record format, written into every header.
FORMAT_VERSION = 1
#: Longest title derived from the first user message.
TITLE_MAX_CHARS = 60

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_ID_LENGTH = 26
_RESERVED_META_KEYS = frozenset({"type", "ts"})

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
    if not _ID_RE.match(candidate):
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


def _now_iso() -> str:
    return _iso(datetime.now(timezone.utc))


def _iso(moment: datetime) -> str:
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


def message_text(message: dict[str, Any]) -> str:
    """The plain text of an OpenAI-format message's ``content`` (a string or a list of parts)."""
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if isinstance(part, dict):
                if part.get("type") == "text" and isinstance(part.get("text"), str):
                    parts.append(part["text"])
                elif part.get("type") in ("image_url", "image"):
                    parts.append("[image]")
            elif isinstance(part, str):
                parts.append(part)
        return "\n".join(parts)
    return str(content)


def title_from_text(text: str) -> str:
    """A session title: the first non-empty line of ``text``, at most 60 characters."""
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            if len(line) > TITLE_MAX_CHARS:
                return line[: TITLE_MAX_CHARS - 1].rstrip() + "…"
            return line
    return ""


def _dumps(record: dict[str, Any]) -> bytes:
    try:
        return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode(
            "utf-8"
        )
    except UnicodeEncodeError:  # lone surrogates (e.g. undecodable tool output): escape them
        return (json.dumps(record, ensure_ascii=True, separators=(",", ":")) + "\n").encode("ascii")


_OPEN_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)


def _append_bytes(path: Path, data: bytes, *, fsync: bool = False) -> None:
    # One write() on an O_APPEND descriptor: concurrent writers never interleave within a line.
    fd = os.open(path, _OPEN_FLAGS, 0o600)
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
            _append_bytes(self.path, data, fsync=self.fsync)
            self._needs_newline = False
            self.updated = str(record.get("ts") or _now_iso())

    def append(self, message: dict[str, Any], *, status: str | None = None) -> None:
        """Persist one OpenAI-format message and add it to :attr:`messages`.

        The first user message also sets the title (a ``meta`` record) unless one is set.

        Args:
            message: ``{"role": ..., "content": ..., ...}`` exactly as sent to the model.
            status: For ``tool`` results, ``"failed"`` when the call failed (shown on replay);
                kept next to the message so the message itself stays valid for the model.
        """
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise ValueError("a session message must be a dict with a 'role'")
        if not self.title and message["role"] == "user":
            title = title_from_text(message_text(message))
            if title:
                self.set_meta(title=title)
        record: dict[str, Any] = {"type": "message", "ts": _now_iso(), "message": message}
        extra: dict[str, Any] = {}
        if status is not None:
            record["status"] = extra["status"] = status
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
        record: dict[str, Any] = {"type": "meta", "ts": _now_iso(), **values}
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
            "ts": _now_iso(),
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

    def replay_updates(self, registry: ToolRegistry | None = None) -> list[dict[str, Any]]:
        """The history as ACP session updates, for ``session/load`` and the TUI.

        User text becomes ``user_message_chunk``, assistant text ``agent_message_chunk`` (and
        ``reasoning_content`` ``agent_thought_chunk``), each tool call a ``tool_call`` and its result
        a ``tool_call_update`` (``completed`` or ``failed``, with the result text as content).

        Args:
            registry: Tools for titles and kinds (default: the built-in registry when it loads).
        """
        from pygent.protocol import updates

        specs = registry if registry is not None else _registry_or_none()
        out: list[dict[str, Any]] = []
        pending: dict[str, dict[str, Any]] = {}
        for index, message in enumerate(self.messages):
            role = message.get("role")
            if role == "user":
                text = message_text(message)
                if text:
                    out.append(updates.user_message_chunk(text))
            elif role == "assistant":
                thought = message.get("reasoning_content")
                if isinstance(thought, str) and thought:
                    out.append(updates.agent_thought_chunk(thought))
                text = message_text(message)
                if text:
                    out.append(updates.agent_message_chunk(text))
                for call in message.get("tool_calls") or []:
                    update = _tool_call_update_for(call, specs)
                    if update is not None:
                        pending[update["toolCallId"]] = update
                        out.append(update)
            elif role == "tool":
                call_id = str(message.get("tool_call_id") or "")
                status = self.message_status(index) or message.get("status")
                failed = status == "failed" or bool(message.get("is_error"))
                out.append(
                    updates.tool_call_update(
                        call_id,
                        status="failed" if failed else "completed",
                        content=[updates.text_content(message_text(message))],
                    )
                )
                pending.pop(call_id, None)
        for call_id in pending:
            # The process stopped before the tool answered (a kill): show it as failed.
            out.append(
                updates.tool_call_update(
                    call_id,
                    status="failed",
                    content=[updates.text_content("No result: the turn was interrupted.")],
                )
            )
        return out


def _registry_or_none() -> ToolRegistry | None:
    try:
        from pygent.tools.base import default_registry

        return default_registry()
    except Exception:  # a tool module failing to import must not break replay
        return None


def _tool_call_update_for(call: Any, registry: ToolRegistry | None) -> dict[str, Any] | None:
    from pygent.protocol import updates

    if not isinstance(call, dict):
        return None
    function = call.get("function") or {}
    name = str(function.get("name") or "tool")
    raw = function.get("arguments")
    args: dict[str, Any] = {}
    if isinstance(raw, dict):
        args = raw
    elif isinstance(raw, str) and raw:
        with contextlib.suppress(ValueError):
            decoded = json.loads(raw)
            if isinstance(decoded, dict):
                args = decoded
    spec = registry.get(name) if registry is not None else None
    title = spec.make_title(args) if spec is not None else name
    kind = spec.kind if spec is not None else "other"
    return updates.tool_call(
        str(call.get("id") or ""), title, kind, raw_input=args, status="in_progress"
    )


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
                status = record.get("status")
                extras.append({"status": status} if status is not None else {})
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
    created = str(header.get("created") or _iso(session_id_time(session_id)))
    if last_ts is None:
        last_ts = _iso(datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc))
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


# -- the store ------------------------------------------------------------------------------

_MESSAGE_PREFIX = b'{"type":"message"'
_info_cache: dict[Path, tuple[int, int, SessionInfo]] = {}
_info_cache_lock = threading.Lock()


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
        now = _now_iso()
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
        with _info_cache_lock:
            _info_cache.pop(path, None)

    def _files(self) -> Iterator[Path]:
        if not self.directory.is_dir():
            return
        for entry in os.scandir(self.directory):
            name = entry.name
            if name.endswith(SESSION_FILE_SUFFIX) and _ID_RE.match(
                name[: -len(SESSION_FILE_SUFFIX)]
            ):
                yield Path(entry.path)

    def list(self) -> list[SessionInfo]:
        """This workspace's sessions, most recently updated first.

        Cheap: message lines are counted, not parsed, and results are cached by file size and
        modification time.
        """
        infos: list[SessionInfo] = []
        for path in self._files():
            try:
                stat = path.stat()
            except OSError:
                continue
            with _info_cache_lock:
                cached = _info_cache.get(path)
            if cached is not None and cached[0] == stat.st_mtime_ns and cached[1] == stat.st_size:
                infos.append(cached[2])
                continue
            try:
                info = _scan_info(path, stat.st_mtime)
            except OSError:
                continue
            with _info_cache_lock:
                _info_cache[path] = (stat.st_mtime_ns, stat.st_size, info)
            infos.append(info)
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
        return _iso(updated)
    if born.tzinfo is not None and timedelta(0) < born - updated < timedelta(seconds=1):
        return created
    return _iso(updated)


def _scan_info(path: Path, mtime: float) -> SessionInfo:
    """A list entry for one file, parsing only header, meta and compaction lines."""
    session_id = path.name[: -len(SESSION_FILE_SUFFIX)]
    lines, _ = _split_lines(path.read_bytes())
    header: dict[str, Any] = {}
    title = ""
    count = 0
    first_user: bytes | None = None
    for line in lines:
        if line.startswith(_MESSAGE_PREFIX) and line.rstrip().endswith(b"}"):
            count += 1
            if first_user is None and b'"role":"user"' in line:
                first_user = line
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        kind = record.get("type")
        if kind == "session" and not header:
            header = record
        elif kind == "meta" and "title" in record:
            title = str(record.get("title") or "")
        elif kind == "compaction" and isinstance(record.get("messages"), list):
            count = len(record["messages"])
            for message in record["messages"]:
                if isinstance(message, dict) and message.get("role") == "user":
                    first_user = _dumps({"type": "message", "message": message})
                    break
    if not title and first_user is not None:
        with contextlib.suppress(ValueError, AttributeError):
            title = title_from_text(message_text(json.loads(first_user)["message"]))
    created = str(header.get("created") or _iso(session_id_time(session_id)))
    return SessionInfo(
        sessionId=session_id,
        title=title,
        cwd=str(header.get("cwd") or ""),
        model=str(header.get("model") or ""),
        created=created,
        updatedAt=_updated_at(mtime, created),
        messageCount=count,
    )
