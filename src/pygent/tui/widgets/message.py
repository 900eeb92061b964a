"""Conversation entries: the person's messages, the assistant's streamed Markdown, notes and errors."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Markdown, Static

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from rich.console import Group

#: Streaming renders at most this many times per second, however fast chunks arrive.
RENDER_RATE = 20.0


class UserMessage(Static):
    """What the person sent (plus the files attached with ``@path``)."""

    def __init__(self, text: str, attachments: list[str] | None = None) -> None:
        body = Text(text)
        if attachments:
            body.append("\n")
            body.append("attached: " + ", ".join(attachments), style="dim")
        super().__init__(body, classes="user-message")
        self.text = text


class AssistantMessage(Markdown):
    """The assistant's answer, rendered as Markdown while it streams.

    Chunks are buffered and rendered at most :data:`RENDER_RATE` times a second, so a stream of
    thousands of tiny chunks costs a few dozen renders and input stays responsive. Links are not
    opened here: the app handles ``Markdown.LinkClicked`` (workspace files open in the right pane,
    web addresses in the browser); ``parser_factory`` (see :mod:`pygent.tui.links`) decides which
    names are workspace files.
    """

    def __init__(
        self, text: str = "", parser_factory: Callable[[], MarkdownIt] | None = None
    ) -> None:
        super().__init__(
            text, classes="assistant-message", parser_factory=parser_factory, open_links=False
        )
        self.text = text
        self._rendered = len(text)
        self._timer: Timer | None = None
        self._rendering = False
        self.renders = 0

    def append_chunk(self, chunk: str) -> None:
        """Add streamed text (rendered at the next tick)."""
        if not chunk:
            return
        self.text += chunk
        if self._timer is None and self.is_mounted:
            self._timer = self.set_interval(1 / RENDER_RATE, self._render_pending)

    async def _render_pending(self) -> None:
        if self._rendering or self._rendered >= len(self.text):
            return
        self._rendering = True
        try:
            pending = self.text[self._rendered :]
            self._rendered = len(self.text)
            self.renders += 1
            await self.append(pending)
        finally:
            self._rendering = False

    async def finish(self) -> None:
        """Render whatever is still pending and stop the render timer."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        while self._rendering:
            await _tick()
        if self._rendered < len(self.text):
            await self._render_pending()

    def on_mount(self) -> None:
        if self._rendered < len(self.text) and self._timer is None:
            self._timer = self.set_interval(1 / RENDER_RATE, self._render_pending)


async def _tick() -> None:
    import asyncio

    await asyncio.sleep(0.01)


class ThoughtMessage(Static):
    """The model's reasoning, dimmed."""

    def __init__(self, text: str = "") -> None:
        super().__init__(Text(text, style="dim italic"), classes="thought-message")
        self.text = text

    def append_chunk(self, chunk: str) -> None:
        """Add streamed reasoning."""
        self.text += chunk
        self.update(Text(self.text, style="dim italic"))


_PLAN_MARKS = {"completed": ("☑", "dim strike"), "in_progress": ("◐", "bold yellow")}


class PlanMessage(Static):
    """The agent's plan as a checklist, updated in place as the plan changes."""

    def __init__(self, entries: list[Any]) -> None:
        super().__init__("", classes="plan-message")
        self.entries: list[dict[str, Any]] = []
        self.set_entries(entries)

    def set_entries(self, entries: list[Any]) -> None:
        """Show a new snapshot of the plan (ACP sends the whole plan every time)."""
        self.entries = [e for e in entries if isinstance(e, dict)]
        self.update(self.render_plan())

    def render_plan(self) -> Text:
        """The checklist as rich text."""
        done = sum(e.get("status") == "completed" for e in self.entries)
        text = Text()
        text.append(f"Plan ({done}/{len(self.entries)} done)", style="bold")
        for entry in self.entries:
            mark, style = _PLAN_MARKS.get(str(entry.get("status")), ("☐", ""))
            text.append(f"\n{mark} ")
            text.append(str(entry.get("content", "")), style=style)
            if entry.get("priority") == "high":
                text.append("  high", style="red")
        return text

    @property
    def text(self) -> str:
        """The checklist as plain text."""
        return self.render_plan().plain


class NoteMessage(Static):
    """A line from pygent itself (help text, "session resumed", a retry notice)."""

    def __init__(self, text: str, level: str = "info") -> None:
        super().__init__(Text(text), classes=f"note-message note-{level}")
        self.text = text


class HelpMessage(NoteMessage):
    """``/help``: keys and commands as two-column tables that fit the pane (a note from pygent).

    A long description wraps inside its own column (under the description, never under the
    keys), so the tables read well in a narrow conversation pane.

    Args:
        sections: ``(heading, ((keys, what they do), ...))``, in order.
    """

    def __init__(self, sections: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> None:
        self.sections = [(heading, list(rows)) for heading, rows in sections]
        Static.__init__(self, self._renderable(), classes="note-message help-message")
        lines: list[str] = []
        for heading, rows in self.sections:
            lines.append(heading)
            lines += [f"  {keys}  {what}" for keys, what in rows]
        self.text = "\n".join(lines)
        """Every heading, key and description, one row a line (for tests and copying)."""

    def _renderable(self) -> Group:
        from rich.console import Group
        from rich.padding import Padding
        from rich.table import Table

        parts: list[Any] = []
        for number, (heading, rows) in enumerate(self.sections):
            if number:
                parts.append(Text(""))
            parts.append(Text(heading, style="bold"))
            table = Table.grid(padding=(0, 2), expand=True)
            table.add_column(no_wrap=True, style="bold")
            table.add_column(ratio=1, overflow="fold")
            for keys, what in rows:
                table.add_row(Text(keys), Text(what))
            parts.append(Padding(table, (0, 0, 0, 2)))
        return Group(*parts)


class ErrorMessage(Static):
    """A friendly error: what happened and what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        body = Text()
        body.append("Error: ", style="bold")
        body.append(message)
        if hint:
            body.append("\n")
            body.append(hint, style="italic")
        super().__init__(body, classes="error-message")
        self.text = f"{message} {hint}".strip()
        self.created = time.time()
