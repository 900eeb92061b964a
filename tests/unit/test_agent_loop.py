"""The agent loop over real HTTP to the fake server, on both model backends (native and litellm)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _agent_testkit import (
    Harness,
    assert_valid_history,
    call,
    fast_retries,
    of_kind,
    sent_messages,
    text_of,
)

from pygent.agent.context import SUMMARY_PREFIX, SUMMARY_REQUEST
from pygent.errors import PygentError
from pygent.settings.models import Settings
from pygent.testing.fake_llm import FakeLLMThread
from pygent.testing.pytest_plugin import make_fake_settings

__all__ = ["fast_retries"]

#: Every flow runs on both model backends (the native httpx client and litellm).
pytestmark = pytest.mark.usefixtures("llm_backend")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    (path / "a.txt").write_text("alpha note\n", encoding="utf-8")
    (path / "b.txt").write_text("beta note\n", encoding="utf-8")
    return path


async def test_streams_text_and_ends_turn(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    fake_llm.script([{"text": "Hello there, this answer arrives in pieces.", "reasoning": "hmm"}])
    h = Harness(fake_settings, root)
    turn, updates = await h.run("hi")
    chunks = of_kind(updates, "agent_message_chunk")
    assert len(chunks) > 5
    assert text_of(updates) == "Hello there, this answer arrives in pieces."
    assert "".join(u["content"]["text"] for u in of_kind(updates, "agent_thought_chunk")) == "hmm"
    assert turn.stop_reason == "end_turn"
    assert turn.usage["inputTokens"] > 0 and turn.usage["outputTokens"] > 0
    assert turn.usage["totalTokens"] == turn.usage["inputTokens"] + turn.usage["outputTokens"]
    assert of_kind(updates, "usage_update")[-1]["_meta"]["pygent"]["usage"] == turn.usage
    request = fake_llm.requests[0]
    assert request["messages"][0] == {"role": "system", "content": "You are a test agent."}
    assert request["messages"][1] == {"role": "user", "content": "hi"}
    assert request["stream"] is True
    assert {t["function"]["name"] for t in request["tools"]} == {"read_note", "write_note", "wait"}
    assert [m["role"] for m in h.session.messages] == ["user", "assistant"]
    assert h.session.messages[1]["content"] == "Hello there, this answer arrives in pieces."
    # Persisted: a reload sees the same history.
    assert h.store.load(h.session.id).messages == h.session.messages


async def test_tool_call_split_across_chunks_runs_and_feeds_back(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    fake_llm.server.chunk_size = 2
    fake_llm.script(
        [
            {"text": "Let me read.", "tool_calls": [call("read_note", name="a.txt")]},
            {"text": "It says alpha."},
        ]
    )
    h = Harness(fake_settings, root)
    turn, updates = await h.run("what is in a.txt?")
    assert turn.stop_reason == "end_turn"
    [started] = of_kind(updates, "tool_call")
    assert started["title"] == "Read note a.txt"
    assert started["kind"] == "read"
    assert started["status"] == "pending"
    assert started["rawInput"] == {"name": "a.txt"}
    assert started["locations"] == [{"path": str(root / "a.txt")}]
    finished = of_kind(updates, "tool_call_update")[-1]
    assert finished["toolCallId"] == started["toolCallId"]
    assert [u["status"] for u in of_kind(updates, "tool_call_update")] == [
        "in_progress",
        "completed",
    ]
    assert finished["content"][0]["content"]["text"] == "alpha note\n"
    second = sent_messages(fake_llm.requests[1])
    assert second[1]["tool_calls"][0]["function"] == {
        "name": "read_note",
        "arguments": json.dumps({"name": "a.txt"}),
    }
    assert second[2] == {
        "role": "tool",
        "tool_call_id": started["toolCallId"],
        "content": "alpha note\n",
    }
    assert text_of(updates) == "Let me read.It says alpha."
    assert_valid_history(h.session.messages)


async def test_independent_read_calls_run_concurrently(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    fake_llm.script(
        [{"tool_calls": [call("read_note", name="a.txt"), call("read_note", name="b.txt")]}]
    )
    h = Harness(fake_settings, root)
    turn, _ = await h.run("read both")
    assert turn.stop_reason == "end_turn"
    # Both started before either finished.
    assert h.probe.events[:2] == ["start a.txt", "start b.txt"]
    results = [m for m in h.session.messages if m["role"] == "tool"]
    assert [r["content"] for r in results] == ["alpha note\n", "beta note\n"]


async def test_write_calls_run_in_order_not_concurrently(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    fake_llm.script(
        [
            {
                "tool_calls": [
                    call("read_note", name="a.txt"),
                    call("write_note", name="c.txt", text="gamma"),
                    call("read_note", name="c.txt"),
                ]
            }
        ]
    )
    h = Harness(fake_settings, root)
    turn, updates = await h.run("copy")
    assert turn.stop_reason == "end_turn"
    assert h.probe.events == ["start a.txt", "end a.txt", "write c.txt", "start c.txt", "end c.txt"]
    assert (root / "c.txt").read_text(encoding="utf-8") == "gamma"
    # The edit's diff is part of the tool call's final content.
    write_id = of_kind(updates, "tool_call")[1]["toolCallId"]
    final = next(
        u
        for u in of_kind(updates, "tool_call_update")
        if u["toolCallId"] == write_id and u.get("status") == "completed"
    )
    assert final["content"][0] == {
        "type": "diff",
        "path": str(root / "c.txt"),
        "oldText": None,
        "newText": "gamma",
    }


async def test_max_turn_requests_stops_the_turn(fake_llm: FakeLLMThread, root: Path) -> None:
    settings = make_fake_settings(fake_llm.base_url, max_turn_requests=2)
    fake_llm.script([{"tool_calls": [call("read_note", name="a.txt")], "repeat": 5}])
    h = Harness(settings, root)
    turn, updates = await h.run("loop forever")
    assert turn.stop_reason == "max_turn_requests"
    assert len(fake_llm.requests) == 2
    assert "max_turn_requests" in of_kind(updates, "pygent_notice")[-1]["message"]
    assert_valid_history(h.session.messages)
    # The next turn's request is valid and continues the conversation.
    fake_llm.script([{"text": "continuing"}])
    turn2, _ = await h.run("go on")
    assert turn2.stop_reason == "end_turn"
    assert_valid_history(sent_messages(fake_llm.requests[-1]))


async def test_malformed_tool_json_is_reported_to_model_and_turn_continues(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    fake_llm.script(
        [
            {"tool_calls": [{"name": "write_note", "arguments": '{"name": "x.txt", "text": '}]},
            {"text": "Sorry, retrying properly."},
        ]
    )
    h = Harness(fake_settings, root)
    turn, updates = await h.run("write")
    assert turn.stop_reason == "end_turn"
    assert not (root / "x.txt").exists()
    assert h.probe.events == []
    result = sent_messages(fake_llm.requests[1])[-1]
    assert result["role"] == "tool"
    assert "not valid JSON" in result["content"]
    assert of_kind(updates, "tool_call_update")[-1]["status"] == "failed"
    assert text_of(updates) == "Sorry, retrying properly."


async def test_invented_tool_is_reported_to_model(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    fake_llm.script([{"tool_calls": [call("launch_rockets", count=3)]}, {"text": "ok"}])
    h = Harness(fake_settings, root)
    turn, updates = await h.run("do it")
    assert turn.stop_reason == "end_turn"
    result = sent_messages(fake_llm.requests[1])[-1]
    assert "Unknown tool 'launch_rockets'" in result["content"]
    assert "read_note" in result["content"]
    assert of_kind(updates, "tool_call")[0]["title"] == "launch_rockets"


async def test_length_and_content_filter_stop_reasons(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    fake_llm.script(
        [
            {"text": "cut", "finish_reason": "length"},
            {
                "tool_calls": [call("write_note", name="z.txt", text="z")],
                "finish_reason": "length",
            },
            {"text": "no", "finish_reason": "content_filter"},
        ]
    )
    h = Harness(fake_settings, root)
    assert (await h.run("1"))[0].stop_reason == "max_tokens"
    assert (await h.run("2"))[0].stop_reason == "max_tokens"
    assert not (root / "z.txt").exists()  # a cut-off call never runs
    assert (await h.run("3"))[0].stop_reason == "refusal"
    assert_valid_history(h.session.messages)


async def test_attached_file_and_selection_are_included(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path, tmp_path: Path
) -> None:
    h = Harness(fake_settings, root)
    # The overlay (an editor's unsaved buffer) wins over the disk.
    h.workspace.open_document((root / "b.txt").resolve(), "unsaved beta\n", 3)
    outside = tmp_path / "secret.txt"
    outside.write_text("secret", encoding="utf-8")
    blocks: list[dict[str, Any]] = [
        {"type": "text", "text": "look"},
        {"type": "resource_link", "uri": (root / "b.txt").as_uri(), "name": "b.txt"},
        {
            "type": "resource",
            "resource": {
                "uri": (root / "a.txt").as_uri() + "#L1",
                "text": "alpha",
                "range": {"start": {"line": 0}, "end": {"line": 0}},
            },
        },
        {"type": "resource_link", "uri": outside.as_uri(), "name": "secret.txt"},
    ]
    await h.agent.prompt(h.session, blocks).collect()
    content = fake_llm.requests[0]["messages"][1]["content"]
    assert content.startswith("look\n\nAttached file `b.txt`:\n```\nunsaved beta\n```")
    assert f"Selection from `{root / 'a.txt'}` lines 1-1:\n```\nalpha\n```" in content
    assert "secret" not in content.replace("secret.txt", "")
    assert "could not be read" in content and "outside the workspace" in content


async def test_unsupported_block_is_rejected_before_anything_is_saved(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    h = Harness(fake_settings, root)
    with pytest.raises(PygentError) as info:
        await h.agent.prompt(h.session, [{"type": "video", "data": "x"}]).collect()
    assert info.value.code == "invalid_params"
    assert "video" in info.value.message
    assert h.session.messages == []
    assert fake_llm.requests == []


def _long_history(turns: int) -> list[dict[str, Any]]:
    history: list[dict[str, Any]] = [{"role": "user", "content": "GOAL: refactor the parser"}]
    history.append({"role": "assistant", "content": "Starting."})
    for i in range(turns):
        history.append({"role": "user", "content": f"step {i} " + "details " * 200})
        history.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": f"c{i}",
                        "type": "function",
                        "function": {"name": "read_note", "arguments": '{"name": "a.txt"}'},
                    }
                ],
            }
        )
        history.append({"role": "tool", "tool_call_id": f"c{i}", "content": "output " * 300})
        history.append({"role": "assistant", "content": f"done step {i}"})
    return history


async def test_context_overflow_compacts_and_retries(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    h = Harness(fake_settings, root, context_window=20_000)
    h.session.extend(_long_history(6))
    fake_llm.script(
        [
            {"match": f"^{SUMMARY_REQUEST}", "respond": {"text": "SUMMARY: steps 0-4 done."}},
            {"error": "context_length"},
            {"text": "continuing after compaction"},
        ]
    )
    turn, updates = await h.run("next step")
    assert turn.stop_reason == "end_turn"
    assert text_of(updates) == "continuing after compaction"
    assert len(fake_llm.requests) == 3
    summary_request = fake_llm.requests[1]["messages"][-1]["content"]
    assert summary_request.startswith(SUMMARY_REQUEST)
    assert "step 0" in summary_request
    retried = sent_messages(fake_llm.requests[2])
    assert len(json.dumps(retried)) < len(json.dumps(sent_messages(fake_llm.requests[0])))
    assert retried[0]["content"] == "GOAL: refactor the parser"  # the goal stays verbatim
    assert retried[1]["content"].startswith(SUMMARY_PREFIX)
    assert "SUMMARY: steps 0-4 done." in retried[1]["content"]
    assert retried[-1] == {"role": "user", "content": "next step"}  # recent turns verbatim
    assert_valid_history(retried)
    notices = [u["message"] for u in of_kind(updates, "pygent_notice")]
    assert any("compacting" in n for n in notices)
    # The compaction is persisted.
    assert h.store.load(h.session.id).messages == h.session.messages


async def test_context_overflow_without_anything_to_compact_is_a_clear_error(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    fake_llm.script([{"error": "context_length"}])
    h = Harness(fake_settings, root)
    with pytest.raises(PygentError) as info:
        await h.run("a huge first message")
    assert info.value.code == "context_overflow"
    assert "context window" in str(info.value)
    assert "/compact" in info.value.hint
    assert_valid_history(h.session.messages)
    assert h.session.messages[0]["content"] == "a huge first message"


async def test_threshold_triggers_compaction_before_the_request(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    h = Harness(fake_settings, root, context_window=4_000)
    h.session.extend(_long_history(8))
    fake_llm.script(
        [{"match": f"^{SUMMARY_REQUEST}", "respond": {"text": "SUMMARY"}}, {"text": "ok"}]
    )
    turn, _ = await h.run("more")
    assert turn.stop_reason == "end_turn"
    assert fake_llm.requests[0]["messages"][-1]["content"].startswith(SUMMARY_REQUEST)
    final = sent_messages(fake_llm.requests[1])
    assert final[1]["content"].startswith(SUMMARY_PREFIX)
    assert turn.usage["inputTokens"] > 0  # the summary call counts


async def test_manual_compaction(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    h = Harness(fake_settings, root, context_window=200_000)
    h.session.extend(_long_history(4))
    before = len(h.session.messages)
    fake_llm.script([{"text": "the summary"}])
    assert await h.agent.compact(h.session) is True
    assert len(h.session.messages) < before
    assert h.session.messages[0]["content"] == "GOAL: refactor the parser"
    assert "the summary" in h.session.messages[1]["content"]
    assert_valid_history(h.session.messages)
    # Nothing left to compact in a one-message history.
    h2 = Harness(fake_settings, root)
    h2.session.append({"role": "user", "content": "only"})
    assert await h2.agent.compact(h2.session) is False


async def test_compaction_is_logged_with_message_counts(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    from loguru import logger

    h = Harness(fake_settings, root, context_window=4_000)
    h.session.extend(_long_history(8))
    before = len(h.session.messages)
    fake_llm.script(
        [{"match": f"^{SUMMARY_REQUEST}", "respond": {"text": "SUMMARY"}}, {"text": "ok"}]
    )
    lines: list[str] = []
    sink = logger.add(lambda message: lines.append(str(message)), level="INFO", format="{message}")
    try:
        turn, _ = await h.run("more")
    finally:
        logger.remove(sink)
    assert turn.stop_reason == "end_turn"
    start = [line for line in lines if line.startswith("compaction start: ")]
    done = [line for line in lines if line.startswith("compaction done: ")]
    assert len(start) == 1 and f"messages={before + 1} window=4000" in start[0]
    assert len(done) == 1 and f"messages {before + 1} -> " in done[0]
    # The summary request is an LLM request of its own, logged like the others.
    assert len([line for line in lines if line.startswith("LLM request: ")]) == 2


async def test_crashed_session_history_is_repaired_in_the_request(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    h = Harness(fake_settings, root)
    # A process killed while a tool ran: an assistant tool call with no result.
    h.session.extend(
        [
            {"role": "user", "content": "do it"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "k1",
                        "type": "function",
                        "function": {"name": "wait", "arguments": "{}"},
                    }
                ],
            },
        ]
    )
    turn, _ = await h.run("again")
    assert turn.stop_reason == "end_turn"
    sent = sent_messages(fake_llm.requests[0])
    assert_valid_history(sent)
    assert sent[2]["tool_call_id"] == "k1"


async def test_real_tool_registry_reads_a_file(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    from pygent.tools.base import default_registry

    registry = default_registry()
    if "read_file" not in registry:
        pytest.fail("the built-in read_file tool is missing")
    fake_llm.script([{"tool_calls": [call("read_file", path="a.txt")]}, {"text": "done"}])
    h = Harness(fake_settings, root, registry=registry)
    turn, updates = await h.run("read a.txt")
    assert turn.stop_reason == "end_turn"
    assert of_kind(updates, "tool_call")[0]["kind"] == "read"
    result = sent_messages(fake_llm.requests[1])[-1]
    assert "alpha note" in result["content"]
    assert {t["function"]["name"] for t in fake_llm.requests[0]["tools"]} >= {"read_file"}


async def test_empty_prompt_is_rejected(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    h = Harness(fake_settings, root)
    with pytest.raises(PygentError) as info:
        await h.agent.prompt(h.session, [{"type": "text", "text": "  "}]).collect()
    assert info.value.code == "invalid_params"
    assert "empty" in info.value.message
    assert h.session.messages == []
    assert fake_llm.requests == []


def test_public_api_exports_agent() -> None:
    import pygent
    from pygent.agent.loop import Agent

    assert pygent.Agent is Agent


def test_log_excerpt_is_one_capped_line() -> None:
    from pygent.agent.loop import LOG_EXCERPT_CHARS, _log_excerpt

    assert _log_excerpt({"path": "a.txt", "n": 1}) == '{"path": "a.txt", "n": 1}'
    assert _log_excerpt("two\nlines") == "two\\nlines"
    long = "x" * (LOG_EXCERPT_CHARS * 3)
    assert _log_excerpt(long) == "x" * LOG_EXCERPT_CHARS + f"... ({len(long)} characters)"
