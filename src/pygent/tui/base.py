"""What every part of the TUI app shares: its widgets, its state, and two small text helpers.

:class:`~pygent.tui.app.PygentApp` is assembled from one class per job (the server connection,
slash commands, edit review); each derives from :class:`AppBase`, which names the widgets and
state they all use.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App

from pygent.tui.widgets.conversation import Conversation
from pygent.tui.widgets.diff_view import SidePane
from pygent.tui.widgets.input_box import InputBox
from pygent.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from pygent.client import PygentClient
    from pygent.settings.models import UISettings


class AppBase(App[str | None]):
    """The widgets and state shared by the app's parts (set up by ``PygentApp.__init__``)."""

    ui: UISettings
    root: Path
    model: str | None
    mode: str | None
    pick_session: bool
    server_command: list[str] | None
    server_env: dict[str, str] | None
    connect: bool
    client: PygentClient | None
    session_id: str | None
    session_has_messages: bool
    busy: bool
    side_by_side: bool
    _stopping_server: bool
    _review: asyncio.Future[tuple[bool, str | None]] | None
    _review_lock: asyncio.Lock
    _pending_prompt: str
    _queued_prompt: str
    _watch_task: asyncio.Task[None] | None
    _setup_client: PygentClient | None
    _setup_lock: asyncio.Lock

    @property
    def conversation(self) -> Conversation:
        """The conversation widget."""
        return self.query_one("#conversation", Conversation)

    @property
    def side(self) -> SidePane:
        """The right pane."""
        return self.query_one("#side", SidePane)

    @property
    def input_box(self) -> InputBox:
        """The prompt editor."""
        return self.query_one("#input", InputBox)

    @property
    def status(self) -> StatusBar:
        """The status bar."""
        return self.query_one("#status", StatusBar)

    if TYPE_CHECKING:  # defined by the parts; declared here so each part can call the others

        async def handle_apply_edit(self, params: dict[str, Any]) -> dict[str, Any]: ...

        async def handle_request_permission(self, params: dict[str, Any]) -> dict[str, Any]: ...

        def action_new_session(self) -> None: ...

        def action_resume(self) -> None: ...

        def refresh_plugin_commands(self) -> Any: ...

        def quit_chat(self) -> None: ...

    def _show_pane(self, shown: bool) -> None:
        self.side.display = shown


def text_of(content: Any) -> str:
    """The text of an ACP content block (or a list of them)."""
    if isinstance(content, dict) and content.get("type") == "text":
        return str(content.get("text", ""))
    if isinstance(content, list):
        return "".join(text_of(c) for c in content)
    return ""


def friendly(exc: Any) -> str:
    """A server error's message for the person."""
    message = str(getattr(exc, "message", exc))
    return message or "The server reported an error without a message; see `pygent report`."
