"""The JSON-RPC port's pygent extensions: ``_meta.pygent.files`` on applyEdit, ``outcome: rejected``.

The port is driven in process with a scripted connection (the transport), so every kind of client
answer can be fed: accept, reject, failure (``failedChange``), a JSON-RPC error, permission answers
of every kind, and a dismissed ``window/showMessageRequest``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import pytest

from pygent.edits.changes import ChangeSet, CreateFile, DeleteFile, RenameFile, TextChange
from pygent.protocol.port import ALLOW_ONCE, REJECT_ALWAYS, REJECT_ONCE, PermissionRequest
from pygent.protocol.updates import tool_call_update
from pygent.server.port import JsonRpcPort, edit_files_meta
from pygent.server.protocol import ClientFeatures


class ScriptedConnection:
    """Answers each server request with the next scripted answer (an Exception is raised)."""

    def __init__(self, *answers: Any, permission_requests: bool = True) -> None:
        self.features = ClientFeatures(
            apply_edit=True, document_changes=True, permission_requests=permission_requests
        )
        self.answers = list(answers)
        self.requests: list[tuple[str, Any]] = []
        self.notifications: list[tuple[str, Any]] = []

    def notify(self, method: str, params: Any) -> None:
        self.notifications.append((method, params))

    def request(self, method: str, params: Any) -> tuple[str, Awaitable[Any]]:
        self.requests.append((method, params))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            future.set_exception(answer)
        else:
            future.set_result(answer)
        return f"pygent-{len(self.requests)}", future

    def cancel_request(self, request_id: str) -> None:
        pass

    def updates(self) -> list[dict[str, Any]]:
        return [p["update"] for m, p in self.notifications if m == "pygent/session/update"]


def _edit(path: Path, call_id: str = "call_1") -> ChangeSet:
    return ChangeSet("Edit a.py", [TextChange(path, "a = 1\n", "a = 2\n")], tool_call_id=call_id)


def _ask(call_id: str = "call_1") -> PermissionRequest:
    return {
        "toolCall": {"toolCallId": call_id, "title": "Run `make`", "kind": "execute"},
        "options": [ALLOW_ONCE, REJECT_ONCE, REJECT_ALWAYS],
        "_meta": {},
    }


def _end(port: JsonRpcPort, conn: ScriptedConnection, call_id: str = "call_1") -> dict[str, Any]:
    port.emit(tool_call_update(call_id, "failed"))
    port.flush()
    return conn.updates()[-1]


def _outcome(update: dict[str, Any]) -> Any:
    return (update.get("_meta") or {}).get("pygent", {}).get("outcome")


def test_files_meta_covers_create_overwrite_rename_and_delete(tmp_path: Path) -> None:
    kept = tmp_path / "kept.py"
    kept.write_text("old\n", encoding="utf-8")
    moved = tmp_path / "moved.py"
    moved.write_text("body\n", encoding="utf-8")
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\xff\xfe\x00")
    change_set = ChangeSet(
        "Refactor",
        [
            CreateFile(tmp_path / "new.py", "x = 1\n"),
            CreateFile(kept, "new\n", overwrite=True),
            RenameFile(moved, tmp_path / "renamed.py"),
            DeleteFile(tmp_path / "gone.py", "bye\n"),
            RenameFile(binary, tmp_path / "blob2.bin"),
        ],
    )
    assert edit_files_meta(change_set) == [
        {"uri": (tmp_path / "new.py").as_uri(), "oldText": None, "newText": "x = 1\n"},
        {"uri": kept.as_uri(), "oldText": "old\n", "newText": "new\n"},
        {
            "uri": (tmp_path / "renamed.py").as_uri(),
            "oldUri": moved.as_uri(),
            "oldText": "body\n",
            "newText": "body\n",
        },
        {"uri": (tmp_path / "gone.py").as_uri(), "oldText": "bye\n", "newText": None},
        {
            "uri": (tmp_path / "blob2.bin").as_uri(),
            "oldUri": binary.as_uri(),
            "oldText": None,
            "newText": None,
        },
    ]


async def test_apply_edit_params_carry_the_files_and_the_tool_call_id(tmp_path: Path) -> None:
    conn = ScriptedConnection({"applied": True})
    port = JsonRpcPort(conn, "s1")
    result = await port.apply_edit(_edit(tmp_path / "a.py", "call_7"))
    assert result.applied
    method, params = conn.requests[0]
    assert method == "workspace/applyEdit"
    assert params["_meta"] == {
        "pygent": {
            "toolCallId": "call_7",
            "files": [
                {"uri": (tmp_path / "a.py").as_uri(), "oldText": "a = 1\n", "newText": "a = 2\n"}
            ],
        }
    }
    assert params["edit"]["documentChanges"]  # the standard edit is still what is applied
    assert _outcome(_end(port, conn, "call_7")) is None  # applied: no rejection to report


@pytest.mark.parametrize(
    ("answer", "rejected"),
    [
        ({"applied": False}, True),
        ({"applied": False, "failureReason": "not this way"}, True),
        ({"applied": False, "failureReason": "disk full", "failedChange": 0}, False),
        (RuntimeError("the editor crashed"), False),
    ],
)
async def test_only_a_person_rejecting_the_edit_marks_the_call_rejected(
    tmp_path: Path, answer: Any, rejected: bool
) -> None:
    conn = ScriptedConnection(answer)
    port = JsonRpcPort(conn, "s1")
    result = await port.apply_edit(_edit(tmp_path / "a.py"))
    assert not result.applied
    last = _end(port, conn)
    assert last["status"] == "failed"  # ACP's status is kept for every client
    assert _outcome(last) == ("rejected" if rejected else None)


@pytest.mark.parametrize(
    ("answer", "rejected"),
    [
        ({"outcome": {"outcome": "selected", "optionId": "reject_once"}}, True),
        ({"outcome": {"outcome": "selected", "optionId": "reject_always"}}, True),
        ({"outcome": {"outcome": "selected", "optionId": "allow_once"}}, False),
        ({"outcome": {"outcome": "cancelled"}}, False),
        ({"outcome": {"outcome": "selected", "optionId": "no_such_option"}}, False),
        ({"nonsense": True}, False),
    ],
)
async def test_permission_rejections_mark_the_call_rejected(answer: Any, rejected: bool) -> None:
    conn = ScriptedConnection(answer)
    port = JsonRpcPort(conn, "s1")
    await port.request_permission(_ask())
    assert _outcome(_end(port, conn)) == ("rejected" if rejected else None)


async def test_dismissed_show_message_request_is_a_rejection() -> None:
    conn = ScriptedConnection(None, permission_requests=False)
    port = JsonRpcPort(conn, "s1")
    outcome = await port.request_permission(_ask())
    assert outcome == {"outcome": "selected", "optionId": "reject_once"}
    assert conn.requests[0][0] == "window/showMessageRequest"
    assert _outcome(_end(port, conn)) == "rejected"


async def test_rejected_mark_keeps_other_meta_and_applies_once_to_the_failed_end() -> None:
    conn = ScriptedConnection({"outcome": {"outcome": "selected", "optionId": "reject_once"}})
    port = JsonRpcPort(conn, "s1")
    await port.request_permission(_ask())
    port.emit(tool_call_update("call_1", "in_progress"))
    port.emit(tool_call_update("other", "failed"))
    update = {**tool_call_update("call_1", "failed"), "_meta": {"pygent": {"x": 1}, "y": 2}}
    port.emit(update)
    port.emit(tool_call_update("call_1", "failed"))  # a later update is not marked again
    port.flush()
    sent = conn.updates()
    assert [_outcome(u) for u in sent] == [None, None, "rejected", None]
    assert sent[2]["_meta"] == {"pygent": {"x": 1, "outcome": "rejected"}, "y": 2}
    assert "_meta" not in update or update["_meta"] == {"pygent": {"x": 1}, "y": 2}  # not mutated
