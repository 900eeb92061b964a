"""Fixtures for the reliability suite: a workspace, and servers that are always cleaned up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_helpers import Server, server_env

from pygent.testing.fake_llm import FakeLLMThread


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long profile (``-m fuzz``) is deselected unless the mark expression names it."""
    if "fuzz" in (config.getoption("markexpr") or ""):
        return
    long_profile = [item for item in items if item.get_closest_marker("fuzz") is not None]
    if long_profile:
        config.hook.pytest_deselected(items=long_profile)
        items[:] = [item for item in items if item.get_closest_marker("fuzz") is None]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "util.py").write_text("def add(a, b):\n    return a + b\n")
    return root.resolve()


@pytest.fixture
def start_server(workspace: Path, fake_llm: FakeLLMThread) -> Iterator[Callable[..., Server]]:
    """Start initialized ``pygent serve`` processes on ``workspace`` (closed or killed at the end)."""
    servers: list[Server] = []

    def start(env: dict[str, str] | None = None, **kwargs: Any) -> Server:
        server = Server(workspace, env or server_env(fake_llm.base_url), **kwargs)
        servers.append(server)
        server.initialize()
        return server

    yield start
    for server in servers:
        if server.alive:
            server.close(timeout=30)
