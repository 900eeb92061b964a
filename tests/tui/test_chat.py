"""Pilot tests: the TUI driving the real ``pygent serve`` (spawned through the client) and the fake LLM.

Each test spawns one server (its first prompt imports litellm, which takes seconds), so related
scenarios share a test to keep the suite's runtime modest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tui_helpers import wait_for

from pygent.testing.fake_llm import FakeLLMThread
from pygent.testing.pytest_plugin import FAKE_MODEL
from pygent.tui.app import PygentApp
from pygent.tui.widgets.diff_view import DiffView
from pygent.tui.widgets.message import AssistantMessage, ErrorMessage, NoteMessage, UserMessage
from pygent.tui.widgets.permission_modal import PermissionModal
from pygent.tui.widgets.session_picker import SessionPicker
from pygent.tui.widgets.tool_card import ToolCard

SIZE = (120, 40)


def _texts(app: PygentApp, cls: type[Any]) -> list[str]:
    return [w.text for w in app.conversation.query(cls)]


async def _send(pilot: Any, app: PygentApp, text: str) -> None:
    app.input_box.text = text
    app.input_box.focus()
    await pilot.press("enter")
    # The prompt was taken: the turn is running, or (a fast fake model) already shown whole.
    await wait_for(
        pilot,
        lambda: (
            app.busy or text in _texts(app, UserMessage) or app.conversation.query(ErrorMessage)
        ),
        10,
        "turn start",
    )


def _tool_messages(body: dict[str, Any]) -> str:
    return json.dumps([m for m in body["messages"] if m.get("role") == "tool"])


async def test_turn_cancel_resume_and_server_restart(
    workspace: Path, server_env: FakeLLMThread
) -> None:
    from pygent.agent.session import SessionStore

    # A session started elsewhere (e.g. `pygent run` or an editor) in this workspace.
    elsewhere = SessionStore(workspace).create(FAKE_MODEL, workspace)
    elsewhere.append({"role": "user", "content": "earlier question"})
    elsewhere.append({"role": "assistant", "content": "earlier answer"})

    text = "Here is **bold** and a list:\n\n" + "".join(f"- item {i}\n" for i in range(40))
    server_env.script(
        [
            {"text": text, "usage": {"prompt_tokens": 10, "completion_tokens": 5}},
            {"text": "slow " * 400, "delay": 0.05},
        ]
    )
    # `pygent chat --continue`: the newest session of the workspace is resumed.
    app = PygentApp(workspace, continue_last=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session_id, what="a session")
        assert app.session_id == elsewhere.id
        await wait_for(pilot, lambda: "earlier answer" in app.conversation.answer_text())

        # Ctrl+N: a new session, the screen is cleared.
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: app.session_id != elsewhere.id, what="a new session")
        first_session = app.session_id
        await wait_for(pilot, lambda: "New session." in _texts(app, NoteMessage))
        assert not _texts(app, UserMessage)

        # 1. A full turn, streamed as Markdown.
        await _send(pilot, app, "hello there")
        await wait_for(pilot, lambda: not app.busy, what="the turn to end")
        await pilot.pause(0.3)
        assert _texts(app, UserMessage) == ["hello there"]
        answers = list(app.conversation.query(AssistantMessage))
        assert [a.text for a in answers] == [text]
        assert 1 <= answers[0].renders <= 40  # many chunks, few renders
        assert "item 39" in (answers[0].source or "")
        assert app.input_box.text == ""
        assert app.status.tokens > 0
        await wait_for(pilot, lambda: app.status.title == "hello there", 20, "the session title")
        assert not _texts(app, ErrorMessage)
        assert server_env.requests[-1]["messages"][-1]["role"] == "user"

        # /compact runs on the server (pygent/session/compact).
        app.input_box.text = "/compact"
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: any(
                t.startswith(("Compacted", "Nothing to compact")) for t in _texts(app, NoteMessage)
            ),
            what="/compact's answer",
        )
        assert not _texts(app, ErrorMessage)

        # 2. Ctrl+C cancels a running turn; the app keeps working.
        await _send(pilot, app, "write a lot")
        await wait_for(
            pilot,
            lambda: len(list(app.conversation.query(AssistantMessage))) == 2,
            what="the slow answer to start",
        )
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: not app.busy, 30, "the cancelled turn to end")
        await pilot.pause(0.2)
        assert "Cancelled." in _texts(app, NoteMessage)
        assert not app._exit_renderables  # still running

        # 3. Resume a session started elsewhere from the picker (Ctrl+R).
        await pilot.press("ctrl+r")
        picker = await wait_for(
            pilot, lambda: isinstance(app.screen, SessionPicker) and app.screen, what="the picker"
        )
        ids = [s["sessionId"] for s in picker.sessions]
        assert elsewhere.id in ids and first_session in ids
        option_list = picker.query_one("#picker-list")
        option_list.highlighted = ids.index(elsewhere.id)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.session_id == elsewhere.id, what="the resumed session")
        await wait_for(pilot, lambda: "earlier answer" in app.conversation.answer_text())
        assert _texts(app, UserMessage) == ["earlier question"]

        # 4. The server dies mid-turn: the TUI says so, the prompt is back in the editor,
        #    F5 restarts the server and resumes the session.
        server_env.add({"text": "never finished " * 200, "delay": 0.05})
        answers_before = len(list(app.conversation.query(AssistantMessage)))
        await _send(pilot, app, "long task")
        await wait_for(
            pilot,
            lambda: len(list(app.conversation.query(AssistantMessage))) > answers_before,
            what="the answer to start",
        )
        app.client.process.kill()
        await wait_for(
            pilot,
            lambda: any("stopped unexpectedly" in t for t in _texts(app, ErrorMessage)),
            30,
            "the crash report",
        )
        await wait_for(pilot, lambda: not app.busy, 10, "the turn to end")
        await wait_for(pilot, lambda: app.input_box.text == "long task", 10, "the prompt back")
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.client is not None and app.status.connection == "ready")
        await wait_for(pilot, lambda: "earlier answer" in app.conversation.answer_text())
        assert app.session_id == elsewhere.id
        assert app.input_box.text == "long task"


async def test_edit_review_and_permissions(workspace: Path, server_env: FakeLLMThread) -> None:
    util = workspace / "util.py"
    original = util.read_text(encoding="utf-8")
    server_env.script(
        [
            {
                "tool_calls": [
                    {
                        "name": "edit_file",
                        "arguments": {
                            "path": "util.py",
                            "old_string": "def add(a, b):\n",
                            "new_string": 'def add(a, b):\n    """Add two numbers."""\n',
                        },
                    }
                ]
            },
            {
                "tool_calls": [
                    {
                        "name": "edit_file",
                        "arguments": {
                            "path": "util.py",
                            "old_string": "return a + b",
                            "new_string": "return b + a",
                        },
                    }
                ]
            },
            {"text": "Understood."},
            {"tool_calls": [{"name": "shell", "arguments": {"command": "touch allowed.txt"}}]},
            {"tool_calls": [{"name": "shell", "arguments": {"command": "touch denied.txt"}}]},
            {"text": "All done."},
        ]
    )
    from pygent.agent.session import SessionStore

    earlier = SessionStore(workspace).create(FAKE_MODEL, workspace)
    earlier.append({"role": "user", "content": "what is util.py?"})
    earlier.append({"role": "assistant", "content": "A tiny module."})
    # `pygent chat --resume ID`: the session's history is replayed at start.
    app = PygentApp(workspace, mode="ask", resume=earlier.id)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session_id, what="a session")
        assert app.session_id == earlier.id
        await wait_for(pilot, lambda: "A tiny module." in app.conversation.answer_text())
        assert app.status.mode == "ask"
        await _send(pilot, app, "improve util.py")

        # First edit: shown in the right pane, accepted with "a", applied to disk by the TUI.
        view = await wait_for(pilot, lambda: app.in_review, what="the first review")
        assert isinstance(view, DiffView)
        await wait_for(pilot, lambda: app.focused is view, 10, "focus on the review")
        await pilot.press("s")  # side by side, then back
        assert view.side_by_side
        await pilot.press("s")
        await pilot.press("a")
        await wait_for(pilot, lambda: '"""Add two numbers."""' in util.read_text(encoding="utf-8"))

        # Second edit: rejected with a reason; the file is unchanged and the model hears why.
        second = await wait_for(
            pilot, lambda: app.in_review if app.in_review is not view else None, what="review 2"
        )
        await wait_for(pilot, lambda: app.focused is second, 10, "focus on the second review")
        await pilot.press("e")
        for key in "use Google style":
            await pilot.press("space" if key == " " else key)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.busy, what="the turn to end")
        assert "return a + b" in util.read_text(encoding="utf-8")
        assert util.read_text(encoding="utf-8") != original
        assert "use Google style" in _tool_messages(server_env.requests[-1])
        cards = list(app.conversation.query(ToolCard))
        assert [c.status for c in cards] == ["completed", "failed"]

        # Permissions: allow once (y) runs the command, reject (n) does not.
        await _send(pilot, app, "make the files")
        modal = await wait_for(
            pilot, lambda: isinstance(app.screen, PermissionModal) and app.screen, what="modal 1"
        )
        assert "touch allowed.txt" in str(modal.params)
        await pilot.press("y")
        modal2 = await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, PermissionModal) and app.screen is not modal and app.screen
            ),
            what="modal 2",
        )
        assert "touch denied.txt" in str(modal2.params)
        await pilot.press("n")
        await wait_for(pilot, lambda: not app.busy, what="the turn to end")
        assert (workspace / "allowed.txt").exists()
        assert not (workspace / "denied.txt").exists()
        assert "All done." in app.conversation.answer_text()

        # Ctrl+C while a question is open: the question is withdrawn, the turn ends cancelled.
        server_env.add(
            {"tool_calls": [{"name": "shell", "arguments": {"command": "touch late.txt"}}]}
        )
        await _send(pilot, app, "one more")
        await wait_for(pilot, lambda: isinstance(app.screen, PermissionModal), what="modal 3")
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: not app.busy, 30, "the cancelled turn")
        await wait_for(pilot, lambda: not isinstance(app.screen, PermissionModal), 10, "no modal")
        assert not (workspace / "late.txt").exists()

        # A model error is a friendly message; the prompt goes back into the editor.
        server_env.add({"error": "auth"})
        await _send(pilot, app, "are you there?")
        await wait_for(pilot, lambda: not app.busy, what="the failed turn")
        errors = _texts(app, ErrorMessage)
        assert errors and "API key" in errors[-1], errors
        assert app.input_box.text == "are you there?"


async def test_prompt_typed_while_the_server_starts_is_sent_when_ready(
    workspace: Path, server_env: FakeLLMThread
) -> None:
    server_env.script([{"text": "early answer"}])
    app = PygentApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        # Before the server has answered session/new: the prompt is queued, not lost.
        assert app.session_id is None
        app.input_box.text = "typed early"
        app.input_box.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.session_id, what="a session")
        await wait_for(pilot, lambda: "early answer" in app.conversation.answer_text(), 60)
        assert _texts(app, UserMessage) == ["typed early"]
        # The status bar shows what the server reported for the new session.
        assert app.status.model == FAKE_MODEL
        assert app.status.mode == "ask"
