"""The conversation: a scrolling column of messages and tool cards that follows the newest entry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from textual.containers import VerticalScroll
from textual.widget import Widget

from pygent.tui.widgets.message import (
    AssistantMessage,
    ErrorMessage,
    HelpMessage,
    NoteMessage,
    PlanMessage,
    ThoughtMessage,
    UserMessage,
)
from pygent.tui.widgets.tool_card import ToolCard

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


class Conversation(VerticalScroll):
    """The left pane: what was said and done, newest at the bottom."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cards: dict[str, ToolCard] = {}
        self.current: AssistantMessage | None = None
        self.thought: ThoughtMessage | None = None
        self.plan: PlanMessage | None = None
        self.parser_factory: Callable[[], MarkdownIt] | None = None
        """Markdown parser for answers (the app sets one that links workspace files)."""

    def on_mount(self) -> None:
        self.anchor()

    def _add(self, widget: Widget) -> None:
        self.mount(widget)
        self.anchor()

    def add_user(self, text: str, attachments: list[str] | None = None) -> UserMessage:
        """Add the person's message (ends any streaming answer; a plan after it is a new one)."""
        self.end_stream()
        self.plan = None
        widget = UserMessage(text, attachments)
        self._add(widget)
        return widget

    def add_chunk(self, text: str) -> AssistantMessage:
        """Append streamed answer text (a new answer block after a tool card or a user message)."""
        self.thought = None
        if self.current is None:
            self.current = AssistantMessage(parser_factory=self.parser_factory)
            self._add(self.current)
        self.current.append_chunk(text)
        return self.current

    def add_thought(self, text: str) -> None:
        """Append streamed reasoning."""
        if self.thought is None:
            self.thought = ThoughtMessage()
            self._add(self.thought)
        self.thought.append_chunk(text)

    def end_stream(self) -> None:
        """The streaming answer is complete: render what is pending; the next chunk starts anew."""
        if self.current is not None:
            self.run_worker(self.current.finish(), exit_on_error=False)
        self.current = None
        self.thought = None

    def tool_update(self, update: dict[str, Any]) -> ToolCard:
        """Create or update the card of a ``tool_call`` / ``tool_call_update``."""
        call_id = str(update.get("toolCallId", ""))
        card = self.cards.get(call_id)
        if card is None:
            self.end_stream()
            card = ToolCard(call_id, str(update.get("title") or "Tool call"))
            self.cards[call_id] = card
            self._add(card)
        card.apply_update(update)
        return card

    def show_plan(self, entries: list[Any]) -> PlanMessage:
        """Show the plan: the turn's checklist is updated in place (a new one after a prompt)."""
        if self.plan is not None and self.plan.is_attached:
            self.plan.set_entries(entries)
            return self.plan
        self.end_stream()
        self.plan = PlanMessage(entries)
        self._add(self.plan)
        return self.plan

    def add_note(self, text: str, level: str = "info") -> NoteMessage:
        """A line from pygent."""
        self.end_stream()
        widget = NoteMessage(text, level)
        self._add(widget)
        return widget

    def add_help(self, sections: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> HelpMessage:
        """Keys and commands as tables (``/help``)."""
        self.end_stream()
        widget = HelpMessage(sections)
        self._add(widget)
        return widget

    def add_error(self, message: str, hint: str = "") -> ErrorMessage:
        """A friendly error."""
        self.end_stream()
        widget = ErrorMessage(message, hint)
        self._add(widget)
        return widget

    def clear(self) -> None:
        """Remove everything shown (the session itself is kept)."""
        self.end_stream()
        self.cards.clear()
        self.plan = None
        self.remove_children()

    def answer_text(self) -> str:
        """Every assistant text shown, joined (for tests and copying)."""
        return "".join(w.text for w in self.query(AssistantMessage))
