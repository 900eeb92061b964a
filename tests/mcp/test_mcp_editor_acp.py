"""Editor-given MCP servers and the trust question through a real ``pygent acp`` (raw ACP lines)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from mcp_helpers import STDIO_SERVER, install_test_plugin, stdio_table, toml_table
from run_helpers import call, make_repo, pygent_env

from pygent.testing.fake_llm import FakeLLMThread

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "acp"))
from acp_helpers import RawAgent, schema_problems

pytestmark = pytest.mark.slow

Answer = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
async def acp_agent(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> AsyncIterator[Callable[..., Awaitable[RawAgent]]]:
    agents: list[RawAgent] = []

    async def start(repo: Path, **extra: str) -> RawAgent:
        agent = await RawAgent.spawn(repo, pygent_env(fake_llm.base_url, **extra))
        agents.append(agent)
        return agent

    yield start
    for agent in agents:
        await agent.close()


async def prompt(
    agent: RawAgent, session: str, answer: Answer, msg_id: int = 50
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run a turn, answering the agent's permission requests; returns the result and the asks."""
    await agent.send(
        {
            "id": msg_id,
            "method": "session/prompt",
            "params": {"sessionId": session, "prompt": [{"type": "text", "text": "go"}]},
        }
    )
    asked: list[dict[str, Any]] = []
    while True:
        message = await agent.read()
        if message.get("method") == "session/request_permission":
            asked.append(message["params"])
            await agent.send({"id": message["id"], "result": answer(message["params"])})
        elif "method" not in message and message.get("id") == msg_id:
            return message, asked


def selected(option: str) -> Answer:
    return lambda _params: {"outcome": {"outcome": "selected", "optionId": option}}


def tools_of(request: dict[str, Any]) -> set[str]:
    return {t["function"]["name"] for t in request.get("tools") or []}


async def test_acp_session_uses_the_editors_stdio_and_http_servers(
    tmp_path: Path,
    fake_llm: FakeLLMThread,
    acp_agent: Callable[..., Awaitable[RawAgent]],
    http_server: str,
) -> None:
    repo = make_repo(tmp_path / "repo")
    fake_llm.script(
        [
            {
                "tool_calls": [
                    call("mcp__local__echo", text="a"),
                    call("mcp__remote__shout", text="b"),
                ]
            },
            {"text": "done"},
        ]
    )
    agent = await acp_agent(repo)
    init = await agent.initialize()
    assert init["agentCapabilities"]["mcpCapabilities"] == {"http": True, "sse": True}
    servers = [
        {
            "name": "local",
            "command": sys.executable,
            "args": [str(STDIO_SERVER)],
            "env": [{"name": "MARKER", "value": "acp"}],
        },
        {"type": "http", "name": "remote", "url": http_server, "headers": []},
    ]
    answer = await agent.request("session/new", {"cwd": str(repo), "mcpServers": servers}, 1)
    session = answer["result"]["sessionId"]
    result, asked = await prompt(agent, session, selected("allow_once"))
    assert result["result"]["stopReason"] == "end_turn"
    assert {"mcp__local__echo", "mcp__remote__shout"} <= tools_of(fake_llm.requests[0])
    results = [m["content"] for m in fake_llm.requests[-1]["messages"] if m.get("role") == "tool"]
    assert "marker=acp" in results[0] and results[1] == "B!"
    assert [a["toolCall"]["title"] for a in asked] == ["local: echo", "remote: shout"]
    assert schema_problems(agent.received) == []


async def test_acp_bad_mcp_server_entry_is_named_and_the_agent_keeps_serving(
    tmp_path: Path, acp_agent: Callable[..., Awaitable[RawAgent]]
) -> None:
    repo = make_repo(tmp_path / "repo")
    agent = await acp_agent(repo)
    await agent.initialize()
    bad = [{"name": "ok", "command": "x"}, {"type": "http", "name": "web"}]
    error = await agent.request("session/new", {"cwd": str(repo), "mcpServers": bad}, 1)
    assert error["error"]["code"] == -32602
    assert (
        "mcpServers[1] ('web').url: must be an http:// or https:// URL, got None"
        in (error["error"]["message"])
    )
    answer = await agent.request("session/new", {"cwd": str(repo), "mcpServers": []}, 2)
    assert answer["result"]["sessionId"]


async def test_acp_asks_to_trust_project_servers_and_the_answer_is_remembered(
    tmp_path: Path, fake_llm: FakeLLMThread, acp_agent: Callable[..., Awaitable[RawAgent]]
) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / ".pygent").mkdir()
    (repo / ".pygent" / "config.toml").write_text(
        '[permissions]\nmode = "auto"\n\n' + toml_table("proj", stdio_table()), encoding="utf-8"
    )
    fake_llm.script([{"text": "one"}, {"text": "two"}])
    agent = await acp_agent(repo)
    await agent.initialize()
    new = await agent.request("session/new", {"cwd": str(repo), "mcpServers": []}, 1)
    session = new["result"]["sessionId"]
    _, asked = await prompt(agent, session, selected("mcp_trust"))
    (question,) = asked
    assert question["toolCall"]["kind"] == "execute"
    assert [o["optionId"] for o in question["options"]] == ["mcp_trust", "mcp_dont_start"]
    assert str(STDIO_SERVER) in json.dumps(question["toolCall"]["content"])
    assert "mcp__proj__echo" in tools_of(fake_llm.requests[0])
    assert schema_problems(agent.received) == []

    # A second agent process: trusted already, nothing asked.
    second = await acp_agent(repo)
    await second.initialize()
    new = await second.request("session/new", {"cwd": str(repo), "mcpServers": []}, 1)
    _, asked = await prompt(second, new["result"]["sessionId"], selected("allow_once"))
    assert asked == []
    assert "mcp__proj__echo" in tools_of(fake_llm.requests[-1])


async def test_acp_announces_plugin_commands_and_runs_them_without_the_model(
    tmp_path: Path, fake_llm: FakeLLMThread, acp_agent: Callable[..., Awaitable[RawAgent]]
) -> None:
    repo = make_repo(tmp_path / "repo")
    site = install_test_plugin(tmp_path / "site")
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH")) if p)
    agent = await acp_agent(repo, PYTHONPATH=path)
    await agent.initialize()
    new = await agent.request("session/new", {"cwd": str(repo), "mcpServers": []}, 1)
    session = new["result"]["sessionId"]
    while True:
        message = await agent.read()
        update = (message.get("params") or {}).get("update") or {}
        if update.get("sessionUpdate") == "available_commands_update":
            break
    commands = {c["name"]: c for c in update["availableCommands"]}
    assert set(commands) == {"boom", "legacy", "number", "shout"}
    assert commands["shout"]["description"] == "Shout the text back. (plugin testcmds)"

    await agent.send(
        {
            "id": 5,
            "method": "session/prompt",
            "params": {"sessionId": session, "prompt": [{"type": "text", "text": "/shout hey"}]},
        }
    )
    answer = await agent.response(5)
    assert answer["result"]["stopReason"] == "end_turn"
    chunks = [
        m["params"]["update"]["content"]["text"]
        for m in agent.received
        if m.get("method") == "session/update"
        and m["params"]["update"].get("sessionUpdate") == "agent_message_chunk"
    ]
    assert chunks and chunks[-1].startswith(f"**HEY** (session {session}")
    assert fake_llm.requests == []  # a plugin command never reaches the model

    await agent.send(
        {
            "id": 6,
            "method": "session/prompt",
            "params": {"sessionId": session, "prompt": [{"type": "text", "text": "/boom"}]},
        }
    )
    error = await agent.response(6)
    assert (
        "The command /boom of the plugin 'testcmds' failed: ValueError: kaboom"
        in (error["error"]["message"])
    )
    assert schema_problems(agent.received) == []
    again = await agent.request("session/new", {"cwd": str(repo), "mcpServers": []}, 7)
    assert again["result"]["sessionId"]  # still serving
