"""Permission modes: their ids, listed once for Python, and what each one means.

Frontends get the list from the server (``session/new``'s ``modes``), never from a copy of their own.
"""

from __future__ import annotations

from typing import Literal

PermissionMode = Literal["ask", "auto-edit", "plan", "auto"]
PERMISSION_MODES: tuple[PermissionMode, ...] = ("ask", "auto-edit", "plan", "auto")
DEFAULT_MODE: PermissionMode = "ask"

MODE_NAMES: dict[str, str] = {
    "ask": "Ask",
    "auto-edit": "Auto-edit",
    "plan": "Plan",
    "auto": "Auto",
}
"""A short display name per mode."""

MODE_DESCRIPTIONS: dict[str, str] = {
    "ask": "Reads run; edits, commands and network access ask first.",
    "auto-edit": "Reads and edits run; commands and network access ask first.",
    "plan": "Read-only: anything that would change something is refused.",
    "auto": "Everything runs without asking (destructive commands and fetches of private addresses still ask).",
}
"""One sentence per mode, shown by frontends next to the mode's name."""
