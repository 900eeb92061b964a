"""Concurrency: ten sessions run turns at once on one server, in order, none waiting on another.

One session's turn waits on a permission answer the test withholds; the nine others (each
streaming its own numbered text and reading a file) must finish meanwhile, every session's
updates must arrive in the model's order, and the held turn must finish once answered.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from reliability_helpers import Server, session_new, text_prompt

from pygent.agent.session import SessionStore
from pygent.testing.fake_llm import FakeLLMThread

SESSIONS = 10


def _numbered(k: int) -> str:
    return "".join(f"[{k}:{i:03d}]" for i in range(60))


def test_ten_sessions_at_once_keep_order_and_a_slow_permission_stalls_no_one(
    start_server: Callable[..., Server], fake_llm: FakeLLMThread, workspace: Any
) -> None:
    script: list[dict[str, Any]] = [
        {
            "match": "held-turn",
            "respond": {
                "tool_calls": [{"name": "shell", "arguments": {"command": "touch held.txt"}}]
            },
        },
        {"after_tool": "Exit code", "respond": {"text": "held turn done"}},
    ]
    for k in range(1, SESSIONS):
        script.append(
            {
                "match": f"count-{k}-please",
                "respond": {
                    "text": _numbered(k),
                    "delay": 0.002,
                    "tool_calls": [{"name": "read_file", "arguments": {"path": "util.py"}}],
                },
            }
        )
    script.append({"after_tool": "def add", "respond": {"text": " read done"}})
    fake_llm.script(script)
    held: list[dict[str, Any]] = []

    def permission(params: dict[str, Any]) -> str:
        held.append(params)
        return "hang"

    server = start_server(permission=permission)
    ids = [session_new(server) for _ in range(SESSIONS)]
    prompts = {
        ids[0]: server.request(
            "pygent/session/prompt", {"sessionId": ids[0], "prompt": text_prompt("held-turn")}
        )
    }
    server.wait_for(lambda: held)  # session 0 now waits on a person
    for k in range(1, SESSIONS):
        prompts[ids[k]] = server.request(
            "pygent/session/prompt",
            {"sessionId": ids[k], "prompt": text_prompt(f"count-{k}-please")},
        )
    for k in range(1, SESSIONS):
        answer = server.response(prompts[ids[k]])
        assert answer.get("result", {}).get("stopReason") == "end_turn", answer
    # Nine turns finished while the first still waits for its permission answer.
    assert not any(m.get("id") == prompts[ids[0]] for m in server.messages)
    request = next(r for r in server.server_requests if r["method"].endswith("requestPermission"))
    server.send(
        {
            "jsonrpc": "2.0",
            "id": request["id"],
            "result": {"outcome": {"outcome": "selected", "optionId": "allow_once"}},
        }
    )
    assert server.response(prompts[ids[0]])["result"]["stopReason"] == "end_turn"

    # Per-session order: each session saw exactly its own text, in the model's order.
    for k in range(1, SESSIONS):
        updates = server.updates(ids[k])
        text = "".join(
            u["content"]["text"] for u in updates if u["sessionUpdate"] == "agent_message_chunk"
        )
        assert text == _numbered(k) + " read done", text[:80]
        kinds = [u["sessionUpdate"] for u in updates]
        assert kinds.index("tool_call") < max(
            i for i, kind in enumerate(kinds) if kind == "tool_call_update"
        )
        history = SessionStore(workspace).load(ids[k]).messages
        assert [m["role"] for m in history] == ["user", "assistant", "tool", "assistant"]
        assert f"count-{k}-please" in json.dumps(history[0]["content"])
    held_text = "".join(
        u["content"]["text"]
        for u in server.updates(ids[0])
        if u["sessionUpdate"] == "agent_message_chunk"
    )
    assert held_text == "held turn done"
    assert (workspace / "held.txt").exists()  # the held command ran once allowed
    assert server.garbage == []
