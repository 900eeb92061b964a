"""The fake OpenAI-compatible server: wire format, scripting, injected failures, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from pygent.testing.fake_llm import DEFAULT_TEXT, FakeLLM, FakeLLMThread


def _events(body: str) -> list[Any]:
    out: list[Any] = []
    for block in body.split("\n\n"):
        if block.startswith("data: "):
            data = block[len("data: ") :]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


def _chat(base_url: str, stream: bool = True, content: str = "hi", **extra: Any) -> httpx.Response:
    body = {
        "model": "fake-model",
        "messages": [{"role": "user", "content": content}],
        "stream": stream,
        "stream_options": {"include_usage": True},
        **extra,
    }
    return httpx.post(base_url + "/chat/completions", json=body, timeout=10)


def test_streams_text_in_chunks_with_usage_and_done(fake_llm: FakeLLMThread) -> None:
    fake_llm.script([{"text": "Hello world", "usage": {"cached_tokens": 2}}])
    response = _chat(fake_llm.base_url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    events = _events(response.text)
    assert events[-1] == "[DONE]"
    deltas = [e["choices"][0]["delta"].get("content") for e in events[:-1] if e["choices"]]
    assert "".join(d for d in deltas if d) == "Hello world"
    assert len([d for d in deltas if d]) == 3  # chunk size 4
    finish = [e["choices"][0]["finish_reason"] for e in events[:-1] if e["choices"]]
    assert finish[-1] == "stop"
    usage = events[-2]["usage"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == 2
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert fake_llm.requests[0]["messages"][0]["content"] == "hi"


def test_tool_call_split_across_chunks(fake_llm: FakeLLMThread) -> None:
    fake_llm.script([{"tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}}]}])
    events = _events(_chat(fake_llm.base_url).text)
    calls = [
        e["choices"][0]["delta"]["tool_calls"][0]
        for e in events[:-1]
        if e["choices"] and "tool_calls" in e["choices"][0]["delta"]
    ]
    assert calls[0]["id"] and calls[0]["function"]["name"] == "read_file"
    assert calls[0]["function"]["arguments"] == ""
    assert all("id" not in c for c in calls[1:])
    assert len(calls) > 2
    assert json.loads("".join(c["function"]["arguments"] for c in calls)) == {"path": "a.py"}
    assert [e["choices"][0]["finish_reason"] for e in events[:-1] if e["choices"]][
        -1
    ] == "tool_calls"


def test_non_streaming_answer_carries_tool_calls_and_reasoning(fake_llm: FakeLLMThread) -> None:
    fake_llm.script(
        [{"text": "ok", "reasoning": "think", "tool_calls": [{"name": "t", "arguments": "{bad"}]}]
    )
    data = _chat(fake_llm.base_url, stream=False).json()
    message = data["choices"][0]["message"]
    assert message["content"] == "ok"
    assert message["reasoning_content"] == "think"
    assert message["tool_calls"][0]["function"]["arguments"] == "{bad"
    assert data["choices"][0]["finish_reason"] == "tool_calls"


def test_rules_match_user_message_and_tool_results(fake_llm: FakeLLMThread) -> None:
    fake_llm.script(
        [
            {"match": "weather", "respond": {"text": "sunny"}},
            {"after_tool": "^42$", "respond": {"text": "the answer"}, "times": 1},
            {"text": "from the list"},
        ]
    )
    assert "sunny" in _chat(fake_llm.base_url, False, "what's the weather?").text
    tool_body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": "weather"},
            {"role": "tool", "tool_call_id": "c", "content": "42"},
        ],
    }
    first = httpx.post(fake_llm.base_url + "/chat/completions", json=tool_body, timeout=10)
    second = httpx.post(fake_llm.base_url + "/chat/completions", json=tool_body, timeout=10)
    assert "the answer" in first.text
    assert "from the list" in second.text  # the rule fired once; the user rule ignores tool turns
    assert DEFAULT_TEXT in _chat(fake_llm.base_url, False, "other").text


@pytest.mark.parametrize(
    ("item", "status", "code"),
    [
        ({"error": {"status": 429, "retry_after": 0.5}}, 429, "rate_limit_exceeded"),
        ({"error": "server"}, 500, None),
        ({"error": "auth"}, 401, "invalid_api_key"),
        ({"error": "model_not_found"}, 404, "model_not_found"),
        ({"error": "context_length"}, 400, "context_length_exceeded"),
        (
            {"error": {"status": 400, "code": "context_length_exceeded"}},
            400,
            "context_length_exceeded",
        ),
    ],
)
def test_injected_errors_use_openai_shapes(
    fake_llm: FakeLLMThread, item: dict[str, Any], status: int, code: str | None
) -> None:
    fake_llm.script([item])
    response = _chat(fake_llm.base_url)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    if status == 429:
        assert response.headers["retry-after"] == "0.5"


def test_repeat_and_default_after_exhaustion(fake_llm: FakeLLMThread) -> None:
    fake_llm.script([{"error": "rate_limit", "repeat": 2}])
    assert [_chat(fake_llm.base_url).status_code for _ in range(3)] == [429, 429, 200]


def test_dropped_connection_mid_tool_arguments(fake_llm: FakeLLMThread) -> None:
    fake_llm.script(
        [
            {
                "tool_calls": [{"name": "edit", "arguments": {"path": "x" * 40}}],
                "drop_after_chunks": 4,
            }
        ]
    )
    with pytest.raises(httpx.RemoteProtocolError):
        _chat(fake_llm.base_url)
    # The server keeps serving afterwards.
    assert _chat(fake_llm.base_url).status_code == 200


def test_models_endpoint_and_unknown_model_and_api_key() -> None:
    with FakeLLMThread(models=["fake-model"], api_key="sk-good") as fake:
        models = httpx.get(fake.base_url + "/models", timeout=10).json()
        assert [m["id"] for m in models["data"]] == ["fake-model"]
        bad_key = httpx.post(
            fake.base_url + "/chat/completions",
            json={"model": "fake-model", "messages": []},
            headers={"Authorization": "Bearer sk-bad"},
            timeout=10,
        )
        assert bad_key.status_code == 401
        unknown = httpx.post(
            fake.base_url + "/chat/completions",
            json={"model": "nope", "messages": []},
            headers={"Authorization": "Bearer sk-good"},
            timeout=10,
        )
        assert unknown.status_code == 404
        assert "nope" in unknown.json()["error"]["message"]


async def test_async_context_manager_and_control_endpoints() -> None:
    async with FakeLLM(chunk_size=100) as fake, httpx.AsyncClient() as client:
        control = fake.base_url.rsplit("/v1", 1)[0]
        await client.post(control + "/_fake/script", json=[{"text": "scripted remotely"}])
        body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": True}
        response = await client.post(fake.base_url + "/chat/completions", json=body)
        assert "scripted remotely" in response.text
        recorded = (await client.get(control + "/_fake/requests")).json()
        assert recorded == [body]


def test_cli_prints_port_and_serves(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"text": "from the cli"}]), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pygent.testing.fake_llm", "--script", str(script)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        response = _chat(f"http://127.0.0.1:{port}/v1", stream=False)
        assert response.json()["choices"][0]["message"]["content"] == "from the cli"
    finally:
        proc.kill()
        proc.wait(10)


def test_cli_rejects_bad_script(tmp_path: Path) -> None:
    script = tmp_path / "bad.json"
    script.write_text("{not json", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pygent.testing.fake_llm", "--script", str(script)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "cannot read script" in result.stderr


def test_fake_settings_point_at_the_server(fake_llm: FakeLLMThread, fake_settings: Any) -> None:
    assert fake_settings.llm.model == "openai/fake-model"
    assert fake_settings.llm.api_base == fake_llm.base_url
    assert fake_settings.llm.api_key.get_secret_value() == "sk-fake-test"


def test_anthropic_messages_stream(fake_llm: FakeLLMThread) -> None:
    fake_llm.script(
        [{"text": "Hi!", "tool_calls": [{"name": "t", "arguments": {"a": 1}, "id": "call_9"}]}]
    )
    body = {
        "model": "claude",
        "max_tokens": 10,
        "stream": True,
        "messages": [{"role": "user", "content": "x"}],
    }
    response = httpx.post(fake_llm.root_url + "/v1/messages", json=body, timeout=10)
    names = [
        line[len("event: ") :] for line in response.text.splitlines() if line.startswith("event: ")
    ]
    assert names[0] == "message_start" and names[-1] == "message_stop"
    data = [
        json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")
    ]
    tool_start = next(d for d in data if d.get("content_block", {}).get("type") == "tool_use")
    assert tool_start["content_block"]["id"] == "toolu_9"
    partial = "".join(
        d["delta"]["partial_json"]
        for d in data
        if d.get("delta", {}).get("type") == "input_json_delta"
    )
    assert json.loads(partial) == {"a": 1}
    assert (
        next(d for d in data if d["type"] == "message_delta")["delta"]["stop_reason"] == "tool_use"
    )


def test_anthropic_errors_and_tool_result_rules(fake_llm: FakeLLMThread) -> None:
    fake_llm.script(
        [
            {"after_tool": "42", "respond": {"text": "saw the result"}},
            {"error": {"status": 429, "retry_after": 1}},
        ]
    )
    plain = {"model": "claude", "max_tokens": 10, "messages": [{"role": "user", "content": "x"}]}
    limited = httpx.post(fake_llm.root_url + "/v1/messages", json=plain, timeout=10)
    assert limited.status_code == 429
    assert limited.json() == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": limited.json()["error"]["message"]},
    }
    with_result = {
        "model": "claude",
        "max_tokens": 10,
        "messages": [
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t", "content": "42"}],
            }
        ],
    }
    answer = httpx.post(fake_llm.root_url + "/v1/messages", json=with_result, timeout=10).json()
    assert answer["content"] == [{"type": "text", "text": "saw the result"}]
    assert answer["stop_reason"] == "end_turn"
