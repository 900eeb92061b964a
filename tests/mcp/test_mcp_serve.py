"""MCP tools through ``pygent serve`` (a real server process driven by pygent's protocol client).

The editor answers the permission request of an EXECUTE-risk MCP tool, sees the call's updates,
and when the client closes the connection the MCP server is shut down cleanly.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp_helpers import stdio_table, toml_table, user_config
from run_helpers import call, make_repo

from pygent.client import PygentClient
from pygent.testing.fake_llm import FakeLLMThread

pytestmark = pytest.mark.slow


async def test_serve_turn_asks_for_an_mcp_tool_runs_it_and_stops_the_server_on_exit(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> None:
    repo = make_repo(tmp_path / "repo")
    started = tmp_path / "started"
    user_config(toml_table("demo", stdio_table(env={"STARTED_FILE": str(started)})))
    fake_llm.script([{"tool_calls": [call("mcp__demo__add", a=20, b=22)]}, {"text": "It is 42."}])
    asked: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []

    async def allow_once(params: dict[str, Any]) -> dict[str, Any]:
        asked.append(params)
        return {"outcome": {"outcome": "selected", "optionId": "allow_once"}}

    env = {
        **os.environ,
        "PYGENT_MODEL": "openai/fake-model",
        "PYGENT_API_BASE": fake_llm.base_url,
        "PYGENT_API_KEY": "sk-fake-test",
        "PYGENT_LOG_DISABLED": "1",
    }
    client = PygentClient(
        [sys.executable, "-m", "pygent", "serve"],
        root=repo,
        env=env,
        request_permission=allow_once,
        on_update=lambda p: updates.append(p["update"]),
    )
    await asyncio.wait_for(client.start(), 120)
    try:
        session = await asyncio.wait_for(client.new_session(), 60)
        result = await asyncio.wait_for(client.prompt(session, "add them"), 180)
    finally:
        code = await client.close(timeout=60)
    assert result["stopReason"] == "end_turn"
    (request,) = asked
    assert request["toolCall"]["title"] == "demo: add"
    finals = [
        u
        for u in updates
        if u.get("sessionUpdate") == "tool_call_update" and u.get("status") == "completed"
    ]
    assert finals and finals[-1]["content"][0]["content"]["text"] == "42"
    tool_results = [m for m in fake_llm.requests[-1]["messages"] if m.get("role") == "tool"]
    assert [m["content"] for m in tool_results] == ["42"]
    assert code == 0
    pid, end = started.read_text(encoding="utf-8").splitlines()
    assert pid.isdigit() and end == "exited"  # shut down with the server, not killed
