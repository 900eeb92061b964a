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
    # What `$(...)` produces cannot be known, so no rule covers it.
    assert rules.find_allow(sh, shell_subject("pytest $(cat list.txt)")) is None


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


# -- word boundaries, forms, origins ------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "command", "covered"),
    [
        ("shell(touch*)", "touch a.txt", True),
        ("shell(touch*)", "touch", True),
        ("shell(touch*)", "touchy", False),
        ("shell(touch*)", "touchy a.txt", False),
        ("shell(git commit*)", "git commit -m x", True),
        ("shell(git commit*)", "git commit", True),
        ("shell(git commit*)", "git commit-tree HEAD", False),
        ("shell(pytest*)", "pytest -q tests/", True),
        ("shell(pytest*)", "pytest-watch", False),
        ("shell(pytest *)", "pytest", True),
        ("shell(pytest *)", "pytest -x", True),
        ("shell(npm test:*)", "npm test -- --watch", True),
        ("shell(npm test:*)", "npm tests", False),
        ("shell(rm *)", "rm a.txt", True),
        ("shell(rm *)", "rmdir a", False),
        ("shell(touch src/*)", "touch src/a.py", True),  # after `/` a `*` is an ordinary glob
        ("shell(make build)", "make build", True),
        ("shell(make build)", "make build-all", False),
    ],
)
def test_shell_allow_rules_match_at_word_boundaries(rule: str, command: str, covered: bool) -> None:
    rules = RuleSet([parse_rule(rule, "allow")])
    assert (rules.find_allow(spec("shell"), shell_subject(command)) is not None) is covered


def test_deny_rules_stay_plain_globs() -> None:
    # A deny is safer broad: `shell(rm*)` also refuses `rmdir`.
    rules = RuleSet([parse_rule("shell(rm*)", "deny")])
    assert rules.find_deny(spec("shell"), shell_subject("rmdir build"))


@pytest.mark.parametrize(
    ("rule", "command"),
    [
        ("shell(rm *)", "rm -rf build"),
        ("shell(rm *)", "rm -f a.txt"),
        ("shell(rm *)", "rm --force a.txt"),
        ("shell(rm -r *)", "rm -rf build"),
        ("shell(git push*)", "git push --force"),
        ("shell(git push*)", "git push origin +main"),
        ("shell(git reset*)", "git reset --hard HEAD~1"),
        ("shell(git *)", "git clean -n"),
        ("shell(git branch*)", "git branch -D old"),
        ("shell(chmod*)", "chmod -R 777 src"),
        ("shell(ls*)", "sudo ls"),
        ("shell(*)", "rm -rf build"),
    ],
)
def test_no_rule_covers_a_destructive_or_forceful_form_it_does_not_name(
    rule: str, command: str
) -> None:
    rules = RuleSet([parse_rule(rule, "allow")])
    assert rules.find_allow(spec("shell"), shell_subject(command)) is None


@pytest.mark.parametrize(
    ("rule", "command"),
    [
        ("shell(rm -rf build)", "rm -rf build"),
        ("shell(rm -f *)", "rm -f a.txt"),
        ("shell(git push --force*)", "git push --force origin dev"),
        ("shell(git reset --hard*)", "git reset --hard HEAD~1"),
        ("shell(git clean -n)", "git clean -n"),
        ("shell(sudo ls)", "sudo ls"),
    ],
)
def test_a_rule_naming_the_form_covers_it(rule: str, command: str) -> None:
    rules = RuleSet([parse_rule(rule, "allow")])
    assert rules.find_allow(spec("shell"), shell_subject(command)) is not None


def test_a_chain_is_covered_only_when_every_part_is() -> None:
    rules = RuleSet([parse_rule("shell(make*)", "allow"), parse_rule("shell(npm test*)", "allow")])
    sh = spec("shell")
    assert rules.find_allow(sh, shell_subject("make && npm test"))
    for line in (
        "make && npm publish",
        "make; touch x",
        "make | sh",
        "make || curl x",
        "make & rm a",
    ):
        assert rules.find_allow(sh, shell_subject(line)) is None, line


def test_unparsable_lines_are_never_covered() -> None:
    rules = RuleSet([parse_rule("shell(*)", "allow"), parse_rule("shell", "allow")])
    assert rules.find_allow(spec("shell"), shell_subject("echo 'open")) is None


@pytest.mark.parametrize(
    ("rule", "url", "names"),
    [
        ("web_fetch(http://127.0.0.1:8000/*)", "http://127.0.0.1:8000/docs", True),
        ("web_fetch(http://127.0.0.1:8000/*)", "http://127.0.0.1:8001/docs", False),
        ("web_fetch(http://127.0.0.1:8000/*)", "http://169.254.169.254/", False),
        ("web_fetch(http://127.0.0.1:8000*)", "http://127.0.0.1:80001/", False),
        ("web_fetch(http://*)", "http://10.0.0.1/", False),
        ("web_fetch(*)", "http://localhost/", False),
        ("web_fetch", "http://localhost/", False),
        ("web_fetch(http://localhost)", "http://localhost", True),
    ],
)
def test_names_origin_needs_scheme_host_and_port_literally(
    rule: str, url: str, names: bool
) -> None:
    assert parse_rule(rule, "allow").names_origin(url) is names
