"""A picker over this workspace's sessions (any frontend's), newest first; Enter resumes one."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


def session_label(info: dict[str, Any]) -> Text:
    """One row: title, when, how many messages."""
    title = str(info.get("title") or "(untitled)")
    when = str(info.get("updatedAt") or "")[:16].replace("T", " ")
    count = info.get("messageCount")
    text = Text(title, style="bold")
    text.append(f"   {when}", style="dim")
    if count is not None:
        text.append(f"   {count} messages", style="dim")
    return text


class SessionPicker(ModalScreen[str | None]):
    """Dismisses with the chosen session id, or None (Esc).

    Args:
        sessions: ``pygent/session/list`` entries.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]

    def __init__(self, sessions: list[dict[str, Any]]) -> None:
        super().__init__(classes="session-picker")
        self.sessions = sessions

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-dialog"):
            yield Static(Text("Resume a session (Enter) · Esc closes", style="bold"))
            if self.sessions:
                yield OptionList(
                    *[Option(session_label(s), id=str(s.get("sessionId"))) for s in self.sessions],
                    id="picker-list",
                )
            else:
                yield Static("No saved sessions in this workspace yet.", id="picker-empty")

    def on_mount(self) -> None:
        for option_list in self.query(OptionList):
            option_list.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        """Close without choosing."""
        self.dismiss(None)
