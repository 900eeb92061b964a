"""Context management: window lookup, token estimates, where compaction may cut."""

from __future__ import annotations

import json
import random
from typing import Any

from _agent_testkit import assert_valid_history

from pygent.agent.context import (
    DEFAULT_CONTEXT_WINDOW,
    SUMMARY_PREFIX,
    compact_history,
    context_window,
    estimate_tokens,
    plan_compaction,
    render_transcript,
)
from pygent.settings.models import LLMSettings, Settings


def test_context_window_known_and_unknown_models() -> None:
    assert context_window("anthropic/claude-sonnet-4-5") >= 200_000
    assert context_window("openai/fake-model") == DEFAULT_CONTEXT_WINDOW
    assert context_window("totally/unknown") == DEFAULT_CONTEXT_WINDOW


def test_estimate_counts_tokens_and_tools() -> None:
    messages = [{"role": "user", "content": "hello world " * 500}]
    tools = [
        {
            "type": "function",
            "function": {"name": "t", "description": "x " * 200, "parameters": {"type": "object"}},
        }
    ]
    plain = estimate_tokens("openai/gpt-4o", messages)
    assert 900 <= plain <= 1_200
    assert estimate_tokens("openai/gpt-4o", messages, tools) > plain
    # Below ``exact_above`` the cheap estimate (characters / 4) is used.
    rough = estimate_tokens("openai/gpt-4o", messages, exact_above=10**9)
    assert rough == len(json.dumps(messages)) // 4 + 1


def _random_history(rng: random.Random) -> list[dict[str, Any]]:
    history: list[dict[str, Any]] = [{"role": "user", "content": "GOAL"}]
    for turn in range(rng.randint(1, 8)):
        history.append({"role": "user", "content": f"turn {turn} " + "x" * rng.randint(10, 3000)})
        for step in range(rng.randint(0, 3)):
            ids = [f"c{turn}_{step}_{i}" for i in range(rng.randint(1, 3))]
            history.append(
                {
                    "role": "assistant",
                    "content": rng.choice([None, "thinking aloud"]),
                    "tool_calls": [
                        {"id": i, "type": "function", "function": {"name": "f", "arguments": "{}"}}
                        for i in ids
                    ],
                }
            )
            for i in ids:
                history.append(
                    {"role": "tool", "tool_call_id": i, "content": "y" * rng.randint(10, 4000)}
                )
        history.append({"role": "assistant", "content": f"answer {turn}"})
    return history


def test_compaction_never_separates_a_tool_call_from_its_result() -> None:
    rng = random.Random(7)
    for _ in range(200):
        history = _random_history(rng)
        plan = plan_compaction("openai/gpt-4o", history, rng.randint(50, 5_000))
        if plan is None:
            continue
        assert plan.keep_head == 1  # the goal stays
        assert plan.keep_head < plan.cut <= len(history)
        tail = history[plan.cut :]
        assert tail[0]["role"] in ("user", "assistant")
        assert_valid_history(history[: plan.cut])
        assert_valid_history(tail)


async def test_compacted_history_is_valid_and_keeps_goal_and_tail() -> None:
    rng = random.Random(3)
    settings = Settings(llm=LLMSettings(model="openai/gpt-4o"))
    seen: list[list[dict[str, Any]]] = []

    async def summarize(request: list[dict[str, Any]]) -> str:
        seen.append(request)
        return "short summary"

    compacted_any = False
    for _ in range(50):
        history = _random_history(rng)
        compacted = await compact_history(settings, history, 8_000, summarize)
        if compacted is None:
            continue
        compacted_any = True
        assert compacted[0] == history[0]
        assert compacted[1]["content"] == f"{SUMMARY_PREFIX}\nshort summary"
        assert compacted[2:] == history[len(history) - len(compacted) + 2 :]
        assert_valid_history(compacted)
        roles = [m["role"] for m in compacted]
        assert "tool" not in roles[:2]
    assert compacted_any
    assert seen[0][0]["role"] == "system"


def test_transcript_caps_tool_output() -> None:
    history: list[dict[str, Any]] = [
        {"role": "user", "content": "u"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "a", "function": {"name": "read", "arguments": '{"p": 1}'}}],
        },
        {"role": "tool", "tool_call_id": "a", "content": "z" * 50_000},
    ]
    text = render_transcript(history, max_chars=100_000)
    assert "TOOL CALL read" in text
    assert "characters" in text and "omitted" in text
    assert len(text) < 5_000
