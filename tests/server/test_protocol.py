"""The wire: lifecycle, capabilities, session methods, bad input, stdout cleanliness (raw frames)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from server_helpers import ClientFactory, RawServer, kinds, wait

from pygent.client import PygentClientError
from pygent.testing.fake_llm import FakeLLMThread

RawFactory = Any

FULL_CAPS: dict[str, Any] = {
    "workspace": {
        "applyEdit": True,
        "workspaceEdit": {"documentChanges": True, "changeAnnotationSupport": {}},
    },
    "experimental": {"pygent": {"permissionRequests": True}},
}


def prompt_msg(msg_id: Any, session_id: str, text: str = "hi") -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": msg_id,
        "method": "pygent/session/prompt",
        "params": {"sessionId": session_id, "prompt": [{"type": "text", "text": text}]},
    }


async def new_session(server: RawServer, msg_id: Any = "new") -> str:
    server.send({"jsonrpc": "2.0", "id": msg_id, "method": "pygent/session/new", "params": {}})
    response = await server.response(msg_id)
    return str(response["result"]["sessionId"])


async def test_initialize_answers_server_info_and_capabilities(
    make_raw: RawFactory, workspace: Path
) -> None:
    server = await make_raw()
    result = (await server.initialize(workspace, **FULL_CAPS))["result"]
    assert result["serverInfo"]["name"] == "pygent"
    assert result["serverInfo"]["version"]
    caps = result["capabilities"]
    assert caps["textDocumentSync"] == {"openClose": True, "change": 2}
    assert caps["executeCommandProvider"]["commands"] == ["pygent.prompt", "pygent.cancel"]
    pygent = caps["experimental"]["pygent"]
    assert pygent["protocolVersion"] == 1
    assert pygent["permissionRequests"] is True
    assert "pygent/session/prompt" in pygent["methods"]
    assert caps["positionEncoding"] == "utf-16"
    server.send({"jsonrpc": "2.0", "id": "bye", "method": "shutdown"})
    assert (await server.response("bye"))["result"] is None
    server.send({"jsonrpc": "2.0", "method": "exit"})
    assert await server.close() == 0
    assert server.garbage == []


async def test_position_encoding_follows_client_preference(
    make_raw: RawFactory, workspace: Path
) -> None:
    server = await make_raw()
    result = await server.initialize(workspace, general={"positionEncodings": ["utf-8", "utf-16"]})
    assert result["result"]["capabilities"]["positionEncoding"] == "utf-8"


async def test_request_before_initialize_is_refused_then_initialize_works(
    make_raw: RawFactory, workspace: Path
) -> None:
    server = await make_raw()
    server.send({"jsonrpc": "2.0", "id": 1, "method": "pygent/session/list", "params": {}})
    error = (await server.response(1))["error"]
    assert error["code"] == -32002
    assert "initialize" in error["message"]
    result = await server.initialize(workspace)
    assert result["result"]["serverInfo"]["name"] == "pygent"


async def test_exit_without_shutdown_exits_with_1(make_raw: RawFactory, workspace: Path) -> None:
    server = await make_raw()
    await server.initialize(workspace)
    server.send({"jsonrpc": "2.0", "method": "exit"})
    assert await server.close() == 1


async def test_malformed_json_unknown_method_and_bad_params_do_not_kill_the_server(
    make_raw: RawFactory, workspace: Path
) -> None:
    server = await make_raw()
    await server.initialize(workspace)
    server.send_bytes(b"Content-Length: 9\r\n\r\n{bad json")
    parse_error = await server.next_message()
    assert parse_error["error"]["code"] == -32700
    assert parse_error["id"] is None
    server.send_bytes(b"X-Garbage-Header\r\n\r\n")  # no Content-Length at all
    no_length = await server.next_message()
    assert no_length["error"]["code"] == -32700
    server.send({"jsonrpc": "2.0", "id": 2, "method": "pygent/doesNotExist", "params": {}})
    error = (await server.response(2))["error"]
    assert error["code"] == -32601
    assert "pygent/doesNotExist" in error["message"]
    assert error["data"]["code"] == "method_not_found"
    session_id = await new_session(server)
    bad = prompt_msg(3, session_id)
    bad["params"]["prompt"] = [{"type": "text"}]
    server.send(bad)
    error = (await server.response(3))["error"]
    assert error == {
        "code": -32602,
        "message": "prompt[0].text: field required",
        "data": {"code": "invalid_params"},
    }
    server.send({"jsonrpc": "2.0", "id": 4, "method": "pygent/session/prompt", "params": {}})
    error = (await server.response(4))["error"]
    assert error["code"] == -32602 and "sessionId" in error["message"]
    server.send(
        {"jsonrpc": "2.0", "id": 5, "method": "pygent/session/new", "params": {"cwd": "rel"}}
    )
    error = (await server.response(5))["error"]
    assert error["code"] == -32602 and error["message"].startswith("cwd:")
    server.send({"jsonrpc": "2.0", "id": 6, "method": "pygent/session/prompt", "params": [1, 2]})
    assert (await server.response(6))["error"]["code"] == -32602
    server.send(prompt_msg(7, "01J00000000000000000000000"))
    error = (await server.response(7))["error"]
    assert error["data"]["code"] == "session_not_found"
    # Still alive and answering.
    server.send({"jsonrpc": "2.0", "id": 8, "method": "pygent/session/list", "params": {}})
    sessions = (await server.response(8))["result"]["sessions"]
    assert [s["sessionId"] for s in sessions] == [session_id]
    assert server.garbage == []


async def test_huge_message_is_refused_and_the_stream_stays_in_sync(
    make_raw: RawFactory, workspace: Path
) -> None:
    server = await make_raw(PYGENT_MAX_MESSAGE_BYTES="200000")
    await server.initialize(workspace)
    session_id = await new_session(server)
    server.send(prompt_msg(1, session_id, "x" * 500_000))
    error = await server.next_message()
    assert error["error"]["code"] == -32700
    assert "exceeds the limit" in error["error"]["message"]
    # A large message under the limit is processed normally (here: a validation error).
    big = prompt_msg(2, session_id, "y" * 150_000)
    big["params"]["prompt"].append({"type": "bogus"})
    server.send(big)
    response = await server.response(2)
    assert response["error"]["code"] == -32602
    assert response["error"]["message"].startswith("prompt[1]")


async def test_short_content_length_costs_one_frame_and_later_frames_are_answered(
    make_raw: RawFactory, workspace: Path
) -> None:
    server = await make_raw()
    await server.initialize(workspace)
    body = b'{"jsonrpc": "2.0", "id": "short", "method": "pygent/session/list", "params": {}}'
    server.send_bytes(b"Content-Length: %d\r\n\r\n" % (len(body) - 10) + body)
    parse_error = await server.next_message()
    assert parse_error["error"]["code"] == -32700 and parse_error["id"] is None
    assert parse_error["error"]["data"]["code"] == "parse_error"
    for msg_id in (1, 2):
        server.send({"jsonrpc": "2.0", "id": msg_id, "method": "pygent/session/list", "params": {}})
        assert (await server.response(msg_id))["result"] == {"sessions": []}
    assert server.garbage == []


async def test_absurd_content_length_is_answered_and_the_next_frame_is_served(
    make_raw: RawFactory, workspace: Path
) -> None:
    server = await make_raw()
    await server.initialize(workspace)
    server.send_bytes(b'Content-Length: 99999999999999999999\r\n\r\n{"jsonrpc":')
    refused = await server.next_message()
    assert refused["error"]["code"] == -32700 and refused["id"] is None
    assert "exceeds the limit" in refused["error"]["message"]
    server.send({"jsonrpc": "2.0", "id": "after", "method": "pygent/session/list", "params": {}})
    assert (await server.response("after"))["result"] == {"sessions": []}


async def test_session_methods_new_list_load_set_mode_set_model_delete(
    make_client: ClientFactory, fake_llm: FakeLLMThread, workspace: Path
) -> None:
    fake_llm.script([{"text": "first answer"}, {"text": "second answer"}])
    client = await make_client()
    session_id = await wait(client.new_session(workspace))
    await wait(client.prompt(session_id, "remember mango"))
    sessions = await wait(client.list_sessions())
    assert sessions[0]["sessionId"] == session_id
    assert sessions[0]["title"] == "remember mango"
    assert sessions[0]["messageCount"] >= 2
    assert {"updatedAt", "messageCount", "title", "sessionId"} <= set(sessions[0])

    async with client.stream(session_id) as stream:
        await wait(client.set_mode(session_id, "plan"))
        mode_update = await wait(stream.__anext__())
        while mode_update["update"]["sessionUpdate"] != "current_mode_update":
            mode_update = await wait(stream.__anext__())
    assert mode_update["update"] == {
        "sessionUpdate": "current_mode_update",
        "currentModeId": "plan",
    }
    with pytest.raises(PygentClientError) as info:
        await wait(client.set_mode(session_id, "yolo"))
    assert info.value.code == -32602 and "modeId" in info.value.message

    await wait(client.set_model(session_id, "openai/other-model"))
    fake_llm.requests.clear()
    await wait(client.prompt(session_id, "again"))
    assert fake_llm.requests[-1]["model"] == "other-model"

    # A second client (a new editor window) loads the session: history arrives before the answer.
    other = await make_client()
    async with other.stream(session_id) as stream:
        result = await wait(other.load_session(session_id))
        replay = stream.drain()
    assert result["modes"]["currentModeId"] == "plan"
    assert kinds(replay)[0] == "user_message_chunk"
    assert replay[0]["update"]["content"]["text"] == "remember mango"
    assert "agent_message_chunk" in kinds(replay)

    await wait(other.delete_session(session_id))
    assert await wait(other.list_sessions()) == []
    with pytest.raises(PygentClientError) as info:
        await wait(other.load_session(session_id))
    assert info.value.error_code == "session_not_found"
    assert info.value.code == -31008


async def test_execute_command_prompt_answers_text_and_shows_message(
    make_client: ClientFactory, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([{"text": "The answer is 42."}])
    client = await make_client(apply_edit=None, request_permission=None)
    result = await wait(
        client.request(
            "workspace/executeCommand", {"command": "pygent.prompt", "arguments": ["question"]}
        )
    )
    assert result["stopReason"] == "end_turn"
    assert result["text"] == "The answer is 42."
    shown = [p for m, p in client.notifications if m == "window/showMessage"]
    assert shown and shown[-1]["message"] == "The answer is 42."
    with pytest.raises(PygentClientError) as info:
        await wait(client.request("workspace/executeCommand", {"command": "pygent.nope"}))
    assert info.value.code == -32602


async def test_client_vanishing_mid_turn_saves_session_and_exits_cleanly(
    make_raw: RawFactory, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([{"text": "word " * 400, "delay": 0.05}])
    server = await make_raw()
    await server.initialize(workspace, **FULL_CAPS)
    session_id = await new_session(server)
    server.send(prompt_msg("p", session_id, "keep talking"))
    while True:
        message = await server.next_message()
        if message.get("method") == "pygent/session/update":
            break
    started = asyncio.get_running_loop().time()
    assert await server.close() == 0  # stdin closed: the turn is cancelled, the server exits
    assert asyncio.get_running_loop().time() - started < 25
    from pygent.agent.session import SessionStore

    session = SessionStore(workspace).load(session_id)
    assert session.messages[0]["role"] == "user"
    assert "keep talking" in str(session.messages[0]["content"])


STRAY_OUTPUT = """
import os, sys
import pygent.server.main as main
original = main.guard_stdio
def noisy():
    fds = original()
    print("stray print after the guard")
    os.write(1, b"stray bytes on fd 1")
    os.system("echo child process output")
    return fds
main.guard_stdio = noisy
sys.argv = ["pygent", "serve"]
from pygent.cli import cli
cli()
"""


async def test_stdout_carries_only_frames_even_when_something_prints(
    make_raw: RawFactory, workspace: Path, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script(
        [
            {"tool_calls": [{"name": "shell", "arguments": {"command": "echo hi; echo err >&2"}}]},
            {"text": "done"},
        ]
    )
    server = await make_raw([sys.executable, "-c", STRAY_OUTPUT])
    await server.initialize(workspace, **FULL_CAPS)
    session_id = await new_session(server)
    server.send(
        {
            "jsonrpc": "2.0",
            "id": "mode",
            "method": "pygent/session/setMode",
            "params": {"sessionId": session_id, "modeId": "auto"},
        }
    )
    await server.response("mode")
    server.send(prompt_msg("p", session_id, "run it"))
    response = await server.response("p")
    assert response["result"]["stopReason"] == "end_turn"
    server.send({"jsonrpc": "2.0", "id": "s", "method": "shutdown"})
    await server.response("s")
    server.send({"jsonrpc": "2.0", "method": "exit"})
    assert await server.close() == 0
    assert server.garbage == []
    assert all(m.get("jsonrpc") == "2.0" for m in server.messages)


async def test_unknown_notification_and_responses_to_nothing_are_ignored(
    make_raw: RawFactory, workspace: Path
) -> None:
    server = await make_raw()
    await server.initialize(workspace)
    server.send({"jsonrpc": "2.0", "method": "$/someNotification", "params": {}})
    server.send({"jsonrpc": "2.0", "id": "never-asked", "result": {"x": 1}})
    server.send({"jsonrpc": "2.0", "method": "pygent/session/cancel", "params": {}})
    missing = (workspace / "missing.py").as_uri()
    server.send(
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didChange",
            "params": {
                "textDocument": {"uri": missing, "version": 2},
                "contentChanges": [{"text": "x"}],
            },
        }
    )
    server.send(
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didClose",
            "params": {"textDocument": {"uri": missing}},
        }
    )
    server.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"bogus": 1}})
    server.send({"jsonrpc": "2.0", "id": 9, "method": "pygent/session/list"})
    assert (await server.response(9))["result"] == {"sessions": []}
    assert [m for m in server.messages if "error" in m] == []


async def test_execute_command_cancel_stops_the_command_turn(
    make_client: ClientFactory, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([{"text": "word " * 400, "delay": 0.05}])
    client = await make_client(apply_edit=None, request_permission=None)
    async with client.stream() as stream:
        task = asyncio.ensure_future(
            wait(
                client.request(
                    "workspace/executeCommand", {"command": "pygent.prompt", "arguments": ["talk"]}
                )
            )
        )
        await wait(stream.__anext__())
    await wait(client.request("workspace/executeCommand", {"command": "pygent.cancel"}))
    result = await wait(task, 30)
    assert result["stopReason"] == "cancelled"


async def test_compact_summarises_and_a_missing_session_is_named(
    make_client: ClientFactory, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([{"text": "one"}, {"text": "two"}, {"text": "three"}])
    client = await make_client()
    session_id = await wait(client.new_session())
    for text in ("first question", "second question", "third question"):
        await wait(client.prompt(session_id, text))
    result = await wait(client.request("pygent/session/compact", {"sessionId": session_id}))
    assert isinstance(result["compacted"], bool)
    with pytest.raises(PygentClientError) as info:
        await wait(client.request("pygent/session/compact", {}))
    assert info.value.code == -32602 and "sessionId" in info.value.message
    with pytest.raises(PygentClientError) as info:
        await wait(
            client.request("pygent/session/compact", {"sessionId": "01J00000000000000000000000"})
        )
    assert info.value.error_code == "session_not_found"


async def test_session_new_lists_every_mode_with_its_name_and_description(
    make_raw: RawFactory, workspace: Path
) -> None:
    from pygent.protocol.modes import MODE_DESCRIPTIONS, MODE_NAMES, PERMISSION_MODES

    server = await make_raw()
    await server.initialize(workspace, **FULL_CAPS)
    server.send({"jsonrpc": "2.0", "id": "new", "method": "pygent/session/new", "params": {}})
    modes = (await server.response("new"))["result"]["modes"]
    assert modes["currentModeId"] in PERMISSION_MODES
    assert [m["id"] for m in modes["availableModes"]] == list(PERMISSION_MODES)
    for mode in modes["availableModes"]:
        assert mode["name"] == MODE_NAMES[mode["id"]]
        assert mode["description"] == MODE_DESCRIPTIONS[mode["id"]]
    server.send({"jsonrpc": "2.0", "method": "exit"})
    await server.close()
