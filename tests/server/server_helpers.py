"""Helpers for the black-box tests of ``pygent serve`` (imported by the tests and conftest)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from pygent.client import PygentClient
from pygent.testing.fake_llm import FakeLLMThread

T = TypeVar("T")

#: Generous: the first prompt waits for litellm's import, which is slow on a loaded machine.
TIMEOUT = 180.0

SERVER_CMD = [sys.executable, "-m", "pygent", "serve"]

UTIL_PY = "def add(a, b):\n    return a + b\n"


async def wait(awaitable: Awaitable[T], timeout: float = TIMEOUT) -> T:
    """pytest-lsp sets no timeouts: every await on the server goes through this."""
    return await asyncio.wait_for(awaitable, timeout)


async def until(predicate: Callable[[], bool], interval: float = 0.05) -> None:
    """Return once ``predicate()`` is true (for state outside the protocol, like a file a
    command writes); wrap in :func:`wait` to bound it."""
    while not predicate():
        await asyncio.sleep(interval)


class Recorder:
    """Answers server requests from a policy and records what was asked.

    Attributes:
        permission_answer: optionId to select, None for ``cancelled``, or "hang" (never answer).
        edit_answer: The ``workspace/applyEdit`` result to return.
    """

    def __init__(self) -> None:
        self.permission_answer: str | None = "allow_once"
        self.edit_answer: dict[str, Any] = {"applied": True}
        self.permissions: list[dict[str, Any]] = []
        self.edits: list[dict[str, Any]] = []
        self.permission_asked = asyncio.Event()
        self.hang_cancelled = asyncio.Event()
        self.events: list[str] = []
        """Wire order of updates (``kind:status``) and server requests (``permission``, ``apply_edit``)."""

    def on_update(self, params: dict[str, Any]) -> None:
        update = params["update"]
        self.events.append(f"{update['sessionUpdate']}:{update.get('status')}")

    async def request_permission(self, params: dict[str, Any]) -> dict[str, Any]:
        self.permissions.append(params)
        self.events.append("permission")
        self.permission_asked.set()
        if self.permission_answer == "hang":
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.hang_cancelled.set()
                raise
        if self.permission_answer is None:
            return {"outcome": {"outcome": "cancelled"}}
        return {"outcome": {"outcome": "selected", "optionId": self.permission_answer}}

    def apply_edit(self, params: dict[str, Any]) -> dict[str, Any]:
        self.edits.append(params)
        self.events.append("apply_edit")
        return self.edit_answer


ClientFactory = Callable[..., Awaitable[PygentClient]]


def tool_messages(fake: FakeLLMThread) -> list[str]:
    """Every tool result the model was sent, in order (deduplicated across requests)."""
    seen: dict[str, str] = {}
    for body in fake.requests:
        for message in body.get("messages", []):
            if message.get("role") == "tool":
                content = message.get("content")
                text = content if isinstance(content, str) else json.dumps(content)
                seen.setdefault(str(message.get("tool_call_id")), text)
    return list(seen.values())


def kinds(updates: list[dict[str, Any]]) -> list[str]:
    """The ``sessionUpdate`` kinds of a list of update params."""
    return [u["update"]["sessionUpdate"] for u in updates]


def text_of(updates: list[dict[str, Any]], kind: str = "agent_message_chunk") -> str:
    """All text of chunks of ``kind``."""
    return "".join(
        u["update"]["content"]["text"] for u in updates if u["update"]["sessionUpdate"] == kind
    )


def frame(payload: Any) -> bytes:
    """One Content-Length frame."""
    body = json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class RawServer:
    """``pygent serve`` driven with raw bytes, every stdout byte checked to be a frame."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.messages: list[dict[str, Any]] = []
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.garbage: list[bytes] = []
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            while True:
                header = await stdout.readuntil(b"\r\n\r\n")
                lines = header.decode("ascii").strip().split("\r\n")
                length = None
                for line in lines:
                    name, _, value = line.partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                if length is None:
                    self.garbage.append(header)
                    continue
                body = await stdout.readexactly(length)
                message = json.loads(body)
                self.messages.append(message)
                await self._queue.put(message)
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                self.garbage.append(exc.partial)
        except (UnicodeDecodeError, ValueError) as exc:
            self.garbage.append(repr(exc).encode())
        finally:
            await self._queue.put(None)

    def send(self, payload: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(frame(payload))

    def send_bytes(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)

    async def next_message(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        message = await asyncio.wait_for(self._queue.get(), timeout)
        if message is None:
            raise EOFError("server closed stdout")
        return message

    async def response(self, msg_id: Any, timeout: float = TIMEOUT) -> dict[str, Any]:
        """Wait for the response to ``msg_id`` (skipping notifications)."""
        for message in self.messages:
            if message.get("id") == msg_id and "method" not in message:
                return message
        while True:
            message = await self.next_message(timeout)
            if message.get("id") == msg_id and "method" not in message:
                return message

    async def initialize(self, root: Path, **capabilities: Any) -> dict[str, Any]:
        self.send(
            {
                "jsonrpc": "2.0",
                "id": "init",
                "method": "initialize",
                "params": {
                    "processId": os.getpid(),
                    "rootUri": root.as_uri(),
                    "capabilities": capabilities,
                },
            }
        )
        result = await self.response("init")
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        return result

    async def close(self) -> int:
        if self.process.returncode is None:
            with_stdin = self.process.stdin
            if with_stdin is not None and not with_stdin.is_closing():
                with_stdin.close()
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except asyncio.TimeoutError:
                self.process.kill()
                await self.process.wait()
        await asyncio.wait_for(self._task, 10)
        return self.process.returncode if self.process.returncode is not None else -1
