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
        self.turn_tokens = 0
        self.turn_cost: float | None = None
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

    def set_turn_usage(self, usage: dict[str, object]) -> None:
        """The running turn's usage so far (a ``usage_update``): shown live on top of the totals."""
        tokens = usage.get("totalTokens")
        self.turn_tokens = tokens if isinstance(tokens, int) else 0
        cost = usage.get("costUsd")
        self.turn_cost = float(cost) if isinstance(cost, (int, float)) else None
        self.refresh_status()

    def add_replayed_usage(self, usage: dict[str, object]) -> None:
        """Add a replayed turn's usage (a ``usage_update`` of ``session/load``) to the totals."""
        tokens = usage.get("totalTokens")
        cost = usage.get("costUsd")
        self.tokens += tokens if isinstance(tokens, int) and not isinstance(tokens, bool) else 0
        if isinstance(cost, (int, float)) and not isinstance(cost, bool):
            self.cost = (self.cost or 0.0) + float(cost)
        self.refresh_status()

    def reset_usage(self) -> None:
        """Another session is shown: no tokens, no cost (its replay adds its own)."""
        self.tokens, self.cost = 0, None
        self.turn_tokens, self.turn_cost = 0, None
        self.refresh_status()

    def add_usage(self, tokens: int, cost: float | None) -> None:
        """Add one finished turn's usage to the session totals (the live figure is folded in)."""
        self.turn_tokens, self.turn_cost = 0, None
        self.tokens += tokens
        if cost is not None:
            self.cost = (self.cost or 0.0) + cost
        self.refresh_status()

    @property
    def shown_tokens(self) -> int:
        """Session tokens including the running turn's."""
        return self.tokens + self.turn_tokens

    @property
    def shown_cost(self) -> float | None:
        """Session cost including the running turn's (None when no cost is known)."""
        if self.cost is None and self.turn_cost is None:
            return None
        return (self.cost or 0.0) + (self.turn_cost or 0.0)

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
        text.append(f"  {self.shown_tokens:,} tokens", style="dim")
        cost = self.shown_cost
        if cost is not None:
            text.append(f"  ${cost:.4f}", style="dim")
        return text

    def refresh_status(self) -> None:
        """Redraw."""
        self.update(self.status_text())
