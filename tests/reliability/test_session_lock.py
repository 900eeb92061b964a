"""Nothing interleaved: one turn at a time per session, across processes; stale locks never block.

Unit cases attack :class:`pygent.agent.session_lock.SessionLock` directly (a second holder, a
holder SIGKILLed mid-turn, a lock file of garbage); the end-to-end case runs two real servers on
one session, as an editor and a terminal would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_helpers import Server, server_env, session_new, text_prompt

from pygent.agent.session import SessionStore
from pygent.agent.session_lock import SessionLock, lock_path, read_holder
from pygent.errors import PygentError
from pygent.testing.fake_llm import FakeLLMThread


@pytest.fixture
def session_file(tmp_path: Path) -> Path:
    path = tmp_path / "01JD8Z6N4W9Q2B3C4D5E6F7G8H.jsonl"
    path.write_text('{"type":"session"}\n')
    return path


def test_second_lock_on_a_session_is_refused_naming_the_holder(session_file: Path) -> None:
    first = SessionLock(session_file, "S1", "pygent serve")
    first.acquire()
    try:
        with pytest.raises(PygentError) as caught:
            SessionLock(session_file, "S1", "pygent run").acquire()
        assert caught.value.code == "session_busy"
        assert f"pygent serve (pid {os.getpid()})" in caught.value.message
        assert caught.value.data["holder"].startswith("pygent serve")
    finally:
        first.release()
    assert not lock_path(session_file).exists()
    with SessionLock(session_file, "S1"):  # free again
        pass


def test_lock_of_a_sigkilled_holder_is_stale_and_taken_over(session_file: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, time
        from pygent.agent.session_lock import SessionLock
        SessionLock({str(session_file)!r}, "S1", "crasher").acquire()
        print("locked", flush=True)
        time.sleep(300)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(PygentError, match="crasher"):
            SessionLock(session_file, "S1").acquire()
    finally:
        child.kill()
        child.wait(30)
    # The dead holder's file is still there, naming it...
    holder = read_holder(session_file)
    assert holder is not None and holder["pid"] == child.pid
    # ...but the OS lock died with it: the next turn takes over at once.
    lock = SessionLock(session_file, "S1", "next")
    lock.acquire()
    assert read_holder(session_file)["program"] == "next"  # type: ignore[index]
    lock.release()


def test_lock_file_of_garbage_without_a_holder_does_not_block(session_file: Path) -> None:
    lock_path(session_file).write_bytes(b"\x00\xffnot json")
    assert read_holder(session_file) is None
    with SessionLock(session_file, "S1") as lock:
        assert lock.held
        assert json.loads(lock_path(session_file).read_text())["pid"] == os.getpid()


def test_lock_for_a_deleted_session_says_session_not_found(tmp_path: Path) -> None:
    with pytest.raises(PygentError) as caught:
        SessionLock(tmp_path / "gone" / "X.jsonl", "X").acquire()
    assert caught.value.code == "session_not_found"


def test_two_servers_one_session_second_prompt_is_busy_then_continues_whole_history(
    start_server: Callable[..., Server],
    fake_llm: FakeLLMThread,
    workspace: Path,
) -> None:
    fake_llm.script(
        [
            {
                "match": "from A",
                "respond": {
                    "tool_calls": [{"name": "shell", "arguments": {"command": "touch a.txt"}}]
                },
            },
            {"after_tool": "Exit code", "respond": {"text": "answer to A"}},
            {"match": "from B", "respond": {"text": "answer to B"}},
        ]
    )
    # A's turn waits on a permission answer the test holds back: it is running for sure.
    server_a = start_server(permission="hang")
    server_b = start_server()
    session_id = session_new(server_a)
    prompt_a = server_a.request(
        "pygent/session/prompt", {"sessionId": session_id, "prompt": text_prompt("from A")}
    )
    server_a.wait_for(lambda: server_a.server_requests)
    loaded = server_b.call("pygent/session/load", {"sessionId": session_id})
    assert "result" in loaded, loaded  # read-only access stays allowed
    busy = server_b.call(
        "pygent/session/prompt", {"sessionId": session_id, "prompt": text_prompt("from B")}
    )
    assert busy["error"]["data"]["code"] == "session_busy", busy
    assert f"pid {server_a.process.pid}" in busy["error"]["message"]
    assert "pygent serve" in busy["error"]["message"]
    deleted = server_b.call("pygent/session/delete", {"sessionId": session_id})
    assert deleted["error"]["data"]["code"] == "session_busy", deleted
    run = subprocess.run(
        [sys.executable, "-m", "pygent", "run", "--session", session_id, "from the terminal"],
        cwd=workspace,
        env=server_env(fake_llm.base_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode != 0
    assert f"already running a turn in pygent serve (pid {server_a.process.pid})" in run.stderr

    permission = server_a.server_requests[0]
    server_a.send(
        {
            "jsonrpc": "2.0",
            "id": permission["id"],
            "result": {"outcome": {"outcome": "selected", "optionId": "allow_once"}},
        }
    )
    assert server_a.response(prompt_a)["result"]["stopReason"] == "end_turn"
    done_b = server_b.call(
        "pygent/session/prompt", {"sessionId": session_id, "prompt": text_prompt("from B")}
    )
    assert done_b["result"]["stopReason"] == "end_turn", done_b
    # B built on A's turn (it re-read the file under the lock), and the file is in order.
    sent_by_b = json.dumps(fake_llm.requests[-1]["messages"])
    assert "from A" in sent_by_b and "answer to A" in sent_by_b
    session = SessionStore(workspace).load(session_id)
    roles = [m["role"] for m in session.messages]
    assert roles == ["user", "assistant", "tool", "assistant", "user", "assistant"]
    assert "from A" in json.dumps(session.messages[0]["content"])
    assert "answer to A" in str(session.messages[3]["content"])
    assert "from B" in json.dumps(session.messages[4]["content"])
    assert "answer to B" in str(session.messages[5]["content"])
    assert session.warnings == []
    assert not lock_path(session.path).exists()
