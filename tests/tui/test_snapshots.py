"""Snapshot tests (pytest-textual-snapshot) of the main screen, a diff review, a permission modal
and the welcome screen. No server: widgets are filled with fixed data, so the pictures are stable.

Update the pictures after an intended change with ``pytest tests/tui --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pygent.tui.app import PygentApp
from pygent.tui.edits import FileDiff
from pygent.tui.widgets.permission_modal import PermissionModal

SIZE = (110, 32)
ROOT = Path(__file__).parent / "__snapshots__"


def _app(**kwargs: Any) -> PygentApp:
    app = PygentApp(ROOT, connect=False, model="anthropic/claude-sonnet-4-5", mode="ask", **kwargs)
    return app


def _timing(duration_ms: float, approval_wait_ms: float | None = None) -> dict[str, Any]:
    timing: dict[str, Any] = {"durationMs": duration_ms}
    if approval_wait_ms is not None:
        timing["approvalWaitMs"] = approval_wait_ms
    return {"pygent": timing}


async def _main_content(pilot: Any) -> None:
    app: PygentApp = pilot.app
    app.input_box.cursor_blink = False
    status = app.status
    status.connection = "ready"
    status.title = "Add a docstring to util.py"
    status.add_usage(5440, 0.0213)
    conversation = app.conversation
    conversation.add_user("add a docstring to util.py, then run the tests")
    conversation.add_chunk(
        "I'll add the docstring.\n\n```python\ndef add(a, b):\n    return a + b\n```\n"
    )
    conversation.end_stream()
    read = conversation.tool_update(
        {
            "sessionUpdate": "tool_call",
            "toolCallId": "call_1",
            "title": "Read util.py",
            "kind": "read",
            "status": "completed",
        }
    )
    conversation.tool_update(
        {
            "sessionUpdate": "tool_call",
            "toolCallId": "call_2",
            "title": "Run `pytest -q`",
            "kind": "execute",
            "status": "completed",
            "rawInput": {"command": "pytest -q"},
            "content": [
                {"type": "content", "content": {"type": "text", "text": "3 passed in 0.04s"}}
            ],
        }
    )
    # Timings as the server reports them: the shell command waited for the person's approval.
    conversation.tool_update(
        {"sessionUpdate": "tool_call_update", "toolCallId": "call_1", "_meta": _timing(20)}
    )
    conversation.tool_update(
        {
            "sessionUpdate": "tool_call_update",
            "toolCallId": "call_2",
            "_meta": _timing(1250, 12000),
        }
    )
    assert read.duration == 0.02
    app.side.show_text("Run `pytest -q`", "3 passed in 0.04s")
    await pilot.pause(0.3)


def test_main_screen(snap_compare: Any) -> None:
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_main_content)


def test_diff_review(snap_compare: Any) -> None:
    async def review(pilot: Any) -> None:
        await _main_content(pilot)
        app: PygentApp = pilot.app
        diffs = [
            FileDiff(
                "util.py",
                "def add(a, b):\n    return a + b\n",
                'def add(a, b):\n    """Add two numbers."""\n    return a + b\n',
            ),
            FileDiff("notes.txt (new file)", "", "remember the milk\n"),
        ]
        view = app.side.show_diff("Edit util.py", diffs)
        await pilot.pause(0.1)
        view.focus()
        await pilot.pause(0.2)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=review)


def test_permission_modal(snap_compare: Any) -> None:
    async def ask(pilot: Any) -> None:
        await _main_content(pilot)
        params = {
            "sessionId": "s1",
            "toolCall": {
                "toolCallId": "call_3",
                "title": "Run `rm -rf build`",
                "kind": "execute",
                "rawInput": {"command": "rm -rf build"},
            },
            "options": [
                {"optionId": "allow_once", "name": "Allow once", "kind": "allow_once"},
                {"optionId": "allow_always", "name": "Allow always", "kind": "allow_always"},
                {"optionId": "reject_once", "name": "Reject once", "kind": "reject_once"},
                {"optionId": "reject_always", "name": "Reject always", "kind": "reject_always"},
            ],
            "_meta": {
                "reason": "shell commands ask in mode 'ask'",
                "pygent": {"alwaysAllowRules": ["shell(rm -rf build)"]},
            },
        }
        pilot.app.push_screen(PermissionModal(params))
        await pilot.pause(0.3)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=ask)


def test_welcome_screen(snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    async def settle(pilot: Any) -> None:
        await pilot.pause(0.3)

    app = _app(first_run=True, config_file=Path("/home/you/.config/pygent/config.toml"))
    assert snap_compare(app, terminal_size=(100, 45), run_before=settle)
