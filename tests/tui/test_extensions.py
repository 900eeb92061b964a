"""Pilot tests of ``/mcp``, the trust question and plugin slash commands in the TUI, driving the
real ``pygent serve`` with MCP test servers and a test plugin found through its entry point."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import wait_for

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mcp"))
from mcp_helpers import install_test_plugin, stdio_table, toml_table, user_config

from pygent.testing.fake_llm import FakeLLMThread
from pygent.tui.app import PygentApp
from pygent.tui.widgets.message import ErrorMessage, NoteMessage
from pygent.tui.widgets.permission_modal import PermissionModal

SIZE = (120, 40)


def _notes(app: PygentApp) -> list[str]:
    return [w.text for w in app.conversation.query(NoteMessage)]


def _errors(app: PygentApp) -> list[str]:
    return [w.text for w in app.conversation.query(ErrorMessage)]


async def _command(pilot: Any, app: PygentApp, text: str, count: int) -> None:
    """Type ``text`` and wait until the conversation has more than ``count`` notes and errors."""
    app.input_box.text = text
    app.input_box.focus()
    await pilot.press("enter")
    await wait_for(pilot, lambda: len(_notes(app)) + len(_errors(app)) > count, 30, text)


def _shown(app: PygentApp) -> int:
    return len(_notes(app)) + len(_errors(app))


@pytest.fixture
def plugin_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = install_test_plugin(tmp_path / "site")
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(site), path) if p))


async def test_mcp_trust_question_and_plugin_commands(
    workspace: Path, server_env: FakeLLMThread, plugin_on_path: None
) -> None:
    user_config(toml_table("demo", stdio_table()))
    (workspace / ".pygent").mkdir()
    (workspace / ".pygent" / "config.toml").write_text(
        toml_table("proj", stdio_table(env={"MARKER": "p"})), encoding="utf-8"
    )
    server_env.script([{"text": "Ready."}])
    app = PygentApp(workspace, mode="auto")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session_id, what="a session")
        await wait_for(pilot, lambda: app.plugin_commands, 30, "the plugin commands")

        # /help lists the plugin's commands with their plugin.
        await _command(pilot, app, "/help", _shown(app))
        help_text = _notes(app)[-1]
        assert "Plugin commands" in help_text
        assert "/shout" in help_text and "Shout the text back. (plugin testcmds)" in help_text

        # Tab completes a plugin command.
        app.input_box.text = "/sh"
        app.input_box.focus()
        app.input_box.move_cursor((0, 3))
        await pilot.press("tab")
        assert app.input_box.text == "/shout "

        # It runs on the server; a failing one is a clear error and the chat goes on.
        await _command(pilot, app, "/shout hi there", _shown(app))
        assert _notes(app)[-1].startswith("**HI THERE** (session " + str(app.session_id))
        await _command(pilot, app, "/boom", _shown(app))
        assert (
            "The command /boom of the plugin 'testcmds' failed: ValueError: kaboom"
            in (_errors(app)[-1])
        )
        await _command(pilot, app, "/legacy ok", _shown(app))
        assert _notes(app)[-1] == "legacy got 'ok'"

        # /mcp before the first prompt: nothing started, the project's server untrusted.
        await _command(pilot, app, "/mcp", _shown(app))
        listing = _notes(app)[-1]
        assert "demo  [not started yet (starts with the next prompt)]  from your config" in listing
        assert "proj  [not trusted]  from the project's .pygent/config.toml" in listing

        # The first prompt asks to trust the project's servers (auto mode does not skip it).
        app.input_box.text = "hello"
        await pilot.press("enter")
        modal = await wait_for(
            pilot, lambda: isinstance(app.screen, PermissionModal) and app.screen, what="trust"
        )
        assert "Start the MCP servers of the project" in str(modal.params["toolCall"]["title"])
        assert "stdio_server.py" in str(modal.params["toolCall"]["rawInput"])
        await pilot.press("a")  # "Trust and start" is the allow-always option
        await wait_for(pilot, lambda: not app.busy and "Ready." in app.conversation.answer_text())
        tools = {t["function"]["name"] for t in server_env.requests[-1]["tools"]}
        assert {"mcp__demo__echo", "mcp__proj__echo"} <= tools

        await _command(pilot, app, "/mcp", _shown(app))
        listing = _notes(app)[-1]
        assert "demo  [running]  from your config" in listing
        assert "proj  [running]  from the project's .pygent/config.toml" in listing
        assert "mcp__proj__add - Add two integers." in listing
