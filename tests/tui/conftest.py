"""Fixtures for the TUI's pilot tests: a workspace, the fake LLM server, a helper to wait."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pygent.testing.fake_llm import FakeLLMThread
from pygent.testing.pytest_plugin import FAKE_API_KEY, FAKE_MODEL

#: Generous: the server imports litellm and the agent on its first prompt (slow on a busy machine).
WAIT = 90.0


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A small project directory."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "util.py").write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    (root / "README.md").write_text("# demo\n", encoding="utf-8")
    return root


@pytest.fixture
def server_env(fake_llm: FakeLLMThread, monkeypatch: pytest.MonkeyPatch) -> FakeLLMThread:
    """Point the spawned server (through the environment) at the fake LLM server."""
    monkeypatch.setenv("PYGENT_MODEL", FAKE_MODEL)
    monkeypatch.setenv("PYGENT_API_BASE", fake_llm.base_url)
    monkeypatch.setenv("PYGENT_API_KEY", FAKE_API_KEY)
    return fake_llm


async def wait_for(
    pilot: Any, condition: Callable[[], Any], timeout: float = WAIT, what: str = ""
) -> Any:
    """Let the app run until ``condition()`` is truthy; fail with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.05)
