"""Full turns against a real ``pygent acp``, driven by the ``agent-client-protocol`` package's client.

The agent is a real subprocess; the LLM is the fake server over real HTTP through real litellm.
Every message the agent sends is checked against ACP's schema (``acp.schema``) on the raw stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from acp.connection import StreamDirection, StreamEvent
from acp_helpers import (
    AGENT_CMD,
    DOCSTRING,
    UTIL_PY,
    edit_call,
    schema_problems,
    tool_results,
    wait,
)

from acp import PROTOCOL_VERSION, RequestError, schema, spawn_agent_process
from pygent.testing.fake_llm import FakeLLMThread


class RecordingClient:
    """An ACP client: records updates, answers permissions from a policy, keeps editor buffers.

    Attributes:
        permission_answer: optionId to select, None for ``cancelled``, "hang" (never answer).
        buffers: Unsaved editor text by absolute path (``fs/read_text_file`` answers from it).
    """

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self.updates: list[dict[str, Any]] = []
        self.permissions: list[dict[str, Any]] = []
        self.writes: list[tuple[str, str]] = []
        self.reads: list[str] = []
        self.permission_answer: str | None = "allow_once"
        self.permission_asked = asyncio.Event()
        self.buffers: dict[str, str] = {}
        self.terminals: dict[str, dict[str, Any]] = {}
        self.terminal_released = asyncio.Event()
        self.events: list[str] = []

    def on_connect(self, conn: Any) -> None:
        pass

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        data = update.model_dump(by_alias=True, exclude_none=True)
        self.updates.append(data)
        self.events.append(f"{data['sessionUpdate']}:{data.get('status')}")

    async def request_permission(
        self, options: list[Any], session_id: str, tool_call: Any, **kwargs: Any
    ) -> schema.RequestPermissionResponse:
        self.permissions.append(
            {
                "toolCall": tool_call.model_dump(by_alias=True, exclude_none=True),
                "options": [o.model_dump(by_alias=True) for o in options],
            }
        )
        self.events.append("permission")
        self.permission_asked.set()
        if self.permission_answer == "hang":
            await asyncio.Event().wait()
        if self.permission_answer is None:
            return schema.RequestPermissionResponse(
                outcome=schema.DeniedOutcome(outcome="cancelled")
            )
        return schema.RequestPermissionResponse(
            outcome=schema.AllowedOutcome(outcome="selected", option_id=self.permission_answer)
        )

    async def write_text_file(
        self, content: str, path: str, session_id: str, **kwargs: Any
    ) -> schema.WriteTextFileResponse:
        self.writes.append((path, content))
        self.events.append("write")
        Path(path).write_text(content)  # the editor saves its buffer
        return schema.WriteTextFileResponse()

    async def read_text_file(
        self,
        path: str,
        session_id: str,
        line: int | None = None,
        limit: int | None = None,
        **_: Any,
    ) -> schema.ReadTextFileResponse:
        self.reads.append(path)
        if path in self.buffers:
            return schema.ReadTextFileResponse(content=self.buffers[path])
        try:
            return schema.ReadTextFileResponse(content=Path(path).read_text())
        except FileNotFoundError:
            raise RequestError.resource_not_found(path) from None

    async def create_terminal(
        self,
        command: str,
        session_id: str,
        args: list[str] | None = None,
        cwd: str | None = None,
        env: list[Any] | None = None,
        output_byte_limit: int | None = None,
        **kwargs: Any,
    ) -> schema.CreateTerminalResponse:
        terminal_id = f"term-{len(self.terminals) + 1}"
        process = await asyncio.create_subprocess_exec(
            command,
            *(args or []),
            cwd=cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
        )
        self.terminals[terminal_id] = {
            "command": [command, *(args or [])],
            "cwd": cwd,
            "process": process,
            "released": False,
            "killed": False,
        }
        self.events.append("terminal/create")
        return schema.CreateTerminalResponse(terminal_id=terminal_id)

    async def wait_for_terminal_exit(
        self, session_id: str, terminal_id: str, **kwargs: Any
    ) -> schema.WaitForTerminalExitResponse:
        process = self.terminals[terminal_id]["process"]
        code = await process.wait()
        return schema.WaitForTerminalExitResponse(exit_code=code)

    async def terminal_output(
        self, session_id: str, terminal_id: str, **kwargs: Any
    ) -> schema.TerminalOutputResponse:
        entry = self.terminals[terminal_id]
        process = entry["process"]
        if "output" not in entry:
            entry["output"] = (await process.stdout.read()).decode()
        status = (
            schema.TerminalExitStatus(exit_code=process.returncode)
            if process.returncode is not None
            else None
        )
        return schema.TerminalOutputResponse(
            output=entry["output"], truncated=False, exit_status=status
        )

    async def kill_terminal(self, session_id: str, terminal_id: str, **kwargs: Any) -> None:
        entry = self.terminals[terminal_id]
        entry["killed"] = True
        with contextlib.suppress(ProcessLookupError):
            entry["process"].kill()

    async def release_terminal(self, session_id: str, terminal_id: str, **kwargs: Any) -> None:
        self.terminals[terminal_id]["released"] = True
        self.events.append("terminal/release")
        self.terminal_released.set()

    def text(self) -> str:
        return "".join(
            u["content"]["text"]
            for u in self.updates
            if u["sessionUpdate"] == "agent_message_chunk" and u["content"]["type"] == "text"
        )


class Harness:
    """A connection to one ``pygent acp`` process and the raw messages it sent."""

    def __init__(self, conn: Any, process: Any, client: RecordingClient) -> None:
        self.conn = conn
        self.process = process
        self.client = client
        self.raw: list[dict[str, Any]] = []

    def observe(self, event: StreamEvent) -> None:
        if event.direction is StreamDirection.INCOMING:
            self.raw.append(event.message)


@pytest.fixture
async def start_agent(workspace: Path, agent_env: dict[str, str]) -> AsyncIterator[Any]:
    """Start ``pygent acp`` with a :class:`RecordingClient`; every message is schema-checked after."""
    stack = contextlib.AsyncExitStack()
    harnesses: list[Harness] = []

    async def start(**caps: Any) -> Harness:
        client = RecordingClient(workspace)
        conn, process = await stack.enter_async_context(
            spawn_agent_process(
                client,  # type: ignore[arg-type]
                *AGENT_CMD,
                env=agent_env,
                cwd=str(workspace),
                transport_kwargs={"limit": 1 << 24},
            )
        )
        harness = Harness(conn, process, client)
        conn._conn.add_observer(harness.observe)
        harnesses.append(harness)
        fs = schema.FileSystemCapabilities(
            read_text_file=caps.get("read", False), write_text_file=caps.get("write", False)
        )
        init = await wait(
            conn.initialize(
                protocol_version=PROTOCOL_VERSION,
                client_capabilities=schema.ClientCapabilities(
                    fs=fs, terminal=caps.get("terminal", False)
                ),
                client_info=schema.Implementation(name="pytest", version="1"),
            )
        )
        assert init.protocol_version == 1
        return harness

    yield start
    await stack.aclose()
    for harness in harnesses:
        for terminal in harness.client.terminals.values():
            process = terminal["process"]
            if process.returncode is None:
                process.kill()
            await process.wait()
        assert schema_problems(harness.raw) == []


async def _session(harness: Harness, workspace: Path) -> str:
    created = await wait(harness.conn.new_session(cwd=str(workspace), mcp_servers=[]))
    return str(created.session_id)


async def _prompt(harness: Harness, session_id: str, text: str) -> Any:
    return await wait(
        harness.conn.prompt(
            session_id=session_id, prompt=[schema.TextContentBlock(type="text", text=text)]
        )
    )


async def test_prompt_streams_text_and_ends_turn(
    start_agent: Any, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    fake_llm.add({"text": "Hello from pygent, streamed in pieces."})
    harness = await start_agent()
    session_id = await _session(harness, workspace)
    result = await _prompt(harness, session_id, "say hello")
    assert result.stop_reason == "end_turn"
    assert harness.client.text() == "Hello from pygent, streamed in pieces."
    updates = [m for m in harness.raw if m.get("method") == "session/update"]
    assert updates and all(m["params"]["sessionId"] == session_id for m in updates)
    assert "usage" in result.field_meta["pygent"]


async def test_edit_asks_with_diff_then_writes_through_client_fs_when_allowed(
    start_agent: Any, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([edit_call(), {"text": "Docstring added."}])
    harness = await start_agent(read=True, write=True)
    session_id = await _session(harness, workspace)
    result = await _prompt(harness, session_id, "add a docstring to util.py")
    assert result.stop_reason == "end_turn"
    (asked,) = harness.client.permissions
    target = str(workspace / "util.py")
    assert asked["toolCall"]["content"] == [
        {
            "type": "diff",
            "path": target,
            "oldText": UTIL_PY,
            "newText": "def add(a, b):\n" + DOCSTRING + "    return a + b\n",
        }
    ]
    assert {o["kind"] for o in asked["options"]} == {
        "allow_once",
        "allow_always",
        "reject_once",
        "reject_always",
    }
    assert harness.client.writes == [
        (target, "def add(a, b):\n" + DOCSTRING + "    return a + b\n")
    ]
    assert (workspace / "util.py").read_text().count("Add two numbers") == 1
    # Asked once (the review is the approval), and the write came after the answer.
    events = harness.client.events
    assert events.count("permission") == 1
    assert events.index("permission") < events.index("write")
    assert target in harness.client.reads


async def test_edit_rejected_leaves_file_untouched_and_tells_model(
    start_agent: Any, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([edit_call(), {"text": "Understood."}])
    harness = await start_agent(write=True)
    harness.client.permission_answer = "reject_once"
    session_id = await _session(harness, workspace)
    result = await _prompt(harness, session_id, "add a docstring")
    assert result.stop_reason == "end_turn"
    assert (workspace / "util.py").read_text() == UTIL_PY
    assert harness.client.writes == []
    assert any("rejected the edit" in text for text in tool_results(fake_llm.requests))
    final = [u for u in harness.client.updates if u["sessionUpdate"] == "tool_call_update"][-1]
    assert final["status"] == "failed"


async def test_edit_permission_cancelled_by_client_leaves_file_untouched(
    start_agent: Any, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([edit_call(), {"text": "OK."}])
    harness = await start_agent(write=True)
    harness.client.permission_answer = None
    session_id = await _session(harness, workspace)
    await _prompt(harness, session_id, "add a docstring")
    assert (workspace / "util.py").read_text() == UTIL_PY
    assert any("cancelled" in text for text in tool_results(fake_llm.requests))


async def test_allow_always_switches_session_to_auto_edit_and_later_edits_run_unasked(
    start_agent: Any, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    second = {
        "tool_calls": [
            {
                "id": "call_2",
                "name": "create_file",
                "arguments": {"path": "notes.md", "content": "# Notes\n"},
            }
        ]
    }
    fake_llm.script([edit_call(), second, {"text": "Both done."}])
    harness = await start_agent(write=True)
    harness.client.permission_answer = "allow_always"
    session_id = await _session(harness, workspace)
    await _prompt(harness, session_id, "edit and create")
    assert len(harness.client.permissions) == 1
    modes = [u for u in harness.client.updates if u["sessionUpdate"] == "current_mode_update"]
    assert [m["currentModeId"] for m in modes] == ["auto-edit"]
    assert (workspace / "notes.md").read_text() == "# Notes\n"
    assert "Add two numbers" in (workspace / "util.py").read_text()


async def test_edit_without_client_fs_is_written_to_disk_by_pygent(
    start_agent: Any, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([edit_call(), {"text": "Done."}])
    harness = await start_agent()
    session_id = await _session(harness, workspace)
    await _prompt(harness, session_id, "add a docstring")
    assert harness.client.writes == []
    assert "Add two numbers" in (workspace / "util.py").read_text()


async def test_read_file_sees_unsaved_editor_buffer_through_fs_read(
    start_agent: Any, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script(
        [
            {"tool_calls": [{"id": "r1", "name": "read_file", "arguments": {"path": "util.py"}}]},
            {"text": "Read it."},
        ]
    )
    harness = await start_agent(read=True)
    harness.client.buffers[str(workspace / "util.py")] = "def unsaved_buffer():\n    pass\n"
    session_id = await _session(harness, workspace)
    await _prompt(harness, session_id, "read util.py")
    (result,) = tool_results(fake_llm.requests)
    assert "unsaved_buffer" in result
    assert (workspace / "util.py").read_text() == UTIL_PY


async def test_cancel_while_permission_pending_ends_prompt_with_cancelled(
    start_agent: Any, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([edit_call(), {"text": "never reached"}])
    harness = await start_agent(write=True)
    harness.client.permission_answer = "hang"
    session_id = await _session(harness, workspace)
    prompt = asyncio.ensure_future(_prompt(harness, session_id, "add a docstring"))
    await wait(harness.client.permission_asked.wait())
    await harness.conn.cancel(session_id=session_id)
    result = await wait(prompt, timeout=30)
    assert result.stop_reason == "cancelled"
    assert (workspace / "util.py").read_text() == UTIL_PY
    # The pending permission request was withdrawn on the wire.
    assert any(m.get("method") == "$/cancel_request" for m in harness.raw)


async def test_cancel_during_streaming_ends_prompt_with_cancelled_and_agent_keeps_serving(
    start_agent: Any, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([{"text": "word " * 400, "delay": 0.05}, {"text": "second turn"}])
    harness = await start_agent()
    session_id = await _session(harness, workspace)
    prompt = asyncio.ensure_future(_prompt(harness, session_id, "talk"))
    while not harness.client.text():
        await asyncio.sleep(0.02)
    await harness.conn.cancel(session_id=session_id)
    result = await wait(prompt, timeout=30)
    assert result.stop_reason == "cancelled"
    again = await _prompt(harness, session_id, "again")
    assert again.stop_reason == "end_turn"
    assert harness.client.text().endswith("second turn")


async def test_shell_runs_in_client_terminal_embedded_in_tool_call(
    start_agent: Any, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    command = "echo from-the-terminal"
    fake_llm.script(
        [
            {"tool_calls": [{"id": "sh1", "name": "shell", "arguments": {"command": command}}]},
            {"text": "Ran it."},
        ]
    )
    harness = await start_agent(terminal=True)
    session_id = await _session(harness, workspace)
    await _prompt(harness, session_id, "run echo")
    (terminal,) = harness.client.terminals.values()
    assert terminal["command"][-1] == command
    assert terminal["cwd"] == str(workspace)
    assert terminal["released"] is True
    (result,) = tool_results(fake_llm.requests)
    assert "Exit code: 0" in result and "from-the-terminal" in result
    embedded = [
        c
        for u in harness.client.updates
        if u["sessionUpdate"] == "tool_call_update"
        for c in u.get("content", [])
        if c["type"] == "terminal"
    ]
    assert embedded and embedded[0]["terminalId"] == "term-1"


async def test_load_replays_history_before_answering(
    start_agent: Any, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([edit_call(), {"text": "Docstring added."}])
    first = await start_agent()
    session_id = await _session(first, workspace)
    await _prompt(first, session_id, "add a docstring please")
    await wait(first.conn.close())

    second = await start_agent()
    await wait(second.conn.load_session(cwd=str(workspace), session_id=session_id, mcp_servers=[]))
    kinds = [u["sessionUpdate"] for u in second.client.updates]
    assert kinds[0] == "user_message_chunk"
    assert "tool_call" in kinds and "agent_message_chunk" in kinds
    assert second.client.updates[0]["content"]["text"] == "add a docstring please"
    assert "Docstring added." in second.client.text()
    # Every replayed update arrived before the load's answer.
    answer_index = next(i for i, m in enumerate(second.raw) if "result" in m and m.get("id") == 1)
    assert all(
        i < answer_index for i, m in enumerate(second.raw) if m.get("method") == "session/update"
    )
    listed = await wait(second.conn.list_sessions(cwd=str(workspace)))
    assert [s.session_id for s in listed.sessions] == [session_id]


async def test_load_replays_tool_timings_and_each_turns_usage_with_the_session_cost(
    start_agent: Any, workspace: Path
) -> None:
    from pygent.agent.session import SessionStore

    session = SessionStore(workspace).create("openai/fake-model", workspace)
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "read_file", "arguments": '{"path": "util.py"}'},
    }
    session.append({"role": "user", "content": "read it"})
    session.append({"role": "assistant", "content": None, "tool_calls": [call]})
    session.append({"role": "tool", "tool_call_id": "c1", "content": "x"}, duration_ms=41.0)
    session.append({"role": "assistant", "content": "Read."})
    session.record_usage(
        {"inputTokens": 100, "outputTokens": 10, "totalTokens": 110, "costUsd": 0.5}
    )
    session.append({"role": "user", "content": "again"})
    session.append({"role": "assistant", "content": "Again."})
    session.record_usage({"inputTokens": 30, "outputTokens": 5, "totalTokens": 35, "costUsd": 0.25})
    harness = await start_agent()
    await wait(harness.conn.load_session(cwd=str(workspace), session_id=session.id, mcp_servers=[]))
    updates = harness.client.updates
    (result,) = [u for u in updates if u["sessionUpdate"] == "tool_call_update"]
    assert result["_meta"]["pygent"]["durationMs"] == 41.0
    usages = [u for u in updates if u["sessionUpdate"] == "usage_update"]
    # Each replayed turn counts its own tokens; the cost is the session's so far.
    assert [u["used"] for u in usages] == [110, 35]
    assert [u["cost"]["amount"] for u in usages] == [0.5, 0.75]


async def test_set_mode_sends_current_mode_update_and_plan_refuses_edits(
    start_agent: Any, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([edit_call(), {"text": "Planned."}])
    harness = await start_agent(write=True)
    created = await wait(harness.conn.new_session(cwd=str(workspace), mcp_servers=[]))
    assert created.modes.current_mode_id == "ask"
    assert [m.id for m in created.modes.available_modes] == ["ask", "auto-edit", "plan", "auto"]
    await wait(harness.conn.set_session_mode(session_id=created.session_id, mode_id="plan"))
    await _prompt(harness, created.session_id, "add a docstring")
    assert harness.client.permissions == []
    assert (workspace / "util.py").read_text() == UTIL_PY
    assert any("plan mode" in text for text in tool_results(fake_llm.requests))
    modes = [u for u in harness.client.updates if u["sessionUpdate"] == "current_mode_update"]
    assert modes[0]["currentModeId"] == "plan"


async def test_unknown_mode_and_unknown_session_are_refused_with_clear_errors(
    start_agent: Any, workspace: Path
) -> None:
    harness = await start_agent()
    session_id = await _session(harness, workspace)
    with pytest.raises(RequestError) as bad_mode:
        await wait(harness.conn.set_session_mode(session_id=session_id, mode_id="yolo"))
    assert bad_mode.value.code == -32602
    assert "ask, auto-edit, plan, auto" in str(bad_mode.value)
    with pytest.raises(RequestError) as missing:
        await wait(_prompt(harness, "01J00000000000000000000000", "hi"))
    assert json.dumps(missing.value.data or {}).count("session_not_found") == 1


async def test_cancel_while_command_runs_in_client_terminal_kills_and_releases_it(
    start_agent: Any, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script(
        [
            {"tool_calls": [{"id": "sh1", "name": "shell", "arguments": {"command": "sleep 60"}}]},
            {"text": "never reached"},
        ]
    )
    harness = await start_agent(terminal=True)
    session_id = await _session(harness, workspace)
    await wait(harness.conn.set_session_mode(session_id=session_id, mode_id="auto"))
    prompt = asyncio.ensure_future(_prompt(harness, session_id, "sleep"))
    while not harness.client.terminals:
        await asyncio.sleep(0.02)
    await harness.conn.cancel(session_id=session_id)
    result = await wait(prompt, timeout=30)
    assert result.stop_reason == "cancelled"
    # The client handles kill and release as they arrive; wait for them, not for a clock.
    await wait(harness.client.terminal_released.wait(), timeout=30)
    (terminal,) = harness.client.terminals.values()
    assert terminal["killed"] is True
    assert await wait(terminal["process"].wait(), timeout=30) is not None


async def test_command_over_its_timeout_in_client_terminal_is_killed_and_model_told(
    start_agent: Any, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    call = {"command": "sleep 60", "timeout": 1}
    fake_llm.script(
        [
            {"tool_calls": [{"id": "sh1", "name": "shell", "arguments": call}]},
            {"text": "It timed out."},
        ]
    )
    harness = await start_agent(terminal=True)
    session_id = await _session(harness, workspace)
    await wait(harness.conn.set_session_mode(session_id=session_id, mode_id="auto"))
    result = await _prompt(harness, session_id, "sleep")
    assert result.stop_reason == "end_turn"
    (terminal,) = harness.client.terminals.values()
    assert terminal["killed"] is True and terminal["released"] is True
    (text,) = tool_results(fake_llm.requests)
    assert "timed out after 1 s" in text


async def test_load_of_unknown_session_is_refused_with_session_not_found(
    start_agent: Any, workspace: Path
) -> None:
    harness = await start_agent()
    with pytest.raises(RequestError) as missing:
        await wait(
            harness.conn.load_session(
                cwd=str(workspace), session_id="01J00000000000000000000000", mcp_servers=[]
            )
        )
    assert "session_not_found" in json.dumps(missing.value.data or {})
    assert await _session(harness, workspace)


async def test_prompt_with_resource_link_and_embedded_resource_reaches_the_model(
    start_agent: Any, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    fake_llm.add({"text": "Seen."})
    harness = await start_agent()
    session_id = await _session(harness, workspace)
    blocks = [
        schema.TextContentBlock(type="text", text="explain these"),
        schema.ResourceContentBlock(
            type="resource_link", uri=(workspace / "util.py").as_uri(), name="util.py"
        ),
        schema.EmbeddedResourceContentBlock(
            type="resource",
            resource=schema.TextResourceContents(
                uri="file:///scratch/notes.txt", text="EMBEDDED-NOTE-TEXT", mime_type="text/plain"
            ),
        ),
    ]
    result = await wait(harness.conn.prompt(session_id=session_id, prompt=blocks))
    assert result.stop_reason == "end_turn"
    sent = json.dumps(fake_llm.requests[-1]["messages"])
    assert "def add(a, b)" in sent
    assert "EMBEDDED-NOTE-TEXT" in sent


async def test_reject_always_refuses_later_edits_unasked_until_the_mode_changes(
    start_agent: Any, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    create = {
        "tool_calls": [
            {"id": "c2", "name": "create_file", "arguments": {"path": "n.md", "content": "x\n"}}
        ]
    }
    fake_llm.script([edit_call(), create, {"text": "Stopped."}, create, {"text": "Created."}])
    harness = await start_agent(write=True)
    harness.client.permission_answer = "reject_always"
    session_id = await _session(harness, workspace)
    await _prompt(harness, session_id, "edit and create")
    assert len(harness.client.permissions) == 1
    assert not (workspace / "n.md").exists()
    assert any("not to be asked about edits again" in t for t in tool_results(fake_llm.requests))
    # Choosing a mode again lifts it: the next edit asks (and is allowed).
    await wait(harness.conn.set_session_mode(session_id=session_id, mode_id="ask"))
    harness.client.permission_answer = "allow_once"
    await _prompt(harness, session_id, "create it now")
    assert len(harness.client.permissions) == 2
    assert (workspace / "n.md").read_text() == "x\n"
