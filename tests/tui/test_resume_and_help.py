"""What a newcomer meets in ``pygent chat``: how to come back after quitting, a resumed session
that shows its real tool durations, approval waits and tokens, ``/help`` that fits the pane, and
a key for every permission option.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import wait_for

from pygent.agent.session import SessionStore
from pygent.cli.chat import resume_hint
from pygent.help_topics import SHORTCUT_SECTIONS, TOPICS
from pygent.protocol.port import ALLOW_ALWAYS, ALLOW_ONCE, REJECT_ALWAYS, REJECT_ONCE
from pygent.testing.fake_llm import FakeLLMThread
from pygent.testing.pytest_plugin import FAKE_MODEL
from pygent.tui.app import PygentApp
from pygent.tui.commands import SLASH_COMMANDS
from pygent.tui.widgets.message import HelpMessage, NoteMessage
from pygent.tui.widgets.permission_modal import PermissionModal
from pygent.tui.widgets.tool_card import ToolCard, format_seconds

SIZE = (120, 40)


def _headers(app: PygentApp) -> list[str]:
    return [card._header().plain for card in app.conversation.query(ToolCard)]


# -- quitting: the session id and how to resume -----------------------------------------------


def test_resume_hint_names_the_session_and_both_ways_back() -> None:
    hint = resume_hint("01JD8Z6N4W9Q2B3C4D5E6F7G8H")
    assert "Session 01JD8Z6N4W9Q2B3C4D5E6F7G8H is saved." in hint
    assert "pygent chat --resume 01JD8Z6N4W9Q2B3C4D5E6F7G8H" in hint
    assert "pygent chat --continue" in hint
    assert all(len(line) <= 80 for line in hint.splitlines())


async def test_quitting_an_empty_session_gives_no_session_back(
    workspace: Path, server_env: FakeLLMThread
) -> None:
    app = PygentApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session_id, what="a session")
        await pilot.press("ctrl+q")
        await pilot.pause(0.2)
    assert app.return_value is None  # nothing to resume: `pygent chat` prints nothing


async def test_quitting_after_a_turn_gives_the_session_id_back(
    workspace: Path, server_env: FakeLLMThread
) -> None:
    server_env.script([{"text": "Hello."}])
    app = PygentApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        session_id = await wait_for(pilot, lambda: app.session_id, what="a session")
        app.input_box.text = "hi"
        app.input_box.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Hello." in app.conversation.answer_text(), what="answer")
        await wait_for(pilot, lambda: not app.busy, what="the turn to end")
        await pilot.press("ctrl+c", "ctrl+c")  # idle: Ctrl+C twice quits
        await pilot.pause(0.2)
    assert app.return_value == session_id


async def test_quitting_during_the_first_turn_gives_the_session_id_back(
    workspace: Path, server_env: FakeLLMThread
) -> None:
    server_env.script([{"text": "slow " * 400, "delay": 0.05}])
    app = PygentApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        session_id = await wait_for(pilot, lambda: app.session_id, what="a session")
        app.input_box.text = "write a lot"
        app.input_box.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: "slow" in app.conversation.answer_text(), what="answer")
        assert app.busy
        await pilot.press("ctrl+q")  # mid-turn: the prompt is already saved
        await pilot.pause(0.2)
    assert app.return_value == session_id


async def test_quitting_a_resumed_session_with_slash_quit_gives_its_id_back(
    workspace: Path, server_env: FakeLLMThread
) -> None:
    session = SessionStore(workspace).create(FAKE_MODEL, workspace)
    session.append({"role": "user", "content": "earlier question"})
    session.append({"role": "assistant", "content": "earlier answer"})
    app = PygentApp(workspace, resume=session.id)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "earlier answer" in app.conversation.answer_text())
        await wait_for(pilot, lambda: app.session_id == session.id, what="the session open")
        app.run_slash("/quit")
        await pilot.pause(0.2)
    assert app.return_value == session.id


# -- resumed sessions: durations, approval waits and tokens ----------------------------------


def _stored_turn(workspace: Path) -> str:
    """A session as a turn with an approved shell command leaves it."""
    session = SessionStore(workspace).create(FAKE_MODEL, workspace)
    call = {
        "id": "call_make",
        "type": "function",
        "function": {"name": "shell", "arguments": json.dumps({"command": "make"})},
    }
    session.append({"role": "user", "content": "build it"})
    session.append({"role": "assistant", "content": None, "tool_calls": [call]})
    session.append(
        {"role": "tool", "tool_call_id": "call_make", "content": "built"},
        duration_ms=412.0,
        approval_wait_ms=12_034.0,
    )
    session.append({"role": "assistant", "content": "Built."})
    session.record_usage(
        {"inputTokens": 5230, "outputTokens": 210, "totalTokens": 5440, "costUsd": 0.0213}
    )
    session.append({"role": "user", "content": "and again"})
    session.append({"role": "assistant", "content": "Done again."})
    session.record_usage({"inputTokens": 90, "outputTokens": 10, "totalTokens": 100})
    return session.id


async def test_resumed_session_shows_stored_durations_waits_and_tokens(
    workspace: Path, server_env: FakeLLMThread
) -> None:
    session_id = _stored_turn(workspace)
    app = PygentApp(workspace, resume=session_id)
    async with app.run_test(size=SIZE) as pilot:
        # The second turn's usage is the replay's last update.
        await wait_for(pilot, lambda: app.status.shown_tokens == 5540, what="both turns' usage")
        assert "Done again." in app.conversation.answer_text()
        (header,) = _headers(app)
        assert "completed · 0.4s (waited 12.0s for approval)" in header
        # Both turns' tokens and the known cost: the session's totals, not 0.
        assert app.status.shown_cost == pytest.approx(0.0213)
        assert "5,540 tokens" in app.status.status_text().plain


async def test_resumed_old_session_shows_no_made_up_durations_or_tokens(
    workspace: Path, server_env: FakeLLMThread
) -> None:
    # Written before timings and usage were stored: plain message records only.
    session = SessionStore(workspace).create(FAKE_MODEL, workspace)
    call = {"id": "c1", "type": "function", "function": {"name": "shell", "arguments": "{}"}}
    records = [
        {"role": "user", "content": "old question"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "old output"},
        {"role": "assistant", "content": "old answer"},
    ]
    with session.path.open("a", encoding="utf-8") as handle:
        for message in records:
            handle.write(json.dumps({"type": "message", "message": message}) + "\n")
    app = PygentApp(workspace, resume=session.id)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "old answer" in app.conversation.answer_text())
        await pilot.pause(0.1)
        (card,) = app.conversation.query(ToolCard)
        assert card.status == "completed" and card.output_text() == "old output"
        assert card.duration is None and "0.0s" not in card._header().plain
        assert app.status.shown_tokens == 0
        resumed = f"Resumed session {session.id}."
        await wait_for(
            pilot, lambda: resumed in [n.text for n in app.conversation.query(NoteMessage)]
        )


async def test_live_wait_for_approval_is_shown_apart_and_kept_on_resume(
    workspace: Path, server_env: FakeLLMThread
) -> None:
    server_env.script(
        [
            {
                "tool_calls": [{"name": "shell", "arguments": {"command": "touch made.txt"}}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 20},
            },
            {"text": "Made it.", "usage": {"prompt_tokens": 130, "completion_tokens": 5}},
        ]
    )
    app = PygentApp(workspace, mode="ask")
    async with app.run_test(size=SIZE) as pilot:
        session_id = await wait_for(pilot, lambda: app.session_id, what="a session")
        app.input_box.text = "make a file"
        app.input_box.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PermissionModal), what="the question")
        await pilot.pause(0.5)  # the person reads the question
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.busy, what="the turn to end")
        await pilot.pause(0.1)
        (card,) = app.conversation.query(ToolCard)
        assert card.approval_wait is not None and card.approval_wait >= 0.5
        assert card.duration is not None
        live_header = card._header().plain
        assert f"(waited {format_seconds(card.approval_wait)} for approval)" in live_header
        live_tokens = app.status.shown_tokens
        assert live_tokens == 255
        await pilot.press("ctrl+q")
    assert (workspace / "made.txt").exists()
    # The same session resumed in a new chat looks the same.
    again = PygentApp(workspace, resume=session_id)
    async with again.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: again.status.shown_tokens == live_tokens, what="usage")
        assert "Made it." in again.conversation.answer_text()
        assert _headers(again) == [live_header]


def test_durations_read_well_from_a_tenth_of_a_second_to_hours() -> None:
    assert format_seconds(0.04) == "0.0s"
    assert format_seconds(12.04) == "12.0s"
    assert format_seconds(125) == "2m 05s"
    assert format_seconds(3725) == "1h 02m"


async def test_tool_card_ignores_junk_timings(workspace: Path) -> None:
    app = PygentApp(workspace, connect=False)
    async with app.run_test(size=SIZE) as pilot:
        bad: list[Any] = ["slow", -1, True, None, {"ms": 3}]
        for n, value in enumerate(bad):
            app.handle_update(
                {
                    "sessionUpdate": "tool_call_update",
                    "toolCallId": f"c{n}",
                    "status": "completed",
                    "_meta": {"pygent": {"durationMs": value, "approvalWaitMs": value}},
                }
            )
        await pilot.pause(0.1)
        for card in app.conversation.query(ToolCard):
            assert card.duration is None and card.approval_wait is None
            assert card._header().plain.split("  ")[1] == "completed"


# -- /help in an 88-column terminal -----------------------------------------------------------


async def test_help_fits_an_88_column_terminal_without_broken_rows(workspace: Path) -> None:
    app = PygentApp(workspace, connect=False)
    async with app.run_test(size=(88, 40)) as pilot:
        app.run_slash("/help")
        await pilot.pause(0.3)
        (widget,) = app.conversation.query(HelpMessage)
        width = widget.size.width
        lines = [widget.render_line(y).text.rstrip() for y in range(widget.size.height)]
        assert app.side.display and width < 60  # the conversation pane beside the right pane
    assert all(len(line) <= width for line in lines)
    sections = [*SHORTCUT_SECTIONS, ("Commands", tuple(SLASH_COMMANDS.items()))]
    index = 0
    for heading, rows in sections:
        while not lines[index]:
            index += 1
        assert lines[index] == heading, (heading, lines[index])
        index += 1
        column = 2 + max(len(keys) for keys, _ in rows) + 2
        for keys, what in rows:
            # The keys stay whole on the row's first line, the description starts in its
            # column, and a long description wraps only under itself.
            row = lines[index]
            assert row[:column].strip() == keys, (keys, row)
            words = row[column:].split()
            index += 1
            while index < len(lines) and lines[index] and not lines[index][:column].strip():
                words += lines[index][column:].split()
                index += 1
            assert " ".join(words) == what, (keys, words)
    assert all(not line for line in lines[index:])


def test_help_topic_lines_fit_an_80_column_terminal() -> None:
    text = TOPICS["shortcuts"]
    assert all(len(line) <= 80 for line in text.splitlines())
    for _heading, rows in SHORTCUT_SECTIONS:
        for keys, what in rows:
            assert any(line.strip().startswith(keys) and what in line for line in text.splitlines())


# -- the permission dialog: a key for every option -------------------------------------------


def _permission_params() -> dict[str, Any]:
    return {
        "sessionId": "s",
        "toolCall": {"toolCallId": "c1", "title": "Run `rm -f build.log`", "kind": "execute"},
        "options": [ALLOW_ONCE, ALLOW_ALWAYS, REJECT_ONCE, REJECT_ALWAYS],
    }


@pytest.mark.parametrize(
    ("key", "chosen"),
    [("y", "allow_once"), ("a", "allow_always"), ("n", "reject_once"), ("N", "reject_always")],
)
async def test_permission_dialog_has_a_key_for_every_option(
    workspace: Path, key: str, chosen: str
) -> None:
    from textual.widgets import Button

    app = PygentApp(workspace, connect=False)
    answers: list[str | None] = []
    async with app.run_test(size=(88, 30)) as pilot:
        app.push_screen(PermissionModal(_permission_params()), answers.append)
        await pilot.pause(0.2)
        buttons = list(app.screen.query(Button))
        assert [str(b.label) for b in buttons] == [
            "Allow once (y)",
            "Allow always (a)",
            "Reject once (n)",
            "Reject always (N)",
        ]
        # Every label, key included, is shown whole in an 88-column terminal.
        dialog = app.screen.query_one("#permission-dialog").content_region
        for button in buttons:
            assert button.content_region.width >= len(str(button.label)), button.label
            assert dialog.contains_region(button.region), button.label
        await pilot.press(key)
        await pilot.pause(0.1)
    assert answers == [chosen]


def test_every_permission_key_is_in_the_help_and_the_docs() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "advanced" / "keyboard-shortcuts.md").read_text(
        encoding="utf-8"
    )
    assert "Reject always" in docs and "| N |" in docs
    (rows,) = [rows for heading, rows in SHORTCUT_SECTIONS if heading.startswith("Permission")]
    assert dict(rows)["N (Shift+N)"] == "reject always"
