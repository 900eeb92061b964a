"""Sessions across processes: resume with history, a kill mid-turn, Ctrl-C (exit 130)."""

from __future__ import annotations

import json
import shlex
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from run_helpers import (
    FakeServerProcess,
    assert_request_is_valid,
    call,
    make_repo,
    pygent_env,
    run_pygent,
    running_pygent,
    wait_for,
)

from pygent.agent.session import SessionStore
from pygent.testing.fake_llm import FakeLLMThread

pytestmark = pytest.mark.slow  # real `pygent run` processes (each imports litellm)

LONG_TEXT = "This answer streams very slowly. " * 40


def test_resume_in_a_new_process_sends_the_first_turns_history(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"data.txt": "secret number: 7\n"})
    script: list[dict[str, Any]] = [
        {"tool_calls": [call("read_file", path="data.txt")]},
        {"text": "The number is 7."},
        {"text": "You asked me to read data.txt; it said 7."},
    ]
    with FakeServerProcess(script, tmp_path / "script.json") as server:
        env = pygent_env(server.base_url)
        first = run_pygent("Read data.txt", cwd=repo, env=env)
        assert first.returncode == 0, first.stderr
        assert first.stdout == "The number is 7.\n"

        second = run_pygent("--continue", "What did you read?", cwd=repo, env=env)
        assert second.returncode == 0, second.stderr
        assert second.stdout == "You asked me to read data.txt; it said 7.\n"
        requests = server.requests()

    assert len(requests) == 3
    request = requests[2]
    messages = request["messages"]
    text = json.dumps(messages)
    for expected in ("Read data.txt", "secret number: 7", "The number is 7.", "What did you read?"):
        assert expected in text
    assert messages[-1]["role"] == "user"
    assert_request_is_valid(request)
    assert len(SessionStore(repo).list()) == 1


def test_process_killed_mid_turn_leaves_a_loadable_session(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> None:
    repo = make_repo(tmp_path / "repo", {"a.txt": "alpha\n"})
    fake_llm.script(
        [
            {"tool_calls": [call("read_file", path="a.txt")]},
            {"text": LONG_TEXT, "delay": 0.05},
            {"text": "Recovered."},
        ]
    )
    env = pygent_env(fake_llm.base_url)
    with running_pygent("Read a.txt and explain", cwd=repo, env=env) as output:
        wait_for(lambda: "streams very slowly" in output.stdout, what="the slow answer")
        assert output.proc.poll() is None, "pygent finished before it could be killed"
        output.proc.kill()  # SIGKILL on POSIX, TerminateProcess on Windows
        output.wait(timeout=30)

    store = SessionStore(repo)
    (info,) = store.list()
    session = store.load(info["sessionId"])
    roles = [m["role"] for m in session.messages]
    assert roles[:3] == ["user", "assistant", "tool"]
    assert "alpha" in str(session.messages[2]["content"])
    assert session.replay_updates()  # frontends can show it

    resumed = run_pygent("--continue", "Go on", cwd=repo, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == "Recovered.\n"
    request = fake_llm.requests[-1]
    assert "Read a.txt and explain" in json.dumps(request["messages"])
    assert_request_is_valid(request)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT cannot be sent to a child on Windows")
@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
def test_ctrl_c_cancels_the_turn_exits_130_and_keeps_the_session_consistent(
    tmp_path: Path, fake_llm: FakeLLMThread, signum: str
) -> None:
    repo = make_repo(tmp_path / "repo")
    fake_llm.script([{"text": LONG_TEXT, "delay": 0.05}, {"text": "Continued fine."}])
    env = pygent_env(fake_llm.base_url)
    with running_pygent("Explain slowly", cwd=repo, env=env) as output:
        wait_for(lambda: "streams very slowly" in output.stdout, what="the slow answer")
        output.proc.send_signal(getattr(signal, signum))
        output.wait(timeout=30)
    out, err = output.stdout, output.stderr
    assert output.proc.returncode == 130, err
    assert out.startswith("This answer")  # the partial text was streamed
    assert "Traceback" not in err
    assert "cancel" in err.lower()

    session = SessionStore(repo).latest()
    assert session is not None and session.warnings == []
    assert session.messages[0]["role"] == "user"
    assert session.messages[-1]["role"] == "assistant"  # partial text kept
    assert "This answer" in str(session.messages[-1]["content"])

    resumed = run_pygent("--continue", "Please finish", cwd=repo, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == "Continued fine.\n"
    assert_request_is_valid(fake_llm.requests[-1])


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT cannot be sent to a child on Windows")
def test_ctrl_c_during_a_shell_tool_stops_it_and_records_a_result(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> None:
    repo = make_repo(tmp_path / "repo")
    marker = repo / "finished.txt"
    started_file = repo / "started.txt"
    python = shlex.quote(sys.executable)
    script = (
        "import os, time; open('started.tmp', 'w').write(str(os.getpid())); "
        "os.replace('started.tmp', 'started.txt'); time.sleep(4); open('finished.txt', 'w')"
    )
    command = f'{python} -c "{script}"'
    fake_llm.script([{"tool_calls": [call("shell", command=command)]}, {"text": "ok"}])
    env = pygent_env(fake_llm.base_url)
    with running_pygent("--mode", "auto", "Run the slow thing", cwd=repo, env=env) as output:
        wait_for(started_file.exists, what="the shell command to start")
        pid = int(started_file.read_text())
        started = time.monotonic()
        output.proc.send_signal(signal.SIGINT)
        output.wait(timeout=30)
        elapsed = time.monotonic() - started
    err = output.stderr
    assert output.proc.returncode == 130, err
    assert elapsed < 20
    # The command was stopped, not left behind: its process is gone before it could finish.
    wait_for(lambda: _process_gone(pid), what=f"the shell command (pid {pid}) to be stopped")
    assert not marker.exists()
    session = SessionStore(repo).latest()
    assert session is not None
    call_ids = [tc["id"] for m in session.messages for tc in m.get("tool_calls") or []]
    results = [m.get("tool_call_id") for m in session.messages if m["role"] == "tool"]
    assert call_ids and set(call_ids) <= set(results)


def _process_gone(pid: int) -> bool:
    """True once ``pid`` no longer runs (a zombie waiting to be reaped counts as gone)."""
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False
