"""``pygent sessions list|show|delete``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pygent.agent.session import Session, SessionStore
from pygent.cli import cli


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / "sub").mkdir()
    monkeypatch.chdir(root / "sub")  # sessions belong to the project root, not the cwd
    return root


def _session(root: Path, title: str = "Fix the bug") -> Session:
    session = SessionStore(root).create("openai/fake-model")
    session.append({"role": "user", "content": title})
    session.append(
        {
            "role": "assistant",
            "content": "Reading it.",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": '{"path": "a.py"}'},
                }
            ],
        }
    )
    session.append({"role": "tool", "tool_call_id": "c1", "content": "\n".join(["x"] * 50)})
    session.append({"role": "assistant", "content": "All done."})
    return session


def test_list_shows_id_updated_count_title_newest_first(project: Path) -> None:
    old = _session(project, "Old task")
    os.utime(old.path, (1_700_000_000, 1_700_000_000))
    new = _session(project, "New task")
    result = CliRunner().invoke(cli, ["sessions", "list"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "UPDATED", "MSGS", "TITLE"]
    assert lines[1].startswith(new.id) and lines[1].endswith("New task")
    assert lines[2].startswith(old.id) and "2023-11-1" in lines[2]
    assert " 4  " in lines[1]


def test_list_json_and_empty(project: Path) -> None:
    runner = CliRunner()
    empty = runner.invoke(cli, ["sessions", "list"])
    assert empty.exit_code == 0 and "No sessions yet" in empty.stderr
    session = _session(project)
    result = runner.invoke(cli, ["sessions", "list", "--json"])
    info = json.loads(result.stdout.splitlines()[0])
    assert info["sessionId"] == session.id and info["messageCount"] == 4


def test_show_prints_the_conversation_readably(project: Path) -> None:
    session = _session(project)
    result = CliRunner().invoke(cli, ["sessions", "show", session.id.lower()])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"Session {session.id}: Fix the bug" in out
    assert "You:\n  Fix the bug" in out
    assert "Assistant:\n  Reading it." in out
    assert '→ read_file(path="a.py")' in out
    assert "(30 more lines)" in out
    full = CliRunner().invoke(cli, ["sessions", "show", "--full", session.id])
    assert "more lines" not in full.stdout
    as_json = CliRunner().invoke(cli, ["sessions", "show", "--json", session.id])
    assert [json.loads(line) for line in as_json.stdout.splitlines()] == session.messages


def test_show_reports_corrupt_lines_but_shows_the_rest(project: Path) -> None:
    session = _session(project)
    with session.path.open("ab") as handle:
        handle.write(b'{"type":"message","message":{"ro')
    result = CliRunner().invoke(cli, ["sessions", "show", session.id])
    assert result.exit_code == 0
    assert "All done." in result.stdout
    assert "Warning: The last line" in result.stderr
    assert result.stderr.count("The last line") == 1  # no duplicate from loguru's default handler


@pytest.mark.parametrize("bad", ["../../etc/passwd", "a/b", "..", "01JDQ8M3V6Y5W1ZP9K4T2X7R0B"])
@pytest.mark.parametrize("command", ["show", "delete"])
def test_bad_or_unknown_id_is_a_clear_error_exit_1(project: Path, bad: str, command: str) -> None:
    session = _session(project)
    args = ["sessions", command, bad] if command == "show" else ["sessions", command, "--yes", bad]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "pygent sessions list" in result.stderr
    assert "Traceback" not in result.output
    assert session.path.exists()


def test_delete_asks_and_keeps_on_no(project: Path) -> None:
    session = _session(project)
    result = CliRunner().invoke(cli, ["sessions", "delete", session.id], input="n\n")
    assert result.exit_code == 0
    assert "Delete session" in result.stderr and "Nothing deleted" in result.stderr
    assert session.path.exists()
    result = CliRunner().invoke(cli, ["sessions", "delete", session.id], input="y\n")
    assert result.exit_code == 0
    assert not session.path.exists()


def test_delete_yes_skips_the_question(project: Path) -> None:
    session = _session(project)
    result = CliRunner().invoke(cli, ["sessions", "delete", "--yes", session.id])
    assert result.exit_code == 0 and f"Deleted session {session.id}" in result.stderr
    assert SessionStore(project).list() == []


def test_sessions_list_as_a_real_process(project: Path) -> None:
    session = _session(project)
    proc = subprocess.run(
        [sys.executable, "-m", "pygent", "sessions", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=project / "sub",
    )
    assert proc.returncode == 0, proc.stderr
    assert session.id in proc.stdout
