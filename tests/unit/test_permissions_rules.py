"""Permission rules: syntax, glob semantics, aliases, shell matching per command, persistence."""

from __future__ import annotations

from pathlib import Path

import pytest

from pygent.errors import ConfigError
from pygent.permissions.rules import (
    CallSubject,
    RuleSet,
    escape_pattern,
    load_rule_origins,
    parse_rule,
    save_rule,
)
from pygent.permissions.shell import classify_command
from pygent.settings.paths import user_config_file
from pygent.tools.base import ToolContext, ToolRegistry, ToolRisk, ToolSpec, tool

REG = ToolRegistry()


@tool(risk=ToolRisk.EXECUTE, kind="execute", rule_arg="command", registry=REG)
async def shell(ctx: ToolContext, command: str) -> str:
    """Run a command.

    Args:
        command: The command.
    """
    return ""


@tool(risk=ToolRisk.WRITE, kind="edit", path_args=("path",), reviewed_edit=True, registry=REG)
async def edit_file(ctx: ToolContext, path: str) -> str:
    """Edit.

    Args:
        path: File.
    """
    return ""


@tool(risk=ToolRisk.WRITE, kind="edit", path_args=("path",), registry=REG)
async def create_file(ctx: ToolContext, path: str) -> str:
    """Create.

    Args:
        path: File.
    """
    return ""


@tool(risk=ToolRisk.WRITE, kind="delete", path_args=("path",), registry=REG)
async def delete_file(ctx: ToolContext, path: str) -> str:
    """Delete.

    Args:
        path: File.
    """
    return ""


@tool(risk=ToolRisk.READ, kind="read", path_args=("path",), registry=REG)
async def read_file(ctx: ToolContext, path: str) -> str:
    """Read.

    Args:
        path: File.
    """
    return ""


@tool(risk=ToolRisk.WRITE, kind="other", registry=REG)
async def git_commit(ctx: ToolContext, message: str) -> str:
    """Commit.

    Args:
        message: Message.
    """
    return ""


def spec(name: str) -> ToolSpec:
    found = REG.get(name)
    assert found is not None
    return found


def path_subject(name: str, *paths: str) -> CallSubject:
    return CallSubject(tool=name, paths=[(p,) for p in paths])


def shell_subject(command: str) -> CallSubject:
    return CallSubject(tool="shell", shell=classify_command(command))


# -- syntax ---------------------------------------------------------------------------------------


def test_parse_bare_and_pattern_rules() -> None:
    bare = parse_rule("git_commit", "allow", "/p/.pygent/config.toml")
    assert (bare.tool, bare.pattern, bare.effect) == ("git_commit", None, "allow")
    assert bare.origin == "/p/.pygent/config.toml"
    rule = parse_rule(" shell(pytest -q*) ", "deny")
    assert (rule.tool, rule.pattern, rule.text) == ("shell", "pytest -q*", "shell(pytest -q*)")
    assert parse_rule('shell("git status*")', "allow").pattern == "git status*"
    assert parse_rule("shell(echo (x))", "allow").pattern == "echo (x)"


@pytest.mark.parametrize("text", ["", "shell(", "(x)", "shell()", "two words", "shell(x) trailing"])
def test_invalid_rules_name_the_rule_and_origin(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_rule(text, "deny", "/home/u/.config/pygent/config.toml")
    message = str(info.value)
    assert repr(text) in message
    assert "/home/u/.config/pygent/config.toml" in message
    assert "tool(pattern)" in message or "`shell`" in message


def test_describe_names_origin() -> None:
    assert (
        parse_rule("shell(rm -rf*)", "deny", "/p/config.toml").describe()
        == "deny rule `shell(rm -rf*)` from /p/config.toml"
    )
    assert (
        parse_rule("shell", "allow", "session").describe() == "allow rule `shell` from this session"
    )


def test_names_something() -> None:
    assert parse_rule("shell(rm -rf build*)", "allow").names_something
    assert not parse_rule("shell(*)", "allow").names_something
    assert not parse_rule("shell(**)", "allow").names_something
    assert not parse_rule("shell", "allow").names_something


def test_escape_pattern_matches_only_itself() -> None:
    rule = parse_rule(f"edit_file({escape_pattern('a[1]*?.py')})", "allow")
    assert rule.matches_text("a[1]*?.py", path=True)
    assert not rule.matches_text("a1xx.py", path=True)


# -- glob semantics -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("src/**", "src/a.py", True),
        ("src/**", "src/deep/er/a.py", True),
        ("src/**", "src", True),
        ("src/**", "srcx/a.py", False),
        ("src/*", "src/a.py", True),
        ("src/*", "src/deep/a.py", False),
        ("src/**/*.py", "src/a.py", True),
        ("src/**/*.py", "src/x/y/a.py", True),
        ("src/**/*.py", "src/x/a.txt", False),
        ("*.md", "README.md", True),
        ("*.md", "docs/guide/intro.md", True),  # no slash: the file name at any depth
        ("*.md", "docs/guide.md/x.py", False),
        ("./src/a.py", "src/a.py", True),
        ("src/a?.py", "src/ab.py", True),
        ("src/a?.py", "src/a/.py", False),
        ("src/[ab].py", "src/b.py", True),
        ("src/[!ab].py", "src/b.py", False),
        ("/abs/**", "/abs/x/y", True),
    ],
)
def test_path_globs(pattern: str, value: str, expected: bool) -> None:
    assert parse_rule(f"edit({pattern})", "allow").matches_text(value, path=True) is expected


def test_text_globs_cross_slashes() -> None:
    rule = parse_rule("web_fetch(*internal*)", "deny")
    assert rule.matches_text("https://wiki.internal.example/a/b", path=False)
    assert not rule.matches_text("https://example.com", path=False)


# -- aliases --------------------------------------------------------------------------------------


def test_aliases() -> None:
    edit = parse_rule("edit(src/**)", "allow")
    assert edit.applies_to(spec("edit_file"))
    assert edit.applies_to(spec("create_file"))
    assert edit.applies_to(spec("delete_file"))
    assert not edit.applies_to(spec("read_file"))
    assert not edit.applies_to(spec("git_commit"))  # no path: not a file edit
    read = parse_rule("read(*.md)", "allow")
    assert read.applies_to(spec("read_file")) and not read.applies_to(spec("edit_file"))
    assert parse_rule("bash(ls*)", "allow").applies_to(spec("shell"))
    assert parse_rule("shell", "allow").applies_to(spec("shell"))
    assert not parse_rule("shell", "allow").applies_to(spec("edit_file"))


# -- rule sets ------------------------------------------------------------------------------------


def test_path_allow_needs_every_path() -> None:
    rules = RuleSet([parse_rule("edit(src/**)", "allow")])
    assert rules.find_allow(spec("edit_file"), path_subject("edit_file", "src/a.py"))
    assert (
        rules.find_allow(spec("edit_file"), path_subject("edit_file", "src/a.py", "b.py")) is None
    )


def test_path_deny_fires_on_any_path() -> None:
    rules = RuleSet([parse_rule("edit(secrets/**)", "deny")])
    hit = rules.find_deny(spec("edit_file"), path_subject("edit_file", "a.py", "secrets/k"))
    assert hit is not None and hit.text == "edit(secrets/**)"
    assert rules.find_deny(spec("edit_file"), path_subject("edit_file", "a.py")) is None


def test_bare_rule_matches_tool_without_subject() -> None:
    rules = RuleSet([parse_rule("git_commit", "allow")])
    assert rules.find_allow(spec("git_commit"), CallSubject(tool="git_commit"))
    rules = RuleSet([parse_rule("git_commit(x*)", "allow")])
    assert rules.find_allow(spec("git_commit"), CallSubject(tool="git_commit")) is None


def test_shell_allow_checks_every_command() -> None:
    rules = RuleSet([parse_rule("shell(pytest*)", "allow")])
    sh = spec("shell")
    assert rules.find_allow(sh, shell_subject("pytest -q"))
    assert rules.find_allow(
        sh, shell_subject("git status && pytest -x | tail -3")
    )  # others read-only
    assert rules.find_allow(sh, shell_subject("pytest; rm -rf ~")) is None
    assert rules.find_allow(sh, shell_subject("pytest && touch x")) is None
    assert rules.find_allow(sh, shell_subject("pytest $(rm -rf x)")) is None  # nested counts
    assert rules.find_allow(sh, shell_subject("pytest $(cat list.txt)"))


def test_shell_allow_matches_line_as_written() -> None:
    rules = RuleSet([parse_rule('shell(pytest -k "a and b"*)', "allow")])
    assert rules.find_allow(spec("shell"), shell_subject('pytest -k "a and b" -q'))


def test_destructive_needs_a_rule_that_names_it() -> None:
    sh = spec("shell")
    assert (
        RuleSet([parse_rule("shell(*)", "allow")]).find_allow(sh, shell_subject("rm -rf build"))
        is None
    )
    assert (
        RuleSet([parse_rule("shell", "allow")]).find_allow(sh, shell_subject("rm -rf build"))
        is None
    )
    named = RuleSet([parse_rule("shell(rm -rf build*)", "allow")])
    assert named.find_allow(sh, shell_subject("rm -rf build"))
    assert named.find_allow(sh, shell_subject("rm -rf dist")) is None


def test_shell_deny_matches_any_command_and_core() -> None:
    rules = RuleSet([parse_rule("shell(rm -rf*)", "deny")])
    sh = spec("shell")
    assert rules.find_deny(sh, shell_subject("rm -rf build"))
    assert rules.find_deny(sh, shell_subject("ls && rm -rf build"))
    assert rules.find_deny(sh, shell_subject("sudo rm -rf build"))  # through the wrapper
    assert rules.find_deny(sh, shell_subject("echo $(rm -rf x)"))
    assert rules.find_deny(sh, shell_subject("ls -la")) is None


def test_duplicate_rules_are_ignored() -> None:
    rules = RuleSet([parse_rule("shell", "allow"), parse_rule("shell", "allow", "session")])
    assert len(rules) == 1


# -- origins and saving ---------------------------------------------------------------------------


def test_load_rule_origins_from_user_and_project(tmp_path: Path) -> None:
    user = user_config_file()
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text('[permissions]\ndeny = ["shell(rm -rf*)"]\n', encoding="utf-8")
    project = tmp_path / "proj"
    (project / ".git").mkdir(parents=True)
    (project / ".pygent").mkdir()
    (project / ".pygent/config.toml").write_text(
        '[permissions]\nallow = ["shell(pytest*)", "shell(rm -rf*)"]\n', encoding="utf-8"
    )
    origins = load_rule_origins(project)
    assert origins[("deny", "shell(rm -rf*)")] == str(user)
    assert origins[("allow", "shell(pytest*)")] == str(project / ".pygent/config.toml")


def test_load_rule_origins_skips_broken_files(tmp_path: Path) -> None:
    (tmp_path / ".pygent").mkdir()
    (tmp_path / ".pygent/config.toml").write_text("[permissions\nallow = [", encoding="utf-8")
    assert load_rule_origins(tmp_path) == {}


def test_save_rule_keeps_comments_and_formatting(tmp_path: Path) -> None:
    path = tmp_path / ".pygent" / "config.toml"
    path.parent.mkdir()
    original = (
        "# project settings\n"
        "[llm]\n"
        'model = "openai/gpt-4o"  # the team model\n'
        "\n"
        "[permissions]\n"
        "# commands we trust\n"
        'allow = ["shell(git status*)"]\n'
    )
    path.write_text(original, encoding="utf-8")
    assert save_rule(path, "allow", "shell(pytest*)") is True
    text = path.read_text(encoding="utf-8")
    assert "# project settings" in text and "# the team model" in text
    assert "# commands we trust" in text
    assert 'allow = ["shell(git status*)", "shell(pytest*)"]' in text
    assert save_rule(path, "allow", "shell(pytest*)") is False  # already there
    assert save_rule(path, "deny", "shell(rm -rf build)") is True
    assert 'deny = ["shell(rm -rf build)"]' in path.read_text(encoding="utf-8")


def test_save_rule_creates_file(tmp_path: Path) -> None:
    path = tmp_path / ".pygent" / "config.toml"
    save_rule(path, "allow", "edit_file(src/a.py)")
    assert path.read_text(encoding="utf-8") == '[permissions]\nallow = ["edit_file(src/a.py)"]\n'


@pytest.mark.parametrize(
    "content",
    ["[permissions\n", "permissions = 3\n", '[permissions]\nallow = "shell"\n'],
)
def test_save_rule_refuses_bad_files_untouched(tmp_path: Path, content: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match="Cannot save the permission rule"):
        save_rule(path, "allow", "shell(pytest*)")
    assert path.read_text(encoding="utf-8") == content
