"""Helpers for the TUI tests (imported as ``tui_helpers``: pytest puts this directory on sys.path)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

#: Generous: the server imports litellm and the agent on its first prompt (slow on a busy machine).
WAIT = 90.0


async def wait_for(
    pilot: Any, condition: Callable[[], Any], timeout: float = WAIT, what: str = ""
) -> Any:
    """Let the app run until ``condition()`` is truthy; fail with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.05)
