"""The status bar: model, permission mode, session title, tokens and cost, a spinner during a turn."""

from __future__ import annotations

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static

_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class StatusBar(Static):
    """One line above the footer."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.model = ""
        self.mode = ""
        self.title = ""
        self.tokens = 0
        self.cost: float | None = None
        self.busy = False
        self.connection = "starting"
        self._frame = 0
        self._timer: Timer | None = None

    def on_mount(self) -> None:
        self.refresh_status()

    def set_busy(self, busy: bool) -> None:
        """Start or stop the spinner."""
        self.busy = busy
        if busy and self._timer is None:
            self._timer = self.set_interval(0.1, self._spin)
        elif not busy and self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.refresh_status()

    def _spin(self) -> None:
        self._frame = (self._frame + 1) % len(_SPINNER)
        self.refresh_status()

    def add_usage(self, tokens: int, cost: float | None) -> None:
        """Add one turn's usage to the session totals."""
        self.tokens += tokens
        if cost is not None:
            self.cost = (self.cost or 0.0) + cost
        self.refresh_status()

    def status_text(self) -> Text:
        """The line as rich text."""
        text = Text()
        if self.busy:
            text.append(f"{_SPINNER[self._frame]} working  ", style="bold yellow")
        elif self.connection != "ready":
            text.append(f"● {self.connection}  ", style="dim")
        text.append(self.model or "no model", style="bold")
        text.append("  mode ", style="dim")
        text.append(self.mode or "?")
        text.append("  ", style="dim")
        text.append(self.title or "new session", style="italic")
        text.append(f"  {self.tokens:,} tokens", style="dim")
        if self.cost is not None:
            text.append(f"  ${self.cost:.4f}", style="dim")
        return text

    def refresh_status(self) -> None:
        """Redraw."""
        self.update(self.status_text())
