"""JSON-RPC conformance of ``pygent serve`` (issue #14): ids, in-flight ids, error codes, SIGINT.

Driven with raw frames, so what is checked is the bytes on the wire, not a client's reading of them.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from server_helpers import RawServer

from pygent.errors import ERROR_CODES, JSONRPC_CODES
from pygent.protocol import codes
from pygent.testing.fake_llm import FakeLLMThread

RawFactory = Any


def list_request(msg_id: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "method": "pygent/session/list", "params": {}}


async def new_session(server: RawServer) -> str:
    server.send({"jsonrpc": "2.0", "id": "new", "method": "pygent/session/new", "params": {}})
    return str((await server.response("new"))["result"]["sessionId"])


def slow_prompt(msg_id: Any, session_id: str) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": msg_id,
        "method": "pygent/session/prompt",
        "params": {"sessionId": session_id, "prompt": [{"type": "text", "text": "talk"}]},
    }


async def next_response(server: RawServer, msg_id: Any) -> dict[str, Any]:
    """The next response to ``msg_id`` from now on (earlier ones are not looked at)."""
    while True:
        message = await server.next_message()
        if "method" not in message and message.get("id") == msg_id:
            return message


async def first_update(server: RawServer) -> dict[str, Any]:
    while True:
        message = await server.next_message()
        if message.get("method") == "pygent/session/update":
            return message


@pytest.mark.parametrize(
    ("bad_id", "said"),
    [({"a": 1}, "an object"), (True, "a boolean"), ([1], "an array"), (1.5, "a fractional")],
)
async def test_request_with_an_id_that_is_no_string_or_integer_is_an_invalid_request(
    make_raw: RawFactory, workspace: Path, bad_id: Any, said: str
) -> None:
    server = await make_raw()
    await server.initialize(workspace)
    server.send(list_request(bad_id))
    error = await server.next_message()
    assert error["id"] is None
    assert error["error"]["code"] == -32600
    assert said in error["error"]["message"]
    assert error["error"]["data"] == {"code": "invalid_request"}
    # Nothing was run for it, and the server still answers.
    server.send(list_request("next"))
    assert (await server.response("next"))["result"] == {"sessions": []}
    assert all(m.get("id") is None or m.get("id") == "next" for m in server.messages[1:])


async def test_request_reusing_the_id_of_one_in_flight_is_refused(
    make_raw: RawFactory, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([{"text": "word " * 400, "delay": 0.05}, {"text": "second"}])
    server = await make_raw()
    await server.initialize(workspace)
    session_id = await new_session(server)
    server.send(slow_prompt(7, session_id))
    await first_update(server)  # the turn is streaming: id 7 is in flight
    server.send(list_request(7))
    refused = await next_response(server, 7)
    assert refused["error"]["code"] == -32600
    assert "already used by a request still in progress" in refused["error"]["message"]
    # $/cancelRequest names exactly one request: the prompt, which answers cancelled.
    server.send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 7}})
    answer = await next_response(server, 7)
    assert answer["result"]["stopReason"] == "cancelled"
    # Once answered, the id may be used again.
    server.send(list_request(7))
    reused = await next_response(server, 7)
    assert [s["sessionId"] for s in reused["result"]["sessions"]] == [session_id]


async def test_parse_error_has_its_own_data_code(make_raw: RawFactory, workspace: Path) -> None:
    server = await make_raw()
    await server.initialize(workspace)
    server.send_bytes(b"Content-Length: 9\r\n\r\n{bad json")
    error = await server.next_message()
    assert error["error"]["code"] == -32700
    assert error["error"]["data"] == {"code": "parse_error"}


def test_every_error_code_has_its_own_number_outside_the_reserved_ranges() -> None:
    assert set(JSONRPC_CODES) == set(ERROR_CODES)
    numbers = list(JSONRPC_CODES.values())
    assert len(numbers) == len(set(numbers)), "two data.codes share a JSON-RPC number"
    standard = {
        "parse_error": codes.PARSE_ERROR,
        "invalid_request": codes.INVALID_REQUEST,
        "method_not_found": codes.METHOD_NOT_FOUND,
        "invalid_params": codes.INVALID_PARAMS,
        "internal": codes.INTERNAL_ERROR,
        "server_not_initialized": codes.SERVER_NOT_INITIALIZED,
        "cancelled": codes.REQUEST_CANCELLED,
    }
    for name, number in JSONRPC_CODES.items():
        if name in standard:
            assert number == standard[name]
        else:  # JSON-RPC reserves -32768..-32000 (LSP uses parts of it): ours stay out
            assert not -32768 <= number <= -32000, name
    assert JSONRPC_CODES["model_not_found"] != codes.SERVER_NOT_INITIALIZED


async def test_model_not_found_and_not_initialized_are_told_apart_on_the_wire(
    make_raw: RawFactory, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([{"error": "model_not_found"}])
    server = await make_raw()
    server.send(list_request("early"))
    early = (await server.response("early"))["error"]
    assert (early["code"], early["data"]["code"]) == (-32002, "server_not_initialized")
    await server.initialize(workspace)
    session_id = await new_session(server)
    server.send(slow_prompt("p", session_id))
    error = (await server.response("p"))["error"]
    assert (error["code"], error["data"]["code"]) == (-31002, "model_not_found")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is a POSIX signal")
async def test_sigint_during_a_turn_answers_the_prompt_cancelled_and_exits(
    make_raw: RawFactory, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([{"text": "word " * 400, "delay": 0.05}])
    server = await make_raw()
    await server.initialize(workspace)
    session_id = await new_session(server)
    server.send(slow_prompt("turn", session_id))
    await first_update(server)
    server.process.send_signal(signal.SIGINT)
    answer = await server.response("turn")
    assert answer["result"]["stopReason"] == "cancelled", answer
    assert await server.close() == 0
    assert server.garbage == []
    # The session was saved and can be listed by a new server.
    again = await make_raw()
    await again.initialize(workspace)
    again.send(list_request("l"))
    sessions = (await again.response("l"))["result"]["sessions"]
    assert [s["sessionId"] for s in sessions] == [session_id]


def test_help_and_protocol_docs_list_every_error_number() -> None:
    from pygent.help_topics import TOPICS

    table = (Path(__file__).parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")
    for name, number in JSONRPC_CODES.items():
        assert f"| `{name}` | {number} |" in table, name
        if -31999 <= number <= -31000:
            assert f"{name} {number}" in TOPICS["server"], name
