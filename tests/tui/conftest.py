"""Fixtures for the TUI's pilot tests: a workspace and a server environment aimed at the fake LLM."""

from __future__ import annotations

from pathlib import Path

import pytest

from pygent.testing.fake_llm import FakeLLMThread
from pygent.testing.pytest_plugin import FAKE_API_KEY, FAKE_MODEL


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
