"""The shared recorded turn: ``tests/fixtures/recorded_turn.json``, generated here from the real server.

One turn of a real ``pygent serve`` (real litellm over HTTP to the fake LLM) exercising every update
kind and every server -> client request a frontend must handle: a retry notice, thought and answer
text, a plan, usage, a mode change, an edit accepted in review (``workspace/applyEdit`` with
``_meta.pygent.files``), an edit rejected in review and a permission request answered "Reject"
(both ending with ``_meta.pygent.outcome: "rejected"``). The TUI, Neovim and VS Code suites replay
the file, so all frontends are tested against the same, real wire traffic.

The test fails when the checked-in file is stale. Regenerate it with::

    PYGENT_UPDATE_FIXTURES=1 python -m pytest tests/server/test_recorded_turn.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from server_helpers import SERVER_CMD, UTIL_PY, wait

from pygent.client import PygentClient
from pygent.testing.fake_llm import FakeLLMThread

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "recorded_turn.json"
#: What the workspace root is replaced with in the file (paths and ``file://`` URIs).
ROOT_PLACEHOLDER = "/workspace"
SESSION_PLACEHOLDER = "SESSION"
UPDATE_ENV = "PYGENT_UPDATE_FIXTURES"
#: Read at import: the suite's autouse fixture clears every PYGENT_* variable before a test runs.
UPDATE = bool(os.environ.get(UPDATE_ENV))

PROMPT = "Add a docstring to util.py, note it in NOTES.md, then clean the build log."
PLAN_ENTRIES = [
    {"content": "Add a docstring to add()", "status": "in_progress", "priority": "high"},
    {"content": "Write NOTES.md", "status": "pending", "priority": "medium"},
    {"content": "Remove build.log", "status": "pending", "priority": "low"},
]
ANSWER = (
    "Done: `util.py` now documents `add()` (see util.py:2). I left NOTES.md alone as you asked "
    "and did not run `rm`. Docstring style: https://peps.python.org/pep-0257/"
)
SCRIPT: list[dict[str, Any]] = [
    {"error": {"status": 429, "retry_after": 0.1}},
    {
        "reasoning": "Three steps: a plan first, then the edit, then the notes.",
        "text": "I'll plan this first.",
        "tool_calls": [
            {"id": "call_plan", "name": "update_plan", "arguments": {"entries": PLAN_ENTRIES}}
        ],
        "usage": {"prompt_tokens": 1200, "completion_tokens": 40, "cached_tokens": 0},
    },
    {
        "tool_calls": [
            {
                "id": "call_edit",
                "name": "edit_file",
                "arguments": {
                    "path": "util.py",
                    "old_string": "def add(a, b):\n",
                    "new_string": 'def add(a, b):\n    """Add two numbers."""\n',
                },
            }
        ],
        "usage": {"prompt_tokens": 1300, "completion_tokens": 30, "cached_tokens": 1200},
    },
    {
        "tool_calls": [
            {
                "id": "call_notes",
                "name": "create_file",
                "arguments": {"path": "NOTES.md", "content": "# Notes\n\n- add() is documented\n"},
            }
        ],
        "usage": {"prompt_tokens": 1400, "completion_tokens": 30, "cached_tokens": 1300},
    },
    {
        "tool_calls": [
            {"id": "call_rm", "name": "shell", "arguments": {"command": "rm -f build.log"}}
        ],
        "usage": {"prompt_tokens": 1500, "completion_tokens": 20, "cached_tokens": 1400},
    },
    {
        "text": ANSWER,
        "usage": {"prompt_tokens": 1600, "completion_tokens": 50, "cached_tokens": 1500},
    },
]
#: Every kind the fixture must hold (so frontends replaying it cover them all).
REQUIRED_UPDATES = {
    "agent_message_chunk",
    "agent_thought_chunk",
    "tool_call",
    "tool_call_update",
    "plan",
    "usage_update",
    "pygent_notice",
    "current_mode_update",
}
REQUIRED_REQUESTS = {"workspace/applyEdit", "pygent/session/requestPermission"}


class _Answers:
    """The person in this recording: accepts the docstring, rejects NOTES.md and the ``rm``."""

    def apply_edit(self, params: dict[str, Any]) -> dict[str, Any]:
        call_id = params.get("_meta", {}).get("pygent", {}).get("toolCallId")
        if call_id == "call_edit":
            return {"applied": True}
        return {"applied": False, "failureReason": "Not now: keep NOTES.md as it is."}

    def request_permission(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"outcome": {"outcome": "selected", "optionId": "reject_once"}}


#: Tool timings (``_meta.pygent``) vary with the machine: the file holds these instead.
TIMING_PLACEHOLDERS = {"durationMs": 250.0, "approvalWaitMs": 3000.0}


def _normalize(value: Any, root: Path, session_id: str) -> Any:
    """Machine-specific values replaced: the workspace root (path and URI), the session id and
    tool timings."""
    if isinstance(value, dict):
        return {
            k: TIMING_PLACEHOLDERS[k]
            if k in TIMING_PLACEHOLDERS and isinstance(v, (int, float))
            else _normalize(v, root, session_id)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_normalize(v, root, session_id) for v in value]
    if isinstance(value, str):
        if value == session_id:
            return SESSION_PLACEHOLDER
        uri = root.as_uri()
        if value.startswith(uri):
            return "file://" + ROOT_PLACEHOLDER + value[len(uri) :]
        for prefix in (str(root), root.as_posix()):
            if value.startswith(prefix):
                return ROOT_PLACEHOLDER + value[len(prefix) :].replace("\\", "/")
        return value.replace(str(root), ROOT_PLACEHOLDER)
    return value


def _merge_chunks(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adjacent text chunks of one kind as one (the server's coalescing depends on timing)."""
    out: list[dict[str, Any]] = []
    for entry in messages:
        message = entry["message"]
        update = (message.get("params") or {}).get("update") or {}
        kind = update.get("sessionUpdate")
        if out and kind in ("agent_message_chunk", "agent_thought_chunk"):
            previous = out[-1]["message"]
            prev_update = (previous.get("params") or {}).get("update") or {}
            if prev_update.get("sessionUpdate") == kind:
                prev_update["content"]["text"] += update["content"]["text"]
                continue
        out.append(entry)
    return out


async def record_turn(workspace: Path, env: dict[str, str], fake: FakeLLMThread) -> dict[str, Any]:
    """Run the scripted turn against a real server; returns the normalized recording."""
    fake.script(SCRIPT)
    trace: list[tuple[str, dict[str, Any]]] = []
    answers = _Answers()
    recording = False

    def on_trace(direction: str, message: dict[str, Any]) -> None:
        if recording:
            trace.append((direction, json.loads(json.dumps(message))))

    client = PygentClient(
        SERVER_CMD,
        root=workspace,
        env=env,
        # Starts in auto-edit and switches to ask (the mode change of the recording): in ask,
        # the shell command asks on every platform, sandboxed or not.
        initialization_options={"permissionMode": "auto-edit"},
        apply_edit=answers.apply_edit,
        request_permission=answers.request_permission,
        on_trace=on_trace,
    )
    await wait(client.start())
    try:
        recording = True
        session_id = await wait(client.new_session())
        await wait(client.set_mode(session_id, "ask"))
        result = await wait(client.prompt(session_id, PROMPT, work_done_token="turn-1"))
        recording = False
    finally:
        await client.close(timeout=30)
    assert result["stopReason"] == "end_turn", result
    messages = [
        {"from": "client" if direction == "send" else "server", "message": message}
        for direction, message in trace
    ]
    messages = _merge_chunks(_normalize(messages, workspace, session_id))
    return {
        "description": (
            "One real turn of `pygent serve` (fake LLM), in wire order: what the client sent "
            "(from: client) and what the server sent (from: server), including the client's "
            "answers to server requests. Paths are under /workspace; the session id is SESSION."
        ),
        "generatedBy": "tests/server/test_recorded_turn.py",
        "regenerate": f"{UPDATE_ENV}=1 python -m pytest tests/server/test_recorded_turn.py",
        "workspaceRoot": ROOT_PLACEHOLDER,
        "files": {"util.py": UTIL_PY},
        "prompt": PROMPT,
        "messages": messages,
    }


_CACHE: dict[str, dict[str, Any]] = {}


async def recorded(workspace: Path, env: dict[str, str], fake: FakeLLMThread) -> dict[str, Any]:
    """The recording, made once per test run (it takes a server start and six model calls)."""
    if "turn" not in _CACHE:
        _CACHE["turn"] = await record_turn(workspace, env, fake)
    return json.loads(json.dumps(_CACHE["turn"]))


def _update_kinds(recording: dict[str, Any]) -> set[str]:
    return {
        entry["message"]["params"]["update"]["sessionUpdate"]
        for entry in recording["messages"]
        if entry["message"].get("method") == "pygent/session/update"
    }


def _server_requests(recording: dict[str, Any], method: str) -> list[dict[str, Any]]:
    return [
        entry["message"]
        for entry in recording["messages"]
        if entry["from"] == "server"
        and entry["message"].get("method") == method
        and "id" in entry["message"]
    ]


def _updates_of(recording: dict[str, Any], call_id: str) -> list[dict[str, Any]]:
    return [
        entry["message"]["params"]["update"]
        for entry in recording["messages"]
        if entry["message"].get("method") == "pygent/session/update"
        and entry["message"]["params"]["update"].get("toolCallId") == call_id
    ]


async def test_recorded_turn_fixture_is_current(
    workspace: Path, server_env: dict[str, str], fake_llm: FakeLLMThread
) -> None:
    recording = await recorded(workspace, server_env, fake_llm)
    text = json.dumps(recording, indent=2, ensure_ascii=False) + "\n"
    if UPDATE:
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        FIXTURE.write_text(text, encoding="utf-8", newline="\n")
    assert FIXTURE.is_file(), f"{FIXTURE} is missing: run `{recording['regenerate']}`"
    checked_in = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert checked_in == recording, (
        f"{FIXTURE.name} is stale: the server now sends something else. Review the change, then "
        f"run `{recording['regenerate']}` and commit the file."
    )


async def test_recorded_turn_holds_every_update_kind_and_request(
    workspace: Path, server_env: dict[str, str], fake_llm: FakeLLMThread
) -> None:
    recording = await recorded(workspace, server_env, fake_llm)
    missing = REQUIRED_UPDATES - _update_kinds(recording)
    assert not missing, missing
    for method in REQUIRED_REQUESTS:
        assert _server_requests(recording, method), method
    # Nothing machine-specific leaks into the file the editors replay.
    text = json.dumps(recording)
    assert str(workspace) not in text and workspace.as_uri() not in text


async def test_apply_edit_meta_carries_each_files_old_and_new_text(
    workspace: Path, server_env: dict[str, str], fake_llm: FakeLLMThread
) -> None:
    recording = await recorded(workspace, server_env, fake_llm)
    edits = _server_requests(recording, "workspace/applyEdit")
    by_call = {e["params"]["_meta"]["pygent"]["toolCallId"]: e["params"] for e in edits}
    assert set(by_call) == {"call_edit", "call_notes"}
    docstring = by_call["call_edit"]["_meta"]["pygent"]["files"]
    assert docstring == [
        {
            "uri": "file:///workspace/util.py",
            "oldText": UTIL_PY,
            "newText": 'def add(a, b):\n    """Add two numbers."""\n    return a + b\n',
        }
    ]
    # The standard WorkspaceEdit is still what is applied, next to the meta.
    assert by_call["call_edit"]["edit"]["documentChanges"]
    created = by_call["call_notes"]["_meta"]["pygent"]["files"]
    assert created == [
        {
            "uri": "file:///workspace/NOTES.md",
            "oldText": None,
            "newText": "# Notes\n\n- add() is documented\n",
        }
    ]


async def test_rejections_end_with_outcome_rejected_and_failures_do_not(
    workspace: Path, server_env: dict[str, str], fake_llm: FakeLLMThread
) -> None:
    recording = await recorded(workspace, server_env, fake_llm)
    for call_id in ("call_notes", "call_rm"):  # rejected in review; permission "Reject once"
        last = _updates_of(recording, call_id)[-1]
        assert last["status"] == "failed", last
        assert last["_meta"]["pygent"]["outcome"] == "rejected", last
    for call_id in ("call_edit", "call_plan"):
        updates = _updates_of(recording, call_id)
        assert updates[-1]["status"] == "completed"
        assert all("outcome" not in (u.get("_meta") or {}).get("pygent", {}) for u in updates)
    assert _server_requests(recording, "pygent/session/requestPermission")[0]["params"]["toolCall"][
        "toolCallId"
    ] == ("call_rm")
