"""`pygent help [TOPIC]`: every topic prints, unknown topics list the topics."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pygent.cli import cli
from pygent.help_topics import TOPICS

EXPECTED = ("tools", "config", "permissions", "prompts", "sessions", "shortcuts")


def test_all_required_topics_exist() -> None:
    assert set(EXPECTED) <= set(TOPICS)


@pytest.mark.parametrize("topic", EXPECTED)
def test_topic_prints_its_text(topic: str) -> None:
    result = CliRunner().invoke(cli, ["help", topic.upper()])
    assert result.exit_code == 0
    assert result.stdout.strip() == TOPICS[topic].strip()


def test_help_without_topic_lists_topics() -> None:
    result = CliRunner().invoke(cli, ["help"])
    assert result.exit_code == 0
    for topic in EXPECTED:
        assert topic in result.stdout


def test_unknown_topic_lists_topics_and_suggests() -> None:
    result = CliRunner().invoke(cli, ["help", "permisions"])
    assert result.exit_code == 2
    assert "Unknown help topic 'permisions'" in result.stderr
    assert "Did you mean 'permissions'" in result.stderr
    assert "tools, config, permissions, prompts, sessions, shortcuts" in result.stderr


def test_tools_topic_names_every_tool() -> None:
    for tool in (
        "read_file",
        "edit_file",
        "grep",
        "find_definition",
        "git_push",
        "shell",
        "web_fetch",
    ):
        assert tool in TOPICS["tools"]


def test_prompts_topic_lists_variables() -> None:
    from pygent.prompts.variables import VARIABLES

    for name in VARIABLES:
        assert "{" + name + "}" in TOPICS["prompts"]


def test_troubleshooting_topic_names_the_newcomer_messages() -> None:
    result = CliRunner().invoke(cli, ["help", "troubleshooting"])
    assert result.exit_code == 0
    for text in (
        "answered 404 Not Found",
        "Unknown provider",
        "--mode auto-edit",
        "The workspace is your home directory",
        "Cannot save sessions in",
        "PYGENT_LOG_DISABLED=1",
        "Cannot write the config file",
    ):
        assert text in result.stdout
