"""Messages the TUI posts between the protocol client and its widgets (Textual messages)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message


@dataclass
class _Dataclass(Message):
    """A Textual message whose fields come from a dataclass."""

    def __post_init__(self) -> None:
        Message.__init__(self)


@dataclass
class ServerUpdate(_Dataclass):
    """One ``pygent/session/update`` notification (``{sessionId, update}``)."""

    params: dict[str, Any]


@dataclass
class ServerNotice(_Dataclass):
    """A ``window/showMessage`` or ``window/logMessage`` the person should see."""

    message: str
    level: int = 3


@dataclass
class ServerReady(_Dataclass):
    """The server answered ``initialize`` and a session is open."""

    session_id: str
    resumed: bool = False


@dataclass
class ServerDied(_Dataclass):
    """The server process exited unexpectedly (``stderr`` holds its last lines)."""

    returncode: int | None
    stderr: str = ""


@dataclass
class TurnFinished(_Dataclass):
    """A prompt request ended (``result`` is ``{stopReason, usage?}``; ``error`` a friendly text)."""

    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    prompt_text: str = ""


@dataclass
class PromptSubmitted(_Dataclass):
    """The person pressed Enter in the input box."""

    text: str


@dataclass
class ReviewDecided(_Dataclass):
    """The person accepted or rejected the edit in review (``reason`` for reject-with-reason)."""

    accepted: bool
    reason: str | None = None


@dataclass
class ToolCardSelected(_Dataclass):
    """A tool card was opened: show its output in the right pane."""

    tool_call_id: str
