"""A cold ``pygent serve`` / ``pygent acp`` process driven frame by frame, for the benchmarks.

The benchmarks time a fresh process from spawn, so they talk to it with plain blocking reads and
writes (no asyncio client whose own start-up would be in the numbers).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

SERVE_CMD = [sys.executable, "-m", "pygent", "serve"]
ACP_CMD = [sys.executable, "-m", "pygent", "acp"]


def frame(payload: dict[str, Any]) -> bytes:
    """One LSP-framed JSON-RPC message."""
    body = json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_frame(stream: IO[bytes]) -> dict[str, Any]:
    """The next LSP-framed message from ``stream``."""
    length = None
    while True:
        line = stream.readline()
        if not line:
            raise EOFError("server closed stdout")
        if line.strip() == b"":
            if length is not None:
                break
            continue
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    assert length is not None
    data: dict[str, Any] = json.loads(stream.read(length))
    return data


def rss_mib(pid: int) -> float | None:
    """A process's resident memory in MiB (None off Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) a process used so far; 0 off Linux.

    A measure that load on a shared machine does not inflate the way wall time is.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """A spawned ``pygent serve`` (or ``pygent acp`` with ``ndjson=True``); ``started`` is the spawn time."""

    def __init__(
        self, root: Path, env: dict[str, str], cmd: list[str] | None = None, *, ndjson: bool = False
    ) -> None:
        self.ndjson = ndjson
        self.root = root
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            cmd or (ACP_CMD if ndjson else SERVE_CMD),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=root,
            env=env,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin: IO[bytes] = self.process.stdin
        self.stdout: IO[bytes] = self.process.stdout

    def send(self, payload: dict[str, Any]) -> None:
        """Send one message (``jsonrpc`` is added)."""
        message = {"jsonrpc": "2.0", **payload}
        data = json.dumps(message).encode() + b"\n" if self.ndjson else frame(message)
        self.stdin.write(data)
        self.stdin.flush()

    def receive(self) -> dict[str, Any]:
        """The next message from the server."""
        if self.ndjson:
            line = self.stdout.readline()
            if not line:
                raise EOFError("agent closed stdout")
            data: dict[str, Any] = json.loads(line)
            return data
        return read_frame(self.stdout)

    def call(
        self,
        msg_id: int,
        method: str,
        params: dict[str, Any],
        on_message: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Send a request and read up to its answer; every other message goes to ``on_message``."""
        self.send({"id": msg_id, "method": method, "params": params})
        while True:
            message = self.receive()
            if message.get("id") == msg_id and "method" not in message:
                return message
            if on_message is not None:
                on_message(message)

    def initialize(self) -> dict[str, Any]:
        """``initialize`` (LSP-style, or ACP's with ``ndjson``) and, for serve, ``initialized``."""
        if self.ndjson:
            return self.call(0, "initialize", {"protocolVersion": 1})
        answer = self.call(
            1,
            "initialize",
            {"processId": os.getpid(), "rootUri": self.root.as_uri(), "capabilities": {}},
        )
        self.send({"method": "initialized", "params": {}})
        return answer

    def close(self) -> None:
        """End of input; wait for the process to exit."""
        self.stdin.close()
        self.process.wait(timeout=60)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def spawn_to_initialize(root: Path, env: dict[str, str], *, ndjson: bool = False) -> float:
    """Seconds from spawn to the ``initialize`` answer of a fresh process (closed afterwards)."""
    with Server(root, env, ndjson=ndjson) as server:
        answer = server.initialize()
        elapsed = time.perf_counter() - server.started
        info = answer["result"]["agentInfo" if ndjson else "serverInfo"]
        assert info["name"] == "pygent", answer
    return elapsed
