"""Fixtures for black-box tests of ``pygent serve``: a workspace, the server's environment, clients."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from server_helpers import SERVER_CMD, UTIL_PY, ClientFactory, RawServer, Recorder, wait

from pygent.client import PygentClient
from pygent.testing.fake_llm import FakeLLMThread


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A small project: ``util.py`` with one function."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "util.py").write_text(UTIL_PY)
    return root.resolve()


@pytest.fixture
def server_env(fake_llm: FakeLLMThread) -> dict[str, str]:
    """The server process's environment: the fake model, no log file."""
    env = dict(os.environ)
    env.update(
        PYGENT_MODEL="openai/fake-model",
        PYGENT_API_BASE=fake_llm.base_url,
        PYGENT_API_KEY="sk-fake-test",
        PYGENT_LOG_DISABLED="1",
    )
    return env


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def make_client(
    workspace: Path, server_env: dict[str, str], recorder: Recorder
) -> AsyncIterator[ClientFactory]:
    """Start clients of a real ``pygent serve`` (closed at the end of the test)."""
    clients: list[PygentClient] = []

    async def start(**kwargs: Any) -> PygentClient:
        kwargs.setdefault("apply_edit", recorder.apply_edit)
        kwargs.setdefault("request_permission", recorder.request_permission)
        kwargs.setdefault("on_update", recorder.on_update)
        client = PygentClient(SERVER_CMD, root=workspace, env=server_env, **kwargs)
        clients.append(client)
        await wait(client.start())
        return client

    yield start
    for client in clients:
        await client.close(timeout=30)


@pytest.fixture
async def make_raw(
    workspace: Path, server_env: dict[str, str]
) -> AsyncIterator[Callable[..., Awaitable[RawServer]]]:
    """Start ``pygent serve`` processes driven with raw frames."""
    servers: list[RawServer] = []

    async def start(cmd: list[str] | None = None, **env: str) -> RawServer:
        process = await asyncio.create_subprocess_exec(
            *(cmd or SERVER_CMD),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            cwd=str(workspace),
            env={**server_env, **env},
            limit=1 << 24,
        )
        server = RawServer(process)
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()
