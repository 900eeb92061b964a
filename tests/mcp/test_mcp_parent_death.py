"""An MCP stdio server dies with pygent even when pygent is killed outright (Linux).

pygent stops its MCP servers itself when it ends normally. SIGKILL (the OOM killer, a crash)
gives it no chance: the server is started through the parent-death trampoline
(:func:`pygent.tools.parent_death.wrap_command`), so the kernel kills it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mcp_helpers import stdio_table, toml_table, user_config
from run_helpers import make_repo, pygent_command, pygent_env

from pygent.testing.fake_llm import FakeLLMThread

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's"),
]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _server_pid_after_start(tmp_path: Path, fake_llm: FakeLLMThread, **env: str) -> tuple[int, int]:
    """Start ``pygent run`` whose model answers slowly; returns (pygent's pid, the server's pid)."""
    repo = make_repo(tmp_path / "repo")
    started = tmp_path / "started"
    # LINGER: the server outlives its closed stdin, as some real servers do, so only the
    # parent-death signal can stop it.
    server_env = {"STARTED_FILE": str(started), "LINGER": "1"}
    user_config(toml_table("demo", stdio_table(env=server_env)))
    fake_llm.script([{"text": "late", "delay": 120}])
    run = subprocess.Popen(
        pygent_command("hi"),
        cwd=repo,
        env=pygent_env(fake_llm.base_url, **env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = started.read_text() if started.exists() else ""
        if text.strip().splitlines() and text.split()[0].isdigit():
            return run.pid, int(text.split()[0])
        if run.poll() is not None:
            break
        time.sleep(0.05)
    run.kill()
    raise AssertionError("the MCP server never started")


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return not _alive(pid)


def _reap(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def test_sigkill_of_pygent_takes_its_mcp_server_along(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> None:
    pygent_pid, server_pid = _server_pid_after_start(tmp_path, fake_llm)
    try:
        assert _alive(server_pid)
        os.kill(pygent_pid, signal.SIGKILL)
        os.waitpid(pygent_pid, 0)
        assert _wait_gone(server_pid, 30), f"MCP server {server_pid} outlived a SIGKILLed pygent"
    finally:
        _reap(server_pid)


def test_keep_children_variable_leaves_the_mcp_server_running(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> None:
    """The escape hatch works, which also proves the test above depends on the protection."""
    pygent_pid, server_pid = _server_pid_after_start(tmp_path, fake_llm, PYGENT_KEEP_CHILDREN="1")
    try:
        os.kill(pygent_pid, signal.SIGKILL)
        os.waitpid(pygent_pid, 0)
        assert not _wait_gone(server_pid, 2.0)
    finally:
        _reap(server_pid)


def test_trampoline_refuses_bad_arguments_and_reports_a_missing_program() -> None:
    from pygent.tools import parent_death

    script = parent_death.__file__
    bad = subprocess.run(
        [sys.executable, "-I", "-S", script, "nope"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2 and "usage:" in bad.stderr
    missing = subprocess.run(
        [sys.executable, "-I", "-S", script, str(os.getpid()), "--", "no-such-program-xyz"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 127 and "no-such-program-xyz" in missing.stderr
    # A program that is not on PATH is left unwrapped, so the spawn reports it the usual way.
    assert parent_death.wrap_command("no-such-program-xyz", ["a"]) == ("no-such-program-xyz", ["a"])
    command, args = parent_death.wrap_command(sys.executable, ["-V"])
    assert command == sys.executable and args[-3:] == ["--", sys.executable, "-V"]
