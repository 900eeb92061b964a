"""Helpers for the black-box tests of ``pygent acp``: a recording ACP client and a raw line driver."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from acp import schema

T = TypeVar("T")

#: Generous: the first prompt waits for litellm's import, which is slow on a loaded machine.
TIMEOUT = 180.0
AGENT_CMD = [sys.executable, "-m", "pygent", "acp"]
UTIL_PY = "def add(a, b):\n    return a + b\n"
DOCSTRING = '    """Add two numbers."""\n'


async def wait(awaitable: Any, timeout: float = TIMEOUT) -> Any:
    """Every await on the agent goes through this (no test hangs forever)."""
    return await asyncio.wait_for(awaitable, timeout)


def schema_problems(messages: list[dict[str, Any]]) -> list[str]:
    """Messages from the agent that ACP's schema rejects (``session/update`` and our requests)."""
    models = {
        "session/update": schema.SessionNotification,
        "session/request_permission": schema.RequestPermissionRequest,
        "fs/write_text_file": schema.WriteTextFileRequest,
        "fs/read_text_file": schema.ReadTextFileRequest,
        "terminal/create": schema.CreateTerminalRequest,
        "terminal/output": schema.TerminalOutputRequest,
        "terminal/wait_for_exit": schema.WaitForTerminalExitRequest,
        "terminal/kill": schema.KillTerminalRequest,
        "terminal/release": schema.ReleaseTerminalRequest,
    }
    problems = []
    for message in messages:
        model = models.get(message.get("method", ""))
        if model is None:
            continue
        try:
            model.model_validate(message["params"])  # type: ignore[attr-defined]
        except ValidationError as exc:
            problems.append(f"{json.dumps(message)[:300]}: {exc}")
    return problems


def edit_call(call_id: str = "call_edit") -> dict[str, Any]:
    """A fake-LLM script item: ``edit_file`` adding a docstring to util.py."""
    return {
        "tool_calls": [
            {
                "id": call_id,
                "name": "edit_file",
                "arguments": {
                    "path": "util.py",
                    "old_string": "def add(a, b):\n",
                    "new_string": "def add(a, b):\n" + DOCSTRING,
                },
            }
        ]
    }


def tool_results(requests: list[dict[str, Any]]) -> list[str]:
    """Every tool result the model was sent, in order, deduplicated across requests."""
    seen: dict[str, str] = {}
    for body in requests:
        for message in body.get("messages", []):
            if message.get("role") == "tool":
                content = message.get("content")
                if isinstance(content, list):
                    content = "".join(part.get("text", "") for part in content)
                seen.setdefault(str(message.get("tool_call_id")), str(content))
    return list(seen.values())


class RawAgent:
    """``pygent acp`` driven with raw lines (for bad input and the end of input)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.received: list[dict[str, Any]] = []

    @classmethod
    async def spawn(cls, cwd: Path, env: dict[str, str]) -> RawAgent:
        """Start ``pygent acp`` in ``cwd`` (stderr discarded, 16 MiB line limit)."""
        process = await asyncio.create_subprocess_exec(
            *AGENT_CMD,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            cwd=str(cwd),
            env=env,
            limit=1 << 24,
        )
        return cls(process)

    async def send_line(self, line: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.rstrip(b"\n") + b"\n")
        await self.process.stdin.drain()

    async def send(self, payload: dict[str, Any]) -> None:
        payload.setdefault("jsonrpc", "2.0")
        await self.send_line(json.dumps(payload).encode())

    async def read(self) -> dict[str, Any]:
        """The next message from the agent (every line must be one JSON object)."""
        assert self.process.stdout is not None
        line = await wait(self.process.stdout.readline())
        if not line:
            raise EOFError("the agent closed stdout")
        message: dict[str, Any] = json.loads(line)
        self.received.append(message)
        return message

    async def response(self, msg_id: Any) -> dict[str, Any]:
        """Read until the response to ``msg_id`` (or an id-null error, for ``msg_id=None``)."""
        while True:
            message = await self.read()
            if "method" not in message and message.get("id") == msg_id:
                return message

    async def request(self, method: str, params: Any, msg_id: Any) -> dict[str, Any]:
        await self.send({"id": msg_id, "method": method, "params": params})
        return await self.response(msg_id)

    async def initialize(self, **caps: Any) -> dict[str, Any]:
        answer = await self.request(
            "initialize", {"protocolVersion": 1, "clientCapabilities": caps}, 0
        )
        return answer["result"]  # type: ignore[no-any-return]

    async def close_stdin(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            await self.process.stdin.wait_closed()

    async def close(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(Exception):
                await self.close_stdin()
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except asyncio.TimeoutError:
                self.process.kill()
                await self.process.wait()


def session_files(home: Path) -> list[Path]:
    """Every session file under the isolated home."""
    return sorted(home.rglob("*.jsonl"))
