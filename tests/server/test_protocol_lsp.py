"""The ``pygent/*`` protocol driven by pytest-lsp's client, a second client independent of ours.

pygent's own :class:`~pygent.client.PygentClient` and the server could share a misreading of the
protocol; pygls' client (used by pytest-lsp) frames, matches and types messages on its own, so a
turn that works here works for any conforming JSON-RPC client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient
from pytest_lsp.client import make_test_lsp_client
from server_helpers import SERVER_CMD, wait

from pygent.testing.fake_llm import FakeLLMThread


def plain(value: Any) -> Any:
    """pygls hands untyped results over as namedtuples: back to dicts and lists."""
    if hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


class Seen:
    """What the server sent the client, in wire order."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.updates: list[dict[str, Any]] = []
        self.permissions: list[dict[str, Any]] = []
        self.first_update = asyncio.Event()
        self.answer = "allow_once"


@pytest.fixture
async def pygls_client(
    workspace: Path, server_env: dict[str, str]
) -> AsyncIterator[tuple[LanguageClient, Seen]]:
    client = make_test_lsp_client()
    seen = Seen()

    @client.feature("pygent/session/update")
    def on_update(params: Any) -> None:
        update = plain(params)
        seen.updates.append(update)
        seen.events.append(f"update:{update['update']['sessionUpdate']}")
        seen.first_update.set()

    @client.feature("pygent/session/requestPermission")
    def on_permission(params: Any) -> dict[str, Any]:
        seen.permissions.append(plain(params))
        seen.events.append("permission")
        return {"outcome": {"outcome": "selected", "optionId": seen.answer}}

    await client.start_io(*SERVER_CMD, env=server_env, cwd=str(workspace))
    await wait(
        client.initialize_session(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(
                    experimental={"pygent": {"permissionRequests": True}}
                ),
                root_uri=workspace.as_uri(),
                process_id=None,
            )
        )
    )
    yield client, seen
    await wait(client.shutdown_session(), 60)
    await client.stop()


async def call(client: LanguageClient, method: str, params: dict[str, Any]) -> Any:
    return plain(await wait(client.protocol.send_request_async(method, params)))


def prompt_params(session_id: str, text: str) -> dict[str, Any]:
    return {"sessionId": session_id, "prompt": [{"type": "text", "text": text}]}


async def test_turn_streams_updates_before_the_answer(
    pygls_client: tuple[LanguageClient, Seen], fake_llm: FakeLLMThread
) -> None:
    client, seen = pygls_client
    fake_llm.script([{"text": "Hello from an independent client."}])
    created = await call(client, "pygent/session/new", {})
    session_id = created["sessionId"]
    assert created["modes"]["currentModeId"] == "ask"
    result = await call(client, "pygent/session/prompt", prompt_params(session_id, "hi"))
    seen.events.append("answer")
    assert result["stopReason"] == "end_turn"
    assert result["usage"]["outputTokens"] > 0
    text = "".join(
        u["update"]["content"]["text"]
        for u in seen.updates
        if u["update"]["sessionUpdate"] == "agent_message_chunk"
    )
    assert text == "Hello from an independent client."
    assert all(u["sessionId"] == session_id for u in seen.updates)
    assert seen.events[-1] == "answer"
    listed = await call(client, "pygent/session/list", {})
    assert [s["sessionId"] for s in listed["sessions"]] == [session_id]


async def test_permission_request_round_trip_runs_the_tool(
    pygls_client: tuple[LanguageClient, Seen], fake_llm: FakeLLMThread, workspace: Path
) -> None:
    client, seen = pygls_client
    fake_llm.script(
        [
            {"tool_calls": [{"name": "shell", "arguments": {"command": "touch via-pygls"}}]},
            {"text": "Made it."},
        ]
    )
    session_id = (await call(client, "pygent/session/new", {}))["sessionId"]
    result = await call(client, "pygent/session/prompt", prompt_params(session_id, "make it"))
    assert result["stopReason"] == "end_turn"
    assert (workspace / "via-pygls").exists()
    request = seen.permissions[0]
    assert request["sessionId"] == session_id
    assert {o["optionId"] for o in request["options"]} >= {"allow_once", "reject_once"}
    # The tool call is on the wire before the question about it.
    assert seen.events.index("update:tool_call") < seen.events.index("permission")


async def test_session_cancel_notification_answers_cancelled(
    pygls_client: tuple[LanguageClient, Seen], fake_llm: FakeLLMThread
) -> None:
    client, seen = pygls_client
    fake_llm.script([{"text": "word " * 400, "delay": 0.05}])
    session_id = (await call(client, "pygent/session/new", {}))["sessionId"]
    answer = asyncio.ensure_future(
        call(client, "pygent/session/prompt", prompt_params(session_id, "talk"))
    )
    await wait(seen.first_update.wait())
    client.protocol.notify("pygent/session/cancel", {"sessionId": session_id})
    result = await wait(answer, 60)
    assert result["stopReason"] == "cancelled"


@pytest.mark.parametrize(
    ("method", "params", "code", "data_code"),
    [
        (
            "pygent/session/prompt",
            {"sessionId": "s", "prompt": [{"type": "text"}]},
            -32602,
            "invalid_params",
        ),
        (
            "pygent/session/prompt",
            prompt_params("01J00000000000000000000000", "x"),
            -31008,
            "session_not_found",
        ),
        ("pygent/doesNotExist", {}, -32601, "method_not_found"),
    ],
)
async def test_errors_carry_their_own_code_and_data_code(
    pygls_client: tuple[LanguageClient, Seen],
    method: str,
    params: dict[str, Any],
    code: int,
    data_code: str,
) -> None:
    client, _ = pygls_client
    with pytest.raises(JsonRpcException) as info:
        await call(client, method, params)
    assert info.value.code == code
    assert plain(info.value.data)["code"] == data_code
    # The server is still there.
    assert (await call(client, "pygent/session/list", {}))["sessions"] == []
