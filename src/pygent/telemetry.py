"""Opt-in anonymous usage statistics: counts and timings, never content.

Off by default; the first run asks nothing and records nothing. When ``[telemetry] enabled`` is
true, each finished tool call and turn appends one event to a local spool (``telemetry.jsonl`` in
the user state dir); ``pygent telemetry show`` prints exactly that file. Only when
``[telemetry] endpoint`` is set are batches POSTed there as JSON, in a background thread with a
short timeout; a failed send is dropped silently (never retried, never blocking a turn).

What an event may hold is closed: the field names in :data:`FIELDS`, each value a number, a bool,
None or a short token of letters, digits and ``_.:/-`` (a tool name, a model name, an error code,
a stop reason, the OS). There is no field for prompt or answer text, file paths or contents,
command lines, URLs, keys, usernames or host names, and :func:`record` refuses any other key or
any string that is not such a token. The install id is random (``uuid4``), not derived from the
machine; ``pygent telemetry disable`` deletes it with the spool.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pygent.settings.models import Settings

__all__ = [
    "FIELDS",
    "TurnRecorder",
    "delete_local_data",
    "flush",
    "flush_in_background",
    "install_id",
    "record",
    "set_frontend",
    "spool_events",
    "spool_file",
    "wait_for_sends",
]

SPOOL_NAME = "telemetry.jsonl"
ID_NAME = "telemetry-id"
#: The spool is cut to its newest half beyond this size (nothing leaves without an endpoint).
MAX_SPOOL_BYTES = 1_000_000
#: How long a send may take; ``pygent run`` waits at most this long at exit.
SEND_TIMEOUT_S = 2.0

#: Every field an event may carry.
FIELDS = frozenset(
    {
        "event",  # "tool_call" | "turn"
        "ts",  # unix time, whole seconds
        "install_id",
        "pygent",  # pygent version
        "os",  # Linux | Darwin | Windows
        "python",  # 3.11
        "frontend",  # serve | run | acp | chat | ...
        "model",  # the litellm model string
        "tool",  # tool name
        "outcome",  # ok | error | rejected | cancelled
        "duration_ms",
        "first_token_ms",
        "stop_reason",
        "error",  # a pygent error code
        "requests",  # model requests in the turn
        "tool_calls",  # tool calls in the turn
    }
)
_TOKEN = re.compile(r"^[A-Za-z0-9_.:/-]{1,100}$")
_frontend = "unknown"
_lock = threading.Lock()
_pending: list[threading.Thread] = []


def set_frontend(name: str) -> None:
    """Name the frontend this process serves (``run``, ``serve``, ``acp``, ...)."""
    global _frontend
    _frontend = name if _TOKEN.match(name) else "other"


def _state_dir() -> Path:
    from pygent.settings.paths import user_state_dir

    return user_state_dir()


def spool_file() -> Path:
    """Where events wait to be sent (or just shown, without an endpoint)."""
    return _state_dir() / SPOOL_NAME


def install_id(*, create: bool = True) -> str | None:
    """The random install id (created on first use when ``create``)."""
    path = _state_dir() / ID_NAME
    with contextlib.suppress(OSError):
        text = path.read_text(encoding="utf-8").strip()
        if re.fullmatch(r"[0-9a-f]{32}", text):
            return text
    if not create:
        return None
    value = uuid.uuid4().hex
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n", encoding="utf-8")
    return value


def delete_local_data() -> list[Path]:
    """Delete the install id and every spooled event; returns what was deleted."""
    deleted = []
    state = _state_dir()
    for path in [state / ID_NAME, state / SPOOL_NAME, *state.glob("telemetry.sending.*.jsonl")]:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            deleted.append(path)
    return deleted


def _clean(event: dict[str, Any]) -> dict[str, Any]:
    """The event with every field checked; raises ValueError on anything that is not allowed."""
    out: dict[str, Any] = {}
    for key, value in event.items():
        if key not in FIELDS:
            raise ValueError(f"telemetry field {key!r} is not allowed")
        if isinstance(value, bool) or value is None:
            out[key] = value
        elif isinstance(value, (int, float)):
            out[key] = round(value) if isinstance(value, float) else value
        elif isinstance(value, str) and _TOKEN.match(value) and "//" not in value:
            out[key] = value
        else:
            raise ValueError(f"telemetry field {key!r} holds a value that is not a short token")
    return out


def _token(value: str | None, fallback: str = "other") -> str | None:
    if value is None:
        return None
    return value if _TOKEN.match(value) and "//" not in value else fallback


def record(settings: Settings, event: dict[str, Any]) -> bool:
    """Append ``event`` (plus the common fields) to the spool when telemetry is enabled.

    Never raises: a refused field or an unwritable spool drops the event (logged at debug).

    Returns:
        True when the event was spooled.
    """
    if not settings.telemetry.enabled:
        return False
    from pygent import __version__

    full = {
        "ts": int(time.time()),
        "install_id": install_id(),
        "pygent": __version__,
        "os": platform.system() or "unknown",
        "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
        "frontend": _frontend,
        "model": _token(settings.llm.model),
        **event,
    }
    try:
        line = json.dumps(_clean(full), separators=(",", ":")) + "\n"
        path = spool_file()
        with _lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write(line)
            if path.stat().st_size > MAX_SPOOL_BYTES:
                lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
                path.write_text("".join(lines[len(lines) // 2 :]), encoding="utf-8")
    except (OSError, ValueError) as exc:
        from loguru import logger

        logger.debug("telemetry event dropped: {}", exc)
        return False
    return True


def spool_events(path: Path | None = None) -> list[dict[str, Any]]:
    """The spooled events (unreadable lines skipped)."""
    events = []
    try:
        text = (path or spool_file()).read_text(encoding="utf-8")
    except OSError:
        return []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            item = json.loads(line)
            if isinstance(item, dict):
                events.append(item)
    return events


def flush(settings: Settings, timeout: float = SEND_TIMEOUT_S) -> int:
    """POST the spooled events to ``telemetry.endpoint`` as ``{"events": [...]}``.

    The spool is moved aside first, so events recorded meanwhile are kept for the next send; the
    batch is deleted whether or not the send worked (offline means dropped, silently).

    Returns:
        How many events were sent (0 when disabled, no endpoint, nothing spooled, or on failure).
    """
    endpoint = settings.telemetry.endpoint
    if not settings.telemetry.enabled or not endpoint:
        return 0
    path = spool_file()
    batch = path.with_name(f"telemetry.sending.{os.getpid()}.{uuid.uuid4().hex[:8]}.jsonl")
    with _lock:
        try:
            os.replace(path, batch)
        except OSError:
            return 0
    try:
        events = spool_events(batch)
        if not events:
            return 0
        import httpx

        response = httpx.post(
            endpoint,
            json={"events": events},
            timeout=timeout,
            headers={"User-Agent": "pygent-telemetry"},
        )
        return len(events) if response.status_code < 300 else 0
    except Exception as exc:  # offline, refused, a bad URL: dropped silently
        from loguru import logger

        logger.debug("telemetry send failed: {}", exc)
        return 0
    finally:
        with contextlib.suppress(OSError):
            batch.unlink()


def flush_in_background(settings: Settings) -> threading.Thread | None:
    """Start :func:`flush` in a daemon thread (None when there is nothing to do)."""
    if not settings.telemetry.enabled or not settings.telemetry.endpoint:
        return None
    thread = threading.Thread(target=flush, args=(settings,), name="pygent-telemetry", daemon=True)
    thread.start()
    _pending.append(thread)
    return thread


def wait_for_sends(timeout: float = SEND_TIMEOUT_S) -> None:
    """Give background sends up to ``timeout`` seconds in all (``pygent run`` calls it at exit)."""
    deadline = time.monotonic() + timeout
    while _pending:
        thread = _pending.pop()
        thread.join(max(0.0, deadline - time.monotonic()))


class TurnRecorder:
    """Collects one turn's counts and timings; the agent loop feeds it, :meth:`finish` spools it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.enabled = settings.telemetry.enabled
        self._start = time.perf_counter()
        self._first_token_ms: int | None = None
        self.requests = 0
        self.tool_calls = 0

    def first_token(self) -> None:
        """The first streamed text or thought of the turn arrived."""
        if self._first_token_ms is None:
            self._first_token_ms = int((time.perf_counter() - self._start) * 1000)

    def tool(self, name: str, outcome: str, duration_s: float) -> None:
        """A tool call finished (``ok``, ``error``, ``rejected`` or ``cancelled``)."""
        self.tool_calls += 1
        if self.enabled:
            record(
                self.settings,
                {
                    "event": "tool_call",
                    "tool": _token(name),
                    "outcome": _token(outcome),
                    "duration_ms": int(duration_s * 1000),
                },
            )

    def finish(self, stop_reason: str | None, error_code: str | None) -> None:
        """The turn ended: spool its event and, with an endpoint, send in the background."""
        if not self.enabled:
            return
        from pygent.errors import ERROR_CODES

        record(
            self.settings,
            {
                "event": "turn",
                "stop_reason": _token(stop_reason) if stop_reason else None,
                "error": error_code if error_code in ERROR_CODES else None,
                "duration_ms": int((time.perf_counter() - self._start) * 1000),
                "first_token_ms": self._first_token_ms,
                "requests": self.requests,
                "tool_calls": self.tool_calls,
            },
        )
        flush_in_background(self.settings)
