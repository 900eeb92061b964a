"""Helpers for the end-to-end tests: run ``pygent run`` as a real process against the fake LLM."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


def call(name: str, **arguments: Any) -> dict[str, Any]:
    """A scripted tool call."""
    return {"name": name, "arguments": arguments}


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
