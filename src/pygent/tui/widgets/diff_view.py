"""The right pane: the diff of a proposed edit (with accept / reject), a file being read, tool output."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Static

from pygent.tui.edits import FileDiff
from pygent.tui.messages import ReviewDecided

#: The most characters of a file or an output the pane shows.
MAX_PREVIEW = 200_000
_SIDE_STYLES = {"-": "red", "+": "green", "~": "yellow", "=": ""}


def render_unified(diffs: list[FileDiff]) -> RenderableType:
    """The diffs as one colored unified diff."""
    parts: list[RenderableType] = []
    for diff in diffs:
        parts.append(Text(diff.title, style="bold"))
        unified = diff.unified()
        if unified:
            parts.append(Syntax(unified, "diff", theme="ansi_dark", word_wrap=True))
        else:
            parts.append(Text("(no text changes)", style="dim"))
    return Group(*parts)


def render_side_by_side(diffs: list[FileDiff]) -> RenderableType:
    """The diffs as two columns, before and after."""
    parts: list[RenderableType] = []
    for diff in diffs:
        parts.append(Text(diff.title, style="bold"))
        table = Table(show_header=True, expand=True, box=None, padding=(0, 1))
        table.add_column("before", ratio=1, overflow="fold")
        table.add_column("after", ratio=1, overflow="fold")
        for tag, left, right in diff.side_by_side():
            style = _SIDE_STYLES[tag]
            table.add_row(
                Text(left, style="red" if tag in "-~" else style),
                Text(right, style="green" if tag in "+~" else style),
            )
        parts.append(table)
    return Group(*parts)


class DiffView(Vertical, can_focus=True):
    """A proposed edit in review: a (r)eject, (a)ccept, (e) reject with a reason, (s) layout."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "accept", "Accept edit"),
        Binding("r", "reject", "Reject edit"),
        Binding("e", "reason", "Reject with reason"),
        Binding("s", "toggle_layout", "Side by side"),
    ]

    def __init__(self, label: str, diffs: list[FileDiff], *, side_by_side: bool = False) -> None:
        super().__init__(classes="diff-view")
        self.label = label
        self.diffs = diffs
        self.side_by_side = side_by_side
        self.decided = False

    def compose(self) -> ComposeResult:
        yield Static(
            Text.assemble(
                (self.label, "bold"),
                ("   a accept · r reject · e reject with reason · s side by side", "dim"),
            ),
            classes="diff-title",
        )
        with VerticalScroll(classes="diff-scroll"):
            yield Static(self._render_diff(), classes="diff-body")
        reason = Input(placeholder="Why? (Enter sends the reason to the model, Esc goes back)")
        reason.display = False
        yield reason

    def _render_diff(self) -> RenderableType:
        if self.side_by_side:
            return render_side_by_side(self.diffs)
        return render_unified(self.diffs)

    def action_toggle_layout(self) -> None:
        """Switch between unified and side-by-side."""
        self.side_by_side = not self.side_by_side
        self.query_one(".diff-body", Static).update(self._render_diff())

    def _decide(self, accepted: bool, reason: str | None = None) -> None:
        if self.decided:
            return
        self.decided = True
        self.post_message(ReviewDecided(accepted, reason))

    def action_accept(self) -> None:
        """Accept: the TUI applies the edit to disk."""
        self._decide(True)

    def action_reject(self) -> None:
        """Reject without a reason."""
        self._decide(False)

    def action_reason(self) -> None:
        """Ask for the reason, then reject with it."""
        field = self.query_one(Input)
        field.display = True
        field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._decide(False, event.value.strip() or None)

    def key_escape(self) -> None:
        field = self.query_one(Input)
        if field.display:
            field.display = False
            self.focus()


class SidePane(Vertical):
    """The right pane: whatever is in focus (an edit in review, a file, a tool's output).

    Attributes:
        shown_title: The title of what is shown.
        shown_text: The text shown (a file's or an output's; empty for a diff).
    """

    shown_title = ""
    shown_text = ""
    shown_line: int | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("Nothing in focus yet", style="dim"), classes="pane-title")
        with VerticalScroll(classes="pane-scroll"):
            yield Static("", classes="pane-body")

    def _reset(self) -> None:
        for view in list(self.query(DiffView)):
            view.remove()
        scroll = self.query_one(".pane-scroll", VerticalScroll)
        scroll.display = True

    def show_text(
        self, title: str, text: str, path: str | None = None, line: int | None = None
    ) -> None:
        """Show a file (highlighted by its extension; ``line`` marked and scrolled to) or output."""
        self._reset()
        self.query_one(".pane-title", Static).update(Text(title, style="bold"))
        body: RenderableType
        text = text[:MAX_PREVIEW]
        self.shown_title, self.shown_text, self.shown_line = title, text, line
        if path:
            lexer = Syntax.guess_lexer(path, code=text)
            body = Syntax(
                text,
                lexer,
                theme="ansi_dark",
                line_numbers=True,
                word_wrap=True,
                highlight_lines={line} if line else None,
            )
        else:
            body = Text(text)
        self.query_one(".pane-body", Static).update(body)
        scroll = self.query_one(".pane-scroll", VerticalScroll)
        if line:
            # After the new body is laid out; a few lines of context above the target.
            self.call_after_refresh(scroll.scroll_to, y=max(0, line - 4), animate=False)
        else:
            scroll.scroll_home(animate=False)

    def show_file(self, path: Path, title: str | None = None, line: int | None = None) -> None:
        """Show a file from disk (the one a tool reads, or a link clicked), at ``line``."""
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            text = f"(cannot read {path}: {exc.strerror or exc})"
        self.show_text(title or str(path), text, path.name, line)

    def show_diff(
        self, label: str, diffs: list[FileDiff], *, side_by_side: bool = False
    ) -> DiffView:
        """Show an edit in review; returns the view (it posts :class:`ReviewDecided`)."""
        self._reset()
        self.shown_title, self.shown_text = label, ""
        self.query_one(".pane-title", Static).update(Text("Review the proposed edit", style="bold"))
        self.query_one(".pane-scroll", VerticalScroll).display = False
        view = DiffView(label, diffs, side_by_side=side_by_side)
        self.mount(view)
        return view

    def clear_review(self, note: str) -> None:
        """Replace a decided review by a one-line note."""
        self.show_text(note, "")
