"""Stateful fuzzing of a real ``pygent serve`` (Hypothesis): it answers, survives, and loses nothing.

One server (real litellm, the fake model, real tools) receives random interleavings of
``session/new``, ``prompt`` (plain text, a shell call, an edit, a slow stream), ``cancel``,
``load``, ``setMode``, ``setModel``, ``delete`` and ``list`` across sessions, random params for
every method, and malformed frames (bodies that are not JSON, not objects, wrongly typed).

Invariants, checked after every step and at the end of every example:

* the process is alive and every byte on stdout is a frame;
* every request is answered exactly once (a result or an error), once the server had time;
* every session file that exists still loads, without a skipped line.

The default run is bounded (a few examples); ``-m fuzz`` runs the long profile.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from reliability_helpers import TIMEOUT, Server, server_env

from pygent.agent.session import SessionStore
from pygent.testing.fake_llm import FakeLLMThread

METHODS = [
    "pygent/session/new",
    "pygent/session/prompt",
    "pygent/session/load",
    "pygent/session/list",
    "pygent/session/delete",
    "pygent/session/setMode",
    "pygent/session/setModel",
    "pygent/session/compact",
    "workspace/executeCommand",
    "pygent/unknown",
    "textDocument/didOpen",
    "$/cancelRequest",
    "pygent/session/cancel",
]
MODES = ["ask", "auto-edit", "plan", "auto"]

#: What the fake model does for each kind of prompt (rules on the user's text).
SCRIPT: list[dict[str, Any]] = [
    {
        "match": "tool:shell",
        "respond": {"tool_calls": [{"name": "shell", "arguments": {"command": "echo fuzz"}}]},
    },
    {
        "match": "tool:edit",
        "respond": {
            "tool_calls": [
                {
                    "name": "edit_file",
                    "arguments": {
                        "path": "util.py",
                        "old_string": "return a + b",
                        "new_string": "return a + b  # checked",
                    },
                }
            ]
        },
    },
    {"match": "slow", "respond": {"text": "slowly " * 30, "delay": 0.02}},
    {"after_tool": ".", "respond": {"text": "tool finished"}},
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
prompt_texts = st.sampled_from(["hello", "tool:shell", "tool:edit", "slow"]) | st.text(max_size=40)


class ServerMachine(RuleBasedStateMachine):
    """Random traffic against one shared server (started once per test, reused by examples)."""

    server: ClassVar[Server | None] = None
    root: ClassVar[Path]
    totals: ClassVar[dict[str, int]] = {}
    sessions = Bundle("sessions")

    def __init__(self) -> None:
        super().__init__()
        assert ServerMachine.server is not None
        self.s: Server = ServerMachine.server
        self.sent: list[Any] = []
        self.created: list[str] = []

    def _request(self, method: str, params: Any) -> Any:
        ServerMachine.totals[method] = ServerMachine.totals.get(method, 0) + 1
        msg_id = self.s.request(method, params)
        self.sent.append(msg_id)
        return msg_id

    # -- rules ------------------------------------------------------------------------------

    @rule(target=sessions, mode=st.none() | st.sampled_from(MODES))
    def new_session(self, mode: str | None) -> str:
        answer = self.s.response(self._request("pygent/session/new", {}))
        assert "result" in answer, answer
        session_id: str = answer["result"]["sessionId"]
        self.created.append(session_id)
        if mode is not None:
            self._request("pygent/session/setMode", {"sessionId": session_id, "modeId": mode})
        return session_id

    @rule(session=sessions, text=prompt_texts)
    def prompt(self, session: str, text: str) -> None:
        self._request(
            "pygent/session/prompt",
            {"sessionId": session, "prompt": [{"type": "text", "text": text}]},
        )

    @rule(session=sessions)
    def cancel(self, session: str) -> None:
        self.s.notify("pygent/session/cancel", {"sessionId": session})

    @rule(session=sessions)
    def load(self, session: str) -> None:
        self._request("pygent/session/load", {"sessionId": session})

    @rule(session=sessions, mode=st.sampled_from([*MODES, "yolo", ""]))
    def set_mode(self, session: str, mode: str) -> None:
        self._request("pygent/session/setMode", {"sessionId": session, "modeId": mode})

    @rule(session=sessions)
    def set_model(self, session: str) -> None:
        self._request(
            "pygent/session/setModel", {"sessionId": session, "modelId": "openai/fake-model"}
        )

    @rule(session=sessions)
    def delete(self, session: str) -> None:
        self._request("pygent/session/delete", {"sessionId": session})

    @rule()
    def list_sessions(self) -> None:
        self._request("pygent/session/list", {})

    @rule(method=st.sampled_from(METHODS), params=json_values, session=st.none() | sessions)
    def random_params(self, method: str, params: Any, session: str | None) -> None:
        if session is not None and isinstance(params, dict):
            params["sessionId"] = session
        if method in ("$/cancelRequest", "pygent/session/cancel", "textDocument/didOpen"):
            self.s.notify(method, params)
        else:
            self._request(method, params)

    @rule(
        body=st.sampled_from(
            [b"{not json", b"[]", b"42", b'"text"', b"null", b'{"jsonrpc":"2.0"}', b"\xff\xfe"]
        )
        | st.binary(max_size=64)
    )
    def malformed_body(self, body: bytes) -> None:
        self.s.send_bytes(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    @rule(
        message=st.sampled_from(
            [
                {"jsonrpc": "2.0", "id": None, "method": "pygent/session/list"},
                {"jsonrpc": "2.0", "id": 1.5, "result": {}},
                {"jsonrpc": "2.0", "method": 7, "id": "m"},
                {"jsonrpc": "2.0", "id": "resp-to-nothing", "result": None},
            ]
        )
    )
    def odd_message(self, message: dict[str, Any]) -> None:
        self.s.send(message)

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def alive_and_only_frames(self) -> None:
        assert self.s.alive, f"server died: {self.s.stderr_path.read_text(errors='replace')}"
        assert self.s.garbage == []

    def teardown(self) -> None:
        # Cancel what still runs, then every request must be answered exactly once.
        for session in self.created:
            self.s.notify("pygent/session/cancel", {"sessionId": session})
        for msg_id in self.sent:
            self.s.response(msg_id, timeout=TIMEOUT)
            assert self.s.responses[json.dumps(msg_id)] == 1, msg_id
        store = SessionStore(self.root)
        for session in self.created:
            if store.exists(session):
                loaded = store.load(session)
                assert loaded.warnings == [], (session, loaded.warnings)
        assert self.s.alive and self.s.garbage == []


def _run(workspace: Path, fake_llm: FakeLLMThread, examples: int, steps: int) -> None:
    fake_llm.script(SCRIPT)
    server = Server(workspace, server_env(fake_llm.base_url))
    ServerMachine.server = server
    ServerMachine.root = workspace
    ServerMachine.totals = {}
    try:
        server.initialize()
        run_state_machine_as_test(
            ServerMachine,
            settings=settings(
                max_examples=examples,
                stateful_step_count=steps,
                deadline=None,
                derandomize=False,
                database=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
        assert server.close() == 0
        total = sum(ServerMachine.totals.values())
        print(
            f"\nfuzz: {examples} examples, {total} requests answered once: {ServerMachine.totals}"
        )
    finally:
        ServerMachine.server = None
        if server.alive:
            server.kill()


def test_fuzzed_traffic_is_answered_once_never_kills_server_and_sessions_load(
    workspace: Path, fake_llm: FakeLLMThread
) -> None:
    _run(workspace, fake_llm, examples=6, steps=12)


@pytest.mark.fuzz
@pytest.mark.timeout(3600)
def test_fuzzed_traffic_long_profile(workspace: Path, fake_llm: FakeLLMThread) -> None:
    _run(workspace, fake_llm, examples=60, steps=30)
