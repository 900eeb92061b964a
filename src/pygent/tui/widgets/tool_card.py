"""A tool call as a compact card: title, status and duration; Enter or a click expands it.

Durations come from the server (``_meta.pygent.durationMs`` / ``approvalWaitMs`` of the final
``tool_call_update``), live and in a replayed session alike: the time the tool ran and, shown
apart, the time the person took to approve it.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Static

from pygent.tui.messages import ToolCardSelected

_ICONS = {"pending": "○", "in_progress": "◐", "completed": "●", "failed": "✗", "rejected": "⊘"}
_STYLES = {
    "pending": "dim",
    "in_progress": "yellow",
    "completed": "green",
    "failed": "red",
    "rejected": "magenta",
}
#: The most characters of input or output a card shows when expanded.
MAX_SHOWN = 4000
#: An approval answered faster than this was no wait for the person (e.g. an edit applied
#: without review): the card does not mention it.
SHOWN_WAIT_MS = 50.0


def format_seconds(seconds: float) -> str:
    """``0.4s``, ``12.0s``, ``2m 05s``, ``1h 02m``: a duration as a card shows it."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _milliseconds(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


def content_text(content: Any) -> str:
    """The text of an ACP tool-call ``content`` list (text blocks, diffs as a one-line summary)."""
    parts: list[str] = []
    for item in content or []:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "content":
            block = item.get("content") or {}
            if isinstance(block, dict) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
        elif item.get("type") == "diff":
            parts.append(f"(diff of {item.get('path')})")
        elif item.get("type") == "terminal":
            parts.append(f"(terminal {item.get('terminalId')})")
    return "\n".join(parts)


class ToolCard(Vertical, can_focus=True):
    """One tool call of the conversation.

    Args:
        tool_call_id: The call's id.
        title: Its human title ("Edit util.py").
        kind: ACP tool kind (read, edit, execute, ...).
        status: pending, in_progress, completed or failed.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space", "toggle_card", "Expand", show=False)
    ]

    def __init__(
        self,
        tool_call_id: str,
        title: str,
        kind: str = "other",
        status: str = "pending",
    ) -> None:
        super().__init__(classes="tool-card")
        self.tool_call_id = tool_call_id
        self.title = title
        self.kind = kind
        self.status = status
        self.run_ms: float | None = None
        """Milliseconds the tool ran, as the server reported (None until it did)."""
        self.approval_wait_ms: float | None = None
        """Milliseconds the person took to approve it (None when nobody was asked)."""
        self.raw_input: Any = None
        self.raw_output: Any = None
        self.content: list[Any] = []
        self.locations: list[Any] = []
        self.outcome: str | None = None
        self.expanded = False

    def compose(self) -> ComposeResult:
        yield Static(self._header(), classes="tool-card-header")
        body = Static(self._body(), classes="tool-card-body")
        body.display = False
        yield body

    def on_mount(self) -> None:
        self.refresh_card()

    @property
    def duration(self) -> float | None:
        """Seconds the tool ran, without the wait for approval (None until the server says)."""
        return None if self.run_ms is None else self.run_ms / 1000

    @property
    def approval_wait(self) -> float | None:
        """Seconds spent waiting for the person's approval (None when nobody was asked)."""
        return None if self.approval_wait_ms is None else self.approval_wait_ms / 1000

    def timing_text(self) -> str:
        """``0.4s (waited 12.0s for approval)``, ``0.4s``, ``waited 3.0s for approval`` (a
        rejected call did not run), or empty while nothing is known."""
        ran = ""
        if self.run_ms is not None and self.shown_status != "rejected":
            ran = format_seconds(self.run_ms / 1000)
        if self.approval_wait_ms is None or self.approval_wait_ms < SHOWN_WAIT_MS:
            return ran
        waited = f"waited {format_seconds(self.approval_wait_ms / 1000)} for approval"
        return f"{ran} ({waited})" if ran else waited

    def apply_update(self, update: dict[str, Any]) -> None:
        """Merge a ``tool_call`` or ``tool_call_update``."""
        if update.get("title"):
            self.title = str(update["title"])
        if update.get("kind"):
            self.kind = str(update["kind"])
        if "rawInput" in update:
            self.raw_input = update["rawInput"]
        if "rawOutput" in update:
            self.raw_output = update["rawOutput"]
        if isinstance(update.get("content"), list):
            self.content = list(update["content"])
        if isinstance(update.get("locations"), list):
            self.locations = list(update["locations"])
        meta = update.get("_meta")
        pygent = meta.get("pygent") if isinstance(meta, dict) else None
        if isinstance(pygent, dict):
            if isinstance(pygent.get("outcome"), str):
                self.outcome = pygent["outcome"]
            run_ms = _milliseconds(pygent.get("durationMs"))
            if run_ms is not None:
                self.run_ms = run_ms
            wait_ms = _milliseconds(pygent.get("approvalWaitMs"))
            if wait_ms is not None:
                self.approval_wait_ms = wait_ms
        status = update.get("status")
        if isinstance(status, str) and status:
            self.status = status
        self.refresh_card()

    @property
    def shown_status(self) -> str:
        """What the card says: the status, or ``rejected`` when the person turned the call down.

        A rejection travels as ACP's ``failed`` plus ``_meta.pygent.outcome: "rejected"``; it is
        the person's decision, not an error, so it is not shown in red.
        """
        if self.status == "failed" and self.outcome == "rejected":
            return "rejected"
        return self.status

    def output_text(self) -> str:
        """The call's output as text (for the card and the right pane)."""
        text = content_text(self.content)
        if not text and self.raw_output is not None:
            text = _dump(self.raw_output)
        return text

    def _header(self) -> Text:
        status = self.shown_status
        icon = _ICONS.get(status, "○")
        header = Text()
        header.append(f"{icon} ", style=_STYLES.get(status, ""))
        header.append(self.title, style="bold")
        detail = status.replace("_", " ")
        timing = self.timing_text()
        if timing:
            detail += f" · {timing}"
        header.append(f"  {detail}", style="dim")
        header.append("  ▾" if self.expanded else "  ▸", style="dim")
        return header

    def _body(self) -> Text:
        body = Text()
        if self.raw_input is not None:
            body.append("input\n", style="bold dim")
            body.append(_dump(self.raw_input)[:MAX_SHOWN] + "\n")
        output = self.output_text()
        if output:
            body.append("output\n", style="bold dim")
            body.append(output[:MAX_SHOWN])
            if len(output) > MAX_SHOWN:
                body.append(f"\n… {len(output) - MAX_SHOWN} more characters", style="dim")
        return body

    def refresh_card(self) -> None:
        """Redraw the header and body from the current state."""
        status = self.shown_status
        self.set_class(status == "failed", "-failed")
        self.set_class(status == "rejected", "-rejected")
        if not self.children:
            return
        self.query_one(".tool-card-header", Static).update(self._header())
        body = self.query_one(".tool-card-body", Static)
        body.update(self._body())
        body.display = self.expanded

    def action_toggle_card(self) -> None:
        """Expand or collapse; expanding also shows the output in the right pane."""
        self.expanded = not self.expanded
        self.refresh_card()
        if self.expanded:
            self.post_message(ToolCardSelected(self.tool_call_id))

    def on_click(self) -> None:
        self.action_toggle_card()


def _dump(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, indent=2, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)
