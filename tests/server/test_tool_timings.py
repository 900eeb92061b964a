"""Tool timings and turn usage: reported live, stored in the session, replayed by ``session/load``.

A tool call's final ``tool_call_update`` says how long the tool ran and, apart from that, how
long the person took to approve it (``_meta.pygent.durationMs`` / ``approvalWaitMs``); the
turn's usage travels in ``usage_update``. ``pygent/session/load`` sends the same fields again,
so every frontend shows a resumed session as it showed it live; sessions written before these
fields existed still load, without them.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from server_helpers import ClientFactory, Recorder, wait

from pygent.agent.session import SessionStore
from pygent.client import PygentClient
from pygent.testing.fake_llm import FakeLLMThread

#: How long the person "thinks" before allowing the shell command.
APPROVAL_DELAY = 0.4

SCRIPT: list[dict[str, Any]] = [
    {"tool_calls": [{"name": "read_file", "arguments": {"path": "util.py"}}]},
    {
        "tool_calls": [
            {"name": "shell", "arguments": {"command": "touch marker && echo from-shell"}}
        ]
    },
    {"text": "Ran it."},
]


async def _prompt(
    client: PygentClient, session_id: str, text: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    async with client.stream(session_id) as stream:
        task = asyncio.ensure_future(wait(client.prompt(session_id, text)))
        updates = [u["update"] async for u in stream.until(task)]
    return task.result(), updates


def _finals(updates: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The last ``tool_call_update`` with a final status, by call id."""
    out: dict[str, dict[str, Any]] = {}
    for update in updates:
        if update.get("sessionUpdate") == "tool_call_update" and update.get("status") in (
            "completed",
            "failed",
        ):
            out[update["toolCallId"]] = update
    return out


def _titles(updates: list[dict[str, Any]]) -> dict[str, str]:
    return {u["toolCallId"]: u["title"] for u in updates if u.get("sessionUpdate") == "tool_call"}


async def _slow_approval(recorder: Recorder, params: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(APPROVAL_DELAY)
    return await recorder.request_permission(params)


async def _run_turn(
    make_client: ClientFactory, fake_llm: FakeLLMThread, recorder: Recorder
) -> tuple[PygentClient, str, dict[str, Any], list[dict[str, Any]]]:
    fake_llm.script(SCRIPT)
    client = await make_client(request_permission=lambda p: _slow_approval(recorder, p))
    session_id = await wait(client.new_session())
    result, updates = await _prompt(client, session_id, "read util.py, then run echo")
    assert result["stopReason"] == "end_turn"
    return client, session_id, result, updates


async def test_tool_update_reports_run_time_and_approval_wait_apart(
    make_client: ClientFactory, fake_llm: FakeLLMThread, recorder: Recorder
) -> None:
    _client, _sid, _result, updates = await _run_turn(make_client, fake_llm, recorder)
    titles = _titles(updates)
    finals = {titles[call_id]: update for call_id, update in _finals(updates).items()}
    read = next(u for title, u in finals.items() if title.startswith("Read"))
    shell = next(u for title, u in finals.items() if "echo from-shell" in title)
    assert len(recorder.permissions) == 1  # only the shell command asked
    read_timing = read["_meta"]["pygent"]
    assert read_timing["durationMs"] >= 0
    assert "approvalWaitMs" not in read_timing  # nobody was asked
    shell_timing = shell["_meta"]["pygent"]
    # The wait is the person's: at least the time the client took to answer, and not run time.
    assert shell_timing["approvalWaitMs"] >= APPROVAL_DELAY * 1000
    assert shell_timing["durationMs"] >= 0
    assert shell["status"] == "completed"


async def test_session_load_replays_timings_and_usage_as_the_live_turn_sent_them(
    make_client: ClientFactory, fake_llm: FakeLLMThread, recorder: Recorder
) -> None:
    _client, session_id, result, live = await _run_turn(make_client, fake_llm, recorder)
    other = await make_client()  # a second frontend opens the session
    async with other.stream(session_id) as stream:
        await wait(other.load_session(session_id))
        replay = [u["update"] for u in stream.drain()]
    live_finals, replayed_finals = _finals(live), _finals(replay)
    assert replayed_finals.keys() == live_finals.keys() and len(live_finals) == 2
    for call_id, update in live_finals.items():
        assert replayed_finals[call_id]["_meta"] == update["_meta"], call_id
    # The turn's usage comes back once, after its last message, as the prompt answered it.
    usages = [u for u in replay if u["sessionUpdate"] == "usage_update"]
    assert len(usages) == 1 and replay[-1] is usages[0]
    replayed = usages[0]["_meta"]["pygent"]["usage"]
    expected = {k: v for k, v in result["usage"].items() if v is not None}
    assert replayed == expected and replayed["totalTokens"] > 0


async def test_old_session_without_timings_or_usage_loads_whole(
    make_client: ClientFactory, workspace: Path
) -> None:
    # A session file as pygent wrote it before timings and usage were stored.
    session = SessionStore(workspace).create("openai/fake-model", workspace)
    call = {
        "id": "call_old",
        "type": "function",
        "function": {"name": "read_file", "arguments": '{"path": "util.py"}'},
    }
    records = [
        {"role": "user", "content": "read util.py"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_old", "content": "def add(a, b): ..."},
        {"role": "assistant", "content": "It adds."},
    ]
    with session.path.open("a", encoding="utf-8") as file:
        for message in records:
            line = {"type": "message", "ts": "2026-01-01T00:00:00Z", "message": message}
            file.write(json.dumps(line) + "\n")
    client = await make_client()
    async with client.stream(session.id) as stream:
        await wait(client.load_session(session.id))
        replay = [u["update"] for u in stream.drain()]
    assert [u["sessionUpdate"] for u in replay] == [
        "user_message_chunk",
        "tool_call",
        "tool_call_update",
        "agent_message_chunk",
    ]
    final = replay[2]
    assert final["status"] == "completed" and "_meta" not in final
    assert final["content"][0]["content"]["text"] == "def add(a, b): ..."
    assert replay[3]["content"]["text"] == "It adds."


async def test_rejected_calls_stay_rejected_when_the_session_is_loaded_again(
    make_client: ClientFactory, fake_llm: FakeLLMThread, recorder: Recorder, workspace: Path
) -> None:
    """An edit rejected in review and a command rejected when asked: the live turn marks both
    ``_meta.pygent.outcome = "rejected"``, and so does the replay (not merely "failed")."""
    edit = {
        "name": "edit_file",
        "arguments": {"path": "util.py", "old_string": "def add", "new_string": "def plus"},
    }
    shell = {"name": "shell", "arguments": {"command": "touch marker-never"}}
    read = {"name": "read_file", "arguments": {"path": "util.py"}}
    fake_llm.script(
        [{"tool_calls": [edit]}, {"tool_calls": [shell]}, {"tool_calls": [read]}, {"text": "ok"}]
    )
    recorder.edit_answer = {"applied": False}  # the person rejects the edit in review
    recorder.permission_answer = "reject_once"  # and the command when asked
    client = await make_client()
    session_id = await wait(client.new_session())
    result, live = await _prompt(client, session_id, "change it, then run it")
    assert result["stopReason"] == "end_turn"
    assert not (workspace / "marker-never").exists()
    live_outcomes = {
        call_id: (u.get("_meta") or {}).get("pygent", {}).get("outcome")
        for call_id, u in _finals(live).items()
    }
    assert sorted(map(str, live_outcomes.values())) == ["None", "rejected", "rejected"]

    other = await make_client()
    async with other.stream(session_id) as stream:
        await wait(other.load_session(session_id))
        replay = [u["update"] for u in stream.drain()]
    replay_outcomes = {
        call_id: (u.get("_meta") or {}).get("pygent", {}).get("outcome")
        for call_id, u in _finals(replay).items()
    }
    assert replay_outcomes == live_outcomes
