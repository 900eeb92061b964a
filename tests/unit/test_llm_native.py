"""The native backend: which backend serves a model, Anthropic flows on both backends, parity.

The OpenAI-shape flows of ``test_llm.py`` and ``test_agent_loop.py`` already run on both backends;
this file adds the Anthropic Messages API shape (parallel tool calls split into one-character
chunks, thinking, cache tokens, stop reasons, drops, errors), the backend choice, the request
translation, and cost/context-window parity with litellm.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _agent_testkit import Harness, assert_valid_history, call, fast_retries, of_kind, text_of

from pygent.agent import llm, llm_native, model_table
from pygent.agent.context import DEFAULT_CONTEXT_WINDOW, context_window
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

CLAUDE = "anthropic/claude-sonnet-4-5"
MESSAGES = [{"role": "user", "content": "hi"}]


async def _events(settings: Settings, tools: list[dict[str, Any]] | None = None) -> list[Any]:
    return [event async for event in stream_completion(settings, MESSAGES, tools)]


def _settings(model: str, backend: str = "auto", api_base: str | None = None) -> Settings:
    return Settings(llm=LLMSettings(model=model, backend=backend, api_base=api_base))  # type: ignore[arg-type]


# -- which backend ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "api_base", "expected"),
    [
        ("anthropic/claude-sonnet-4-5", None, "native"),
        ("claude-sonnet-4-5", None, "native"),
        ("openai/gpt-4o", None, "native"),
        ("gpt-4o-mini", None, "native"),
        ("openrouter/anthropic/claude-sonnet-4.5", None, "native"),
        ("groq/llama-3.3-70b-versatile", None, "native"),
        ("deepseek/deepseek-chat", None, "native"),
        ("ollama/llama3.1", None, "native"),
        ("hosted_vllm/qwen", "http://127.0.0.1:8000/v1", "native"),
        ("hosted_vllm/qwen", None, "litellm"),  # no URL to call
        ("gemini/gemini-2.5-pro", None, "litellm"),
        ("bedrock/anthropic.claude-3", None, "litellm"),
        ("azure/gpt-4o", None, "litellm"),
        ("mistral/mistral-large-latest", None, "litellm"),
    ],
)
def test_auto_picks_native_only_where_it_serves_the_provider(
    model: str, api_base: str | None, expected: str
) -> None:
    assert llm.resolve_backend(_settings(model, "auto", api_base)) == expected


def test_litellm_backend_is_used_when_forced() -> None:
    assert llm.resolve_backend(_settings("openai/gpt-4o", "litellm")) == "litellm"


async def test_forced_native_on_a_provider_it_cannot_serve_fails_before_any_request(
    fake_llm: FakeLLMThread, root: Path
) -> None:
    settings = make_fake_settings(
        fake_llm.base_url, model="gemini/gemini-2.5-pro", backend="native"
    )
    h = Harness(settings, root)
    with pytest.raises(PygentError) as info:
        await h.run("hello")
    assert info.value.code == "model_not_found"
    assert "native backend cannot call 'gemini/gemini-2.5-pro'" in info.value.message
    assert 'llm.backend = "auto"' in info.value.hint
    assert fake_llm.requests == []
    assert h.session.messages == []  # nothing half-saved


def test_routes_use_api_base_then_the_provider_environment_then_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    route = llm_native.route("anthropic/claude-x", None)
    assert route is not None
    assert (route.wire, route.model, route.url) == (
        "anthropic",
        "claude-x",
        "https://api.anthropic.com/v1/messages",
    )
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/")
    route = llm_native.route("openai/gpt-4o", None)
    assert route is not None and route.url == "http://127.0.0.1:9/v1/chat/completions"
    route = llm_native.route("openai/gpt-4o", "http://127.0.0.1:7/v1")
    assert route is not None and route.url == "http://127.0.0.1:7/v1/chat/completions"
    route = llm_native.route("ollama/llama3.1", "http://127.0.0.1:11434")
    assert route is not None and route.url == "http://127.0.0.1:11434/v1/chat/completions"
    route = llm_native.route("openrouter/meta/llama-3", None)
    assert route is not None and route.model == "meta/llama-3"


def test_native_run_never_imports_litellm(fake_llm: FakeLLMThread) -> None:
    fake_llm.script(
        [
            {
                "text": "hello from claude",
                "usage": {"prompt_tokens": 1000, "completion_tokens": 20, "cached_tokens": 800},
            }
        ]
    )
    code = (
        "import asyncio, sys\n"
        "from pygent.agent.context import context_window, estimate_tokens\n"
        "from pygent.agent.llm import TextDelta, UsageEvent, stream_completion\n"
        "from pygent.testing.pytest_plugin import make_fake_settings\n"
        f"s = make_fake_settings({fake_llm.root_url!r}, model={CLAUDE!r})\n"
        "async def main():\n"
        "    out = [e async for e in stream_completion(s, [{'role': 'user', 'content': 'hi'}])]\n"
        "    text = ''.join(e.text for e in out if isinstance(e, TextDelta))\n"
        "    usage = next(e for e in out if isinstance(e, UsageEvent))\n"
        "    print(text, usage.cost_usd is not None and usage.cost_usd > 0)\n"
        "asyncio.run(main())\n"
        f"print(context_window({CLAUDE!r}), estimate_tokens({CLAUDE!r}, [{{'role': 'user', 'content': 'x' * 400}}]) > 50)\n"
        "print('litellm' in sys.modules, 'rich' in sys.modules, 'click' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    # Neither litellm nor httpx's command-line module (click, rich) was loaded.
    assert result.stdout.splitlines() == [
        "hello from claude True",
        "200000 True",
        "False False False",
    ]


# -- Anthropic flows on both backends ---------------------------------------------------------


@pytest.mark.usefixtures("llm_backend")
async def test_anthropic_parallel_tool_calls_split_into_single_characters() -> None:
    arguments = {"path": "src/app.py", "old": 'print("a")', "new": "x\n" * 5}
    with FakeLLMThread(chunk_size=1) as fake:
        settings = make_fake_settings(fake.root_url, model=CLAUDE)
        fake.script(
            [
                {
                    "reasoning": "hmm",
                    "text": "Two calls.",
                    "tool_calls": [
                        {"id": "call_A", "name": "edit_file", "arguments": arguments},
                        {"id": "call_B", "name": "read_file", "arguments": {"path": "b"}},
                    ],
                    "usage": {"prompt_tokens": 120, "completion_tokens": 30, "cached_tokens": 100},
                }
            ]
        )
        tools = [
            {"type": "function", "function": {"name": n, "parameters": {"type": "object"}}}
            for n in ("edit_file", "read_file")
        ]
        events = await _events(settings, tools)
        request = fake.requests[0]
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == "hmm"
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert "".join(d.text for d in deltas) == "Two calls."
    calls = [e for e in events if isinstance(e, ToolCallEvent)]
    assert [(c.id, c.name) for c in calls] == [
        ("toolu_A", "edit_file"),
        ("toolu_B", "read_file"),
    ]
    assert json.loads(calls[0].arguments) == arguments
    assert json.loads(calls[1].arguments) == {"path": "b"}
    usage = next(e for e in events if isinstance(e, UsageEvent))
    # Anthropic reports input and cache reads apart; both backends add them up the same way.
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) == (220, 30, 100)
    assert usage.cost_usd == pytest.approx(model_table.cost_usd(CLAUDE, 220, 30, 100))
    assert events[-1] == FinishEvent("tool_calls")
    assert [t["name"] for t in request["tools"]] == ["edit_file", "read_file"]
    assert request["tools"][0]["input_schema"] == {"type": "object", "properties": {}}
    assert request["max_tokens"] == model_table.max_output_tokens(CLAUDE) == 64000


@pytest.mark.usefixtures("llm_backend")
async def test_anthropic_headers_key_and_max_tokens(fake_llm: FakeLLMThread) -> None:
    settings = make_fake_settings(fake_llm.root_url, model=CLAUDE, max_tokens=321, temperature=0.2)
    await _events(settings)
    headers = fake_llm.request_log[0]["headers"]
    assert headers["x-api-key"] == "sk-fake-test"
    assert headers["anthropic-version"] == "2023-06-01"
    body = fake_llm.requests[0]
    assert (body["model"], body["max_tokens"], body["temperature"]) == (
        "claude-sonnet-4-5",
        321,
        0.2,
    )
    assert body["stream"] is True


@pytest.mark.usefixtures("llm_backend")
async def test_anthropic_max_tokens_stop_ends_the_turn_with_max_tokens(
    fake_llm: FakeLLMThread, root: Path
) -> None:
    settings = make_fake_settings(fake_llm.root_url, model=CLAUDE)
    fake_llm.script([{"text": "cut off here", "finish_reason": "length"}])
    h = Harness(settings, root)
    turn, updates = await h.run("write a lot")
    assert turn.stop_reason == "max_tokens"
    assert text_of(updates) == "cut off here"
    assert_valid_history(h.session.messages)


@pytest.mark.usefixtures("llm_backend", "fast_retries")
async def test_anthropic_tool_loop_sends_results_back_as_tool_result_blocks(
    fake_llm: FakeLLMThread, root: Path
) -> None:
    (root / "a.txt").write_text("alpha\n", encoding="utf-8")
    (root / "b.txt").write_text("beta\n", encoding="utf-8")
    settings = make_fake_settings(fake_llm.root_url, model=CLAUDE)
    fake_llm.script(
        [
            {"error": {"status": 429, "retry_after": 0.01}},
            {
                "text": "Reading both.",
                "tool_calls": [call("read_note", name="a.txt"), call("read_note", name="b.txt")],
            },
            {"text": "Both read."},
        ]
    )
    h = Harness(settings, root)
    turn, updates = await h.run("read a.txt and b.txt")
    assert turn.stop_reason == "end_turn"
    assert text_of(updates) == "Reading both.Both read."
    notice = of_kind(updates, "pygent_notice")[0]["message"]
    assert notice.startswith("rate limited, retrying in 0.0 s")
    last = fake_llm.requests[-1]["messages"]
    # One user message carries both results, in call order, after the assistant's tool_use blocks.
    assert [b["type"] for b in last[-2]["content"]] == ["text", "tool_use", "tool_use"]
    results = last[-1]["content"]
    assert [r["type"] for r in results] == ["tool_result", "tool_result"]
    assert [r["tool_use_id"] for r in results] == [b["id"] for b in last[-2]["content"][1:]]
    assert "alpha" in json.dumps(results[0]) and "beta" in json.dumps(results[1])
    assert_valid_history(h.session.messages)


@pytest.mark.usefixtures("llm_backend", "fast_retries")
async def test_anthropic_stream_cut_before_text_is_retried(fake_llm: FakeLLMThread) -> None:
    settings = make_fake_settings(fake_llm.root_url, model=CLAUDE)
    fake_llm.script([{"text": "lost", "drop_after_chunks": 1}, {"text": "ok now"}])
    events = await _events(settings)
    assert [e.error_code for e in events if isinstance(e, RetryNotice)] == ["network"]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "ok now"


@pytest.mark.usefixtures("llm_backend")
@pytest.mark.parametrize(
    ("error", "code"),
    [
        ("auth", "auth_failed"),
        ("model_not_found", "model_not_found"),
        ("context_length", "context_overflow"),
    ],
)
async def test_anthropic_errors_map_to_the_same_codes(
    fake_llm: FakeLLMThread, error: str, code: str
) -> None:
    settings = make_fake_settings(fake_llm.root_url, model=CLAUDE)
    fake_llm.script([{"error": error}])
    with pytest.raises(PygentError) as info:
        await _events(settings)
    assert info.value.code == code
    assert len(fake_llm.requests) == 1


# -- request translation and errors (native) ---------------------------------------------------

_HISTORY: list[dict[str, Any]] = [
    {"role": "system", "content": "sys"},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "look"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        ],
    },
    {
        "role": "assistant",
        "content": "ok",
        "tool_calls": [
            {"id": "t1", "type": "function", "function": {"name": "a", "arguments": '{"q":1}'}},
            {"id": "t2", "type": "function", "function": {"name": "b", "arguments": '{"x":1}'}},
        ],
    },
    {"role": "tool", "tool_call_id": "t1", "content": "r1"},
    {"role": "tool", "tool_call_id": "t2", "content": "r2"},
    {"role": "user", "content": "go on"},
]
_TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "a",
            "description": "A tool",
            "parameters": {
                "type": "object",
                "properties": {"q": {"type": "integer"}},
                "required": ["q"],
            },
        },
    },
    {"type": "function", "function": {"name": "b", "parameters": {"type": "object"}}},
]


@pytest.mark.parametrize("model", [CLAUDE, "openai/gpt-4o"])
async def test_both_backends_send_the_same_request_body(
    fake_llm: FakeLLMThread, model: str
) -> None:
    url = fake_llm.root_url if model == CLAUDE else fake_llm.base_url
    bodies = []
    for backend in ("litellm", "native"):
        settings = make_fake_settings(url, model=model, backend=backend, temperature=0.3)
        [e async for e in stream_completion(settings, _HISTORY, _TOOLS)]
        body = fake_llm.requests[-1]
        for tool in body.get("tools", []):
            if tool.get("type") == "custom":  # litellm marks Anthropic tools; the default
                del tool["type"]
        bodies.append(body)
    assert bodies[0] == bodies[1]
    assert len(bodies[0]["messages"]) == (3 if model == CLAUDE else 6)


def test_openai_history_becomes_alternating_anthropic_messages() -> None:
    settings = _settings(CLAUDE)
    native = llm_native.route(CLAUDE, None)
    assert native is not None
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "sys"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "t1", "type": "function", "function": {"name": "a", "arguments": "{bad"}},
                {"id": "t2", "type": "function", "function": {"name": "b", "arguments": '{"x":1}'}},
            ],
        },
        {"role": "tool", "tool_call_id": "t1", "content": "invalid JSON"},
        {"role": "tool", "tool_call_id": "t2", "content": "ok"},
        {"role": "user", "content": "go on"},
    ]
    body: dict[str, Any] = llm_native.anthropic_request(
        settings, native, llm.with_cache_control(messages), None
    )
    assert body["system"] == [
        {"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}
    ]
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["user", "assistant", "user"]
    assert body["messages"][0]["content"][1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"},
    }
    assert [b["input"] for b in body["messages"][1]["content"]] == [{}, {"x": 1}]
    last = body["messages"][2]["content"]
    assert [b["type"] for b in last] == ["tool_result", "tool_result", "text"]
    assert last[-1]["cache_control"] == {"type": "ephemeral"}
    assert messages[0]["content"] == "sys"  # the history itself is untouched


def test_openai_reasoning_models_get_max_completion_tokens_and_no_temperature() -> None:
    settings = Settings(llm=LLMSettings(model="openai/o3", max_tokens=100, temperature=0.5))
    native = llm_native.route("openai/o3", None)
    assert native is not None
    body = llm_native.openai_request(settings, native, MESSAGES, None)
    assert body["max_completion_tokens"] == 100
    assert "temperature" not in body and "max_tokens" not in body
    plain = Settings(llm=LLMSettings(model="openai/gpt-4o", max_tokens=100, temperature=0.5))
    route = llm_native.route("openai/gpt-4o", None)
    assert route is not None
    body = llm_native.openai_request(plain, route, MESSAGES, None)
    assert (body["max_tokens"], body["temperature"], body["model"]) == (100, 0.5, "gpt-4o")


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (401, '{"error": {"message": "bad key", "type": "invalid_request_error"}}', "auth_failed"),
        (403, '{"error": {"message": "forbidden"}}', "auth_failed"),
        (404, '{"error": {"message": "no such model"}}', "model_not_found"),
        (429, '{"error": {"message": "slow down"}}', "rate_limited"),
        (400, '{"error": {"code": "context_length_exceeded", "message": "x"}}', "context_overflow"),
        (
            400,
            '{"type": "error", "error": {"message": "prompt is too long: 9 > 8"}}',
            "context_overflow",
        ),
        (
            529,
            '{"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}',
            "llm_error",
        ),
        (400, "not json at all", "llm_error"),
    ],
)
def test_http_errors_map_like_litellm_errors(status: int, body: str, code: str) -> None:
    error = llm.map_exception(llm_native._http_error(status, body.encode()), CLAUDE)
    assert error.code == code
    assert error.message.endswith(".")
    assert "{" not in error.message  # the provider's message, not its JSON


def test_overloaded_and_server_errors_are_retryable() -> None:
    assert llm._classify(llm_native._http_error(529, b"{}")) == "server"
    assert llm._classify(llm_native._http_error(502, b"bad gateway")) == "server"
    assert llm._classify(llm_native.StreamIncompleteError("cut")) == "network"


# -- parity with litellm -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "prompt", "completion", "cached"),
    [
        (CLAUDE, 1000, 100, 500),
        (CLAUDE, 250_000, 100, 0),  # above the 200k tier
        ("openai/gpt-4o", 5000, 300, 1000),
        ("gpt-4o-mini", 100, 100, 0),
        ("deepseek/deepseek-chat", 1000, 10, 0),
        ("openai/fake-model", 1000, 10, 0),
    ],
)
def test_table_costs_equal_litellm_costs(
    model: str, prompt: int, completion: int, cached: int
) -> None:
    expected = llm._cost(model, prompt, completion, cached)
    got = model_table.cost_usd(model, prompt, completion, cached)
    assert got == pytest.approx(expected) if expected is not None else got is None


@pytest.mark.parametrize(
    "model", [CLAUDE, "openai/gpt-4o", "gpt-4o-mini", "deepseek/deepseek-chat"]
)
def test_table_context_windows_equal_litellm(model: str) -> None:
    litellm = llm.import_litellm()
    assert context_window(model) == litellm.get_model_info(model)["max_input_tokens"]


def test_unknown_models_get_the_default_window_and_no_cost() -> None:
    assert model_table.lookup("openai/claude-sonnet-4-5") is None  # another provider's entry
    assert model_table.context_window("openai/fake-model") is None
    assert context_window("openai/fake-model") == DEFAULT_CONTEXT_WINDOW


@pytest.mark.parametrize("model", ["openai/fake-model", CLAUDE])
def test_pygent_run_on_the_native_backend_never_imports_litellm(
    fake_llm: FakeLLMThread, tmp_path: Path, model: str
) -> None:
    url = fake_llm.root_url if model == CLAUDE else fake_llm.base_url
    env = dict(os.environ, PYGENT_MODEL=model, PYGENT_API_BASE=url, PYGENT_API_KEY="sk-fake-test")
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pygent", "run", "hi"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "(fake) done"
    imported = {
        line.split("|")[2].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "httpx" in imported  # the native client served the answer
    assert not {"litellm", "openai", "tiktoken", "acp", "textual"} & imported


def test_a_local_http_endpoint_never_loads_the_ca_bundle(fake_llm: FakeLLMThread) -> None:
    code = (
        "import asyncio\n"
        "from pygent.agent import llm_native\n"
        "from pygent.agent.llm import stream_completion\n"
        "from pygent.testing.pytest_plugin import make_fake_settings\n"
        f"s = make_fake_settings({fake_llm.base_url!r}, backend='native')\n"
        "async def main():\n"
        "    return [e async for e in stream_completion(s, [{'role': 'user', 'content': 'hi'}])]\n"
        "asyncio.run(main())\n"
        "print(llm_native._TLS is None)\n"
        "import ssl\n"
        "ctx = llm_native.tls_context()\n"
        "print(ctx.verify_mode == ssl.CERT_REQUIRED, ctx.check_hostname, llm_native.tls_context() is ctx)\n"
    )
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    # https endpoints get a verifying context (made once); plain http ones never need it.
    assert result.stdout.splitlines() == ["True", "True True True"]
