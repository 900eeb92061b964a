"""Bad input and the end of input, fed to a real ``pygent acp`` as raw lines.

Each case checks the error (code and message) and that the agent keeps serving afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from acp_helpers import RawAgent, schema_problems, session_files, wait

from pygent.testing.fake_llm import FakeLLMThread

Start = Callable[..., Awaitable[RawAgent]]


async def _still_serving(agent: RawAgent, workspace: Path, msg_id: int = 90) -> None:
    answer = await agent.request("session/new", {"cwd": str(workspace), "mcpServers": []}, msg_id)
    assert answer["result"]["sessionId"]


async def test_initialize_answers_with_id_zero_and_pygent_capabilities(make_raw: Start) -> None:
    agent = await make_raw()
    result = await agent.initialize()
    assert result["protocolVersion"] == 1
    assert result["agentInfo"]["name"] == "pygent"
    assert result["agentInfo"]["version"]
    assert result["authMethods"] == []
    caps = result["agentCapabilities"]
    assert caps["loadSession"] is True
    assert set(caps["promptCapabilities"]) == {"image", "audio", "embeddedContext"}


async def test_initialize_with_unsupported_version_answers_ours(make_raw: Start) -> None:
    agent = await make_raw()
    answer = await agent.request("initialize", {"protocolVersion": 99}, 0)
    assert answer["result"]["protocolVersion"] == 1


async def test_malformed_line_gets_parse_error_with_null_id_and_agent_keeps_serving(
    make_raw: Start, workspace: Path
) -> None:
    agent = await make_raw()
    await agent.initialize()
    await agent.send_line(b'{"jsonrpc": "2.0", "id": 5, "method": "session/new", "params": {')
    error = await agent.response(None)
    assert error["error"]["code"] == -32700
    assert "not valid JSON" in error["error"]["message"]
    await _still_serving(agent, workspace)


async def test_batch_gets_invalid_request(make_raw: Start, workspace: Path) -> None:
    agent = await make_raw()
    await agent.initialize()
    batch = [{"jsonrpc": "2.0", "id": 7, "method": "session/list", "params": {}}]
    await agent.send_line(json.dumps(batch).encode())
    error = await agent.response(None)
    assert error["error"]["code"] == -32600
    assert "batches" in error["error"]["message"]
    await _still_serving(agent, workspace)


async def test_unknown_method_gets_method_not_found_naming_the_supported_ones(
    make_raw: Start, workspace: Path
) -> None:
    agent = await make_raw()
    await agent.initialize()
    error = await agent.request("session/teleport", {}, 3)
    assert error["error"]["code"] == -32601
    assert "'session/teleport'" in error["error"]["message"]
    assert "session/prompt" in error["error"]["message"]
    await _still_serving(agent, workspace)


async def test_a_key_echoed_in_an_error_is_redacted_on_the_acp_wire(
    make_raw: Start, workspace: Path
) -> None:
    key = "sk-proj-" + "Zq7xW2" * 8  # key-shaped: the one redaction choke point must catch it
    agent = await make_raw()
    await agent.initialize()
    error = await agent.request(key, {}, 4)  # an unknown method name is echoed in the message
    assert error["error"]["code"] == -32601
    assert key not in json.dumps(error)
    assert "[REDACTED]" in error["error"]["message"]
    await _still_serving(agent, workspace)


async def test_wrong_params_get_invalid_params_naming_the_field(
    make_raw: Start, workspace: Path
) -> None:
    agent = await make_raw()
    await agent.initialize()
    relative = await agent.request("session/new", {"cwd": "proj", "mcpServers": []}, 1)
    assert relative["error"]["code"] == -32602
    assert "cwd: must be an absolute path" in relative["error"]["message"]
    missing = await agent.request("session/new", {"cwd": str(workspace)}, 2)
    assert missing["error"]["code"] == -32602
    assert "mcpServers: field required" in missing["error"]["message"]
    created = await agent.request("session/new", {"cwd": str(workspace), "mcpServers": []}, 3)
    session_id = created["result"]["sessionId"]
    bad_prompt = await agent.request(
        "session/prompt", {"sessionId": session_id, "prompt": [{"type": "text"}]}, 4
    )
    assert bad_prompt["error"]["code"] == -32602
    assert "prompt[0].text: field required" in bad_prompt["error"]["message"]
    not_object = await agent.request("session/prompt", [session_id], 5)
    assert not_object["error"]["code"] == -32602
    await _still_serving(agent, workspace)


async def test_request_before_initialize_is_refused_and_initialize_still_works(
    make_raw: Start, workspace: Path
) -> None:
    agent = await make_raw()
    early = await agent.request("session/new", {"cwd": str(workspace), "mcpServers": []}, 1)
    assert "send initialize first" in early["error"]["message"]
    await agent.initialize()
    await _still_serving(agent, workspace)


async def test_mcp_servers_in_acps_shape_are_accepted_when_the_session_opens(
    make_raw: Start, workspace: Path
) -> None:
    agent = await make_raw()
    await agent.initialize()
    server = {"name": "files", "command": "/bin/false", "args": [], "env": []}
    answer = await agent.request("session/new", {"cwd": str(workspace), "mcpServers": [server]}, 1)
    assert answer["result"]["sessionId"]


async def test_closing_stdin_during_a_turn_exits_cleanly_and_saves_the_session(
    make_raw: Start, workspace: Path, fake_llm: FakeLLMThread, isolated_home: Path
) -> None:
    fake_llm.add({"text": "slow " * 300, "delay": 0.05})
    agent = await make_raw()
    await agent.initialize()
    created = await agent.request("session/new", {"cwd": str(workspace), "mcpServers": []}, 1)
    session_id = created["result"]["sessionId"]
    await agent.send(
        {
            "id": 2,
            "method": "session/prompt",
            "params": {"sessionId": session_id, "prompt": [{"type": "text", "text": "go slow"}]},
        }
    )
    while True:  # the turn is streaming
        message = await agent.read()
        if message.get("method") == "session/update":
            break
    await agent.close_stdin()
    code = await wait(agent.process.wait(), timeout=60)
    assert code == 0
    (saved,) = [p for p in session_files(isolated_home) if p.stem == session_id]
    records = [json.loads(line) for line in saved.read_text().splitlines() if line.strip()]
    texts = json.dumps(records)
    assert "go slow" in texts
    assert "interrupted" in texts
    assert schema_problems(agent.received) == []


async def test_closing_stdin_while_idle_exits_with_status_zero(make_raw: Start) -> None:
    agent = await make_raw()
    await agent.initialize()
    await agent.close_stdin()
    assert await wait(agent.process.wait(), timeout=60) == 0


async def test_cancel_request_for_unknown_id_and_cancel_for_unknown_session_are_harmless(
    make_raw: Start, workspace: Path
) -> None:
    agent = await make_raw()
    await agent.initialize()
    await agent.send({"method": "$/cancel_request", "params": {"requestId": 12345}})
    await agent.send({"method": "session/cancel", "params": {"sessionId": "nope"}})
    await agent.send({"method": "session/cancel", "params": "garbage"})
    await _still_serving(agent, workspace)
    extra: list[dict[str, Any]] = [m for m in agent.received if "error" in m]
    assert extra == []
    await asyncio.sleep(0)


async def test_malformed_project_config_is_reported_on_session_new_and_agent_keeps_serving(
    make_raw: Start, workspace: Path
) -> None:
    config = workspace / ".pygent" / "config.toml"
    config.parent.mkdir()
    config.write_text("[llm\nmodel = ")
    agent = await make_raw()
    await agent.initialize()
    answer = await agent.request("session/new", {"cwd": str(workspace), "mcpServers": []}, 1)
    assert answer["error"]["data"]["code"] == "invalid_config"
    assert "config.toml" in answer["error"]["message"]
    config.write_text('[llm]\nmodel = "openai/fake-model"\n')
    other = workspace / "sub"
    other.mkdir()
    fixed = await agent.request("session/new", {"cwd": str(other), "mcpServers": []}, 2)
    assert fixed["result"]["sessionId"]


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as gone)."""
    stat = Path(f"/proc/{pid}/stat")
    if stat.parent.exists():
        try:
            return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except (FileNotFoundError, ProcessLookupError):
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def test_closing_stdin_while_a_command_runs_stops_the_command(
    make_raw: Start, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    pid_file = workspace / "pid.txt"
    command = f"echo $$ > {pid_file.name}; sleep 60"
    fake_llm.script(
        [{"tool_calls": [{"id": "s1", "name": "shell", "arguments": {"command": command}}]}]
    )
    agent = await make_raw()
    await agent.initialize()
    created = await agent.request("session/new", {"cwd": str(workspace), "mcpServers": []}, 1)
    session_id = created["result"]["sessionId"]
    await agent.request("session/set_mode", {"sessionId": session_id, "modeId": "auto"}, 2)
    await agent.send(
        {
            "id": 3,
            "method": "session/prompt",
            "params": {"sessionId": session_id, "prompt": [{"type": "text", "text": "sleep"}]},
        }
    )
    while not (pid_file.exists() and pid_file.read_text().strip()):
        await asyncio.sleep(0.05)
    pid = int(pid_file.read_text())
    assert _alive(pid)
    await agent.close_stdin()
    assert await wait(agent.process.wait(), timeout=60) == 0
    for _ in range(100):
        if not _alive(pid):
            break
        await asyncio.sleep(0.05)
    assert not _alive(pid), f"the command {pid} still runs after the agent exited"
