"""Fixtures for black-box tests of ``pygent acp``: a workspace, the agent's environment, clients."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from acp_helpers import UTIL_PY, RawAgent

from pygent.testing.fake_llm import FakeLLMThread


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A small project: ``util.py`` with one function."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "util.py").write_text(UTIL_PY)
    return root.resolve()


@pytest.fixture
def agent_env(fake_llm: FakeLLMThread) -> dict[str, str]:
    """The agent process's environment: the fake model, no log file."""
    env = dict(os.environ)
    env.update(
        PYGENT_MODEL="openai/fake-model",
        PYGENT_API_BASE=fake_llm.base_url,
        PYGENT_API_KEY="sk-fake-test",
        PYGENT_LOG_DISABLED="1",
    )
    return env


@pytest.fixture
async def make_raw(
    workspace: Path, agent_env: dict[str, str]
) -> AsyncIterator[Callable[..., Awaitable[RawAgent]]]:
    """Start ``pygent acp`` processes driven with raw lines."""
    agents: list[RawAgent] = []

    async def start(**env: str) -> RawAgent:
        agent = await RawAgent.spawn(workspace, {**agent_env, **env})
        agents.append(agent)
        return agent

    yield start
    for agent in agents:
        await agent.close()
