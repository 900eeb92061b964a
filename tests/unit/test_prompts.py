"""System prompt assembly: layers, AGENTS.md, template variables, package data, clear errors."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from importlib.resources import files
from pathlib import Path

import pytest

from pygent.errors import ConfigError
from pygent.prompts import build_system_prompt, default_prompt_text, prompt_layers
from pygent.prompts.variables import detect_project, expand, git_branch_name, template_values
from pygent.settings import paths
from pygent.settings.loader import load_settings
from pygent.settings.models import Settings

TOOLS = (
    "read_file",
    "list_directory",
    "create_file",
    "edit_file",
    "delete_file",
    "move_file",
    "copy_file",
    "grep",
    "find_files",
    "find_definition",
    "git_status",
    "git_diff",
    "git_log",
    "git_add",
    "git_commit",
    "git_checkout",
    "git_push",
    "git_pull",
    "shell",
    "web_fetch",
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "myproj"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/feature/x\n")
    return root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def user_config(text: str) -> Path:
    return write(paths.user_config_file(), text)


def test_default_prompt_is_package_data_and_names_every_tool() -> None:
    resource = files("pygent.prompts").joinpath("default.md")
    assert resource.is_file()
    text = default_prompt_text()
    assert text == resource.read_text(encoding="utf-8")
    for tool in TOOLS:
        assert f"`{tool}`" in text or f"{tool}," in text or f"{tool}`" in text, tool
    assert "old_string" in text and "new_string" in text
    assert "Ask before" in text


def test_default_prompt_expands_variables(project: Path) -> None:
    prompt = build_system_prompt(load_settings(project), project)
    assert "Project: myproj (unknown)" in prompt
    assert f"Working directory: {project.resolve()}" in prompt
    assert "Git branch: feature/x" in prompt
    assert dt.date.today().isoformat() in prompt
    assert "{project_name}" not in prompt and "{date}" not in prompt


def test_user_content_replaces_default_and_append_follows(project: Path) -> None:
    user_config('[system_prompt]\ncontent = "You are terse."\nappend = "Always use tabs."\n')
    layers = prompt_layers(load_settings(project), project)
    assert [layer.role for layer in layers] == ["user", "user-append"]
    prompt = build_system_prompt(load_settings(project), project)
    assert prompt == "You are terse.\n\nAlways use tabs.\n"


def test_user_file_replaces_default_relative_to_config_dir(project: Path) -> None:
    write(paths.user_config_dir() / "mine.md", "Mine on {os}.")
    user_config('[system_prompt]\nfile = "mine.md"\ncontent = "ignored"\n')
    prompt = build_system_prompt(load_settings(project), project)
    assert prompt.startswith("Mine on ")
    assert "ignored" not in prompt and "{os}" not in prompt


def test_project_prompt_appends_by_default(project: Path) -> None:
    user_config('[system_prompt]\ncontent = "USER"\nappend = "APPEND"\n')
    write(project / ".pygent" / "prompt.md", "PROJECT {project_name}")
    write(project / ".pygent" / "config.toml", '[system_prompt]\nfile = "prompt.md"\n')
    prompt = build_system_prompt(load_settings(project), project)
    assert prompt == "USER\n\nAPPEND\n\nPROJECT myproj\n"


def test_project_replace_mode_drops_user_layers_but_keeps_agents_md(project: Path) -> None:
    user_config('[system_prompt]\ncontent = "USER"\nappend = "APPEND"\n')
    write(
        project / ".pygent" / "config.toml",
        '[system_prompt]\ncontent = "ONLY PROJECT"\nmode = "replace"\n',
    )
    write(project / "AGENTS.md", "Run make test.")
    prompt = build_system_prompt(load_settings(project), project)
    assert "USER" not in prompt and "APPEND" not in prompt
    assert prompt.startswith("ONLY PROJECT\n\n# Project instructions (AGENTS.md)")
    assert prompt.rstrip().endswith("Run make test.")


def test_agents_md_appended_in_every_mode_and_can_be_disabled(project: Path) -> None:
    write(project / "AGENTS.md", "Use pnpm.")
    sub = project / "pkg"
    sub.mkdir()
    prompt = build_system_prompt(load_settings(sub), sub)
    assert prompt.rstrip().endswith("Use pnpm.")
    assert "You are pygent" in prompt
    write(project / ".pygent" / "config.toml", "[system_prompt]\nagents_md = false\n")
    assert "Use pnpm." not in build_system_prompt(load_settings(sub), sub)


def test_settings_built_directly_use_its_system_prompt(project: Path) -> None:
    settings = Settings.model_validate({"system_prompt": {"content": "Direct {date}"}})
    prompt = build_system_prompt(settings, project)
    assert prompt == f"Direct {dt.date.today().isoformat()}\n"


def test_stray_braces_and_unknown_names_survive(project: Path) -> None:
    text = (
        'Code: def f(): return {"a": {1, 2}}\n'
        "Unknown {nope} {PROJECT_NAME} { date } {{date}} {date\n"
        "Known {date} and {os}. Lone } and { and {}.\n"
    )
    user_config(f"[system_prompt]\ncontent = '''{text}'''\n")
    prompt = build_system_prompt(load_settings(project), project)
    assert 'return {"a": {1, 2}}' in prompt
    assert "{nope} {PROJECT_NAME} { date } {{date}} {date\n" in prompt
    assert "Lone } and { and {}." in prompt
    assert f"Known {dt.date.today().isoformat()} and " in prompt


def test_expand_only_replaces_known_names() -> None:
    values = {"date": "D", "os": "O"}
    assert expand("{date}{os}{x}{}{{date}}", values) == "DO{x}{}{{date}}"
    assert expand("{project_name}", values) == "{project_name}"


def test_missing_user_prompt_file_names_path_and_key(project: Path) -> None:
    user_config('[system_prompt]\nfile = "/nonexistent/prompt.md"\n')
    with pytest.raises(ConfigError) as info:
        build_system_prompt(load_settings(project), project)
    message = str(info.value)
    assert "/nonexistent/prompt.md" in message.replace("\\", "/")
    assert "system_prompt.file" in message
    assert str(paths.user_config_file()) in message


def test_missing_project_prompt_file_names_path_and_key(project: Path) -> None:
    config = write(project / ".pygent" / "config.toml", '[system_prompt]\nfile = "gone.md"\n')
    with pytest.raises(ConfigError) as info:
        build_system_prompt(load_settings(project), project)
    message = str(info.value)
    assert str(project / ".pygent" / "gone.md") in message
    assert "system_prompt.file" in message and str(config) in message
    assert "--project" in message


def test_prompt_file_that_is_a_directory(project: Path) -> None:
    (project / ".pygent" / "dir.md").mkdir(parents=True)
    write(project / ".pygent" / "config.toml", '[system_prompt]\nfile = "dir.md"\n')
    with pytest.raises(ConfigError, match="directory"):
        build_system_prompt(load_settings(project), project)


@pytest.mark.parametrize(
    ("files_", "name", "kind"),
    [
        ({"pyproject.toml": '[project]\nname = "pyname"\n'}, "pyname", "python"),
        ({"pyproject.toml": '[tool.poetry]\nname = "poet"\n'}, "poet", "python"),
        ({"package.json": '{"name": "@scope/web"}'}, "@scope/web", "node"),
        ({"Cargo.toml": '[package]\nname = "crab"\n'}, "crab", "rust"),
        ({"go.mod": "module github.com/me/gopher\n\ngo 1.22\n"}, "github.com/me/gopher", "go"),
        ({"pom.xml": "<project/>"}, "folder", "java"),
        ({"pyproject.toml": "broken = [", "package.json": "{bad"}, "folder", "python"),
        ({}, "folder", "unknown"),
    ],
)
def test_detect_project(tmp_path: Path, files_: dict[str, str], name: str, kind: str) -> None:
    root = tmp_path / "folder"
    root.mkdir()
    for file_name, text in files_.items():
        (root / file_name).write_text(text)
    assert detect_project(root) == (name, kind)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_branch_in_repository_without_commits(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "trunk", str(repo)], check=True)
    assert git_branch_name(repo) == "trunk"
    assert template_values(repo)["git_branch"] == "trunk"


def test_git_branch_outside_repository_and_detached(tmp_path: Path, project: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert git_branch_name(plain) == "(not a git repository)"
    (project / ".git" / "HEAD").write_text("0123456789abcdef0123456789abcdef01234567\n")
    assert git_branch_name(project) == "(detached at 0123456)"


def test_project_append_follows_project_prompt(project: Path) -> None:
    write(
        project / ".pygent" / "config.toml",
        '[system_prompt]\ncontent = "P"\nappend = "PA"\nmode = "replace"\n',
    )
    assert build_system_prompt(load_settings(project), project) == "P\n\nPA\n"
    write(project / ".pygent" / "config.toml", '[system_prompt]\nappend = "ONLY APPEND"\n')
    prompt = build_system_prompt(load_settings(project), project)
    assert prompt.startswith("You are pygent") and prompt.endswith("\n\nONLY APPEND\n")
