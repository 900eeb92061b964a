"""``pygent/llm/check``: a proposed model configuration tested through the server, key kept secret."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from server_helpers import SERVER_CMD, ClientFactory, wait

from pygent.client import PygentClient, PygentClientError
from pygent.protocol.methods import LLM_CHECK
from pygent.testing.fake_llm import FakeLLMThread

GOOD_KEY = "sk-good-0123456789abcdef"
BAD_KEY = "sk-wrong-fedcba9876543210"


@pytest.fixture
def keyed_llm() -> Any:
    """A fake LLM that answers 401 to any key but :data:`GOOD_KEY`."""
    with FakeLLMThread(api_key=GOOD_KEY) as fake:
        yield fake


async def test_check_with_the_right_key_connects(
    make_client: ClientFactory, keyed_llm: FakeLLMThread
) -> None:
    keyed_llm.script([{"text": "OK"}])
    client = await make_client()
    answer = await wait(
        client.request(
            LLM_CHECK,
            {"model": "openai/fake-model", "apiBase": keyed_llm.base_url, "apiKey": GOOD_KEY},
        )
    )
    assert answer == {"ok": True, "message": 'Connected to openai/fake-model (it said "OK").'}
    assert len(keyed_llm.requests) == 1
    assert keyed_llm.requests[0]["max_tokens"] == 8  # one tiny request


async def test_check_with_a_wrong_key_says_the_key_was_rejected_without_echoing_it(
    make_client: ClientFactory, keyed_llm: FakeLLMThread
) -> None:
    client = await make_client()
    answer = await wait(
        client.request(
            LLM_CHECK,
            {"model": "openai/fake-model", "apiBase": keyed_llm.base_url, "apiKey": BAD_KEY},
        )
    )
    assert answer["ok"] is False
    assert "rejected the API key" in answer["message"]
    assert BAD_KEY not in answer["message"]
    assert len(keyed_llm.requests) == 1  # no retries for a check


async def test_check_with_a_wrong_api_base_path_blames_the_base_url(
    make_client: ClientFactory, fake_llm: FakeLLMThread
) -> None:
    wrong_base = fake_llm.base_url.removesuffix("/v1") + "/nope"
    client = await make_client()
    answer = await wait(
        client.request(LLM_CHECK, {"model": "openai/m", "apiBase": wrong_base, "apiKey": "sk-x"})
    )
    assert answer["ok"] is False
    assert answer["message"].startswith(
        f"Connection failed: The server at llm.api_base = {wrong_base} answered 404 Not Found"
    )
    assert "usually ending in /v1" in answer["message"]
    assert "'openai/m' was not found" not in answer["message"]
    assert [r["path"] for r in fake_llm.request_log] == ["/nope/chat/completions"]


async def test_check_of_an_unknown_model_names_it(
    make_client: ClientFactory, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([{"error": "model_not_found"}])
    client = await make_client()
    answer = await wait(
        client.request(
            LLM_CHECK,
            {"model": "openai/no-such-model", "apiBase": fake_llm.base_url, "apiKey": "sk-x"},
        )
    )
    assert answer["ok"] is False
    assert "no-such-model" in answer["message"]


async def test_check_without_any_key_for_a_cloud_model_says_which_variable_to_set(
    make_client: ClientFactory,
) -> None:
    client = await make_client()
    answer = await wait(client.request(LLM_CHECK, {"model": "anthropic/claude-sonnet-4-5"}))
    assert answer["ok"] is False
    assert "ANTHROPIC_API_KEY" in answer["message"]


MALFORMED: list[tuple[Any, str]] = [
    (None, "params"),
    ({}, "model"),
    ({"model": ""}, "model"),
    ({"model": "gpt 4"}, "model"),
    ({"model": "openai/x", "apiBase": 42}, "apiBase"),
    ({"model": "openai/x", "apiBase": "ftp://host"}, "apiBase"),
    ({"model": "openai/x", "apiKey": ["sk"]}, "apiKey"),
]


async def test_check_with_malformed_params_is_invalid_params_and_the_server_lives_on(
    make_client: ClientFactory, fake_llm: FakeLLMThread
) -> None:
    client = await make_client()
    for params, field in MALFORMED:
        with pytest.raises(PygentClientError) as caught:
            await wait(client.request(LLM_CHECK, params))
        assert caught.value.code == -32602, params
        assert caught.value.error_code == "invalid_params", params
        assert caught.value.message.startswith(field), (params, caught.value.message)
    assert fake_llm.requests == []  # refused before any request
    fake_llm.script([{"text": "OK"}])
    answer = await wait(
        client.request(LLM_CHECK, {"model": "openai/fake-model", "apiBase": fake_llm.base_url})
    )
    assert answer["ok"] is True


async def test_check_never_writes_the_key_to_the_log(
    workspace: Path, server_env: dict[str, str], keyed_llm: FakeLLMThread
) -> None:
    env = {k: v for k, v in server_env.items() if k != "PYGENT_LOG_DISABLED"}
    env["PYGENT_LOG_LEVEL"] = "DEBUG"
    client = PygentClient(SERVER_CMD, root=workspace, env=env)
    await wait(client.start())
    try:
        for key in (GOOD_KEY, BAD_KEY):
            await wait(
                client.request(
                    LLM_CHECK,
                    {"model": "openai/fake-model", "apiBase": keyed_llm.base_url, "apiKey": key},
                )
            )
        await wait(client.new_session())  # settings loaded: the log file exists
    finally:
        await client.close(timeout=30)
    state = Path(os.environ.get("XDG_STATE_HOME", str(Path.home() / ".local" / "state")))
    logs = [p for p in state.rglob("*.log*") if p.is_file()]
    assert logs, f"no log file under {state}"
    for path in logs:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert GOOD_KEY not in text and BAD_KEY not in text, path


async def test_check_and_set_model_with_an_unknown_provider_name_close_matches(
    make_client: ClientFactory, fake_llm: FakeLLMThread
) -> None:
    client = await make_client()
    answer = await wait(client.request(LLM_CHECK, {"model": "anthropc/claude-sonnet-4-5"}))
    assert answer["ok"] is False
    assert "Unknown provider 'anthropc'" in answer["message"]
    assert "Did you mean 'anthropic'" in answer["message"]
    session_id = await wait(client.new_session())
    with pytest.raises(PygentClientError) as caught:
        await wait(client.set_model(session_id, "nosuchprov/abc"))
    assert caught.value.error_code == "model_not_found"
    assert "Unknown provider 'nosuchprov'" in caught.value.message
    # The session keeps its model: the next prompt goes to the configured one.
    fake_llm.script([{"text": "still the old model"}])
    await wait(client.prompt(session_id, "hello"))
    assert fake_llm.requests[-1]["model"] == "fake-model"
