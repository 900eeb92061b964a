"""The TUI's parts without a server: the input box, slash commands, the edit conversion, key docs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.binding import Binding
from tui_helpers import wait_for

from pygent.edits.changes import CreateFile, DeleteFile, RenameFile, TextChange
from pygent.help_topics import TOPICS
from pygent.tui.app import PygentApp
from pygent.tui.edits import (
    EditError,
    apply_reviewed,
    change_set_from_meta,
    file_diffs,
)
from pygent.tui.widgets.input_box import prompt_blocks
from pygent.tui.widgets.message import ErrorMessage, HelpMessage, NoteMessage

SIZE = (100, 30)


def _app(root: Path) -> PygentApp:
    return PygentApp(root, connect=False)


async def test_enter_sends_newline_keys_and_history(workspace: Path) -> None:
    app = _app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        box = app.input_box
        box.focus()
        await pilot.press("h", "i", "ctrl+j", "y", "o")
        assert box.text == "hi\nyo"
        await pilot.press("enter")
        await wait_for(pilot, lambda: box.prompt_history, 5)
        assert box.prompt_history == ["hi\nyo"]
        # Not connected: the message is not sent and its text is kept, nothing is lost.
        await wait_for(pilot, lambda: box.text == "hi\nyo", 5)
        assert not app.conversation.children
        box.text = ""
        await pilot.press("up")
        assert box.text == "hi\nyo"
        await pilot.press("down", "down")
        assert box.text == ""


async def test_at_path_completion_and_attachments(workspace: Path) -> None:
    (workspace / "src").mkdir()
    (workspace / "src" / "main.py").write_text("print(1)\n", encoding="utf-8")
    app = _app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        box = app.input_box
        box.focus()
        await pilot.press("l", "o", "o", "k", "space", "@", "u", "t", "tab")
        assert box.text == "look @util.py "
        await pilot.press("@", "s", "r", "c", "tab")
        assert box.text.endswith("@src/main.py ")
        await pilot.press("@", "n", "o", "p", "e", "tab")
        assert box.text.endswith("@nope")  # no match: left as typed (a notice says so)
    blocks = prompt_blocks("look @util.py and @src/main.py and @missing.py", workspace)
    assert blocks[0] == {"type": "text", "text": "look @util.py and @src/main.py and @missing.py"}
    assert [(b["type"], b["name"]) for b in blocks[1:]] == [
        ("resource_link", "util.py"),
        ("resource_link", "src/main.py"),
    ]
    assert blocks[1]["uri"] == (workspace / "util.py").resolve().as_uri()


async def test_slash_commands_without_a_server(workspace: Path) -> None:
    app = _app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.run_slash("/help")
        await pilot.pause(0.1)
        (help_text,) = [h.text for h in app.conversation.query(HelpMessage)]
        assert "/compact" in help_text and "Ctrl+R" in help_text
        app.run_slash("/bogus")
        await pilot.pause(0.1)
        errors = [e.text for e in app.conversation.query(ErrorMessage)]
        assert any("Unknown command /bogus" in e and "/sessions" in e for e in errors)
        app.run_slash("/mode turbo")
        await pilot.pause(0.1)
        assert any("Unknown mode 'turbo'" in e.text for e in app.conversation.query(ErrorMessage))
        app.status.mode = "ask"
        app.run_slash("/mode ask")
        await pilot.pause(0.1)
        notes = [n.text for n in app.conversation.query(NoteMessage)]
        assert "The permission mode is already ask." in notes
        app.run_slash("/model gpt-x")
        await wait_for(
            pilot,
            lambda: any("not running" in e.text for e in app.conversation.query(ErrorMessage)),
            5,
        )
        app.run_slash("/clear")
        await pilot.pause(0.1)
        assert not list(app.conversation.children)
        # Pane keys: collapse, swap, resize.
        await pilot.press("f2")
        assert not app.side.display
        await pilot.press("f2", "f3")
        assert app.query_one("#main").children[0] is app.side
        await pilot.press("alt+left")
        assert app.pane_width == 50


def _files(files: list[dict[str, Any]], label: str = "Edit") -> dict[str, Any]:
    """``workspace/applyEdit`` params as the server sends them (the WorkspaceEdit is not read)."""
    return {
        "label": label,
        "edit": {"documentChanges": []},
        "_meta": {"pygent": {"toolCallId": "call_1", "files": files}},
    }


def test_files_meta_round_trip_edit_create_rename_delete(tmp_path: Path) -> None:
    a = tmp_path / "a.py"
    a.write_text("x = 1\ny = 2\n", encoding="utf-8")
    gone = tmp_path / "gone.txt"
    gone.write_text("bye\n", encoding="utf-8")
    new = tmp_path / "pkg" / "new.py"
    b = tmp_path / "b.py"
    params = _files(
        [
            {"uri": a.as_uri(), "oldText": "x = 1\ny = 2\n", "newText": "x = 1\ny = 3\n"},
            {"uri": new.as_uri(), "oldText": None, "newText": "print('new')\n"},
            {"uri": b.as_uri(), "oldUri": a.as_uri(), "oldText": None, "newText": None},
            {"uri": gone.as_uri(), "oldText": "bye\n", "newText": None},
        ],
        "Refactor",
    )
    change_set = change_set_from_meta(params)
    assert change_set.label == "Refactor" and change_set.tool_call_id == "call_1"
    kinds = [type(c) for c in change_set.changes]
    assert kinds == [TextChange, CreateFile, RenameFile, DeleteFile]
    diffs = file_diffs(change_set, tmp_path)
    assert diffs[0].title == "a.py" and "+y = 3" in diffs[0].unified()
    assert diffs[1].title == "pkg/new.py (new file)"
    assert diffs[2].title == "a.py -> b.py (renamed)"
    assert diffs[3].title == "gone.txt (deleted)" and diffs[3].old == "bye\n"
    assert ("~", "y = 2", "y = 3") in diffs[0].side_by_side()
    result = apply_reviewed(change_set)
    assert result.applied, result.failure_reason
    assert b.read_text(encoding="utf-8") == "x = 1\ny = 3\n"
    assert not a.exists() and not gone.exists()
    assert new.read_text(encoding="utf-8") == "print('new')\n"


def test_stale_or_bad_edits_are_refused_and_nothing_is_lost(tmp_path: Path) -> None:
    a = tmp_path / "a.py"
    a.write_text("x = 1\n", encoding="utf-8")
    change_set = change_set_from_meta(
        _files([{"uri": a.as_uri(), "oldText": "x = 1\n", "newText": "x = 2\n"}])
    )
    a.write_text("x = 1  # changed meanwhile\n", encoding="utf-8")
    result = apply_reviewed(change_set)
    assert not result.applied and "changed on disk" in (result.failure_reason or "")
    assert a.read_text(encoding="utf-8") == "x = 1  # changed meanwhile\n"
    with pytest.raises(EditError, match="not a local file"):
        change_set_from_meta(_files([{"uri": "untitled:1", "oldText": "", "newText": "x"}]))
    with pytest.raises(EditError, match="no file contents"):
        change_set_from_meta({"label": "x", "edit": {"documentChanges": []}})
    with pytest.raises(EditError, match="no file contents"):
        change_set_from_meta(_files([]))
    with pytest.raises(EditError, match=r"files\[0\]\.newText must be text"):
        change_set_from_meta(_files([{"uri": a.as_uri(), "oldText": "x", "newText": 3}]))
    with pytest.raises(EditError, match="neither oldText nor newText"):
        change_set_from_meta(_files([{"uri": a.as_uri(), "oldText": None, "newText": None}]))
    with pytest.raises(EditError, match="not an object"):
        change_set_from_meta(_files(["a.py"]))  # type: ignore[list-item]
    assert a.read_text(encoding="utf-8") == "x = 1  # changed meanwhile\n"


def test_every_key_is_documented() -> None:
    text = TOPICS["shortcuts"]
    docs = (Path(__file__).parents[2] / "docs" / "advanced" / "keyboard-shortcuts.md").read_text(
        encoding="utf-8"
    )
    shown_as = {
        "ctrl+c": "Ctrl+C",
        "ctrl+n": "Ctrl+N",
        "ctrl+r": "Ctrl+R",
        "ctrl+q": "Ctrl+Q",
        "f2": "F2",
        "f3": "F3",
        "f5": "F5",
        "alt+left": "Alt+Left",
        "alt+right": "Alt+Left/Right",
    }
    for binding in PygentApp.BINDINGS:
        assert isinstance(binding, Binding)
        shown = shown_as[binding.key]
        assert shown in text, f"{shown} missing from `pygent help shortcuts`"
        assert shown.split("/")[0] in docs, f"{shown} missing from keyboard-shortcuts.md"
    assert "Ctrl+P" in text and "Ctrl+P" in docs
    for command in ("/help", "/new", "/sessions", "/model", "/mode", "/compact", "/clear", "/quit"):
        assert command in text and command in docs


async def test_ctrl_c_twice_when_idle_quits(workspace: Path) -> None:
    app = _app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+c")
        await pilot.pause(0.1)
        assert app.is_running
        await pilot.press("ctrl+c")
        await pilot.pause(0.2)
    assert app.return_code == 0


def test_chat_command_refuses_bad_flags_and_non_terminals(workspace: Path) -> None:
    from click.testing import CliRunner

    from pygent.cli import cli

    runner = CliRunner()
    result = runner.invoke(cli, ["chat", "--resume", "X", "--continue"])
    assert result.exit_code == 2
    assert "either --resume or --continue" in result.output
    result = runner.invoke(cli, ["chat"])  # CliRunner's stdin is not a terminal
    assert result.exit_code == 2
    assert "needs an interactive terminal" in result.output
    assert "pygent run" in result.output
    result = runner.invoke(cli, ["chat", "--mode", "turbo"])
    assert result.exit_code == 2 and "turbo" in result.output


async def test_ten_thousand_chunks_are_batched_and_input_stays_live(workspace: Path) -> None:
    from pygent.tui.messages import ServerUpdate
    from pygent.tui.widgets.message import AssistantMessage

    app = _app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.input_box.focus()
        for i in range(10_000):
            chunk = f"word{i} " if i % 50 else f"word{i}\n\n"
            app.post_message(
                ServerUpdate(
                    {
                        "update": {
                            "sessionUpdate": "agent_message_chunk",
                            "content": {"type": "text", "text": chunk},
                        }
                    }
                )
            )
        # Typing is handled while the stream is being rendered.
        await pilot.press("o", "k")
        await wait_for(pilot, lambda: app.input_box.text == "ok", 30, "typed text")
        answer = await wait_for(
            pilot, lambda: list(app.conversation.query(AssistantMessage)), 30, "the answer"
        )
        await wait_for(pilot, lambda: answer[0].text.endswith("word9999 "), 60, "every chunk")
        app.conversation.end_stream()
        await wait_for(pilot, lambda: "word9999" in (answer[0].source or ""), 60, "the render")
        assert answer[0].renders < 1000  # batched: far fewer renders than chunks


async def test_tool_card_expands_and_shows_output_on_the_right(workspace: Path) -> None:

    from pygent.tui.widgets.tool_card import ToolCard

    app = _app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.handle_update(
            {
                "sessionUpdate": "tool_call",
                "toolCallId": "c1",
                "title": "Read util.py",
                "kind": "read",
                "status": "pending",
                "locations": [{"path": str(workspace / "util.py")}],
            }
        )
        await pilot.pause(0.1)
        # The file being read shows on the right.
        assert "return a + b" in app.side.shown_text
        app.handle_update(
            {
                "sessionUpdate": "tool_call_update",
                "toolCallId": "c1",
                "status": "completed",
                "rawInput": {"path": "util.py"},
                "content": [{"type": "content", "content": {"type": "text", "text": "1: def add"}}],
                "_meta": {"pygent": {"durationMs": 35.0}},
            }
        )
        app.handle_update(
            {
                "sessionUpdate": "tool_call",
                "toolCallId": "c2",
                "title": "Run `ls`",
                "kind": "execute",
                "status": "failed",
                "content": [{"type": "content", "content": {"type": "text", "text": "ls: boom"}}],
            }
        )
        await pilot.pause(0.1)
        card = app.conversation.cards["c1"]
        assert card.status == "completed" and card.duration == 0.035
        assert "completed · 0.0s" in card._header().plain
        assert app.conversation.cards["c2"].duration is None  # the server gave no timing
        assert app.conversation.cards["c2"].has_class("-failed")
        assert "ls: boom" in app.side.shown_text
        await pilot.click(ToolCard)  # the first card
        await pilot.pause(0.1)
        assert card.expanded
        body = card._body().plain
        assert card.query_one(".tool-card-body").display
        assert '"path": "util.py"' in body and "1: def add" in body
        assert "1: def add" in app.side.shown_text
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert {"/help", "/new", "/sessions", "/compact", "/quit"} <= set(commands)


async def test_a_server_that_cannot_start_is_reported(workspace: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-python"
    app = PygentApp(workspace, server_command=[str(missing), "-m", "pygent", "serve"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.conversation.query(ErrorMessage), 20, "the error")
        text = app.conversation.query(ErrorMessage).first().text
        assert "Could not start the pygent server" in text and "F5" in text
        app.input_box.text = "kept"
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert app.input_box.text == "kept"
