"""The TUI replays the shared recorded turn (``tests/fixtures/recorded_turn.json``) and shows it all.

The fixture is real wire traffic of ``pygent serve`` (kept current by
``tests/server/test_recorded_turn.py``). Each server message goes through the app's own handlers:
updates to the renderer, ``workspace/applyEdit`` to the review pane (answered with the keys a
person would press), ``pygent/session/requestPermission`` to the modal. Every update kind must
leave a visible trace, and the person's answers must match the recorded ones.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from textual.widgets import Markdown
from tui_helpers import wait_for

from pygent.tui.app import PygentApp
from pygent.tui.links import markdown_parser, parse_file_link
from pygent.tui.messages import TurnFinished
from pygent.tui.widgets.message import AssistantMessage, NoteMessage, PlanMessage, ThoughtMessage
from pygent.tui.widgets.permission_modal import PermissionModal

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "recorded_turn.json"
SIZE = (120, 40)


def _load(workspace: Path) -> dict[str, Any]:
    """The recording with its placeholder root pointed at ``workspace``."""
    text = FIXTURE.read_text(encoding="utf-8")
    recording = json.loads(text)
    root = recording["workspaceRoot"]
    text = text.replace(f"file://{root}", workspace.as_uri())
    text = text.replace(json.dumps(root)[1:-1], json.dumps(str(workspace))[1:-1])
    return dict(json.loads(text))


def _answers(recording: dict[str, Any]) -> dict[Any, Any]:
    """The client's recorded answer to each server request, by request id."""
    return {
        entry["message"]["id"]: entry["message"].get("result")
        for entry in recording["messages"]
        if entry["from"] == "client" and "method" not in entry["message"]
    }


async def _answer_review(pilot: Any, app: PygentApp, params: dict[str, Any], accept: bool) -> Any:
    task = asyncio.ensure_future(app.handle_apply_edit(params))
    view = await wait_for(pilot, lambda: app.in_review, 10, "the review")
    view.focus()
    await pilot.press("a" if accept else "r")
    return await asyncio.wait_for(task, 30)


async def _answer_permission(pilot: Any, app: PygentApp, params: dict[str, Any], key: str) -> Any:
    task = asyncio.ensure_future(app.handle_request_permission(params))
    await wait_for(pilot, lambda: isinstance(app.screen, PermissionModal), 10, "the modal")
    await pilot.press(key)
    return await asyncio.wait_for(task, 30)


async def test_replayed_turn_shows_every_update_kind_and_answers_like_the_person(
    workspace: Path,
) -> None:
    recording = _load(workspace)
    for name, text in recording["files"].items():
        (workspace / name).write_text(text, encoding="utf-8")
    recorded = _answers(recording)
    app = PygentApp(workspace, connect=False)
    async with app.run_test(size=SIZE) as pilot:
        app.session_id = "SESSION"
        app.status.mode = "auto-edit"
        answers: dict[Any, Any] = {}
        for entry in recording["messages"]:
            message = entry["message"]
            method = message.get("method")
            if entry["from"] == "client" and method == "pygent/session/prompt":
                app.busy = True  # as after the person pressed Enter: a turn runs
            if entry["from"] != "server" or method is None:
                if entry["from"] == "server" and message.get("id") == 4:  # the prompt's answer
                    app.busy = True
                    app.post_message(TurnFinished(message["result"], None, recording["prompt"]))
                    await pilot.pause()
                continue
            params = message["params"]
            if method == "pygent/session/update":
                app.handle_update(params["update"])
            elif method == "workspace/applyEdit":
                accept = recorded[message["id"]]["applied"]
                answers[message["id"]] = await _answer_review(pilot, app, params, accept)
            elif method == "pygent/session/requestPermission":
                option = recorded[message["id"]]["outcome"]["optionId"]
                key = {"allow_once": "y", "allow_always": "a", "reject_once": "n"}[option]
                answers[message["id"]] = await _answer_permission(pilot, app, params, key)
            await pilot.pause()
        await app.conversation.current.finish() if app.conversation.current else None
        await pilot.pause()

        # The person's answers match the recorded ones; the accepted edit is on disk, the
        # rejected file was never created.
        assert {k: v["applied"] for k, v in answers.items() if "applied" in v} == {
            k: v["applied"] for k, v in recorded.items() if isinstance(v, dict) and "applied" in v
        }
        permission = next(v for v in answers.values() if "outcome" in v)
        assert permission == {"outcome": {"outcome": "selected", "optionId": "reject_once"}}
        assert '"""Add two numbers."""' in (workspace / "util.py").read_text(encoding="utf-8")
        assert not (workspace / "NOTES.md").exists()

        conversation = app.conversation
        # agent_thought_chunk and agent_message_chunk
        thoughts = [w.text for w in conversation.query(ThoughtMessage)]
        assert any("Three steps" in t for t in thoughts)
        assert "I'll plan this first." in conversation.answer_text()
        assert "did not run `rm`" in conversation.answer_text()
        # pygent_notice (the retry), as a warning
        notes = list(conversation.query(NoteMessage))
        retry = [n for n in notes if "rate limited, retrying" in n.text]
        assert retry and retry[0].has_class("note-warning")
        # current_mode_update: status bar and a note
        assert app.status.mode == "ask"
        assert any(n.text.startswith("Permission mode: Ask.") for n in notes)
        # plan: one checklist, in place
        plans = list(conversation.query(PlanMessage))
        assert len(plans) == 1
        assert "Plan (0/3 done)" in plans[0].text and "Write NOTES.md" in plans[0].text
        # usage_update (and the prompt's final usage): the status bar's tokens
        assert app.status.shown_tokens == 7170
        assert "7,170 tokens" in app.status.status_text().plain
        # tool_call / tool_call_update, rejections shown as rejected (not failed)
        cards = conversation.cards
        assert cards["call_plan"].shown_status == "completed"
        assert cards["call_edit"].shown_status == "completed"
        for call_id in ("call_notes", "call_rm"):
            card = cards[call_id]
            assert card.shown_status == "rejected", call_id
            assert card.has_class("-rejected") and not card.has_class("-failed")
            assert "rejected" in card._header().plain
            # A rejected call did not run: only the person's time is shown.
            assert card._header().plain.split("  ")[1] == "rejected · waited 3.0s for approval"
        # _meta.pygent timings: run time, and the wait for the review apart from it
        assert "completed · 0.2s (waited 3.0s for approval)" in cards["call_edit"]._header().plain
        assert "completed · 0.2s  " in cards["call_plan"]._header().plain


async def test_file_names_in_the_recorded_answer_open_the_workspace_file(workspace: Path) -> None:
    recording = _load(workspace)
    (workspace / "util.py").write_text(recording["files"]["util.py"], encoding="utf-8")
    answer = next(
        m["message"]["params"]["update"]["content"]["text"]
        for m in reversed(recording["messages"])
        if m["message"].get("method") == "pygent/session/update"
        and m["message"]["params"]["update"]["sessionUpdate"] == "agent_message_chunk"
    )
    html = markdown_parser(workspace)().render(answer)
    assert "http://util.py" not in html and "http://NOTES.md" not in html
    assert 'href="https://peps.python.org/pep-0257/"' in html  # a real URL stays a URL
    hrefs = [h.split('"')[0] for h in html.split('href="')[1:]]
    file_links = [parse_file_link(h) for h in hrefs if parse_file_link(h)]
    assert (workspace / "util.py", 2) in file_links
    app = PygentApp(workspace, connect=False)
    async with app.run_test(size=SIZE) as pilot:
        app.handle_update(
            {"sessionUpdate": "agent_message_chunk", "content": {"type": "text", "text": answer}}
        )
        message = await wait_for(pilot, lambda: app.conversation.query(AssistantMessage).first())
        await message.finish()
        target = (workspace / "util.py").as_uri() + "#L2"
        message.post_message(Markdown.LinkClicked(message, target))
        await wait_for(pilot, lambda: app.side.shown_title == "util.py:2", 10, "util.py shown")
        assert app.side.display and app.side.shown_line == 2
        assert app.side.shown_text.startswith("def add(a, b):")
        # A link outside the workspace is refused, with a message.
        app.open_link((workspace.parent / "secret.txt").as_uri())
        await pilot.pause()
        assert app.side.shown_title == "util.py:2"
