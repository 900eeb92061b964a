"""Cancelling a turn: stream, slow tool, permission request, shell; the history stays valid."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from _agent_testkit import AskingGate, Harness, assert_valid_history, call, of_kind, sent_messages

from pygent.agent.headless import HeadlessPort
from pygent.agent.loop import CANCELLED_RESULT, INTERRUPTED_NOTE
from pygent.protocol.port import PermissionRequest
from pygent.settings.models import Settings
from pygent.testing.fake_llm import FakeLLMThread


async def _next_turn_is_valid(h: Harness, fake: FakeLLMThread) -> None:
    fake.script([{"text": "fresh start"}])
    turn, _ = await h.run("next")
    assert turn.stop_reason == "end_turn"
    assert_valid_history(sent_messages(fake.requests[-1]))
    assert_valid_history(h.session.messages)


async def test_cancel_during_streaming_keeps_partial_text(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    fake_llm.script([{"text": "word " * 200, "delay": 0.02}])
    h = Harness(fake_settings, root)
    turn = h.turn("write a lot")
    seen: list[dict[str, Any]] = []
    async for update in turn:
        seen.append(update)
        if len(of_kind(seen, "agent_message_chunk")) == 3:
            turn.cancel()
    assert turn.stop_reason == "cancelled"
    partial = "".join(u["content"]["text"] for u in of_kind(seen, "agent_message_chunk"))
    assert 0 < len(partial) < len("word " * 200)
    last = h.session.messages[-1]
    assert last["role"] == "assistant"
    assert last["content"] == partial.rstrip() + "\n\n" + INTERRUPTED_NOTE
    # Persisted as such.
    assert h.store.load(h.session.id).messages[-1] == last
    await _next_turn_is_valid(h, fake_llm)


async def test_cancel_before_any_text_still_records_the_interruption(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    fake_llm.script([{"text": "late", "delay": 5}])
    h = Harness(fake_settings, root)
    turn = h.turn("hello")
    task = asyncio.ensure_future(turn.collect())
    await asyncio.sleep(0.3)
    turn.cancel()
    await asyncio.wait_for(task, 5)
    assert turn.stop_reason == "cancelled"
    assert [m["role"] for m in h.session.messages] == ["user", "assistant"]
    assert h.session.messages[-1]["content"] == INTERRUPTED_NOTE
    await _next_turn_is_valid(h, fake_llm)


async def test_cancel_during_slow_tool_gives_every_call_a_result(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    fake_llm.script(
        [{"tool_calls": [call("wait", seconds=30), call("write_note", name="n.txt", text="x")]}]
    )
    h = Harness(fake_settings, root)
    turn = h.turn("wait then write")
    updates: list[dict[str, Any]] = []

    async def consume() -> None:
        async for update in turn:
            updates.append(update)

    task = asyncio.ensure_future(consume())
    await asyncio.wait_for(h.probe.started.wait(), 10)
    turn.cancel()
    await asyncio.wait_for(task, 5)
    assert turn.stop_reason == "cancelled"
    assert h.probe.cancelled == ["wait"]  # the tool saw the cancellation
    assert not (root / "n.txt").exists()  # the later call never ran
    results = [m for m in h.session.messages if m["role"] == "tool"]
    assert [r["content"] for r in results] == [CANCELLED_RESULT, CANCELLED_RESULT]
    failed = [u for u in of_kind(updates, "tool_call_update") if u.get("status") == "failed"]
    assert len(failed) == 2
    assert_valid_history(h.session.messages)
    reloaded = h.store.load(h.session.id)
    assert reloaded.messages == h.session.messages
    assert reloaded.message_status(len(reloaded.messages) - 1) == "failed"
    await _next_turn_is_valid(h, fake_llm)


async def test_cancel_during_permission_request_answers_it_cancelled(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    asked = asyncio.Event()
    outcome: list[str] = []

    async def never_answers(request: PermissionRequest) -> str:
        asked.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise
        return "allow_once"

    fake_llm.script([{"tool_calls": [call("write_note", name="p.txt", text="x")]}])
    h = Harness(
        fake_settings, root, port=HeadlessPort(never_answers, stderr=None), gate=AskingGate()
    )
    turn = h.turn("write")
    task = asyncio.ensure_future(turn.collect())
    await asyncio.wait_for(asked.wait(), 10)
    turn.cancel()
    updates = await asyncio.wait_for(task, 5)
    assert turn.stop_reason == "cancelled"
    assert outcome == ["cancelled"]
    assert not (root / "p.txt").exists()
    assert h.session.messages[-1]["content"] == CANCELLED_RESULT
    # Never allowed, so never shown as running; it ends failed.
    assert [u["status"] for u in of_kind(updates, "tool_call_update")] == ["failed"]
    await _next_turn_is_valid(h, fake_llm)


async def test_cancelling_the_consuming_task_cancels_the_turn(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    fake_llm.script([{"tool_calls": [call("wait", seconds=30)]}])
    h = Harness(fake_settings, root)
    turn = h.turn("wait")
    task = asyncio.ensure_future(turn.collect())
    await asyncio.wait_for(h.probe.started.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert turn.done
    assert turn.stop_reason == "cancelled"
    assert h.probe.cancelled == ["wait"]
    assert h.session.messages[-1] == {
        "role": "tool",
        "tool_call_id": h.session.messages[-2]["tool_calls"][0]["id"],
        "content": CANCELLED_RESULT,
    }
    await _next_turn_is_valid(h, fake_llm)


async def test_cancel_before_iteration_runs_nothing(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    h = Harness(fake_settings, root)
    turn = h.turn("never sent")
    turn.cancel()
    assert await turn.collect() == []
    assert turn.stop_reason == "cancelled"
    assert fake_llm.requests == []
    assert h.session.messages == []


@pytest.mark.skipif(sys.platform == "win32", reason="uses a POSIX pid check")
async def test_cancel_kills_a_running_shell_command(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    from pygent.tools.base import default_registry

    registry = default_registry()
    assert "shell" in registry
    pid_file = root / "pid.txt"
    command = f"echo $$ > {pid_file}; sleep 60"
    fake_llm.script([{"tool_calls": [call("shell", command=command)]}])
    h = Harness(fake_settings, root, registry=registry)
    turn = h.turn("run it")
    task = asyncio.ensure_future(turn.collect())
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        await asyncio.sleep(0.05)
    pid = int(pid_file.read_text())
    turn.cancel()
    await asyncio.wait_for(task, 10)
    assert turn.stop_reason == "cancelled"
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail(f"shell process {pid} still runs after the cancel")
    assert h.session.messages[-1]["content"] == CANCELLED_RESULT
    assert_valid_history(h.session.messages)
