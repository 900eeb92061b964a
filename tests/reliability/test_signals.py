"""Nothing left running: SIGTERM/SIGHUP stop the server like end of input; SIGKILL takes children along.

Each test runs a real shell call (``sleep``) through a real turn, signals the real server, and
checks the exit status, that the sleep is gone, and what the session file kept.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_helpers import Server, kill_quietly, session_new, text_prompt, wait_gone

from pygent.agent.session import SessionStore
from pygent.agent.session_lock import lock_path
from pygent.testing.fake_llm import FakeLLMThread

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's"
)


def _start_sleep_turn(
    server: Server, fake_llm: FakeLLMThread, pidfile: Path, command: str
) -> tuple[str, str, int]:
    """Prompt a turn whose model writes some text, then runs ``command``; wait for its pid."""
    fake_llm.script(
        [
            {
                "text": "Starting the long job now.",
                "tool_calls": [{"name": "shell", "arguments": {"command": command}}],
            }
        ]
    )
    session_id = session_new(server)
    prompt_id = server.request(
        "pygent/session/prompt", {"sessionId": session_id, "prompt": text_prompt("run it")}
    )
    server.wait_for(lambda: pidfile.exists() and pidfile.read_text().strip().isdigit())
    return session_id, prompt_id, int(pidfile.read_text().strip())


def _records(workspace: Path, session_id: str) -> list[dict[str, object]]:
    path = SessionStore(workspace).path_for(session_id)
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@posix_only
@pytest.mark.parametrize("sig", [signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM)])
def test_stop_signal_during_shell_call_kills_background_child_saves_reply_and_exits_0(
    sig: int,
    start_server: Callable[..., Server],
    fake_llm: FakeLLMThread,
    workspace: Path,
) -> None:
    server = start_server()
    pidfile = workspace / "sleep.pid"
    # A grandchild in the background: only a kill of the whole process group reaches it.
    session_id, prompt_id, pid = _start_sleep_turn(
        server, fake_llm, pidfile, f"sleep 120 & echo $! > {pidfile}; wait"
    )
    try:
        server.signal(sig)
        assert server.process.wait(60) == 0
        assert wait_gone(pid), f"sleep {pid} outlived the server"
    finally:
        kill_quietly(pid)
    answer = server.response(prompt_id, timeout=5)
    assert answer.get("result", {}).get("stopReason") == "cancelled", answer
    assert server.garbage == []
    records = _records(workspace, session_id)
    messages = [r["message"] for r in records if r.get("type") == "message"]
    assistant = [m for m in messages if m["role"] == "assistant"]  # type: ignore[index]
    # The partial reply was saved, and the shell call got a result (history stays valid).
    assert any("Starting the long job now." in str(m.get("content")) for m in assistant)  # type: ignore[attr-defined]
    assert [m for m in messages if m["role"] == "tool"]  # type: ignore[index]
    assert not lock_path(SessionStore(workspace).path_for(session_id)).exists()
    # The session is usable afterwards.
    session = SessionStore(workspace).load(session_id)
    assert session.warnings == []


@linux_only
def test_sigkill_of_server_during_shell_call_leaves_no_child(
    start_server: Callable[..., Server],
    fake_llm: FakeLLMThread,
    workspace: Path,
) -> None:
    server = start_server()
    pidfile = workspace / "sleep.pid"
    # bash runs a single command by exec: the sleep is the server's direct child.
    _, _, pid = _start_sleep_turn(
        server, fake_llm, pidfile, f"sh -c 'echo $$ > {pidfile}; exec sleep 120'"
    )
    try:
        server.kill()
        assert wait_gone(pid), f"sleep {pid} outlived a SIGKILLed server"
    finally:
        kill_quietly(pid)


@linux_only
def test_keep_children_variable_turns_parent_death_signal_off(
    start_server: Callable[..., Server],
    fake_llm: FakeLLMThread,
    workspace: Path,
) -> None:
    """The escape hatch works, which also proves the test above depends on the protection."""
    from reliability_helpers import server_env

    server = start_server(server_env(fake_llm.base_url, PYGENT_KEEP_CHILDREN="1"))
    pidfile = workspace / "sleep.pid"
    _, _, pid = _start_sleep_turn(
        server, fake_llm, pidfile, f"sh -c 'echo $$ > {pidfile}; exec sleep 120'"
    )
    try:
        server.kill()
        assert not wait_gone(pid, timeout=1.0)
    finally:
        kill_quietly(pid)
