"""The ``shell`` tool: run a command through the platform shell inside the workspace.

The command runs in its own process group (see :mod:`pygent.tools.process`) with stdin from the
null device, a working directory inside the workspace, and an environment without API keys. Its
merged stdout/stderr is read while it runs and kept head + tail, so a command printing 100 MB
neither fills memory nor the model's context. A timeout or a cancelled turn stops the whole group.

Where the OS supports it, the command runs inside the sandbox (:mod:`pygent.sandbox`): it may read
anywhere but write only in the workspace, the temp directory and ``[sandbox] writable_roots``,
and without ``[sandbox] network`` it cannot connect out. A command the sandbox stopped is
reported as such (``blocked by the sandbox: write to /x``), and the model may ask to run it again
with ``escalate=true`` and a reason: that always asks the person (see the permission engine).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from typing import Annotated

from pydantic import Field

from pygent.protocol.port import ClientTerminals, TerminalRun, client_terminals
from pygent.protocol.updates import text_content, tool_call_update
from pygent.sandbox.denials import SandboxDenial, find_denial
from pygent.sandbox.landlock import EXIT_SETUP_FAILED, MESSAGE_PREFIX
from pygent.sandbox.policy import SandboxPolicy
from pygent.sandbox.runtime import policy_for
from pygent.tools.base import ToolContext, ToolOutput, ToolRisk, tool
from pygent.tools.errors import ToolError
from pygent.tools.process import (
    IS_WINDOWS,
    KILL_GRACE,
    OutputBuffer,
    child_env,
    run_bounded,
    spawn_shell,
)

__all__ = ["MAX_TIMEOUT", "escalation_title", "shell", "shell_title"]

#: The largest timeout the model may ask for, in seconds.
MAX_TIMEOUT = 600
_TITLE_CHARS = 60
#: Seconds between live output updates sent to the frontend while a command runs.
PROGRESS_INTERVAL = 0.5
#: Bytes of the output's end shown in a live update.
_PROGRESS_BYTES = 4_000
#: Exit codes meaning "command not found" (POSIX shells; cmd.exe).
_NOT_FOUND_CODES = (127, 9009)


# CSI sequences (colours, cursor moves) and OSC sequences (titles, hyperlinks).
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def clean_terminal_output(text: str) -> str:
    """Drop ANSI escape sequences and keep only the final state of lines redrawn with CR.

    Progress bars redraw one line with carriage returns; the model only needs the final frame.
    """
    text = _ANSI.sub("", text)
    if "\r" not in text:
        return text
    text = text.replace("\r\n", "\n")
    return "\n".join(
        line.rstrip("\r").rsplit("\r", 1)[-1] if "\r" in line else line for line in text.split("\n")
    )


def escalation_title(args: dict[str, object]) -> str:
    """``Run OUTSIDE the sandbox: `command``` with the whole command (nothing shortened)."""
    command = str(args.get("command", "")).strip()
    return f"Run OUTSIDE the sandbox (unconfined): `{command}`"


def shell_title(args: dict[str, object]) -> str:
    """``Run `command``` with the command's first line, shortened to fit a title.

    An escalation (``escalate=true``) names the whole command: the person approves exactly what
    will run unconfined.
    """
    if args.get("escalate"):
        return escalation_title(args)
    command = str(args.get("command", "")).strip()
    first = command.splitlines()[0] if command else ""
    if len(first) > _TITLE_CHARS or first != command:
        first = first[: _TITLE_CHARS - 1].rstrip() + "…"
    return f"Run `{first}`"


def _format_seconds(seconds: float) -> str:
    return f"{seconds:g} s" if seconds < 10 else f"{math.ceil(seconds)} s"


@tool(risk=ToolRisk.EXECUTE, kind="execute", title=shell_title, rule_arg="command")
async def shell(
    ctx: ToolContext,
    command: str,
    timeout: Annotated[float | None, Field(gt=0, le=MAX_TIMEOUT)] = None,
    cwd: str | None = None,
    escalate: bool = False,
    reason: str | None = None,
) -> ToolOutput:
    """Run a shell command in the workspace and return its exit code and output.

    Uses bash (or /bin/sh) on Linux and macOS and cmd.exe on Windows. stdout and stderr are
    merged. stdin is empty, so interactive commands fail instead of waiting: pass flags such as
    `--yes`, `-y` or `--no-pager`. Long output keeps its beginning and end. A command that runs
    longer than `timeout` is stopped together with every process it started. Background
    processes that keep writing to the output are stopped when the command exits; redirect their
    output to a file (`cmd > log 2>&1 &`) to keep them running.

    Args:
        command: The command line, e.g. `pytest -q tests/test_app.py` or `ls -la src`.
        timeout: Seconds before the command is stopped (default 120, from settings
            `tools.shell_timeout`; at most 600).
        cwd: Directory to run in, relative to the workspace root (default: the root).
        escalate: Run outside the sandbox. Only after the command failed with "blocked by the
            sandbox" and only when it must write outside the workspace or use the network;
            the user is always asked. Give `reason`.
        reason: Why the command must run outside the sandbox (shown to the user).
    """
    if not command.strip():
        raise ToolError("The command is empty. Give the command line to run, e.g. `ls -la`.")
    if "\x00" in command:
        raise ToolError("The command contains a NUL byte, which no shell accepts.")
    seconds = float(timeout) if timeout is not None else float(ctx.settings.tools.shell_timeout)
    seconds = min(seconds, float(MAX_TIMEOUT))
    workdir = ctx.workspace.root
    if cwd is not None and cwd.strip() not in ("", "."):
        workdir = ctx.workspace.resolve(cwd, must_exist=True, kind="dir")

    policy = None if escalate else policy_for(ctx.settings, ctx.workspace.roots)
    env = child_env({"PYGENT_AGENT": "1", "GIT_TERMINAL_PROMPT": "0"})
    limit = ctx.settings.tools.max_output_chars
    budget = max(limit - 600, 400)
    # The end of a command's output (errors, test summaries) usually matters most.
    head_bytes = budget * 2 // 5
    buffer = OutputBuffer(head_bytes, budget - head_bytes)

    terminals = client_terminals(ctx.port)
    if terminals is not None:
        shown = ctx.workspace.display(workdir) if workdir != ctx.workspace.root else None
        ran = await _in_client_terminal(ctx, terminals, command, str(workdir), seconds, budget)
        if ran is not None:
            return _client_terminal_output(ran, seconds, shown)

    started = time.monotonic()
    try:
        proc = await spawn_shell(command, cwd=workdir, env=env, sandbox=policy)
    except OSError as exc:
        raise ToolError(f"Could not start the shell to run the command: {exc}.") from exc
    result = await run_bounded(
        proc, buffer, timeout=seconds, grace=KILL_GRACE, on_output=_progress(ctx, buffer)
    )
    elapsed = time.monotonic() - started

    marker = (
        "\n\n[... {omitted} bytes of output omitted; redirect the output to a file and "
        "search it (grep, head, tail) to see all of it ...]\n\n"
    )
    output = clean_terminal_output(buffer.render(marker)).rstrip("\n")
    body = output if output else "(no output)"
    raw: dict[str, object] = {
        "exitCode": None if result.timed_out else result.exit_code,
        "timedOut": result.timed_out,
        "truncated": buffer.truncated,
        "outputBytes": buffer.total,
        "durationMs": round(elapsed * 1000),
        "sandboxed": policy is not None,
    }
    if result.timed_out:
        text = (
            f"Command timed out after {_format_seconds(seconds)} and was stopped "
            f"(with every process it started); output so far:\n{body}\n\n"
            "If it needs more time, run it again with a larger timeout (at most "
            f"{MAX_TIMEOUT} s); if it waits for input, pass a non-interactive flag."
        )
        return ToolOutput(text, raw_output=raw, is_error=True)

    code = result.exit_code if result.exit_code is not None else -1
    if policy is not None and code == EXIT_SETUP_FAILED and MESSAGE_PREFIX in output:
        raise ToolError(
            f"The command was not run: {output.strip()}. Try again; if this keeps happening, "
            "turn the sandbox off for this session (`--sandbox off`) and report it "
            "(`pygent report`)."
        )
    parts = [f"Exit code: {code}"]
    if cwd is not None and workdir != ctx.workspace.root:
        parts[0] += f" (in {ctx.workspace.display(workdir)})"
    parts.append(body)
    if code in _NOT_FOUND_CODES and _looks_not_found(output):
        parts.append(
            "Hint: the command was not found. Check the spelling, or whether the program is "
            "installed and on PATH (`which NAME`" + (" / `where NAME`" if IS_WINDOWS else "") + ")."
        )
    elif code < 0 and not IS_WINDOWS:
        parts.append(f"The command was killed by signal {-code}.")
    denial = find_denial(output, policy, workdir) if policy is not None and code != 0 else None
    if policy is not None and denial is not None:
        raw["sandboxDenied"] = {"kind": denial.kind, "target": denial.target}
        parts.append(_denial_note(denial, policy))
    if result.stray_killed:
        parts.append(
            "Note: the command exited but processes it started kept its output open; "
            "they were stopped. Redirect their output to a file to keep them running."
        )
    return ToolOutput("\n".join(parts), raw_output=raw)


def _denial_note(denial: SandboxDenial, policy: SandboxPolicy) -> str:
    where = (
        "it may write only in the workspace, the temp directory and [sandbox] writable_roots"
        if policy.mode == "workspace-write"
        else "it may not write anywhere ([sandbox] mode = read-only)"
    )
    net = "" if policy.network else "; no network"
    return (
        f"Note: {denial.describe()}. The command ran in the sandbox: {where}{net}. If it really "
        "must do this, call shell again with escalate=true and a reason; the user will be asked."
    )


def _progress(ctx: ToolContext, buffer: OutputBuffer) -> Callable[[], None] | None:
    """A callback that shows the output's end on the tool call at most every 0.5 s."""
    if not ctx.tool_call_id:
        return None
    last = time.monotonic()

    def show() -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < PROGRESS_INTERVAL:
            return
        last = now
        data = buffer.getvalue()[-_PROGRESS_BYTES:]
        text = clean_terminal_output(data.decode("utf-8", errors="replace")).strip("\n")
        try:
            ctx.send(
                tool_call_update(
                    ctx.tool_call_id, status="in_progress", content=[text_content(text)]
                )
            )
        except Exception:  # a frontend problem must not break the command
            pass

    return show


async def _in_client_terminal(
    ctx: ToolContext,
    terminals: ClientTerminals,
    command: str,
    workdir: str,
    seconds: float,
    budget: int,
) -> TerminalRun | None:
    """Run the command in the frontend's terminal (ACP ``terminal/*``); None: run it here."""
    return await terminals.run_command(
        command,
        cwd=workdir,
        env={"PYGENT_AGENT": "1", "GIT_TERMINAL_PROMPT": "0"},
        timeout=seconds,
        output_limit=budget,
        tool_call_id=ctx.tool_call_id,
    )


def _client_terminal_output(ran: TerminalRun, seconds: float, shown_cwd: str | None) -> ToolOutput:
    """The model's view of a command that ran in the frontend's terminal."""
    output = clean_terminal_output(ran["output"]).rstrip("\n")
    if ran["truncated"]:
        output = "[... the beginning of the output was dropped ...]\n" + output
    body = output if output else "(no output)"
    terminal = [{"type": "terminal", "terminalId": ran["terminalId"]}]
    raw = {"exitCode": ran["exitCode"], "timedOut": ran["timedOut"], "truncated": ran["truncated"]}
    if ran["timedOut"]:
        text = (
            f"Command timed out after {_format_seconds(seconds)} and was stopped; output so far:"
            f"\n{body}\n\nIf it needs more time, run it again with a larger timeout (at most "
            f"{MAX_TIMEOUT} s); if it waits for input, pass a non-interactive flag."
        )
        return ToolOutput(text, raw_output=raw, content=terminal, is_error=True)
    code = ran["exitCode"]
    first = f"Exit code: {code if code is not None else -1}"
    if shown_cwd is not None:
        first += f" (in {shown_cwd})"
    parts = [first, body]
    if ran["signal"]:
        parts.append(f"The command was killed by signal {ran['signal']}.")
    elif code in _NOT_FOUND_CODES and _looks_not_found(output):
        parts.append(
            "Hint: the command was not found. Check the spelling, or whether it is installed."
        )
    return ToolOutput("\n".join(parts), raw_output=raw, content=terminal)


def _looks_not_found(output: str) -> bool:
    lowered = output.lower()
    return any(
        s in lowered
        for s in ("not found", "no such file", "is not recognized", "cannot find", "not recognised")
    )
