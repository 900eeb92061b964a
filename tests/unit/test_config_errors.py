"""Config errors a newcomer can hit (issue #17 item 7): every problem reported, exact messages.

Each test feeds the bad input through the real command (`pygent run`, `pygent config set`) and
checks the whole message and that the file was left as it was.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pygent.cli import cli
from pygent.errors import ConfigError
from pygent.settings import paths
from pygent.settings.loader import load_layers


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    monkeypatch.chdir(root)
    return root


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def write_user_config(text: str) -> Path:
    user = paths.user_config_file()
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text(text, encoding="utf-8")
    return user


BROKEN = (
    '[llm]\ntimeout = "soon"\nnum_retries = -1\nmax_retries = 2\n[permissions]\nmode = "yolo"\n'
)


def test_run_reports_every_problem_of_a_config_file_with_its_line(project: Path) -> None:
    user = write_user_config(BROKEN)

    result = invoke("run", "hello")

    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {user} has 4 problems:\n"
        "  line 2: llm.timeout must be a number, but found 'soon' (string).\n"
        "  line 3: llm.num_retries must be at least 0, but found -1.\n"
        "  line 4: unknown key 'llm.max_retries'. Did you mean 'llm.num_retries'?\n"
        "  line 6: permissions.mode must be one of 'ask', 'auto-edit', 'plan', 'auto', "
        "but found 'yolo' (string).\n"
        f"Fix them in {user}.\n"
    )
    assert user.read_text(encoding="utf-8") == BROKEN


def test_one_problem_keeps_the_single_line_message(project: Path) -> None:
    user = write_user_config('[llm]\ntimeout = "soon"\n')

    result = invoke("run", "hello")

    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {user}, line 2: llm.timeout must be a number, but found 'soon' (string).\n"
        f"Fix it in {user}.\n"
    )


def test_broken_user_and_project_files_and_variable_are_all_reported(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = write_user_config('[llm]\ntimeout = "soon"\n')
    project_file = project / ".pygent" / "config.toml"
    project_file.parent.mkdir()
    project_file.write_text("[ui]\nthem = 'nord'\n", encoding="utf-8")
    monkeypatch.setenv("PYGENT_PERMISSION_MODE", "yolo")

    result = invoke("config", "show")

    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {user}, line 2: llm.timeout must be a number, but found 'soon' (string).\n"
        f"  Fix it in {user}.\n"
        f"{project_file}, line 2: unknown key 'ui.them'.\n"
        "  Did you mean 'ui.theme'? Valid keys in [ui]: theme, diff_style, show_thoughts, "
        "follow_agent.\n"
        "environment: environment variable PYGENT_PERMISSION_MODE must be one of 'ask', "
        "'auto-edit', 'plan', 'auto', but found 'yolo' (string).\n"
        "  Change or unset that variable and try again.\n"
        "Fix each of them; `pygent config show` checks them again.\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_layers(project)
    assert [e["code"] for e in caught.value.data["errors"]] == ["invalid_config"] * 3


def test_config_set_on_a_table_says_it_is_a_table_and_lists_its_keys(project: Path) -> None:
    result = invoke("config", "set", "llm", "5")

    assert result.exit_code == 1
    assert result.stderr == (
        "Error: 'llm' is a table of settings, not a single setting.\n"
        "Use one of its keys: llm.model, llm.api_key, llm.api_base, llm.max_tokens, "
        "llm.temperature, llm.timeout, llm.num_retries, llm.max_turn_requests, "
        "llm.compact_threshold, llm.prompt_caching, llm.backend.\n"
    )
    assert not paths.user_config_file().exists()


def test_config_set_unknown_key_without_suggestion_has_no_stray_space(project: Path) -> None:
    result = invoke("config", "set", "nosuch.key", "1")

    assert result.exit_code == 1
    assert result.stderr == (
        "Error: Unknown setting 'nosuch.key'.\n`pygent config show` lists every setting.\n"
    )
    assert not paths.user_config_file().exists()


def test_config_set_unknown_key_with_suggestion(project: Path) -> None:
    result = invoke("config", "set", "llm.modle", "x")

    assert result.stderr == (
        "Error: Unknown setting 'llm.modle'.\n"
        "Did you mean 'llm.model'? `pygent config show` lists every setting.\n"
    )


def test_invalid_toml_is_reported_at_the_same_place_by_run_and_config_set(
    project: Path,
) -> None:
    text = '[llm]\nmodel = "a" "b"\n'
    user = write_user_config(text)

    from_run = invoke("run", "hello")
    from_set = invoke("config", "set", "llm.model", "openai/gpt-4o")

    expected = (
        f"Error: Invalid TOML in {user}:2:13 (line 2, column 13): "
        "Expected newline or end of document after a statement.\n"
        "Fix the syntax (e.g. with `pygent config edit`) and try again.\n"
    )
    assert from_run.stderr == expected
    assert from_set.stderr == expected
    assert user.read_text(encoding="utf-8") == text


def test_config_set_bad_value_cites_no_line_the_file_does_not_have(project: Path) -> None:
    text = '[llm]\nmodel = "openai/gpt-4o"\n'
    user = write_user_config(text)

    result = invoke("config", "set", "permissions.mode", "yolo")

    assert result.exit_code == 1
    assert result.stderr == (
        "Error: permissions.mode must be one of 'ask', 'auto-edit', 'plan', 'auto', "
        "but found 'yolo' (string).\n"
        f"Nothing was changed in {user}.\n"
    )
    assert user.read_text(encoding="utf-8") == text


def test_config_set_bad_value_in_a_missing_file_creates_nothing(project: Path) -> None:
    result = invoke("config", "set", "llm.temperature", "9")

    assert result.exit_code == 1
    assert "llm.temperature must be at most 2.0, but found 9.0." in result.stderr
    assert not paths.user_config_file().exists()


def test_config_set_accepts_a_negative_number_as_the_value(project: Path) -> None:
    result = invoke("config", "set", "llm.timeout", "-1")

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: llm.timeout must be greater than 0.0, but found -1.0.")
    assert not paths.user_config_file().exists()


TROUBLESHOOTING = Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md"
DOC_USER_FILE = "/home/you/.config/pygent/config.toml"


@pytest.mark.parametrize(
    ("args", "config"),
    [
        (["run", "hello"], BROKEN),
        (["run", "hello"], '[llm]\nmodel = "a" "b"\n'),
        (["config", "set", "llm", "5"], None),
        (["config", "set", "nosuch.key", "1"], None),
        (["config", "set", "llm.modle", "openai/gpt-4o"], None),
        (["config", "set", "permissions.mode", "yolo"], None),
    ],
)
def test_troubleshooting_page_shows_the_exact_message(
    project: Path, args: list[str], config: str | None
) -> None:
    user = write_user_config(config) if config is not None else paths.user_config_file()

    result = invoke(*args)

    assert result.exit_code == 1
    shown = result.stderr.replace(str(user), DOC_USER_FILE)
    assert shown in TROUBLESHOOTING.read_text(encoding="utf-8")
