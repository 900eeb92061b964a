"""`pygent config show|path|init|set|unset|edit` through click's runner, with real files and editors."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pygent.cli import cli
from pygent.settings import paths
from pygent.settings.loader import parse_toml_text


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    monkeypatch.chdir(root)
    return root


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def write_user_config(text: str) -> Path:
    """Write the user config file (in the isolated home) and return its path."""
    user = paths.user_config_file()
    user.parent.mkdir(parents=True)
    user.write_text(text)
    return user


def use_editor(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *contents: str, exit_code: int = 0
) -> None:
    """Make $EDITOR (not $VISUAL) the fake editor of :func:`make_editor`."""
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", make_editor(tmp_path, *contents, exit_code=exit_code))


def make_editor(tmp_path: Path, *contents: str, exit_code: int = 0) -> str:
    """An $EDITOR that writes contents[n] on its n-th call (the last one repeats)."""
    script = tmp_path / "fake_editor.py"
    counter = tmp_path / "editor_calls"
    script.write_text(
        "import sys, pathlib\n"
        f"counter = pathlib.Path({str(counter)!r})\n"
        "n = int(counter.read_text()) if counter.exists() else 0\n"
        "counter.write_text(str(n + 1))\n"
        f"contents = {list(contents)!r}\n"
        "pathlib.Path(sys.argv[1]).write_text(contents[min(n, len(contents) - 1)])\n"
        f"sys.exit({exit_code})\n"
    )
    return f'"{sys.executable}" "{script}"'


def test_show_prints_toml_with_sources_and_masks_secrets(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_user_config('[llm]\nmodel = "openai/gpt-4o"\napi_key = "sk-user-secret-123"\n')
    (project / ".pygent").mkdir()
    (project / ".pygent" / "config.toml").write_text("[tools]\nshell_timeout = 30\n")
    monkeypatch.setenv("PYGENT_MAX_TOKENS", "512")
    result = run("config", "show")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert 'model = "openai/gpt-4o"  # user' in out
    assert 'api_key = "***"  # user' in out
    assert "sk-user-secret-123" not in result.output
    assert "max_tokens = 512  # env (PYGENT_MAX_TOKENS)" in out
    assert "shell_timeout = 30  # project" in out
    assert 'mode = "ask"  # default' in out
    # The output (minus the comments) is valid TOML that round-trips.
    data = parse_toml_text(out, "<show>")
    assert data["llm"]["model"] == "openai/gpt-4o"
    assert data["tools"]["shell_timeout"] == 30


def test_show_names_provider_variable_as_key_source(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret-from-env")
    result = run("config", "show")
    assert "the key comes from ANTHROPIC_API_KEY" in result.stdout
    assert "sk-ant-secret-from-env" not in result.output


def test_show_warns_about_unknown_model(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYGENT_MODEL", "anthropic/claude-sonet-4-5")
    result = run("config", "show")
    assert result.exit_code == 0
    assert "Warning:" in result.stderr and "claude-sonnet-4-5" in result.stderr


def test_show_with_broken_config_is_a_clear_error(project: Path) -> None:
    user = write_user_config("[llm]\nmodel = \n")
    result = run("config", "show")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert str(user) in result.stderr and "line 2" in result.stderr


def test_path_lists_both_files(project: Path) -> None:
    result = run("config", "path")
    assert str(paths.user_config_file()) in result.stdout
    assert str(project / ".pygent" / "config.toml") in result.stdout
    assert result.stdout.count("does not exist") == 2


def test_init_writes_commented_file_and_refuses_overwrite(project: Path) -> None:
    user = paths.user_config_file()
    result = run("config", "init")
    assert result.exit_code == 0 and user.is_file()
    user.write_text('[llm]\nmodel = "mine"\n')
    result = run("config", "init")
    assert result.exit_code == 1
    assert "--force" in result.stderr
    assert user.read_text() == '[llm]\nmodel = "mine"\n'
    result = run("config", "init", "--force")
    assert result.exit_code == 0
    assert "# model = " in user.read_text()


def test_init_project(project: Path) -> None:
    result = run("config", "init", "--project")
    assert result.exit_code == 0
    assert "never put API keys here" in (project / ".pygent" / "config.toml").read_text()


def test_set_user_and_project(project: Path) -> None:
    assert run("config", "set", "llm.model", "openai/gpt-4o").exit_code == 0
    assert run("config", "set", "permissions.mode", "auto-edit", "--project").exit_code == 0
    user = parse_toml_text(paths.user_config_file().read_text(), "u")
    proj = parse_toml_text((project / ".pygent" / "config.toml").read_text(), "p")
    assert user == {"llm": {"model": "openai/gpt-4o"}}
    assert proj == {"permissions": {"mode": "auto-edit"}}
    shown = run("config", "show").stdout
    assert 'mode = "auto-edit"  # project' in shown


def test_set_unknown_key_or_bad_value_changes_nothing(project: Path) -> None:
    user = write_user_config("# keep me\n[llm]\nmax_tokens = 10\n")
    before = user.read_bytes()
    result = run("config", "set", "llm.max_tokns", "20")
    assert result.exit_code == 1 and "Did you mean 'llm.max_tokens'" in result.stderr
    result = run("config", "set", "llm.max_tokens", "twenty")
    assert result.exit_code == 1 and "must be an integer" in result.stderr
    result = run("config", "set", "permissions.mode", "yolo")
    assert result.exit_code == 1 and "one of 'ask'" in result.stderr
    assert user.read_bytes() == before
    assert "Traceback" not in result.output


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_set_api_key_is_masked_and_0600(project: Path) -> None:
    result = run("config", "set", "llm.api_key", "sk-test-0123456789")
    assert result.exit_code == 0
    assert "sk-test-0123456789" not in result.output
    assert stat.S_IMODE(paths.user_config_file().stat().st_mode) == 0o600


def test_set_api_key_in_project_warns(project: Path) -> None:
    result = run("config", "set", "llm.api_key", "sk-test-0123456789", "--project")
    assert "project file" in result.stderr


def test_set_model_warns_on_typo(project: Path) -> None:
    result = run("config", "set", "llm.model", "openai/gpt-4oo")
    assert result.exit_code == 0
    assert "Warning:" in result.stderr and "gpt-4o" in result.stderr


def test_unset(project: Path) -> None:
    run("config", "set", "ui.theme", "nord")
    assert "Removed ui.theme" in run("config", "unset", "ui.theme").stdout
    assert "nothing to do" in run("config", "unset", "ui.theme").stdout


def test_edit_valid_change_is_saved(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_editor(monkeypatch, tmp_path, '[llm]\nmodel = "openai/gpt-4o"\n')
    result = run("config", "edit")
    assert result.exit_code == 0, result.output
    assert paths.user_config_file().read_text() == '[llm]\nmodel = "openai/gpt-4o"\n'
    assert sorted(p.name for p in paths.user_config_file().parent.iterdir()) == ["config.toml"]


def test_edit_visual_wins_over_editor(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VISUAL", make_editor(tmp_path, '[ui]\ntheme = "visual"\n'))
    monkeypatch.setenv("EDITOR", "false-editor-that-does-not-exist")
    assert run("config", "edit", "--project").exit_code == 0
    assert 'theme = "visual"' in (project / ".pygent" / "config.toml").read_text()


def test_edit_invalid_then_retry_then_valid(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = write_user_config('[llm]\nmodel = "old"\n')
    use_editor(monkeypatch, tmp_path, "[llm]\nmax_tokens = 'x'\n", '[llm]\nmodel = "new"\n')
    result = run("config", "edit", input="y\n")
    assert result.exit_code == 0, result.output
    assert "llm.max_tokens must be an integer" in result.stderr
    assert user.read_text() == '[llm]\nmodel = "new"\n'


def test_edit_invalid_and_declined_keeps_previous_file(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = write_user_config('# mine\n[llm]\nmodel = "old"\n')
    use_editor(monkeypatch, tmp_path, "[llm\nbroken")
    result = run("config", "edit", input="n\n")
    assert result.exit_code == 1
    assert "Invalid TOML" in result.stderr and "line 1" in result.stderr
    assert "kept unchanged" in result.stderr
    assert user.read_text() == '# mine\n[llm]\nmodel = "old"\n'
    assert sorted(p.name for p in user.parent.iterdir()) == ["config.toml"]


def test_edit_without_editor_is_a_clear_error(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    if sys.platform == "win32":
        pytest.skip("Windows falls back to notepad")
    result = run("config", "edit")
    assert result.exit_code == 1
    assert "$EDITOR" in result.stderr and "export EDITOR" in result.stderr
    assert str(paths.user_config_file()) in result.stderr
    assert not paths.user_config_file().exists()


def test_edit_with_failing_editor_changes_nothing(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = write_user_config('[llm]\nmodel = "old"\n')
    use_editor(monkeypatch, tmp_path, '[llm]\nmodel = "new"\n', exit_code=3)
    result = run("config", "edit")
    assert result.exit_code == 1
    assert "exited with status 3" in result.stderr
    assert user.read_text() == '[llm]\nmodel = "old"\n'
    monkeypatch.setenv("EDITOR", "no-such-editor-xyz")
    result = run("config", "edit")
    assert result.exit_code == 1 and "Could not start the editor" in result.stderr
    assert user.read_text() == '[llm]\nmodel = "old"\n'


def test_edit_new_file_invalid_and_declined_creates_nothing(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_editor(monkeypatch, tmp_path, "[llm]\nmodle = 'x'\n")
    result = run("config", "edit", "--project", input="n\n")
    assert result.exit_code == 1
    assert "Did you mean 'llm.model'" in result.stderr
    assert "not created" in result.stderr
    assert not (project / ".pygent" / "config.toml").exists()


def test_edit_without_answer_to_retry_keeps_file(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No terminal input at all (EOF) counts as "no": the previous file stays."""
    user = write_user_config('[llm]\nmodel = "old"\n')
    use_editor(monkeypatch, tmp_path, "[llm]\ntimeout = -1\n")
    result = run("config", "edit", input="")
    assert result.exit_code == 1
    assert "greater than 0" in result.stderr
    assert user.read_text() == '[llm]\nmodel = "old"\n'


def test_show_describes_every_setting_unless_brief(project: Path) -> None:
    from pygent.settings.loader import field_for_key

    full = run("config", "show").stdout
    assert "# The model and how to call it.\n[llm]" in full
    assert f"# {field_for_key('llm.timeout').description}\ntimeout = 600.0  # default" in full
    brief = run("config", "show", "--brief").stdout
    assert "# The model and how to call it." not in brief
    assert "[llm]\nmodel = " in brief
    assert parse_toml_text(full, "f") == parse_toml_text(brief, "b")
