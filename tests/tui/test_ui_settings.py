"""The ``[ui]`` settings in the terminal chat: theme, diff layout and the model's thoughts."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import wait_for

from pygent.settings.loader import read_toml_file
from pygent.settings.models import UISettings
from pygent.tui.app import PygentApp

SIZE = (100, 30)


def _app(root: Path, **ui: Any) -> PygentApp:
    return PygentApp(root, connect=False, ui=UISettings(**ui), config_file=root / "user.toml")


def _capture_notes(app: PygentApp) -> list[tuple[str, str]]:
    notes: list[tuple[str, str]] = []
    original = app.notify

    def notify(message: str, **kwargs: Any) -> None:
        notes.append((message, str(kwargs.get("severity", "information"))))
        original(message, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    return notes


async def test_configured_theme_is_used(workspace: Path) -> None:
    app = _app(workspace, theme="nord")
    async with app.run_test(size=SIZE):
        assert app.theme == "nord"
        assert not app.current_theme.name.startswith("textual-")
    # Using the configured theme is not a change to save.
    assert not (workspace / "user.toml").exists()


async def test_unknown_theme_warns_and_keeps_the_default(workspace: Path) -> None:
    app = _app(workspace, theme="no-such-theme")
    notes = _capture_notes(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "textual-dark"
    warnings = [message for message, severity in notes if severity == "warning"]
    assert len(warnings) == 1
    assert "'no-such-theme'" in warnings[0] and "ui.theme" in warnings[0]
    assert "nord" in warnings[0]  # the themes one can choose are listed


async def test_theme_chosen_in_the_app_is_saved_to_the_user_config(workspace: Path) -> None:
    config = workspace / "user.toml"
    config.write_text('# my settings\n[llm]\nmodel = "openai/gpt-4o"  # work\n', encoding="utf-8")
    app = _app(workspace)
    notes = _capture_notes(app)
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "gruvbox"
        await wait_for(pilot, lambda: any("saved" in message for message, _ in notes), 10)
    text = config.read_text(encoding="utf-8")
    assert read_toml_file(config)["ui"]["theme"] == "gruvbox"
    assert "# my settings" in text and "# work" in text  # the rest of the file survives
    assert app.ui.theme == "gruvbox"


async def test_theme_that_cannot_be_saved_is_a_warning_not_a_crash(workspace: Path) -> None:
    config = workspace / "user.toml"
    config.write_text("[llm\nbroken", encoding="utf-8")
    app = _app(workspace)
    notes = _capture_notes(app)
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "gruvbox"
        await wait_for(pilot, lambda: any(s == "warning" for _, s in notes), 10)
        assert app.theme == "gruvbox"  # used for this run all the same
    warning = next(message for message, severity in notes if severity == "warning")
    assert "not saved" in warning and "user.toml" in warning
    assert config.read_text(encoding="utf-8") == "[llm\nbroken"  # left as it was


def _thought(text: str) -> dict[str, Any]:
    return {"sessionUpdate": "agent_thought_chunk", "content": {"type": "text", "text": text}}


@pytest.mark.parametrize("shown", [True, False])
async def test_thoughts_are_shown_unless_switched_off(workspace: Path, shown: bool) -> None:
    app = _app(workspace, show_thoughts=shown)
    async with app.run_test(size=SIZE) as pilot:
        app.handle_update(_thought("considering the options"))
        app.handle_update(
            {"sessionUpdate": "agent_message_chunk", "content": {"type": "text", "text": "Hi"}}
        )
        await pilot.pause()
        names = [type(child).__name__ for child in app.conversation.children]
    assert ("ThoughtMessage" in names) is shown, names
    assert any(name != "ThoughtMessage" for name in names)  # the answer is shown


def _edit(root: Path) -> dict[str, Any]:
    """An applyEdit as the server sends it: the file's text before and after in the meta."""
    path = root / "util.py"
    old = path.read_text(encoding="utf-8")
    return {
        "label": "swap operands",
        "edit": {"documentChanges": []},
        "_meta": {
            "pygent": {
                "toolCallId": "call_1",
                "files": [
                    {
                        "uri": path.as_uri(),
                        "oldText": old,
                        "newText": old.replace("a + b", "b + a"),
                    }
                ],
            }
        },
    }


@pytest.mark.parametrize(("style", "side_by_side"), [("split", True), ("unified", False)])
async def test_diff_style_sets_the_layout_of_a_review(
    workspace: Path, style: str, side_by_side: bool
) -> None:
    app = _app(workspace, diff_style=style)
    async with app.run_test(size=SIZE) as pilot:
        answer = asyncio.ensure_future(app.handle_apply_edit(_edit(workspace)))
        view = await wait_for(pilot, lambda: app.in_review, what="the review")
        assert view.side_by_side is side_by_side
        await wait_for(pilot, lambda: app.focused is view, 10, "focus on the review")
        await pilot.press("a")
        assert (await answer)["applied"] is True
    assert "return b + a" in (workspace / "util.py").read_text(encoding="utf-8")


def test_chat_command_hands_the_ui_settings_to_the_app(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    import sys

    from pygent.cli.chat import chat
    from pygent.settings import paths

    user_file = paths.user_config_file()
    user_file.parent.mkdir(parents=True, exist_ok=True)
    user_file.write_text('[ui]\ntheme = "nord"\nshow_thoughts = false\n', encoding="utf-8")
    (workspace / ".pygent").mkdir()
    (workspace / ".pygent" / "config.toml").write_text(
        '[ui]\ndiff_style = "split"\n', encoding="utf-8"
    )
    started: list[PygentApp] = []
    monkeypatch.setattr(PygentApp, "run", lambda self: started.append(self))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setenv("PYGENT_API_KEY", "sk-test")  # not a first run
    monkeypatch.chdir(workspace)

    chat.main([], standalone_mode=False)
    (app,) = started
    assert (app.ui.theme, app.ui.show_thoughts, app.side_by_side) == ("nord", False, True)


async def test_saving_a_theme_says_when_the_project_overrides_it(workspace: Path) -> None:
    (workspace / ".git").mkdir()
    (workspace / ".pygent").mkdir()
    (workspace / ".pygent" / "config.toml").write_text('[ui]\ntheme = "nord"\n', encoding="utf-8")
    app = _app(workspace, theme="nord")
    notes = _capture_notes(app)
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "gruvbox"
        await wait_for(pilot, lambda: any("saved" in message for message, _ in notes), 10)
    saved = next(message for message, _ in notes if "saved" in message)
    assert "sets ui.theme = 'nord', which wins here next time" in saved
    assert read_toml_file(workspace / "user.toml")["ui"]["theme"] == "gruvbox"


CHAT_GC_PROBE = """
import asyncio, gc, sys
from pathlib import Path
from pygent import _startup
from pygent.tui.app import PygentApp

async def main() -> None:
    _startup.pause_gc()  # as `pygent chat` starts
    app = PygentApp(Path(sys.argv[1]), connect=False)
    print("before", gc.isenabled())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        print("after first frame", gc.isenabled())

asyncio.run(main())
"""


def test_chat_resumes_the_collector_after_its_first_frame(
    workspace: Path, isolated_home: Path
) -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", CHAT_GC_PROBE, str(workspace)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["before False", "after first frame True"]
