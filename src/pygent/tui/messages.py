"""Messages the TUI posts between the protocol client and its widgets (Textual messages)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message


@dataclass
class ServerUpdate(Message):
    """One ``pygent/session/update`` notification (``{sessionId, update}``)."""

    params: dict[str, Any]


@dataclass
class ServerNotice(Message):
    """A ``window/showMessage`` or ``window/logMessage`` the person should see."""

    message: str
    level: int = 3


@dataclass
class ServerReady(Message):
    """The server answered ``initialize`` and a session is open."""

    session_id: str
    resumed: bool = False


@dataclass
class ServerDied(Message):
    """The server process exited unexpectedly (``stderr`` holds its last lines)."""

    returncode: int | None
    stderr: str = ""


@dataclass
class TurnFinished(Message):
    """A prompt request ended (``result`` is ``{stopReason, usage?}``; ``error`` a friendly text)."""

    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    prompt_text: str = ""


@dataclass
class PromptSubmitted(Message):
    """The person pressed Enter in the input box."""

    text: str


@dataclass
class ReviewDecided(Message):
    """The person accepted or rejected the edit in review (``reason`` for reject-with-reason)."""

    accepted: bool
    reason: str | None = None


@dataclass
class ToolCardSelected(Message):
    """A tool card was opened: show its output in the right pane."""

    tool_call_id: str
