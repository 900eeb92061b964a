"""LLM access: keys, retries, error mapping, tool-call reassembly, usage, caching, quiet import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _agent_testkit import Harness, assert_valid_history, call, fast_retries, of_kind, text_of
from pydantic import SecretStr

from pygent.agent import llm
from pygent.agent.llm import (
    FinishEvent,
    ReasoningDelta,
    RetryNotice,
    TextDelta,
    ToolCallEvent,
    UsageEvent,
    stream_completion,
)
from pygent.errors import PygentError
from pygent.settings.models import LLMSettings, Settings
from pygent.testing.fake_llm import FakeLLMThread
from pygent.testing.pytest_plugin import make_fake_settings

__all__ = ["fast_retries"]

#: Every flow runs on both model backends (the native httpx client and litellm).
pytestmark = pytest.mark.usefixtures("llm_backend")

MESSAGES = [{"role": "user", "content": "hi"}]


async def _events(settings: Settings, tools: list[dict[str, Any]] | None = None) -> list[Any]:
    return [event async for event in stream_completion(settings, MESSAGES, tools)]


# -- keys -----------------------------------------------------------------------------------


async def test_no_api_key_is_detected_before_any_request(
    fake_llm: FakeLLMThread, root: Path
) -> None:
    settings = Settings(llm=LLMSettings(model="openai/fake-model"))
    h = Harness(settings, root)
    with pytest.raises(PygentError) as info:
        await h.run("hello")
    assert info.value.code == "no_api_key"
    assert "OPENAI_API_KEY" in info.value.hint
    assert "pygent setup" in info.value.hint
    assert fake_llm.requests == []
    assert h.session.messages == []  # nothing half-saved


async def test_provider_env_var_is_used(
    fake_llm: FakeLLMThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    settings = Settings(llm=LLMSettings(model="openai/fake-model"))
    assert llm.check_api_key(settings) == "sk-from-env"


async def test_local_endpoint_needs_no_key(fake_llm: FakeLLMThread) -> None:
    settings = Settings(llm=LLMSettings(model="openai/fake-model", api_base=fake_llm.base_url))
    assert llm.check_api_key(settings) is None
    events = await _events(settings)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "(fake) done"
    ollama = Settings(llm=LLMSettings(model="ollama/llama3.1"))
    assert llm.check_api_key(ollama) is None


# -- errors ---------------------------------------------------------------------------------


async def test_401_is_auth_failed_without_retries(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    fake_llm.script([{"error": "auth"}])
    h = Harness(fake_settings, root)
    with pytest.raises(PygentError) as info:
        await h.run("hello")
    assert info.value.code == "auth_failed"
    assert "rejected the API key" in info.value.message
    assert "pygent setup" in info.value.hint
    assert len(fake_llm.requests) == 1
    # The user's message is kept and the history stays valid for the next attempt.
    assert h.session.messages[0] == {"role": "user", "content": "hello"}
    assert_valid_history(h.session.messages)


async def test_unknown_model_is_model_not_found(
    fake_llm: FakeLLMThread, fake_settings: Settings
) -> None:
    fake_llm.script([{"error": "model_not_found"}])
    with pytest.raises(PygentError) as info:
        await _events(fake_settings)
    assert info.value.code == "model_not_found"
    assert "'openai/fake-model' was not found" in info.value.message
    assert "pygent config set llm.model" in info.value.hint
    assert len(fake_llm.requests) == 1


@pytest.mark.usefixtures("fast_retries")
async def test_404_from_a_wrong_api_base_path_names_the_base_url_not_the_model(
    fake_llm: FakeLLMThread, root: Path
) -> None:
    wrong_base = fake_llm.base_url.removesuffix("/v1") + "/nope"
    settings = make_fake_settings(wrong_base, num_retries=3)
    h = Harness(settings, root)
    with pytest.raises(PygentError) as info:
        await h.run("hello")
    error = info.value
    assert error.code == "endpoint_not_found"
    assert f"llm.api_base = {wrong_base} answered 404 Not Found" in error.message
    assert "base URL is probably wrong" in error.message
    assert "was not found" not in error.message  # not blamed on the model
    assert "usually ending in /v1" in error.hint
    assert "pygent config set llm.api_base URL" in error.hint
    assert error.data["apiBase"] == wrong_base
    # A 404 is final: one request, no retries (they would only delay the same answer).
    assert [r["path"] for r in fake_llm.request_log] == ["/nope/chat/completions"]
    assert error.data["attempts"] == 1
    # The user's message is kept for the next attempt.
    assert h.session.messages[0] == {"role": "user", "content": "hello"}


async def test_unknown_model_on_a_custom_server_names_the_server(
    fake_llm: FakeLLMThread, fake_settings: Settings
) -> None:
    fake_llm.script([{"error": "model_not_found"}])
    with pytest.raises(PygentError) as info:
        await _events(fake_settings)
    assert info.value.code == "model_not_found"
    assert f"The server at {fake_llm.base_url} does not serve it" in info.value.hint
    assert f"GET {fake_llm.base_url}/models" in info.value.hint
    assert len(fake_llm.requests) == 1


async def test_unknown_model_on_a_strict_server() -> None:
    with FakeLLMThread(models=["real-model"]) as fake:
        settings = make_fake_settings(fake.base_url, model="openai/no-such-model")
        with pytest.raises(PygentError) as info:
            await _events(settings)
    assert info.value.code == "model_not_found"


async def test_unknown_provider_is_named_with_close_matches_before_any_request(
    fake_llm: FakeLLMThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_fake_settings(fake_llm.base_url, model="nosuchprovider/some-model")
    with pytest.raises(PygentError) as info:
        await _events(settings)
    assert info.value.code == "model_not_found"
    assert info.value.message.startswith("Unknown provider 'nosuchprovider'")
    assert "openai/MODEL with `llm.api_base`" in info.value.hint
    # A typo gets the close matches; the key variable nothing reads is never suggested.
    typo = Settings(llm=LLMSettings(model="anthropc/claude-sonnet-4-5"))
    with pytest.raises(PygentError) as info:
        llm.check_api_key(typo)
    assert "Unknown provider 'anthropc'" in info.value.message
    assert "Did you mean 'anthropic'" in info.value.message
    assert "ANTHROPC_API_KEY" not in str(info.value)
    assert info.value.data["suggestions"][0] == "anthropic"
    # With that variable set, still "unknown provider", not "model not found".
    monkeypatch.setenv("NOSUCHPROV_API_KEY", "sk-something")
    with pytest.raises(PygentError) as info:
        llm.check_api_key(Settings(llm=LLMSettings(model="nosuchprov/abc")))
    assert "Unknown provider 'nosuchprov'" in info.value.message
    assert "NOSUCHPROV_API_KEY" not in str(info.value)
    assert fake_llm.requests == []


@pytest.mark.parametrize(
    "model",
    [
        "openai/my-local-model",
        "ollama/llama3.1",
        "hosted_vllm/Qwen/Qwen2.5",
        "lm_studio/x",
        "gpt-4o",
    ],
)
def test_valid_providers_and_bare_names_pass_the_provider_check(model: str) -> None:
    llm.check_provider(model)  # raises for an unknown provider
    settings = Settings(llm=LLMSettings(model=model, api_base="http://127.0.0.1:9/v1"))
    assert llm.resolve_backend(settings) in ("native", "litellm")


@pytest.mark.usefixtures("fast_retries")
async def test_429_until_retries_run_out(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    fake_llm.script([{"error": {"status": 429, "retry_after": 0.05}, "repeat": 10}])
    h = Harness(fake_settings, root)
    turn = h.turn("hello")
    updates: list[dict[str, Any]] = []
    with pytest.raises(PygentError) as info:
        async for update in turn:
            updates.append(update)
    assert info.value.code == "rate_limited"
    assert "raise `llm.num_retries`" in info.value.hint
    retries = fake_settings.llm.num_retries
    assert len(fake_llm.requests) == retries + 1
    notices = [u["message"] for u in of_kind(updates, "pygent_notice")]
    assert len(notices) == retries
    assert notices[0] == f"rate limited, retrying in 0.1 s (attempt 1 of {retries})"
    assert turn.error is info.value
    assert_valid_history(h.session.messages)


@pytest.mark.usefixtures("fast_retries")
async def test_429_then_success(fake_llm: FakeLLMThread, fake_settings: Settings) -> None:
    fake_llm.script([{"error": {"status": 429, "retry_after": 0.01}}, {"text": "finally"}])
    events = await _events(fake_settings)
    notices = [e for e in events if isinstance(e, RetryNotice)]
    assert len(notices) == 1
    assert notices[0].message.startswith("rate limited, retrying in")
    assert notices[0].delay == pytest.approx(0.01)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "finally"


@pytest.mark.usefixtures("fast_retries")
async def test_server_errors_and_drops_before_content_are_retried(
    fake_llm: FakeLLMThread, fake_settings: Settings
) -> None:
    fake_llm.script(
        [{"error": "server"}, {"text": "lost", "drop_after_chunks": 0}, {"text": "ok now"}]
    )
    settings = make_fake_settings(fake_llm.base_url, num_retries=3)
    events = await _events(settings)
    kinds = [e.error_code for e in events if isinstance(e, RetryNotice)]
    assert kinds == ["server", "network"]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "ok now"
    assert fake_settings.llm.num_retries == 2


@pytest.mark.usefixtures("fast_retries")
async def test_server_error_after_retries_is_llm_error(
    fake_llm: FakeLLMThread, fake_settings: Settings
) -> None:
    fake_llm.script([{"error": "server", "repeat": 5}])
    with pytest.raises(PygentError) as info:
        await _events(fake_settings)
    assert info.value.code == "llm_error"
    assert "provider failed" in info.value.message


async def test_connection_refused_is_network_error() -> None:
    with FakeLLMThread() as fake:
        url = fake.base_url
    settings = make_fake_settings(url, num_retries=0)
    with pytest.raises(PygentError) as info:
        await _events(settings)
    assert info.value.code == "network"
    assert "llm.api_base" in info.value.hint


# -- streaming ------------------------------------------------------------------------------


async def test_tool_calls_reassembled_from_one_character_chunks(fake_settings: Settings) -> None:
    arguments = {"path": "src/app.py", "old": 'print("a")', "new": "x\n" * 5}
    with FakeLLMThread(chunk_size=1) as fake:
        settings = make_fake_settings(fake.base_url)
        fake.script(
            [
                {
                    "text": "Two calls.",
                    "tool_calls": [
                        {"id": "call_A", "name": "edit_file", "arguments": arguments},
                        {"id": "call_B", "name": "read_file", "arguments": {"path": "b"}},
                    ],
                    "usage": {"prompt_tokens": 120, "completion_tokens": 30, "cached_tokens": 100},
                }
            ]
        )
        events = await _events(settings)
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) == len("Two calls.")
    calls = [e for e in events if isinstance(e, ToolCallEvent)]
    assert [(c.id, c.name) for c in calls] == [("call_A", "edit_file"), ("call_B", "read_file")]
    assert json.loads(calls[0].arguments) == arguments
    assert json.loads(calls[1].arguments) == {"path": "b"}
    usage = next(e for e in events if isinstance(e, UsageEvent))
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) == (120, 30, 100)
    assert usage.cost_usd is None  # unknown model: no cost, no failure
    assert events[-1] == FinishEvent("tool_calls")
    # Tool calls come only after the text, once the stream completed.
    assert events.index(calls[0]) > events.index(deltas[-1])


async def test_reasoning_is_streamed_separately(
    fake_llm: FakeLLMThread, fake_settings: Settings
) -> None:
    fake_llm.script([{"reasoning": "step by step", "text": "answer"}])
    events = await _events(fake_settings)
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == "step by step"
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "answer"


async def test_request_asks_for_usage_and_carries_tools(
    fake_llm: FakeLLMThread, fake_settings: Settings
) -> None:
    tools = [{"type": "function", "function": {"name": "t", "parameters": {"type": "object"}}}]
    await _events(fake_settings, tools)
    request = fake_llm.requests[0]
    assert request["stream"] is True
    assert request["stream_options"] == {"include_usage": True}
    assert request["tools"] == tools
    headers = fake_llm.request_log[0]["headers"]
    assert headers["authorization"] == "Bearer sk-fake-test"


@pytest.mark.usefixtures("fast_retries")
async def test_stream_cut_mid_tool_call_without_text_is_retried_and_never_half_run(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    fake_llm.script(
        [
            {
                "tool_calls": [call("write_note", name="cut.txt", text="half")],
                "drop_after_chunks": 5,
            },
            {"text": "I will not write after all."},
        ]
    )
    h = Harness(fake_settings, root)
    turn, updates = await h.run("write it")
    assert turn.stop_reason == "end_turn"
    assert not (root / "cut.txt").exists()
    assert h.probe.events == []
    assert of_kind(updates, "tool_call") == []
    assert "connection problem, retrying" in of_kind(updates, "pygent_notice")[0]["message"]
    assert text_of(updates) == "I will not write after all."


@pytest.mark.usefixtures("fast_retries")
async def test_stream_cut_mid_tool_call_after_text_fails_the_turn_cleanly(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    fake_llm.script(
        [
            {
                "text": "Writing now.",
                "tool_calls": [call("write_note", name="cut.txt", text="half" * 20)],
                "drop_after_chunks": 8,
            }
        ]
    )
    h = Harness(fake_settings, root)
    turn = h.turn("write it")
    updates: list[dict[str, Any]] = []
    with pytest.raises(PygentError) as info:
        async for update in turn:
            updates.append(update)
    assert info.value.code == "network"
    assert "dropped in the middle of the answer" in info.value.message
    assert len(fake_llm.requests) == 1  # shown text is never repeated by a retry
    assert not (root / "cut.txt").exists()
    assert h.probe.events == []
    assert text_of(updates) == "Writing now."
    last = h.session.messages[-1]
    assert last["role"] == "assistant" and last["content"].startswith("Writing now.")
    assert "[interrupted:" in last["content"]
    assert "tool_calls" not in last
    # The next turn works on that history.
    fake_llm.script([{"text": "retrying"}])
    turn2, _ = await h.run("try again")
    assert turn2.stop_reason == "end_turn"
    assert_valid_history(h.session.messages)


# -- caching, cost, import -------------------------------------------------------------------


def test_anthropic_prompt_caching_marks_system_and_prefix() -> None:
    settings = Settings(
        llm=LLMSettings(model="anthropic/claude-sonnet-4-5", api_key=SecretStr("sk-ant-x"))
    )
    messages = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "two"},
        {"role": "user", "content": "three"},
    ]
    request = llm.build_request(settings, messages, None, "sk-ant-x")
    sent = request["messages"]
    assert sent[0]["content"] == [
        {"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}
    ]
    assert sent[3]["content"][0]["cache_control"] == {"type": "ephemeral"}
    assert sent[1]["content"] == "one"
    assert messages[0]["content"] == "sys"  # the history itself is untouched
    off = settings.model_copy(
        update={"llm": settings.llm.model_copy(update={"prompt_caching": False})}
    )
    assert llm.build_request(off, messages, None, "k")["messages"][0]["content"] == "sys"
    openai = Settings(llm=LLMSettings(model="openai/gpt-4o"))
    assert llm.build_request(openai, messages, None, "k")["messages"][0]["content"] == "sys"


def test_cost_is_reported_for_known_models_and_none_otherwise() -> None:
    known = llm._cost("anthropic/claude-sonnet-4-5", 1000, 100, 500)
    assert known is not None and known > 0
    assert llm._cost("openai/fake-model", 1000, 100, 0) is None


def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    assert llm.backoff_delay(1, 2.5) == 2.5
    first = [llm.backoff_delay(1) for _ in range(20)]
    third = [llm.backoff_delay(3) for _ in range(20)]
    base = llm.RETRY_BASE_DELAY
    assert all(base * 0.5 <= d <= base for d in first)
    assert all(base * 2 <= d <= base * 4 for d in third)
    assert len(set(first)) > 1
    assert llm.backoff_delay(50) <= llm.RETRY_MAX_DELAY


def test_litellm_import_is_quiet_and_offline(tmp_path: Path) -> None:
    code = (
        "import os\n"
        "from pygent.agent.llm import import_litellm\n"
        "m = import_litellm()\n"
        "assert os.environ['LITELLM_LOCAL_MODEL_COST_MAP'] == 'True'\n"
        "assert m.suppress_debug_info and m.drop_params\n"
        "import logging\n"
        "logging.getLogger('LiteLLM').info('should not be printed')\n"
        "logging.getLogger('LiteLLM').warning('nor this')\n"
        "try:\n"
        "    m.get_llm_provider('unknown-model-xyz')\n"
        "except Exception:\n"
        "    pass\n"
        "assert import_litellm() is m\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "LITELLM_LOCAL_MODEL_COST_MAP"}
    env["PYGENT_LOG_DISABLED"] = "1"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "should not be printed" not in result.stderr


def test_pygent_import_does_not_load_litellm() -> None:
    code = "import sys, pygent, pygent.agent.loop; print('litellm' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "False", result.stderr


async def test_content_policy_rejection_is_a_refusal(
    fake_llm: FakeLLMThread, fake_settings: Settings, root: Path
) -> None:
    fake_llm.script(
        [
            {
                "error": {
                    "status": 400,
                    "code": "content_policy_violation",
                    "message": "Your request was rejected as a result of our safety system.",
                }
            }
        ]
    )
    h = Harness(fake_settings, root)
    turn, _ = await h.run("something bad")
    assert turn.stop_reason == "refusal"
    assert len(fake_llm.requests) == 1
    assert_valid_history(h.session.messages)


@pytest.mark.usefixtures("fast_retries")
async def test_a_stalled_stream_times_out_and_is_retried(fake_llm: FakeLLMThread) -> None:
    settings = make_fake_settings(fake_llm.base_url, timeout=0.5, num_retries=1)
    fake_llm.script([{"text": "stalled", "delay": 3}, {"text": "fast"}])
    events = await _events(settings)
    notices = [e for e in events if isinstance(e, RetryNotice)]
    assert [n.error_code for n in notices] == ["network"]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "fast"


# -- Anthropic (Messages API on the fake server) ---------------------------------------------


@pytest.mark.usefixtures("fast_retries")
async def test_anthropic_model_gets_cache_control_and_reports_cached_tokens_and_cost(
    fake_llm: FakeLLMThread, root: Path
) -> None:
    settings = make_fake_settings(fake_llm.root_url, model="anthropic/claude-sonnet-4-5")
    fake_llm.script(
        [
            {"error": "rate_limit"},
            {
                "reasoning": "thinking",
                "text": "Reading.",
                "tool_calls": [call("read_note", name="a.txt")],
                "usage": {"prompt_tokens": 1000, "completion_tokens": 20, "cached_tokens": 800},
            },
            {"text": "Done."},
        ]
    )
    (root / "a.txt").write_text("alpha\n", encoding="utf-8")
    h = Harness(settings, root)
    turn, updates = await h.run("read a.txt")
    assert turn.stop_reason == "end_turn"
    assert text_of(updates) == "Reading.Done."
    assert of_kind(updates, "agent_thought_chunk")
    assert [r["path"] for r in fake_llm.request_log] == ["/v1/messages"] * 3
    first = fake_llm.requests[1]
    assert first["system"] == [
        {"type": "text", "text": "You are a test agent.", "cache_control": {"type": "ephemeral"}}
    ]
    assert first["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    # The tool result went back as an Anthropic tool_result block.
    second = fake_llm.requests[2]["messages"]
    result = second[-1]["content"][0]
    assert result["type"] == "tool_result" and "alpha" in json.dumps(result)
    assert turn.usage["cachedReadTokens"] == 800
    assert turn.usage["costUsd"] is not None and turn.usage["costUsd"] > 0
    assert "rate limited" in of_kind(updates, "pygent_notice")[0]["message"]


async def test_anthropic_context_overflow_message_is_clean(fake_llm: FakeLLMThread) -> None:
    settings = make_fake_settings(fake_llm.root_url, model="anthropic/claude-sonnet-4-5")
    fake_llm.script([{"error": "context_length"}])
    with pytest.raises(PygentError) as info:
        await _events(settings)
    assert info.value.code == "context_overflow"
    assert info.value.message == (
        "The conversation is too long for the model's context window: "
        "prompt is too long: 210000 tokens > 200000 maximum."
    )
