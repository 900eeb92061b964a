"""The first-run screen: provider, model, key, a connection test against the fake server, the config."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button, Input, RadioButton, Static
from tui_helpers import wait_for

from pygent.cli.chat import needs_first_run
from pygent.settings.loader import load_settings
from pygent.settings.writable import dir_variable
from pygent.testing.fake_llm import FakeLLMThread
from pygent.tui.app import PygentApp
from pygent.tui.widgets.message import NoteMessage
from pygent.tui.widgets.welcome import TUTORIAL_PROMPT, WelcomeScreen
from unwritable_dirs import METHODS, unwritable

SIZE = (100, 45)


def _result(screen: WelcomeScreen) -> str:
    return str(screen.query_one("#welcome-result", Static).render())


async def test_first_run_tests_the_connection_and_writes_the_config(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> None:
    config = tmp_path / "config" / "config.toml"
    fake_llm.script([{"error": "auth"}, {"text": "OK"}])
    app = PygentApp(tmp_path, first_run=True, config_file=config, connect=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen) and app.screen)
        # The local provider asks for a base URL.
        assert not screen.query_one("#base-url").display
        screen.query_one("#provider-4", RadioButton).value = True
        await wait_for(pilot, lambda: screen.query_one("#base-url").display, what="base URL field")

        # Bad input first: an invalid base URL is explained, nothing is written.
        screen.query_one("#base-url", Input).value = "localhost:1234"
        screen.query_one("#save", Button).press()
        await pilot.pause(0.1)
        assert "must start with http://" in _result(screen)
        assert not config.exists()
        screen.query_one("#model", Input).value = "  "
        screen.query_one("#base-url", Input).value = fake_llm.base_url
        screen.query_one("#test", Button).press()
        await pilot.pause(0.1)
        assert "Enter a model name" in _result(screen)

        screen.query_one("#model", Input).value = "fake-model"
        screen.query_one("#api-key", Input).value = "sk-fake-test"
        # The server rejects the key: the friendly error is shown.
        screen.query_one("#test", Button).press()
        await wait_for(pilot, lambda: "Connection failed" in _result(screen), what="the failure")
        assert "API key" in _result(screen) or "auth" in _result(screen).lower()
        # Then it works.
        screen.query_one("#test", Button).press()
        await wait_for(pilot, lambda: "Connected to openai/fake-model" in _result(screen))
        assert len(fake_llm.requests) == 2

        screen.query_one("#save", Button).press()
        await wait_for(pilot, lambda: not isinstance(app.screen, WelcomeScreen), what="main screen")
        text = config.read_text(encoding="utf-8")
        assert 'model = "openai/fake-model"' in text
        assert fake_llm.base_url in text
        assert "sk-fake-test" in text
        # The tutorial: what was saved, tips, a first prompt ready to send.
        notes = [n.text for n in app.conversation.query(NoteMessage)]
        assert any(str(config) in n for n in notes)
        assert "You're set up" in app.conversation.answer_text()
        assert app.input_box.text == TUTORIAL_PROMPT


async def test_env_var_choice_stores_no_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    app = PygentApp(tmp_path, first_run=True, config_file=config, connect=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen) and app.screen)
        screen.query_one("#provider-1", RadioButton).value = True  # OpenAI
        await pilot.pause(0.1)
        assert screen.query_one("#model", Input).value == "gpt-4.1"
        screen.query_one("#api-key", Input).value = "MY_OWN_VAR"
        screen.query_one("#save", Button).press()
        await pilot.pause(0.1)
        assert "OPENAI_API_KEY" in _result(screen)
        assert not config.exists()
        screen.query_one("#api-key", Input).value = "$OPENAI_API_KEY"
        screen.query_one("#save", Button).press()
        await wait_for(pilot, lambda: not isinstance(app.screen, WelcomeScreen), what="main screen")
    text = config.read_text(encoding="utf-8")
    assert 'model = "openai/gpt-4.1"' in text
    assert "api_key" not in text


def test_first_run_only_without_a_usable_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert needs_first_run(load_settings(tmp_path))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-x")
    assert not needs_first_run(load_settings(tmp_path))
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.setenv("PYGENT_API_BASE", "http://localhost:11434/v1")
    assert not needs_first_run(load_settings(tmp_path))  # a local server needs no key


@pytest.mark.parametrize("method", METHODS)
async def test_unwritable_config_directory_is_shown_before_the_form_is_filled(
    tmp_path: Path, method: str
) -> None:
    config_dir = tmp_path / "config" / "pygent"
    config = config_dir / "config.toml"
    with unwritable(config_dir, method):
        app = PygentApp(tmp_path, first_run=True, config_file=config, connect=False)
        async with app.run_test(size=SIZE) as pilot:
            screen = await wait_for(
                pilot, lambda: isinstance(app.screen, WelcomeScreen) and app.screen
            )
            await wait_for(pilot, lambda: "Cannot write the config file" in _result(screen))
            shown = _result(screen)
            assert str(config) in shown
            assert f"Point {dir_variable('config')} at a writable directory" in shown
            assert "PYGENT_MODEL and PYGENT_API_KEY" in shown
            # Saving anyway keeps the screen open with the same explanation; nothing written.
            screen.query_one("#api-key", Input).value = "sk-ant-test-key-123456"
            screen.query_one("#save", Button).press()
            await pilot.pause(0.1)
            assert isinstance(app.screen, WelcomeScreen)
            assert "Cannot write the config file" in _result(screen)
    assert not config.is_file()
