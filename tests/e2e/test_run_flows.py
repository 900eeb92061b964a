"""End to end through ``pygent run`` (a real process) and the fake LLM server: real tools, real git.

Needs the agent loop, the file/search/git tools and the permission engine.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from run_helpers import call, git, make_repo, pygent_env, run_pygent, tool_messages

from pygent.agent.session import SessionStore
from pygent.testing.fake_llm import FakeLLMThread

# Real `pygent run` processes, on both model backends (PYGENT_LLM_BACKEND reaches the process).
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("llm_backend")]


def test_create_edit_commit_flow_on_a_real_repository(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> None:
    repo = make_repo(tmp_path / "repo")
    fake_llm.script(
        [
            {
                "text": "I'll create the module.",
                "tool_calls": [
                    call(
                        "create_file",
                        path="src/greet.py",
                        content="def greet():\n    return 'hi'\n",
                    )
                ],
            },
            {
                "tool_calls": [
                    call(
                        "edit_file",
                        path="src/greet.py",
                        old_string="return 'hi'",
                        new_string="return 'hello, world'",
                    )
                ]
            },
            {"tool_calls": [call("git_add", paths=["src/greet.py"])]},
            {"tool_calls": [call("git_commit", message="Add greet module")]},
            {"text": "Created, edited and committed src/greet.py."},
        ]
    )
    proc = run_pygent(
        "--mode",
        "auto",
        "Add a greet module and commit it",
        cwd=repo,
        env=pygent_env(fake_llm.base_url),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith("Created, edited and committed src/greet.py.\n")
    assert "I'll create the module." in proc.stdout
    assert "Create src/greet.py" in proc.stderr  # tool calls are short lines on stderr

    assert (repo / "src/greet.py").read_text() == "def greet():\n    return 'hello, world'\n"
    log = git(repo, "log", "--format=%s", "-n", "2").splitlines()
    assert log == ["Add greet module", "initial"]
    assert git(repo, "show", "HEAD:src/greet.py") == "def greet():\n    return 'hello, world'\n"
    assert git(repo, "status", "--porcelain") == ""

    # Every tool succeeded: no result the model saw reports an error.
    results = tool_messages(fake_llm.requests[-1])
    assert len(results) == 4
    assert not any(
        "error" in text.lower() or "refused" in text.lower() for text in results.values()
    )
    # The session holds the whole turn.
    session = SessionStore(repo).latest()
    assert session is not None
    roles = [m["role"] for m in session.messages]
    assert roles[0] == "user" and roles.count("tool") == 4 and roles[-1] == "assistant"


def test_search_then_refactor_across_files(tmp_path: Path, fake_llm: FakeLLMThread) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {
            "pkg/util.py": "def old_name(x):\n    return x * 2\n",
            "pkg/a.py": "from pkg.util import old_name\n\nprint(old_name(1))\n",
            "pkg/b.py": "from pkg import util\n\nvalue = util.old_name(3)\n",
            "notes.txt": "nothing here\n",
        },
    )
    fake_llm.script(
        [
            {
                "tool_calls": [
                    call("grep", pattern="old_name"),
                    call("find_definition", symbol="old_name"),
                ]
            },
            {
                "tool_calls": [
                    call(
                        "edit_file",
                        path="pkg/util.py",
                        old_string="def old_name(",
                        new_string="def double(",
                    ),
                    call(
                        "edit_file",
                        path="pkg/a.py",
                        old_string="old_name",
                        new_string="double",
                        replace_all=True,
                    ),
                    call(
                        "edit_file",
                        path="pkg/b.py",
                        old_string="util.old_name(3)",
                        new_string="util.double(3)",
                    ),
                ]
            },
            {"tool_calls": [call("grep", pattern="old_name")]},
            {"text": "Renamed old_name to double in 3 files."},
        ]
    )
    proc = run_pygent(
        "--mode",
        "auto-edit",
        "--json",
        "Rename old_name to double everywhere",
        cwd=repo,
        env=pygent_env(fake_llm.base_url),
    )
    assert proc.returncode == 0, proc.stderr

    # What the search tools told the model (second request: the results of grep and find_definition).
    first_results = list(tool_messages(fake_llm.requests[1]).values())
    grep_text, definition_text = first_results
    for name in ("pkg/util.py", "pkg/a.py", "pkg/b.py"):
        assert name in grep_text
    assert "notes.txt" not in grep_text
    assert "pkg/util.py:1:" in definition_text and "def old_name(x)" in definition_text

    assert (repo / "pkg/util.py").read_text() == "def double(x):\n    return x * 2\n"
    assert (repo / "pkg/a.py").read_text() == "from pkg.util import double\n\nprint(double(1))\n"
    assert (repo / "pkg/b.py").read_text() == "from pkg import util\n\nvalue = util.double(3)\n"
    final_grep = list(tool_messages(fake_llm.requests[3]).values())[-1]
    assert "pkg/a.py" not in final_grep and "pkg/util.py" not in final_grep

    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    result = lines[-1]
    assert result["type"] == "result" and result["stopReason"] == "end_turn"
    statuses = [u.get("status") for u in lines if u.get("sessionUpdate") == "tool_call_update"]
    assert statuses.count("completed") >= 6 and "failed" not in statuses
    diffs = [
        c
        for u in lines
        if u.get("sessionUpdate") == "tool_call_update"
        for c in u.get("content") or []
        if c.get("type") == "diff"
    ]
    assert {Path(d["path"]).name for d in diffs} == {"util.py", "a.py", "b.py"}
