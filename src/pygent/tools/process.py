"""Child processes in their own process group: spawn, capture bounded output, stop the whole tree.

The shell and git tools use it, and the agent core and the server reuse it for cancellation. Every
child gets its own process group (POSIX: a new session; Windows: ``CREATE_NEW_PROCESS_GROUP``) so
stopping it also stops everything it started: a ``pytest`` that spawned workers, a ``make`` running
a compiler, ``sleep`` started in the background by a shell script.

Output is read while the child runs into an :class:`OutputBuffer` that keeps the first and the last
bytes only, so a command printing 100 MB never holds more than a few hundred kilobytes in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pygent.sandbox.policy import SandboxPolicy

from pygent.tools import parent_death

__all__ = [
    "OutputBuffer",
    "RunResult",
    "child_env",
    "group_kwargs",
    "is_secret_env_var",
    "kill_tree_now",
    "platform_shell",
    "run_bounded",
    "spawn_exec",
    "spawn_shell",
    "terminate_tree",
]

IS_WINDOWS = sys.platform == "win32"

#: Seconds a process group gets between the polite stop (SIGTERM) and the forced one (SIGKILL).
KILL_GRACE = 2.0
#: Seconds to wait for output still in flight after the main process exited.
DRAIN_GRACE = 0.5
_READ_CHUNK = 64 * 1024

#: Variable-name endings that mark a secret; such variables never reach a child process.
SECRET_SUFFIXES: tuple[str, ...] = (
    "_API_KEY",
    "_APIKEY",
    "_API_TOKEN",
    "_SECRET_KEY",
    "_SECRET_ACCESS_KEY",
    "_SESSION_TOKEN",
    "_AUTH_TOKEN",
    "_CLIENT_SECRET",
)
#: Exact names of secrets that do not follow the suffix convention (LLM providers' own variables).
SECRET_NAMES: frozenset[str] = frozenset(
    {"AZURE_AD_TOKEN", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HUGGINGFACEHUB_API_TOKEN"}
)
_PYGENT_SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL")


def is_secret_env_var(name: str) -> bool:
    """True when the environment variable ``name`` holds a secret a child must not see.

    Secrets are names ending in ``_API_KEY``, ``_SECRET_KEY``, ``_AUTH_TOKEN`` and the like
    (:data:`SECRET_SUFFIXES`), a few provider names (:data:`SECRET_NAMES`), and every
    ``PYGENT_*`` variable whose name mentions a key, token, secret, password or credential.
    ``PATH``, ``HOME``, ``GITHUB_TOKEN`` and other ordinary variables are kept.
    """
    upper = name.upper()
    if upper in SECRET_NAMES or upper.endswith(SECRET_SUFFIXES):
        return True
    return upper.startswith("PYGENT_") and any(w in upper for w in _PYGENT_SECRET_WORDS)


def child_env(
    extra: Mapping[str, str] | None = None, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment for a child process: ``base`` (default ``os.environ``) without secrets.

    Args:
        extra: Variables to add or override after scrubbing.
        base: The environment to start from.
    """
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if not is_secret_env_var(k)}
    if extra:
        env.update(extra)
    return env


def group_kwargs() -> dict[str, Any]:
    """Keyword arguments for ``subprocess``/``asyncio`` that start the child in a new process group."""
    if IS_WINDOWS:
        return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0x200)}
    return {"start_new_session": True, **parent_death.spawn_kwargs()}


@lru_cache(maxsize=1)
def platform_shell() -> list[str]:
    """The argv prefix that runs a command string: ``bash -c`` (or ``/bin/sh -c``); ``cmd /c`` on Windows."""
    if IS_WINDOWS:
        return [os.environ.get("COMSPEC", "cmd.exe"), "/d", "/s", "/c"]
    bash = shutil.which("bash")
    return [bash, "-c"] if bash else ["/bin/sh", "-c"]


async def spawn_exec(
    argv: Sequence[str],
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    merge_stderr: bool = False,
    sandbox: SandboxPolicy | None = None,
) -> asyncio.subprocess.Process:
    """Start ``argv`` in its own process group with stdin from the null device and piped output.

    Args:
        argv: Program and arguments (no shell).
        cwd: Working directory.
        env: Environment (default: :func:`child_env`).
        merge_stderr: Send stderr into stdout (one stream, in order).
        sandbox: Confine the process and everything it starts to this policy
            (:func:`pygent.sandbox.runtime.wrap_argv`); the caller has checked that the
            platform supports it.

    Raises:
        FileNotFoundError: the program does not exist (without a sandbox; a confined program
            that does not exist exits with status 127 instead).
    """
    if sandbox is not None:
        from pygent.sandbox.runtime import wrap_argv

        argv = wrap_argv(argv, sandbox)
    return await _started(
        asyncio.create_subprocess_exec(
            *argv,
            cwd=None if cwd is None else str(cwd),
            env=dict(child_env() if env is None else env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT if merge_stderr else asyncio.subprocess.PIPE,
            **group_kwargs(),
        )
    )


async def spawn_shell(
    command: str,
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    sandbox: SandboxPolicy | None = None,
) -> asyncio.subprocess.Process:
    """Run ``command`` through the platform shell in its own group, stderr merged into stdout.

    POSIX uses ``bash -c`` when bash is installed, else ``/bin/sh -c``; Windows uses ``%COMSPEC% /c``
    (Windows has no sandbox: ``sandbox`` must be None there).
    """
    if IS_WINDOWS:
        if sandbox is not None:
            raise OSError("Windows has no sandbox for commands")
        return await _started(
            asyncio.create_subprocess_shell(
                command,
                cwd=None if cwd is None else str(cwd),
                env=dict(child_env() if env is None else env),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                **group_kwargs(),
            )
        )
    return await spawn_exec(
        [*platform_shell(), command], cwd=cwd, env=env, merge_stderr=True, sandbox=sandbox
    )


async def _started(
    spawn: Coroutine[Any, Any, asyncio.subprocess.Process],
) -> asyncio.subprocess.Process:
    # The child runs (and may start its own children) before ``create_subprocess_*`` returns.
    # If the caller is cancelled in that window, asyncio would kill only the direct child and
    # its children would live on, so finish the spawn and then kill the whole group.
    task = asyncio.ensure_future(spawn)
    try:
        proc = await asyncio.shield(task)
        parent_death.adopt(proc.pid)  # Windows: into the kill-on-close job
        return proc
    except asyncio.CancelledError:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            # Let the spawn land so the group exists and can be killed before we return.
            await asyncio.shield(task)
        if task.done():
            _kill_spawned(task)
        else:  # cancelled once more while waiting: kill it as soon as it lands
            task.add_done_callback(_kill_spawned)
        raise


def _kill_spawned(task: asyncio.Future[asyncio.subprocess.Process]) -> None:
    if task.cancelled() or task.exception() is not None:
        return
    proc = task.result()
    kill_tree_now(proc.pid)
    transport = getattr(proc, "_transport", None)
    if transport is not None:
        with contextlib.suppress(Exception):
            transport.close()


#: POSIX's SIGKILL (Windows has none; its paths use taskkill and never send it).
_SIGKILL: int = getattr(signal, "SIGKILL", signal.SIGTERM)


def _signal_group(pid: int, sig: int) -> None:
    # The child is the leader of its own session, so its pid is the group id. Sending to the
    # group works even after the leader exited, as long as any member is left.
    if sys.platform != "win32":  # (Windows stops trees with taskkill; mypy checks both)
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            os.killpg(pid, sig)


async def _taskkill(pid: int) -> None:
    with contextlib.suppress(OSError):
        killer = await asyncio.create_subprocess_exec(
            "taskkill",
            "/F",
            "/T",
            "/PID",
            str(pid),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await killer.wait()


async def terminate_tree(
    proc: asyncio.subprocess.Process,
    *,
    grace: float = KILL_GRACE,
    output_done: asyncio.Future[Any] | None = None,
) -> None:
    """Stop ``proc`` and every process in its group.

    POSIX: SIGTERM to the group; once the leader has exited and (when given) ``output_done`` is
    finished, or after ``grace`` seconds, SIGKILL to the group so nothing that ignored SIGTERM
    survives. Windows: ``taskkill /F /T /PID`` (the whole tree at once).

    Args:
        proc: A process started by :func:`spawn_exec` or :func:`spawn_shell`.
        grace: Seconds between SIGTERM and SIGKILL.
        output_done: A task that finishes when the output pipe closes (all writers gone).
    """
    if IS_WINDOWS:
        await _taskkill(proc.pid)
    else:
        _signal_group(proc.pid, signal.SIGTERM)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while loop.time() < deadline:
            if proc.returncode is not None and (output_done is None or output_done.done()):
                break
            await asyncio.sleep(0.02)
        _signal_group(proc.pid, _SIGKILL)
    with contextlib.suppress(asyncio.TimeoutError, ProcessLookupError):
        await asyncio.wait_for(_exited(proc), timeout=max(grace, 1.0))


def kill_tree_now(pid: int) -> None:
    """Kill the process group led by ``pid`` immediately (synchronous; for shutdown paths)."""
    if IS_WINDOWS:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                ["taskkill", "/F", "/T", "/PID", str(pid)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=10,
                check=False,
            )
    else:
        _signal_group(pid, _SIGKILL)


async def _exited(proc: asyncio.subprocess.Process) -> int:
    # ``Process.wait()`` also waits until the pipes close, which a background grandchild can
    # hold open forever. The return code is known as soon as the process itself exits, so poll
    # it while waiting (``wait()`` still answers at once in the usual case).
    waiter = asyncio.ensure_future(proc.wait())
    try:
        while proc.returncode is None and not waiter.done():
            await asyncio.wait({waiter}, timeout=0.05)
    finally:
        if not waiter.done():
            waiter.cancel()
    assert proc.returncode is not None
    return proc.returncode


class OutputBuffer:
    """Keeps the first ``head_limit`` and the last ``tail_limit`` bytes of a stream.

    Args:
        head_limit: Bytes kept from the start.
        tail_limit: Bytes kept from the end (a rolling window).
    """

    def __init__(self, head_limit: int, tail_limit: int) -> None:
        self.head_limit = max(0, head_limit)
        self.tail_limit = max(0, tail_limit)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, data: bytes) -> None:
        """Add a chunk of output."""
        self.total += len(data)
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if not data or self.tail_limit == 0:
            return
        if len(data) >= self.tail_limit:
            self.tail[:] = data[-self.tail_limit :]
        else:
            self.tail += data
            excess = len(self.tail) - self.tail_limit
            if excess > 0:
                del self.tail[:excess]

    @property
    def omitted(self) -> int:
        """Bytes dropped between head and tail."""
        return self.total - len(self.head) - len(self.tail)

    @property
    def truncated(self) -> bool:
        """True when some output was dropped."""
        return self.omitted > 0

    def getvalue(self) -> bytes:
        """Head and tail joined (only the whole output when nothing was dropped)."""
        return bytes(self.head + self.tail)

    def render(self, marker: str = "") -> str:
        """The kept output decoded as UTF-8 (invalid bytes replaced), with ``marker`` at the cut.

        ``{omitted}`` in ``marker`` is replaced by the number of bytes dropped.
        """
        if not self.truncated:
            return self.getvalue().decode("utf-8", errors="replace")
        head = _trim_partial_tail(bytes(self.head)).decode("utf-8", errors="replace")
        tail = _trim_partial_head(bytes(self.tail)).decode("utf-8", errors="replace")
        return head + marker.replace("{omitted}", str(self.omitted)) + tail


def _trim_partial_head(data: bytes) -> bytes:
    # Drop UTF-8 continuation bytes the rolling window cut off from their lead byte.
    i = 0
    while i < min(3, len(data)) and 0x80 <= data[i] <= 0xBF:
        i += 1
    return data[i:]


def _trim_partial_tail(data: bytes) -> bytes:
    # Drop an incomplete multi-byte sequence at the end of the head.
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:
            return data
        if byte >= 0xC0:
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return data if back >= need else data[:-back]
    return data


@dataclass
class RunResult:
    """How a process run by :func:`run_bounded` ended.

    Attributes:
        exit_code: The exit status (negative: killed by that signal on POSIX); None if unknown.
        timed_out: The timeout expired and the group was stopped.
        stray_killed: The command exited but processes it left behind still held the output
            open; they were stopped.
    """

    exit_code: int | None
    timed_out: bool = False
    stray_killed: bool = False


async def _pump(
    stream: asyncio.StreamReader | None,
    buffer: OutputBuffer,
    on_output: Callable[[], None] | None = None,
) -> None:
    if stream is None:
        return
    while True:
        chunk = await stream.read(_READ_CHUNK)
        if not chunk:
            return
        buffer.feed(chunk)
        if on_output is not None:
            on_output()


async def run_bounded(
    proc: asyncio.subprocess.Process,
    stdout: OutputBuffer,
    *,
    stderr: OutputBuffer | None = None,
    timeout: float | None = None,
    grace: float = KILL_GRACE,
    drain_grace: float = DRAIN_GRACE,
    on_output: Callable[[], None] | None = None,
) -> RunResult:
    """Read ``proc``'s output into bounded buffers until it exits, times out or is cancelled.

    On timeout the whole process group is stopped (:func:`terminate_tree`). If the task is
    cancelled, the group is stopped too and :class:`asyncio.CancelledError` propagates. When the
    main process exits but a process it left in the background keeps the output pipe open for
    longer than ``drain_grace``, the group is stopped so the call cannot hang.

    Args:
        proc: A process from :func:`spawn_exec` / :func:`spawn_shell`.
        stdout: Buffer for stdout (stdout and stderr when they were merged).
        stderr: Buffer for stderr when it is a separate pipe.
        timeout: Seconds before the group is stopped (None: no limit).
        grace: Seconds between SIGTERM and SIGKILL.
        drain_grace: Seconds to wait for the pipe to close after the main process exited.
        on_output: Called after each chunk lands in ``stdout`` (e.g. to show live progress);
            it must be quick and must not raise.
    """
    err_buffer = stderr if stderr is not None else OutputBuffer(64 * 1024, 64 * 1024)
    reader: asyncio.Future[Any] = asyncio.gather(
        _pump(proc.stdout, stdout, on_output), _pump(proc.stderr, err_buffer)
    )
    exit_task = asyncio.ensure_future(_exited(proc))
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    timed_out = False
    stray = False
    try:
        done, _ = await asyncio.wait(
            {reader, exit_task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if not done:
            timed_out = True
        elif exit_task not in done:
            # Output closed first; the process should exit right after.
            try:
                await asyncio.wait_for(
                    asyncio.shield(exit_task), timeout=_remaining(deadline, loop)
                )
            except asyncio.TimeoutError:
                timed_out = True
        elif not reader.done():
            try:
                await asyncio.wait_for(asyncio.shield(reader), timeout=drain_grace)
            except asyncio.TimeoutError:
                stray = True
        if timed_out or stray:
            await terminate_tree(proc, grace=grace, output_done=reader)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(reader), timeout=1.0)
    except asyncio.CancelledError:
        await asyncio.shield(_stop_after_cancel(proc, reader, grace))
        raise
    finally:
        if not reader.done():
            reader.cancel()
        if not exit_task.done():
            exit_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader
    return RunResult(proc.returncode, timed_out=timed_out, stray_killed=stray)


async def _stop_after_cancel(
    proc: asyncio.subprocess.Process, reader: asyncio.Future[Any], grace: float
) -> None:
    await terminate_tree(proc, grace=grace, output_done=reader)


def _remaining(deadline: float | None, loop: asyncio.AbstractEventLoop) -> float | None:
    return None if deadline is None else max(deadline - loop.time(), 0.0)
