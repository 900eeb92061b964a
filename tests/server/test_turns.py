"""Turns through ``pygent serve``: updates, edits, permissions, progress, cancellation, concurrency."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from server_helpers import (
    UTIL_PY,
    ClientFactory,
    Recorder,
    kinds,
    text_of,
    tool_messages,
    until,
    wait,
)

from pygent.client import PygentClient, PygentClientError
from pygent.testing.fake_llm import FakeLLMThread

EDIT_CALL = {
    "tool_calls": [
        {
            "name": "edit_file",
            "arguments": {
                "path": "util.py",
                "old_string": "def add(a, b):\n",
                "new_string": 'def add(a, b):\n    """Add two numbers."""\n',
            },
        }
    ]
}


def shell_call(command: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "shell", "arguments": {"command": command}}]}


async def run_prompt(
    client: PygentClient, session_id: str, text: str, **kwargs: Any
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    async with client.stream(session_id) as stream:
        task = asyncio.ensure_future(wait(client.prompt(session_id, text, **kwargs)))
        updates = [u async for u in stream.until(task)]
    return task.result(), updates


async def test_turn_streams_text_and_answers_stop_reason_and_usage(
    make_client: ClientFactory, fake_llm: FakeLLMThread
) -> None:
    answer = "Hello! " * 40
    fake_llm.script([{"text": answer}])
    client = await make_client()
    session_id = await wait(client.new_session())
    result, updates = await run_prompt(client, session_id, "hi")
    assert result["stopReason"] == "end_turn"
    assert result["usage"]["totalTokens"] > 0
    assert text_of(updates) == answer  # coalesced, nothing lost
    chunk_count = kinds(updates).count("agent_message_chunk")
    assert 1 <= chunk_count < len(answer) // 4  # the fake sends 4-char chunks: they were merged


async def test_edit_goes_to_apply_edit_with_annotations_and_document_version(
    make_client: ClientFactory, fake_llm: FakeLLMThread, recorder: Recorder, workspace: Path
) -> None:
    fake_llm.script([EDIT_CALL, {"text": "Docstring added."}])
    client = await make_client()
    await client.did_open(workspace / "util.py", UTIL_PY, version=7)
    session_id = await wait(client.new_session())
    result, updates = await run_prompt(client, session_id, "add a docstring", work_done_token="t-3")
    assert result["stopReason"] == "end_turn"
    assert len(recorder.edits) == 1
    assert recorder.permissions == []  # the review is the approval
    assert recorder.events.index("tool_call_update:in_progress") < recorder.events.index(
        "apply_edit"
    )
    params = recorder.edits[0]
    assert params["label"]
    change = params["edit"]["documentChanges"][0]
    assert change["textDocument"] == {"uri": (workspace / "util.py").as_uri(), "version": 7}
    annotation_id = change["edits"][0]["annotationId"]
    assert params["edit"]["changeAnnotations"][annotation_id]["needsConfirmation"] is True
    diff_updates = [
        u["update"]
        for u in updates
        if u["update"]["sessionUpdate"] == "tool_call_update"
        and any(c.get("type") == "diff" for c in u["update"].get("content") or [])
    ]
    assert diff_updates
    assert "Add two numbers" in next(
        c["newText"] for c in diff_updates[0]["content"] if c["type"] == "diff"
    )
    statuses = [
        u["update"].get("status")
        for u in updates
        if u["update"]["sessionUpdate"] == "tool_call_update"
    ]
    assert statuses[-1] == "completed"
    # The server never writes the file itself when the editor applies edits.
    assert (workspace / "util.py").read_text() == UTIL_PY
    progress = [p for m, p in client.notifications if m == "$/progress"]
    assert next(p["value"]["kind"] for p in progress) == "begin"
    assert [p["value"]["kind"] for p in progress][-1] == "end"
    assert any(p["value"]["kind"] == "report" for p in progress)
    assert all(p["token"] == "t-3" for p in progress)


async def test_rejected_edit_is_reported_to_model_with_failure_reason(
    make_client: ClientFactory, fake_llm: FakeLLMThread, recorder: Recorder
) -> None:
    recorder.edit_answer = {"applied": False, "failureReason": "use Google style"}
    fake_llm.script([EDIT_CALL, {"text": "OK."}])
    client = await make_client()
    session_id = await wait(client.new_session())
    result, updates = await run_prompt(client, session_id, "add a docstring")
    assert result["stopReason"] == "end_turn"
    results = tool_messages(fake_llm)
    assert any("use Google style" in text for text in results), results
    failed = [
        u["update"]
        for u in updates
        if u["update"]["sessionUpdate"] == "tool_call_update"
        and u["update"].get("status") == "failed"
    ]
    assert failed


async def test_edit_without_change_annotation_support_has_no_annotations(
    make_client: ClientFactory, fake_llm: FakeLLMThread, recorder: Recorder
) -> None:
    fake_llm.script([EDIT_CALL, {"text": "Done."}])
    client = await make_client(change_annotations=False)
    session_id = await wait(client.new_session())
    await run_prompt(client, session_id, "add a docstring")
    edit = recorder.edits[0]["edit"]
    assert "changeAnnotations" not in edit
    assert all("annotationId" not in e for e in edit["documentChanges"][0]["edits"])


async def test_client_without_apply_edit_is_asked_and_server_writes_to_disk(
    make_client: ClientFactory, fake_llm: FakeLLMThread, recorder: Recorder, workspace: Path
) -> None:
    fake_llm.script([EDIT_CALL, {"text": "Done."}])
    client = await make_client(apply_edit=None)
    session_id = await wait(client.new_session())
    result, _ = await run_prompt(client, session_id, "add a docstring")
    assert result["stopReason"] == "end_turn"
    assert len(recorder.permissions) == 1
    assert recorder.permissions[0]["toolCall"]["kind"] == "edit"
    assert '"""Add two numbers."""' in (workspace / "util.py").read_text()


async def test_permission_request_shape_and_allow(
    make_client: ClientFactory, fake_llm: FakeLLMThread, recorder: Recorder
) -> None:
    fake_llm.script([shell_call("touch marker && echo from-shell"), {"text": "Ran it."}])
    client = await make_client()
    session_id = await wait(client.new_session())
    result, _updates = await run_prompt(client, session_id, "run echo")
    assert result["stopReason"] == "end_turn"
    request = recorder.permissions[0]
    assert request["sessionId"] == session_id
    assert request["toolCall"]["toolCallId"]
    option_kinds = {o["kind"] for o in request["options"]}
    assert {"allow_once", "reject_once"} <= option_kinds
    names = {o["optionId"]: o["name"] for o in request["options"]}
    assert names["allow_once"] == "Allow once" and names["reject_once"] == "Reject once"
    assert any("from-shell" in text for text in tool_messages(fake_llm))
    # On the wire the tool call comes first, then the question about it.
    assert recorder.events.index("tool_call:pending") < recorder.events.index("permission")


async def test_permission_rejected_tells_the_model(
    make_client: ClientFactory, fake_llm: FakeLLMThread, recorder: Recorder, workspace: Path
) -> None:
    recorder.permission_answer = "reject_once"
    fake_llm.script([shell_call("touch created-by-shell"), {"text": "OK."}])
    client = await make_client()
    session_id = await wait(client.new_session())
    result, _ = await run_prompt(client, session_id, "touch a file")
    assert result["stopReason"] == "end_turn"
    assert not (workspace / "created-by-shell").exists()
    assert tool_messages(fake_llm)  # the refusal went back to the model


async def test_cancel_by_session_cancel_during_streaming(
    make_client: ClientFactory, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([{"text": "word " * 400, "delay": 0.05}])
    client = await make_client()
    session_id = await wait(client.new_session())
    async with client.stream(session_id) as stream:
        task = asyncio.ensure_future(wait(client.prompt(session_id, "talk")))
        first = await wait(stream.__anext__())
        assert first["update"]["sessionUpdate"] == "agent_message_chunk"
        await client.cancel(session_id)
        result = await wait(task, 30)
    assert result["stopReason"] == "cancelled"
    # The session is usable again.
    fake_llm.script([{"text": "again"}])
    result, _ = await run_prompt(client, session_id, "again")
    assert result["stopReason"] == "end_turn"


async def test_cancel_by_cancel_request_during_streaming(
    make_client: ClientFactory, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([{"text": "word " * 400, "delay": 0.05}])
    client = await make_client()
    session_id = await wait(client.new_session())
    async with client.stream(session_id) as stream:
        msg_id, task = client.request_with_id(
            "pygent/session/prompt",
            {"sessionId": session_id, "prompt": [{"type": "text", "text": "talk"}]},
        )
        await wait(stream.__anext__())
        await client.cancel_request(msg_id)
        result = await wait(task, 30)
    assert result["stopReason"] == "cancelled"


async def test_cancel_during_shell_tool(
    make_client: ClientFactory, fake_llm: FakeLLMThread, workspace: Path
) -> None:
    fake_llm.script([shell_call("touch shell-started && sleep 60"), {"text": "never"}])
    client = await make_client(initialization_options={"permissionMode": "auto"})
    session_id = await wait(client.new_session())
    async with client.stream(session_id) as stream:
        task = asyncio.ensure_future(wait(client.prompt(session_id, "sleep")))
        async for params in stream:
            if params["update"]["sessionUpdate"] == "tool_call":
                break
        await wait(until((workspace / "shell-started").exists))  # the command is running
        started = asyncio.get_running_loop().time()
        await client.cancel(session_id)
        result = await wait(task, 30)
    assert result["stopReason"] == "cancelled"
    assert asyncio.get_running_loop().time() - started < 20


async def test_cancel_while_waiting_for_permission(
    make_client: ClientFactory, fake_llm: FakeLLMThread, recorder: Recorder
) -> None:
    recorder.permission_answer = "hang"  # a client that never answers
    fake_llm.script([shell_call("touch marker2 && echo hi"), {"text": "never"}])
    client = await make_client()
    session_id = await wait(client.new_session())
    task = asyncio.ensure_future(wait(client.prompt(session_id, "echo")))
    await wait(recorder.permission_asked.wait())
    await asyncio.sleep(0.3)
    assert not task.done()  # the turn waits for the answer
    await client.cancel(session_id)
    result = await wait(task, 30)
    assert result["stopReason"] == "cancelled"
    # The server withdrew its question ($/cancelRequest), so the client's handler stopped.
    await wait(recorder.hang_cancelled.wait(), 10)


async def test_two_sessions_run_at_once_and_a_busy_session_refuses(
    make_client: ClientFactory, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([{"text": "slow " * 60, "delay": 0.02}, {"text": "slow " * 60, "delay": 0.02}])
    client = await make_client()
    first = await wait(client.new_session())
    second = await wait(client.new_session())
    one = asyncio.ensure_future(wait(client.prompt(first, "one")))
    two = asyncio.ensure_future(wait(client.prompt(second, "two")))
    async with client.stream(first) as stream:
        await wait(stream.__anext__())
    with pytest.raises(PygentClientError) as info:
        await wait(client.prompt(first, "again"))
    assert info.value.error_code == "session_busy"
    assert info.value.code == -31009
    results = await wait(asyncio.gather(one, two))
    assert [r["stopReason"] for r in results] == ["end_turn", "end_turn"]


async def test_open_document_overlay_is_what_the_agent_reads(
    make_client: ClientFactory, fake_llm: FakeLLMThread, workspace: Path
) -> None:
    fake_llm.script(
        [{"tool_calls": [{"name": "read_file", "arguments": {"path": "util.py"}}]}, {"text": "ok"}]
    )
    client = await make_client()
    path = workspace / "util.py"
    await client.did_open(path, UTIL_PY, version=1)
    # An incremental change: insert a comment line at the top (unsaved in the editor).
    await client.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": path.as_uri(), "version": 2},
            "contentChanges": [
                {
                    "range": {
                        "start": {"line": 0, "character": 0},
                        "end": {"line": 0, "character": 0},
                    },
                    "text": "# unsaved é\n",
                }
            ],
        },
    )
    session_id = await wait(client.new_session())
    await run_prompt(client, session_id, "read util.py")
    assert any("# unsaved é" in text for text in tool_messages(fake_llm))
    await client.did_close(path)
    fake_llm.script(
        [{"tool_calls": [{"name": "read_file", "arguments": {"path": "util.py"}}]}, {"text": "ok"}]
    )
    await run_prompt(client, session_id, "read it again")
    last_tool_result = [m for m in fake_llm.requests[-1]["messages"] if m["role"] == "tool"][-1]
    assert "def add(a, b)" in str(last_tool_result["content"])
    assert "# unsaved" not in str(last_tool_result["content"])


async def test_llm_error_is_a_json_rpc_error_with_code(
    make_client: ClientFactory, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([{"error": "model_not_found"}])
    client = await make_client()
    session_id = await wait(client.new_session())
    with pytest.raises(PygentClientError) as info:
        await wait(client.prompt(session_id, "hi"))
    assert info.value.error_code == "model_not_found"
    assert info.value.code == -31002
    assert "fake-model" in info.value.message


async def test_follow_agent_shows_edited_documents_without_focus(
    make_client: ClientFactory, fake_llm: FakeLLMThread, workspace: Path
) -> None:
    shown: list[dict[str, Any]] = []
    asked_to_show = asyncio.Event()

    def show_document(params: dict[str, Any]) -> dict[str, Any]:
        shown.append(params)
        asked_to_show.set()
        return {"success": True}

    fake_llm.script([EDIT_CALL, {"text": "Done."}])
    client = await make_client(
        initialization_options={"followAgent": True}, show_document=show_document
    )
    session_id = await wait(client.new_session())
    await run_prompt(client, session_id, "add a docstring")
    await wait(asked_to_show.wait(), 60)
    assert shown == [{"uri": (workspace / "util.py").as_uri(), "takeFocus": False}]


async def test_follow_agent_setting_applies_when_the_editor_does_not_say(
    make_client: ClientFactory, fake_llm: FakeLLMThread, workspace: Path
) -> None:
    from pygent.settings import paths

    user_config = paths.user_config_file()
    user_config.parent.mkdir(parents=True, exist_ok=True)
    user_config.write_text("[ui]\nfollow_agent = true\n", encoding="utf-8")
    shown: list[dict[str, Any]] = []
    asked_to_show = asyncio.Event()

    def show_document(params: dict[str, Any]) -> dict[str, Any]:
        shown.append(params)
        asked_to_show.set()
        return {"success": True}

    fake_llm.script([EDIT_CALL, {"text": "Done."}])
    client = await make_client(show_document=show_document)  # no followAgent option
    session_id = await wait(client.new_session())
    await run_prompt(client, session_id, "add a docstring")
    await wait(asked_to_show.wait(), 60)
    assert shown == [{"uri": (workspace / "util.py").as_uri(), "takeFocus": False}]


async def test_cancel_from_the_progress_ui(
    make_client: ClientFactory, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([{"text": "word " * 400, "delay": 0.05}])
    client = await make_client()
    session_id = await wait(client.new_session())
    async with client.stream(session_id) as stream:
        task = asyncio.ensure_future(
            wait(client.prompt(session_id, "talk", work_done_token="tok-1"))
        )
        await wait(stream.__anext__())
        await client.notify("window/workDoneProgress/cancel", {"token": "tok-1"})
        result = await wait(task, 30)
    assert result["stopReason"] == "cancelled"
