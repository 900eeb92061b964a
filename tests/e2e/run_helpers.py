"""Helpers for the end-to-end tests: run ``pygent run`` as a real process against the fake LLM."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FAKE_MODEL = "openai/fake-model"
FAKE_KEY = "sk-fake-e2e"


def pygent_env(base_url: str | None, **extra: str) -> dict[str, str]:
    """The environment of a ``pygent`` subprocess aimed at the fake server at ``base_url``.

    HOME and the XDG directories are already isolated by ``tests/conftest.py``.
    """
    env = {**os.environ, "PYGENT_LOG_DISABLED": "1", "PYTHONUNBUFFERED": "1"}
    if base_url is not None:
        env.update(
            PYGENT_MODEL=FAKE_MODEL,
            PYGENT_API_BASE=base_url,
            PYGENT_API_KEY=FAKE_KEY,
        )
    env.update(extra)
    return env


def pygent_command(*args: str) -> list[str]:
    """``python -m pygent run ARGS``."""
    return [sys.executable, "-m", "pygent", "run", *args]


def run_pygent(
    *args: str,
    cwd: Path,
    env: dict[str, str],
    input: str | None = None,
    timeout: float = 180,
) -> subprocess.CompletedProcess[str]:
    """Run ``pygent run ARGS`` to completion."""
    return subprocess.run(
        pygent_command(*args),
        cwd=cwd,
        env=env,
        input=input,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )


@contextlib.contextmanager
def running_pygent(*args: str, cwd: Path, env: dict[str, str]) -> Iterator[Collector]:
    """Start ``pygent run ARGS`` with its output collected; killed on exit if still running."""
    proc = subprocess.Popen(
        pygent_command(*args), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    output = Collector(proc)
    try:
        yield output
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` and return its stdout (raises on failure)."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout


def make_repo(root: Path, files: dict[str, str] | None = None) -> Path:
    """A git repository at ``root`` with ``files`` committed (user name and email configured)."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test")
    git(root, "config", "user.email", "test@example.com")
    git(root, "config", "commit.gpgsign", "false")
    for name, text in (files or {"README.md": "# demo\n"}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def call(tool_name: str, /, **arguments: Any) -> dict[str, Any]:
    """A scripted tool call."""
    return {"name": tool_name, "arguments": arguments}


def tool_messages(request: dict[str, Any]) -> dict[str, str]:
    """``{tool_call_id: content}`` of the tool results in a request the fake server received."""
    out: dict[str, str] = {}
    for message in request.get("messages", []):
        if message.get("role") == "tool":
            content = message.get("content")
            out[str(message.get("tool_call_id"))] = (
                content if isinstance(content, str) else json.dumps(content)
            )
    return out


def assert_request_is_valid(request: dict[str, Any]) -> None:
    """Every tool call in a request's history is answered by a tool result (providers require it)."""
    messages = request["messages"]
    for index, message in enumerate(messages):
        for tool_call in message.get("tool_calls") or []:
            answered = any(
                m.get("role") == "tool" and m.get("tool_call_id") == tool_call["id"]
                for m in messages[index + 1 :]
            )
            assert answered, f"tool call {tool_call['id']} has no result in {messages}"


class Collector:
    """Reads a running process's stdout and stderr in background threads (no pipe deadlock)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        import threading

        self.proc = proc
        self._out: list[bytes] = []
        self._err: list[bytes] = []
        self._threads = [
            threading.Thread(target=self._pump, args=(proc.stdout, self._out), daemon=True),
            threading.Thread(target=self._pump, args=(proc.stderr, self._err), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @staticmethod
    def _pump(stream: Any, sink: list[bytes]) -> None:
        while True:
            chunk = stream.read1(4096) if hasattr(stream, "read1") else stream.read(1)
            if not chunk:
                return
            sink.append(chunk)

    @property
    def stdout(self) -> str:
        return b"".join(self._out).decode("utf-8", "replace")

    @property
    def stderr(self) -> str:
        return b"".join(self._err).decode("utf-8", "replace")

    def wait(self, timeout: float = 60) -> int:
        """Wait for the process and the readers; returns the exit status."""
        code = self.proc.wait(timeout=timeout)
        for thread in self._threads:
            thread.join(timeout=10)
        return code


def wait_for(predicate: Any, timeout: float = 90.0, what: str = "the condition") -> None:
    """Poll ``predicate`` every 50 ms until it is true (generous timeout: CI machines are slow)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class FakeServerProcess:
    """``python -m pygent.testing.fake_llm --script FILE`` as a subprocess (how editor suites run it)."""

    def __init__(self, script: list[dict[str, Any]], script_file: Path) -> None:
        script_file.write_text(json.dumps(script), encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pygent.testing.fake_llm", "--script", str(script_file)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.isdigit():
            self.proc.kill()
            raise AssertionError(f"fake_llm did not print its port: {line!r}")
        self.port = int(line)
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def requests(self) -> list[dict[str, Any]]:
        """Every chat request the server received (via its control endpoint)."""
        import urllib.request

        with urllib.request.urlopen(
            f"http://127.0.0.1:{self.port}/_fake/requests", timeout=10
        ) as r:
            data: list[dict[str, Any]] = json.loads(r.read())
        return data

    def __enter__(self) -> FakeServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.kill()
        self.proc.communicate(timeout=10)
