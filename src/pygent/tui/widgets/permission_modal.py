"""A permission question: the tool, its arguments and why it asks; ACP options as buttons and keys."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

#: Key -> the option kind it picks (every ACP kind has one; Esc rejects once too).
KEYS = {"y": "allow_once", "a": "allow_always", "n": "reject_once", "N": "reject_always"}
_KEY_OF = {kind: key for key, kind in KEYS.items()}


def permission_reason(params: dict[str, Any]) -> str:
    """Why the question is asked (``_meta.reason`` or ``_meta.pygent.reason``), if given."""
    meta = params.get("_meta") or {}
    if not isinstance(meta, dict):
        return ""
    reason = meta.get("reason")
    if not reason and isinstance(meta.get("pygent"), dict):
        reason = meta["pygent"].get("reason")
    return str(reason or "")


def _meta_pygent(params: dict[str, Any]) -> dict[str, Any]:
    meta = params.get("_meta")
    inner = meta.get("pygent") if isinstance(meta, dict) else None
    return inner if isinstance(inner, dict) else {}


class PermissionModal(ModalScreen[str | None]):
    """Asks the person; dismisses with the chosen ``optionId`` (None: the question was withdrawn).

    Args:
        params: The ``pygent/session/requestPermission`` params.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "pick('allow_once')", "Allow once"),
        Binding("a", "pick('allow_always')", "Allow always"),
        Binding("n", "pick('reject_once')", "Reject once"),
        Binding("N", "pick('reject_always')", "Reject always", key_display="N"),
        Binding("escape", "pick('reject_once')", "Reject", show=False),
    ]

    def __init__(self, params: dict[str, Any]) -> None:
        super().__init__(classes="permission-modal")
        self.params = params
        self.options: list[dict[str, Any]] = [
            o for o in params.get("options") or [] if isinstance(o, dict) and "optionId" in o
        ]

    def compose(self) -> ComposeResult:
        call = self.params.get("toolCall") or {}
        title = str(call.get("title") or call.get("kind") or "use a tool")
        with Vertical(id="permission-dialog"):
            yield Static(Text("pygent asks for permission", style="bold"), id="permission-heading")
            yield Static(Text(title, style="bold yellow"), id="permission-tool")
            reason = permission_reason(self.params)
            if reason:
                yield Static(Text(f"Why: {reason}", style="italic"), id="permission-reason")
            rules = _meta_pygent(self.params).get("alwaysAllowRules")
            if isinstance(rules, list) and rules:
                yield Static(
                    Text("Allow always adds: " + ", ".join(map(str, rules)), style="dim"),
                    id="permission-rules",
                )
            raw = call.get("rawInput")
            if raw is not None:
                try:
                    args = json.dumps(raw, indent=2, ensure_ascii=False)
                except (TypeError, ValueError):
                    args = repr(raw)
                with VerticalScroll(id="permission-args"):
                    yield Static(Text(args[:4000]))
            with Horizontal(id="permission-buttons"):
                for option in self.options:
                    kind = str(option.get("kind") or option["optionId"])
                    key = _KEY_OF.get(kind)
                    label = str(option.get("name") or option["optionId"])
                    if key:
                        label += f" ({key})"
                    if kind.startswith("allow"):
                        yield Button(label, id=f"opt-{option['optionId']}", variant="success")
                    else:
                        yield Button(label, id=f"opt-{option['optionId']}", variant="error")

    def _option_for(self, kind: str) -> str | None:
        for option in self.options:
            if option.get("kind") == kind or option.get("optionId") == kind:
                return str(option["optionId"])
        return None

    def action_pick(self, kind: str) -> None:
        """Answer with the option of ``kind`` (if the server offered it)."""
        option = self._option_for(kind)
        if option is not None:
            self.dismiss(option)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button_id = event.button.id or ""
        self.dismiss(button_id.removeprefix("opt-"))
