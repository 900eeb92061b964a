"""The ``shell`` tool and the process-group helpers, with real subprocesses."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from _tool_testkit import make_ctx, registry_of

from pygent.settings.models import Settings
from pygent.tools import process
from pygent.tools import shell as shell_mod
from pygent.tools.base import ToolRegistry, ToolResult, ToolRisk, dispatch

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX shell syntax")
PY = f'"{sys.executable}"'


@pytest.fixture
def registry() -> ToolRegistry:
    return registry_of(shell_mod.shell)


@pytest.fixture(autouse=True)
def short_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shell_mod, "KILL_GRACE", 0.5)


async def run(
    reg: ToolRegistry, root: Path, settings: Settings | None = None, **args: Any
) -> ToolResult:
    return await dispatch(reg, "shell", args, make_ctx(root, settings))


def alive(pid: int) -> bool:
    """True while ``pid`` is a running (not zombie) process."""
    if sys.platform.startswith("linux"):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            return False
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.02)
    return not alive(pid)


def kill_quietly(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# -- spec -----------------------------------------------------------------------------------


def test_spec_is_execute_with_command_rule_and_short_title() -> None:
    spec = shell_mod.shell.__pygent_tool__  # type: ignore[attr-defined]
    assert spec.risk is ToolRisk.EXECUTE
    assert spec.kind == "execute"
    assert spec.rule_arg == "command"
    assert spec.make_title({"command": "pytest -q"}) == "Run `pytest -q`"
    long = spec.make_title({"command": "echo " + "x" * 200})
    assert long.startswith("Run `echo xxx") and long.endswith("…`") and len(long) < 80
    assert spec.make_title({"command": "ls\nrm -rf build"}) == "Run `ls…`"
    schema = spec.json_schema()
    assert schema["properties"]["timeout"]["anyOf"][0]["maximum"] == 600


# -- basics ---------------------------------------------------------------------------------


async def test_exit_code_and_merged_output(registry: ToolRegistry, tmp_path: Path) -> None:
    code = f"{PY} -c \"import sys; print('out'); sys.stdout.flush(); print('err', file=sys.stderr); sys.exit(3)\""
    result = await run(registry, tmp_path, command=code)
    assert not result.is_error  # a failing command is still a completed call
    assert result.text.startswith("Exit code: 3\n")
    assert "out" in result.text and "err" in result.text
    assert result.raw_output is not None
    assert result.raw_output["exitCode"] == 3
    assert result.raw_output["timedOut"] is False
    assert result.raw_output["truncated"] is False


@posix_only
async def test_runs_in_workspace_root_by_default_and_in_cwd(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    (tmp_path / "sub" / "dir").mkdir(parents=True)
    root = await run(registry, tmp_path, command="pwd")
    assert root.text == f"Exit code: 0\n{tmp_path.resolve()}"
    sub = await run(registry, tmp_path, command="pwd", cwd="sub/dir")
    assert sub.text.startswith("Exit code: 0 (in sub/dir)")
    assert str((tmp_path / "sub" / "dir").resolve()) in sub.text


@pytest.mark.parametrize(
    ("cwd", "message"),
    [
        ("..", "outside the workspace"),
        ("/", "outside the workspace"),
        ("missing", "does not exist"),
        ("file.txt", "is a file, not a directory"),
    ],
)
async def test_bad_cwd_is_refused(
    registry: ToolRegistry, tmp_path: Path, cwd: str, message: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "file.txt").write_text("x", encoding="utf-8")
    marker = work / "ran"
    result = await run(registry, work, command=f"{PY} -c \"open('ran','w')\"", cwd=cwd)
    assert result.is_error and message in result.text
    assert not marker.exists()
    assert not (tmp_path / "ran").exists()


async def test_empty_command(registry: ToolRegistry, tmp_path: Path) -> None:
    result = await run(registry, tmp_path, command="   ")
    assert result.is_error and "command is empty" in result.text


async def test_timeout_above_maximum_is_a_validation_error(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    result = await run(registry, tmp_path, command="echo hi", timeout=601)
    assert result.is_error
    assert "argument 'timeout'" in result.text and "600" in result.text


@posix_only
async def test_command_not_found(registry: ToolRegistry, tmp_path: Path) -> None:
    result = await run(registry, tmp_path, command="definitely-not-a-command-xyz --flag")
    assert not result.is_error
    assert result.text.startswith("Exit code: 127\n")
    assert "definitely-not-a-command-xyz" in result.text and "not found" in result.text
    assert "Hint: the command was not found" in result.text
    assert result.raw_output is not None and result.raw_output["exitCode"] == 127


@posix_only
async def test_stdin_is_empty_so_reading_commands_do_not_hang(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    result = await run(registry, tmp_path, command="cat; read line; echo read=$?", timeout=5)
    assert result.text == "Exit code: 0\nread=1"


@posix_only
async def test_invalid_utf8_is_replaced(registry: ToolRegistry, tmp_path: Path) -> None:
    result = await run(registry, tmp_path, command=r"printf 'ok \377\376 done'")
    assert "ok \ufffd\ufffd done" in result.text


@posix_only
async def test_colours_and_progress_redraws_are_cleaned(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    command = r"printf '\033[1;31mred\033[0m plain\nget 10%%\rget 60%%\rget 100%%\r\ndone\r'"
    result = await run(registry, tmp_path, command=command)
    assert result.text == "Exit code: 0\nred plain\nget 100%\ndone"


async def test_no_output(registry: ToolRegistry, tmp_path: Path) -> None:
    result = await run(registry, tmp_path, command=f'{PY} -c "pass"')
    assert result.text == "Exit code: 0\n(no output)"


@posix_only
async def test_live_output_is_shown_on_the_tool_call_while_running(
    registry: ToolRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shell_mod, "PROGRESS_INTERVAL", 0.2)
    sent: list[dict[str, Any]] = []
    ctx = make_ctx(tmp_path)
    ctx.tool_call_id = "call_1"
    ctx.emit = sent.append
    command = "for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.15; done"
    result = await dispatch(registry, "shell", {"command": command}, ctx)
    assert result.text.startswith("Exit code: 0\ntick 1")
    assert sent, "no live update was sent"
    for update in sent:
        assert update["sessionUpdate"] == "tool_call_update"
        assert update["toolCallId"] == "call_1" and update["status"] == "in_progress"
    texts = [u["content"][0]["content"]["text"] for u in sent]
    assert all(t.startswith("tick 1") for t in texts)
    assert result.raw_output is not None
    assert len(sent) <= result.raw_output["durationMs"] / 200 + 1  # throttled


# -- environment ----------------------------------------------------------------------------


@posix_only
async def test_child_environment_has_secrets_removed(
    registry: ToolRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Values distinct enough not to occur by chance in other variables (loading litellm's token
    # counter sets TIKTOKEN_CACHE_DIR=.../tokenizers for the whole process: it contains "tok").
    secrets = {
        "FOO_API_KEY": "sk-foo-7f3a",
        "OPENAI_API_KEY": "sk-openai-7f3a",
        "PYGENT_API_KEY": "sk-pygent-7f3a",
        "PYGENT_LLM__API_KEY": "sk-nested-7f3a",
        "AWS_SECRET_ACCESS_KEY": "aws-secret-7f3a",
        "SOME_AUTH_TOKEN": "auth-token-7f3a",
        "HF_TOKEN": "hf-token-7f3a",
    }
    for key, value in secrets.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("KEEP_ME", "visible")
    monkeypatch.setenv("PYGENT_LOG_LEVEL", "DEBUG")
    result = await run(registry, tmp_path, command="env")
    lines = set(result.text.splitlines())
    for key, value in secrets.items():
        assert f"{key}={value}" not in lines
        assert value not in result.text
    assert "KEEP_ME=visible" in lines
    assert "PYGENT_LOG_LEVEL=DEBUG" in lines
    assert f"PATH={os.environ['PATH']}" in lines
    assert "PYGENT_AGENT=1" in lines
    assert "GIT_TERMINAL_PROMPT=0" in lines
    # The parent keeps its own variables.
    assert os.environ["FOO_API_KEY"] == secrets["FOO_API_KEY"]


def test_secret_name_rules() -> None:
    for name in (
        "X_API_KEY",
        "anthropic_api_key",
        "PYGENT_API_KEY",
        "PYGENT_TOKEN",
        "GCP_CLIENT_SECRET",
    ):
        assert process.is_secret_env_var(name), name
    for name in (
        "PATH",
        "HOME",
        "PYGENT_AGENT",
        "PYGENT_LOG_DISABLED",
        "KEYBOARD",
        "TOKENIZERS_PARALLELISM",
    ):
        assert not process.is_secret_env_var(name), name
    env = process.child_env({"NEW": "1"}, base={"A_API_KEY": "s", "PATH": "/bin"})
    assert env == {"PATH": "/bin", "NEW": "1"}


# -- timeouts and process groups ------------------------------------------------------------


@posix_only
async def test_timeout_kills_the_whole_process_group(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    command = "sleep 30 & echo child=$!; echo shell=$$; wait"
    started = time.monotonic()
    result = await run(registry, tmp_path, command=command, timeout=1)
    elapsed = time.monotonic() - started
    assert result.is_error
    assert result.text.startswith("Command timed out after 1 s and was stopped")
    assert "output so far:" in result.text
    pids = dict(
        line.split("=")
        for line in result.text.splitlines()
        if line.startswith(("child=", "shell="))
    )
    child, shell_pid = int(pids["child"]), int(pids["shell"])
    try:
        assert wait_gone(child), "the background sleep survived the timeout"
        assert wait_gone(shell_pid), "the shell survived the timeout"
    finally:
        kill_quietly(child)
    assert result.raw_output is not None
    assert result.raw_output["timedOut"] is True and result.raw_output["exitCode"] is None
    assert elapsed < 20  # far below the 30 s the sleep would take if it were not killed


@posix_only
async def test_timeout_escalates_to_sigkill_when_term_is_ignored(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    command = "trap '' TERM; sleep 30 & echo child=$!; wait; wait"
    result = await run(registry, tmp_path, command=command, timeout=1)
    assert result.is_error and "timed out" in result.text
    child = int(result.text.split("child=")[1].split()[0])
    try:
        assert wait_gone(child)
    finally:
        kill_quietly(child)


@posix_only
async def test_default_timeout_comes_from_settings(registry: ToolRegistry, tmp_path: Path) -> None:
    settings = Settings.model_validate({"tools": {"shell_timeout": 1}})
    result = await run(registry, tmp_path, settings, command="sleep 10")
    assert result.is_error and "timed out after 1 s" in result.text


@posix_only
async def test_cancellation_kills_the_group_and_propagates(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pid"
    task = asyncio.create_task(
        run(registry, tmp_path, command=f"sleep 30 & echo $! > {pid_file}; wait", timeout=60)
    )
    deadline = time.monotonic() + 5
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline, "the command never started"
        await asyncio.sleep(0.02)
    child = int(pid_file.read_text())
    assert alive(child)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    try:
        assert wait_gone(child), "the child survived cancellation"
    finally:
        kill_quietly(child)


@posix_only
async def test_background_process_holding_output_is_stopped(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    started = time.monotonic()
    result = await run(registry, tmp_path, command="sleep 30 & echo child=$!", timeout=25)
    assert time.monotonic() - started < 20  # not held until the sleep or the timeout ends
    assert result.text.startswith("Exit code: 0")
    assert "kept its output open; they were stopped" in result.text
    child = int(result.text.split("child=")[1].split()[0])
    try:
        assert wait_gone(child)
    finally:
        kill_quietly(child)


@posix_only
async def test_background_process_with_redirected_output_keeps_running(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    result = await run(
        registry, tmp_path, command="sleep 30 > /dev/null 2>&1 & echo child=$!", timeout=20
    )
    child = int(result.text.split("child=")[1].split()[0])
    try:
        assert result.text.startswith("Exit code: 0")
        assert "were stopped" not in result.text
        assert alive(child)
    finally:
        kill_quietly(child)


# -- huge output ----------------------------------------------------------------------------


@posix_only
async def test_100_mb_of_output_stays_bounded(registry: ToolRegistry, tmp_path: Path) -> None:
    command = "echo FIRST-LINE; head -c 100000000 /dev/zero | tr '\\0' 'y'; echo; echo LAST-LINE"
    tracemalloc.start()
    try:
        result = await run(registry, tmp_path, command=command, timeout=120)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not result.is_error
    assert result.text.startswith("Exit code: 0\nFIRST-LINE")
    assert result.text.rstrip().endswith("LAST-LINE")
    assert "bytes of output omitted" in result.text
    assert len(result.text) <= Settings().tools.max_output_chars
    assert result.raw_output is not None
    assert result.raw_output["truncated"] is True
    assert result.raw_output["outputBytes"] > 100_000_000
    assert peak < 16 * 1024 * 1024, f"peak traced memory {peak} bytes"


# -- OutputBuffer ---------------------------------------------------------------------------


def test_output_buffer_keeps_head_and_rolling_tail() -> None:
    buf = process.OutputBuffer(5, 5)
    for chunk in (b"abc", b"defgh", b"ijklmnop", b"q"):
        buf.feed(chunk)
    assert buf.total == 17
    assert buf.head == b"abcde" and buf.tail == b"mnopq"
    assert buf.omitted == 7 and buf.truncated
    assert buf.render("[{omitted} cut]") == "abcde[7 cut]mnopq"
    small = process.OutputBuffer(5, 5)
    small.feed(b"hello wor")
    assert not small.truncated and small.render("X") == "hello wor"


def test_output_buffer_does_not_split_utf8_characters() -> None:
    buf = process.OutputBuffer(4, 4)
    buf.feed("ééé".encode())  # 6 bytes: head keeps 'éé', nothing dropped yet
    buf.feed(b"-" * 10 + "ü€".encode())
    text = buf.render("|")
    assert "\ufffd" not in text
    assert text.startswith("éé|") and text.endswith("€")


async def test_run_bounded_reports_exit_code_without_shell(tmp_path: Path) -> None:
    proc = await process.spawn_exec(
        [sys.executable, "-c", "import sys; print('x' * 10); sys.exit(4)"], cwd=tmp_path
    )
    out = process.OutputBuffer(100, 100)
    err = process.OutputBuffer(100, 100)
    result = await process.run_bounded(proc, out, stderr=err, timeout=10)
    assert result.exit_code == 4 and not result.timed_out
    assert out.render().strip() == "x" * 10
