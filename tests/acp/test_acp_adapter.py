"""The ACP adapter: pygent's update vocabulary becomes schema-valid ACP ``sessionUpdate``s."""

from __future__ import annotations

from typing import Any

from acp import schema
from pygent.acp.adapter import UpdateAdapter, prompt_result
from pygent.acp.port import ClientCapabilities
from pygent.protocol import updates


def _valid(update: dict[str, Any]) -> dict[str, Any]:
    schema.SessionNotification.model_validate({"sessionId": "s", "update": update})
    return update


def test_usage_update_gets_used_and_size_and_keeps_pygent_usage_in_meta() -> None:
    adapter = UpdateAdapter(context_window=128_000)
    adapter.begin_turn()
    first = adapter.convert(
        updates.usage_update({"inputTokens": 1000, "outputTokens": 50, "costUsd": 0.01})
    )
    second = adapter.convert(
        updates.usage_update({"inputTokens": 2200, "outputTokens": 80, "costUsd": 0.03})
    )
    assert first is not None and second is not None
    assert _valid(first)["used"] == 1050
    # The second call's prompt (1200) plus its answer (30) occupy the window now.
    assert _valid(second)["used"] == 1230
    assert second["size"] == 128_000
    assert second["cost"] == {"amount": 0.03, "currency": "USD"}
    assert second["_meta"]["pygent"]["usage"]["inputTokens"] == 2200


def test_usage_cost_accumulates_over_turns_of_a_session() -> None:
    adapter = UpdateAdapter(context_window=1000)
    adapter.begin_turn()
    adapter.convert(updates.usage_update({"inputTokens": 10, "outputTokens": 1, "costUsd": 0.5}))
    adapter.begin_turn()
    later = adapter.convert(
        updates.usage_update({"inputTokens": 10, "outputTokens": 1, "costUsd": 0.25})
    )
    assert later is not None and later["cost"]["amount"] == 0.75


def test_usage_above_unknown_window_keeps_size_at_least_used() -> None:
    adapter = UpdateAdapter(context_window=0)
    converted = adapter.convert(updates.usage_update({"inputTokens": 5, "outputTokens": 5}))
    assert converted is not None and _valid(converted)["size"] == 10
    assert "cost" not in converted


def test_notice_becomes_session_info_update_with_the_notice_in_meta() -> None:
    converted = UpdateAdapter().convert(updates.notice("rate limited, retrying", "warning"))
    assert converted is not None
    assert _valid(converted)["sessionUpdate"] == "session_info_update"
    assert converted["_meta"]["pygent"]["notice"] == {
        "level": "warning",
        "message": "rate limited, retrying",
    }


def test_unknown_kind_is_wrapped_not_sent_raw() -> None:
    converted = UpdateAdapter().convert({"sessionUpdate": "pygent_future_thing", "x": 1})
    assert converted is not None and _valid(converted)["sessionUpdate"] == "session_info_update"


def test_tool_call_passes_through_with_diff_and_valid_locations_only() -> None:
    update = updates.tool_call(
        "c1",
        "Edit a.py",
        "edit",
        {"path": "a.py"},
        [{"path": "/w/a.py", "line": 3}, {"path": "/w/b.py", "line": -1}, {"nope": 1}],
    )
    converted = UpdateAdapter().convert(update)
    assert converted is not None
    assert _valid(converted)["locations"] == [
        {"path": "/w/a.py", "line": 3},
        {"path": "/w/b.py"},
    ]
    progress = UpdateAdapter().convert(
        updates.tool_call_update(
            "c1",
            "in_progress",
            [updates.diff_content("/w/new.py", None, "x\n"), {"type": "bogus"}],
        )
    )
    assert progress is not None
    assert _valid(progress)["content"] == [
        {"type": "diff", "path": "/w/new.py", "oldText": None, "newText": "x\n"}
    ]


def test_message_chunks_and_mode_updates_pass_unchanged() -> None:
    adapter = UpdateAdapter()
    for update in (
        updates.agent_message_chunk("hi"),
        updates.agent_thought_chunk("hmm"),
        updates.user_message_chunk("q"),
        updates.current_mode_update("plan"),
        updates.plan([{"content": "step", "priority": "high", "status": "pending"}]),
    ):
        assert adapter.convert(update) == _valid(update)


def test_prompt_result_keeps_usage_in_meta() -> None:
    result = prompt_result("end_turn", {"inputTokens": 3})
    schema.PromptResponse.model_validate(result)
    assert result == {"stopReason": "end_turn", "_meta": {"pygent": {"usage": {"inputTokens": 3}}}}
    assert prompt_result("cancelled", None) == {"stopReason": "cancelled"}


def test_client_capabilities_parse_leniently() -> None:
    caps = ClientCapabilities.from_params(
        {
            "clientCapabilities": {
                "fs": {"readTextFile": True, "writeTextFile": "yes"},
                "terminal": True,
            }
        }
    )
    assert caps == ClientCapabilities(read_text_file=True, write_text_file=False, terminal=True)
    assert ClientCapabilities.from_params({"clientCapabilities": "junk"}) == ClientCapabilities()
