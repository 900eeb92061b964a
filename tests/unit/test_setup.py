"""`pygent setup`: the plain-terminal wizard, driven through click's runner input."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pygent.cli import cli
from pygent.settings import paths
from pygent.settings.loader import load_settings, parse_toml_text, resolve_api_key
from pygent.settings.writable import dir_variable
from unwritable_dirs import METHODS, unwritable


def run(input: str) -> Result:
    return CliRunner().invoke(cli, ["setup"], input=input, catch_exceptions=False)


def user_data() -> dict[str, object]:
    path = paths.user_config_file()
    return parse_toml_text(path.read_text(), path)


def test_anthropic_with_key_entered(tmp_path: Path) -> None:
    result = run("1\n\n2\nsk-ant-wizard-key-123456\n")
    assert result.exit_code == 0, result.output
    assert user_data() == {
        "llm": {"model": "anthropic/claude-sonnet-4-5", "api_key": "sk-ant-wizard-key-123456"}
    }
    assert "sk-ant-wizard-key-123456" not in result.output  # typed masked, never echoed
    if sys.platform != "win32":
        assert stat.S_IMODE(paths.user_config_file().stat().st_mode) == 0o600
    assert resolve_api_key(load_settings(tmp_path)) == "sk-ant-wizard-key-123456"


def test_openai_with_environment_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-0000000")
    result = run("2\ngpt-4o\n1\n")
    assert result.exit_code == 0, result.output
    assert "(it is set now)" in result.output
    assert user_data() == {"llm": {"model": "openai/gpt-4o"}}
    assert "from $OPENAI_API_KEY" in result.output
    assert resolve_api_key(load_settings(tmp_path)) == "sk-from-env-0000000"


@pytest.mark.parametrize(
    ("choice", "model"),
    [("3", "gemini/gemini-2.5-pro"), ("4", "openrouter/anthropic/claude-sonnet-4.5")],
)
def test_gemini_and_openrouter_defaults(choice: str, model: str) -> None:
    result = run(f"{choice}\n\n1\n")
    assert result.exit_code == 0, result.output
    assert user_data()["llm"] == {"model": model}


def test_local_server_asks_base_url_and_optional_key() -> None:
    result = run("5\nhttp://localhost:8080/v1\nllama3.1\n\n")
    assert result.exit_code == 0, result.output
    assert user_data() == {
        "llm": {"model": "openai/llama3.1", "api_base": "http://localhost:8080/v1"}
    }
    assert "Warning" not in result.output  # custom endpoints are never warned about


def test_keeps_comments_and_other_settings_and_replaces_old_key() -> None:
    path = paths.user_config_file()
    path.parent.mkdir(parents=True)
    path.write_text(
        '# my notes\n[llm]\nmodel = "x"\napi_key = "old-key-1234"\n[ui]\ntheme = "nord"\n'
    )
    result = run("2\n\n1\n")
    assert result.exit_code == 0, result.output
    text = path.read_text()
    assert "# my notes" in text and 'theme = "nord"' in text
    assert "old-key-1234" not in text
    assert user_data()["llm"] == {"model": "openai/gpt-4.1"}


def test_invalid_menu_choice_asks_again() -> None:
    result = run("9\n1\n\n1\n")
    assert result.exit_code == 0
    assert "9 is not in the range" in result.output


def test_broken_config_is_reported_before_any_question() -> None:
    path = paths.user_config_file()
    path.mkdir(parents=True)
    result = run("1\n")
    assert result.exit_code == 1
    assert "is a directory" in result.stderr
    assert "Provider" not in result.output


def test_invalid_existing_config_is_reported_before_any_question() -> None:
    path = paths.user_config_file()
    path.parent.mkdir(parents=True)
    path.write_text("[llm]\nmodel = 5\n")
    result = run("1\n")
    assert result.exit_code == 1
    assert "llm.model must be a string" in result.stderr
    assert path.read_text() == "[llm]\nmodel = 5\n"


@pytest.mark.parametrize("method", METHODS)
def test_unwritable_config_directory_is_reported_before_any_question(method: str) -> None:
    config_dir = paths.user_config_dir()
    with unwritable(config_dir, method):
        result = run("1\n\n2\nsk-ant-wizard-key-123456\n")
        assert result.exit_code == 1
        assert result.stderr.startswith(
            f"Error: Cannot write the config file {paths.user_config_file()} ("
        )
        assert dir_variable("config") in result.stderr
        assert "PYGENT_MODEL and PYGENT_API_KEY" in result.stderr
        assert "Provider" not in result.output  # not one question asked
        assert "sk-ant" not in result.output
        assert not paths.user_config_file().is_file()
