"""`pygent prompt show|set|edit|reset` with real files and a scripted editor."""

from __future__ import annotations

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
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    monkeypatch.chdir(root)
    return root


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def editor_writing(tmp_path: Path, text: str) -> str:
    script = tmp_path / "ed.py"
    script.write_text(f"import sys, pathlib\npathlib.Path(sys.argv[1]).write_text({text!r})\n")
    return f'"{sys.executable}" "{script}"'


def test_show_has_a_header_per_layer(project: Path) -> None:
    (project / "AGENTS.md").write_text("Be nice.")
    result = run("prompt", "show")
    assert result.exit_code == 0
    assert "[1/2] default: built-in default" in result.stdout
    assert "[2/2] agents-md:" in result.stdout and "AGENTS.md" in result.stdout
    assert "Git branch: main" in result.stdout
    raw = run("prompt", "show", "--raw").stdout
    assert "────" not in raw and raw.startswith("You are pygent")


def test_set_user_and_project(project: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine.md"
    mine.write_text("MY BASE")
    assert run("prompt", "set", str(mine)).exit_code == 0
    user = parse_toml_text(paths.user_config_file().read_text(), "u")
    assert Path(user["system_prompt"]["file"]) == mine.resolve()
    (project / "docs").mkdir()
    (project / "docs" / "agent.md").write_text("PROJECT EXTRA")
    assert run("prompt", "set", "docs/agent.md", "--project").exit_code == 0
    proj = parse_toml_text((project / ".pygent" / "config.toml").read_text(), "p")
    assert proj["system_prompt"]["file"] == "../docs/agent.md"
    assert run("prompt", "show", "--raw").stdout == "MY BASE\n\nPROJECT EXTRA\n"


def test_set_missing_file_is_refused(project: Path) -> None:
    result = run("prompt", "set", "nope.md")
    assert result.exit_code == 1
    assert "nope.md does not exist" in result.stderr
    assert not paths.user_config_file().exists()


def test_show_with_missing_prompt_file_is_clear(project: Path) -> None:
    paths.user_config_file().parent.mkdir(parents=True)
    paths.user_config_file().write_text('[system_prompt]\nfile = "lost.md"\n')
    result = run("prompt", "show")
    assert result.exit_code == 1
    assert "lost.md does not exist" in result.stderr
    assert "system_prompt.file" in result.stderr
    assert "Traceback" not in result.output


def test_edit_creates_project_prompt_file(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", editor_writing(tmp_path, "Project rules for {project_name}."))
    result = run("prompt", "edit", "--project")
    assert result.exit_code == 0, result.output
    assert (project / ".pygent" / "prompt.md").read_text() == "Project rules for {project_name}."
    assert run("prompt", "show", "--raw").stdout.endswith("Project rules for proj.\n")


def test_edit_user_prompt_starts_from_default(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "ed.py"
    script.write_text(
        "import sys, pathlib\np = pathlib.Path(sys.argv[1])\n"
        "p.write_text(p.read_text().replace('You are pygent', 'You are Bob'))\n"
    )
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f'"{sys.executable}" "{script}"')
    assert run("prompt", "edit").exit_code == 0
    assert run("prompt", "show", "--raw").stdout.startswith("You are Bob")
    # Editing again edits the same file.
    assert run("prompt", "edit").exit_code == 0
    assert (paths.user_config_dir() / "system_prompt.md").is_file()


def test_edit_to_empty_changes_nothing(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", editor_writing(tmp_path, "  \n"))
    result = run("prompt", "edit", "--project")
    assert "empty" in result.stdout
    assert not (project / ".pygent" / "prompt.md").exists()
    assert not (project / ".pygent" / "config.toml").exists()


def test_edit_without_editor(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if sys.platform == "win32":
        pytest.skip("Windows falls back to notepad")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    result = run("prompt", "edit", "--project")
    assert result.exit_code == 1 and "$EDITOR" in result.stderr
    assert not (project / ".pygent" / "prompt.md").exists()


def test_reset(project: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine.md"
    mine.write_text("MINE")
    run("prompt", "set", str(mine))
    result = run("prompt", "reset")
    assert "Removed system_prompt.file" in result.stdout
    assert mine.exists()
    assert run("prompt", "show", "--raw").stdout.startswith("You are pygent")
    assert "nothing to reset" in run("prompt", "reset", "--project").stdout
