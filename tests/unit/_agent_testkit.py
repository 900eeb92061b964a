"""Shared helpers for the agent tests: small tools, a session, an agent against the fake server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pygent.agent.headless import HeadlessPort
from pygent.agent.loop import Agent, Turn
from pygent.agent.session import Session, SessionStore
from pygent.edits.changes import ChangeSet, CreateFile
from pygent.settings.models import Settings
from pygent.tools.base import (
    PermissionDecision,
    ToolContext,
    ToolRegistry,
    ToolRisk,
    ToolSpec,
    tool,
)
from pygent.tools.errors import ToolError
from pygent.tools.workspace import Workspace


class Probe:
    """Records what the test tools did."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.cancelled: list[str] = []
        self.started = asyncio.Event()


def make_registry(probe: Probe) -> ToolRegistry:
    registry = ToolRegistry()

    @tool(
        risk=ToolRisk.READ,
        kind="read",
        title=lambda a: f"Read note {a['name']}",
        path_args=("name",),
        registry=registry,
    )
    async def read_note(ctx: ToolContext, name: str) -> str:
        """Read a note from the workspace.

        Args:
            name: File name of the note.
        """
        probe.events.append(f"start {name}")
        await asyncio.sleep(0.05)
        path = ctx.workspace.resolve(name, must_exist=True, kind="file")
        text, _ = ctx.workspace.read_text(path)
        probe.events.append(f"end {name}")
        return text

    @tool(
        risk=ToolRisk.WRITE,
        kind="edit",
        title=lambda a: f"Write note {a['name']}",
        path_args=("name",),
        reviewed_edit=True,
        registry=registry,
    )
    async def write_note(ctx: ToolContext, name: str, text: str) -> str:
        """Create a note.

        Args:
            name: File name.
            text: Content.
        """
        probe.events.append(f"write {name}")
        path = ctx.workspace.resolve(name)
        result = await ctx.apply_edit(ChangeSet(f"Write {name}", [CreateFile(path, text)]))
        if not result.applied:
            raise ToolError(f"not applied: {result.failure_reason}")
        return f"wrote {name}"

    @tool(risk=ToolRisk.EXECUTE, kind="execute", title="Wait", registry=registry)
    async def wait(ctx: ToolContext, seconds: float) -> str:
        """Wait (a slow tool).

        Args:
            seconds: How long.
        """
        probe.started.set()
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            probe.cancelled.append("wait")
            raise
        return "waited"

    return registry


class AskingGate:
    """A permission gate that asks the port for every non-READ call."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def check(
        self, spec: ToolSpec, args: dict[str, Any], ctx: ToolContext
    ) -> PermissionDecision:
        if spec.risk is ToolRisk.READ:
            return PermissionDecision(True)
        self.asked.append(spec.name)
        from pygent.protocol.port import ALLOW_ONCE, REJECT_ONCE

        outcome = await ctx.port.request_permission(
            {
                "toolCall": {"toolCallId": ctx.tool_call_id, "title": spec.name, "rawInput": args},
                "options": [ALLOW_ONCE, REJECT_ONCE],
                "_meta": {},
            }
        )
        if outcome.get("outcome") == "selected" and outcome.get("optionId") == "allow_once":
            return PermissionDecision(True)
        return PermissionDecision(False, "The user declined.")


class Harness:
    """An agent wired to the fake server, a real session and a headless port."""

    def __init__(
        self,
        settings: Settings,
        root: Path,
        *,
        port: HeadlessPort | None = None,
        gate: Any = None,
        registry: ToolRegistry | None = None,
        context_window: int | None = None,
    ) -> None:
        self.probe = Probe()
        self.root = root
        self.workspace = Workspace([root])
        self.port = port or HeadlessPort("allow_once", stderr=None)
        self.store = SessionStore(root)
        self.session: Session = self.store.create(settings.llm.model)
        self.agent = Agent(
            settings,
            self.workspace,
            self.port,
            registry=registry if registry is not None else make_registry(self.probe),
            gate=gate,
            system_prompt="You are a test agent.",
            context_window=context_window,
        )

    def turn(self, text: str) -> Turn:
        return self.agent.prompt(self.session, [{"type": "text", "text": text}])

    async def run(self, text: str) -> tuple[Turn, list[dict[str, Any]]]:
        turn = self.turn(text)
        return turn, await turn.collect()


def of_kind(updates: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [u for u in updates if u.get("sessionUpdate") == kind]


def text_of(updates: list[dict[str, Any]]) -> str:
    return "".join(u["content"]["text"] for u in of_kind(updates, "agent_message_chunk"))


def assert_valid_history(messages: list[dict[str, Any]]) -> None:
    """Every assistant tool call is answered right after it, and no result is an orphan."""
    index = 0
    while index < len(messages):
        message = messages[index]
        index += 1
        assert message["role"] != "tool", f"orphan tool result at {index - 1}: {message}"
        calls = message.get("tool_calls") or []
        if not calls:
            continue
        wanted = {c["id"] for c in calls}
        seen = set()
        while index < len(messages) and messages[index]["role"] == "tool":
            seen.add(messages[index]["tool_call_id"])
            index += 1
        assert seen == wanted, f"calls {wanted} answered by {seen}"


def sent_messages(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-system messages of a recorded request."""
    return [m for m in request["messages"] if m["role"] != "system"]


def call(tool_name: str, /, **arguments: Any) -> dict[str, Any]:
    return {"name": tool_name, "arguments": arguments}


def dumps(value: Any) -> str:
    return json.dumps(value)


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Backoff delays of milliseconds (the fake sends retry-after for 429s)."""
    import pygent.agent.llm as llm

    monkeypatch.setattr(llm, "RETRY_BASE_DELAY", 0.01)
    yield
