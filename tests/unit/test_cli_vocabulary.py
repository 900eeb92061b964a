"""One vocabulary across commands (issue #17 item 6): the same concept is spelled the same way.

The tests walk every command's click parameters, so a new command or option that spells a known
concept differently (`--session` here, `--resume` there; `-c` on one command only) fails here.
Old spellings stay as hidden aliases that still work.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pygent.agent.session import SessionStore
from pygent.cli import cli
from pygent.cli._options import shown_opts
from pygent.testing.fake_llm import FakeLLMThread

#: Concept -> its one spelling (what --help shows), wherever a command offers it.
VOCABULARY: dict[str, tuple[str, ...]] = {
    "resume": ("--resume", "-r"),
    "continue": ("--continue", "-c"),
    "model": ("--model", "-m"),
    "mode": ("--mode",),
    "sandbox": ("--sandbox",),
    "cwd": ("--cwd",),
    "json": ("--json",),
    "yes": ("--yes", "-y"),
    "project": ("--project",),
    "force": ("--force",),
}

#: Parameter names (click's dest) that mean one of the concepts above.
CONCEPT_OF: dict[str, str] = {
    "resume": "resume",
    "session_id": "resume",
    "session": "resume",
    "continue_last": "continue",
    "model": "model",
    "mode": "mode",
    "permission_mode": "mode",
    "sandbox": "sandbox",
    "sandbox_mode": "sandbox",
    "cwd": "cwd",
    "as_json": "json",
    "json": "json",
    "yes": "yes",
    "project": "project",
    "force": "force",
}

#: Concepts every agent command offers.
AGENT_COMMANDS: dict[str, set[str]] = {
    "chat": {"resume", "continue", "model", "mode", "sandbox", "cwd"},
    "run": {"resume", "continue", "model", "mode", "sandbox", "cwd", "json"},
    "serve": {"model", "mode", "sandbox", "cwd"},
    "acp": {"model", "mode", "sandbox", "cwd"},
}


def every_option() -> list[tuple[str, click.Option]]:
    """(command path, option) for every visible option of every command and subcommand."""
    found: list[tuple[str, click.Option]] = []

    def walk(command: click.Command, path: str) -> None:
        ctx = click.Context(command, info_name=path)
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                found.append((path, param))
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None:
                    walk(sub, f"{path} {name}")

    walk(cli, "pygent")
    return found


def test_every_concept_has_one_spelling_across_all_commands() -> None:
    wrong = [
        f"{path}: {'/'.join(shown_opts(option))} (should be {'/'.join(VOCABULARY[concept])})"
        for path, option in every_option()
        if (concept := CONCEPT_OF.get(option.name or "")) is not None
        and tuple(shown_opts(option)) != VOCABULARY[concept]
    ]
    assert wrong == []


def test_options_with_the_same_name_or_flag_are_spelled_alike() -> None:
    # Catches concepts not in the table too: the same dest or long flag spelled two ways.
    by_name: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    by_flag: dict[str, set[str]] = defaultdict(set)
    for _, option in every_option():
        spelling = tuple(shown_opts(option))
        by_name[option.name or ""].add(spelling)
        for flag in spelling:
            if flag.startswith("--"):
                by_flag[flag].add(CONCEPT_OF.get(option.name or "", option.name or ""))
    assert {name: s for name, s in by_name.items() if len(s) > 1} == {}
    assert {flag: c for flag, c in by_flag.items() if len(c) > 1} == {}


@pytest.mark.parametrize("command", sorted(AGENT_COMMANDS))
def test_agent_commands_offer_their_shared_options(command: str) -> None:
    offered = {
        CONCEPT_OF[option.name or ""]
        for path, option in every_option()
        if path == f"pygent {command}" and (option.name or "") in CONCEPT_OF
    }
    assert offered == AGENT_COMMANDS[command]


def parse(command: str, args: list[str]) -> dict[str, object]:
    ctx = click.Context(cli)
    found = cli.get_command(ctx, command)
    assert found is not None
    return dict(found.make_context(command, args).params)


def test_old_spellings_still_work_but_are_hidden_from_help() -> None:
    assert parse("run", ["--session", "ID1", "hi"])["resume"] == "ID1"
    assert parse("serve", ["--permission-mode", "plan"])["mode"] == "plan"
    assert parse("acp", ["--permission-mode", "auto"])["mode"] == "auto"
    for command, old in (("run", "--session"), ("serve", "--permission-mode")):
        result = CliRunner().invoke(cli, [command, "--help"])
        assert result.exit_code == 0
        assert old not in result.output
        assert "--resume" in result.output or "--mode" in result.output


@pytest.mark.parametrize("command", ["run", "serve", "acp"])
def test_flags_become_settings_overrides_the_same_way(command: str) -> None:
    args = ["-m", "openai/gpt-4o", "--mode", "plan", "--sandbox", "read-only"]
    params = parse(command, [*args, "hi"] if command == "run" else args)
    assert (params["model"], params["mode"], params["sandbox"]) == (
        "openai/gpt-4o",
        "plan",
        "read-only",
    )


def test_short_forms_are_the_same_on_chat_and_run() -> None:
    chat = parse("chat", ["-c", "-m", "openai/gpt-4o"])
    run = parse("run", ["-c", "-m", "openai/gpt-4o", "hi"])
    assert chat["continue_last"] is run["continue_last"] is True
    assert chat["model"] == run["model"] == "openai/gpt-4o"
    assert parse("chat", ["-r"])["resume"] == ""  # no id: pick from a list
    assert parse("chat", ["-r", "ID1"])["resume"] == parse("run", ["-r", "ID1", "hi"])["resume"]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    monkeypatch.chdir(root)
    return root


@pytest.mark.parametrize("spelling", ["--resume", "-r", "--session"])
def test_run_resume_spellings_reach_the_session_lookup(project: Path, spelling: str) -> None:
    missing = "01JDQ8M3V6Y5W1ZP9K4T2X7R0B"

    result = CliRunner().invoke(cli, ["run", spelling, missing, "hello"])

    assert result.exit_code == 1
    assert f"No session {missing!r} in this workspace." in result.stderr
    assert SessionStore(project).list() == []


def test_run_cwd_works_in_that_project(
    tmp_path: Path, project: Path, fake_llm: FakeLLMThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    (other / ".git").mkdir(parents=True)
    monkeypatch.setenv("PYGENT_MODEL", "openai/fake-model")
    monkeypatch.setenv("PYGENT_API_BASE", fake_llm.base_url)
    monkeypatch.setenv("PYGENT_API_KEY", "sk-fake-test")
    fake_llm.script([{"text": "hi there"}])

    result = CliRunner().invoke(cli, ["run", "--cwd", str(other), "hello"])

    assert result.exit_code == 0, result.stderr
    assert result.stdout == "hi there\n"
    assert len(SessionStore(other.resolve()).list()) == 1
    assert SessionStore(project).list() == []


def test_cwd_that_is_not_a_directory_is_a_usage_error(project: Path) -> None:
    result = CliRunner().invoke(cli, ["run", "--cwd", str(project / "nope"), "hello"])

    assert result.exit_code == 2
    assert "Invalid value for '--cwd'" in result.stderr and "does not exist" in result.stderr


def test_help_options_topic_shows_each_spelling() -> None:
    from pygent.help_topics import TOPICS

    text = TOPICS["options"]
    for concept in AGENT_COMMANDS["run"]:
        spelling = VOCABULARY[concept]
        assert spelling[0] in text, concept
        if len(spelling) > 1:
            assert spelling[1] in text, concept


def test_chat_cwd_opens_the_chat_in_that_project(
    tmp_path: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import sys

    from pygent.tui.app import PygentApp

    other = tmp_path / "other"
    (other / ".git").mkdir(parents=True)
    started: list[PygentApp] = []
    monkeypatch.setattr(PygentApp, "run", lambda self: started.append(self))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setenv("PYGENT_API_KEY", "sk-test")  # not a first run

    chat = cli.get_command(click.Context(cli), "chat")
    assert chat is not None
    chat.main(["--cwd", str(other), "-c", "-m", "openai/gpt-4o"], standalone_mode=False)

    (app,) = started
    assert app.root == other.resolve()
    assert Path(os.getcwd()).resolve() == other.resolve()  # the chat's server starts here too
