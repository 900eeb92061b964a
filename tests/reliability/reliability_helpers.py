"""A synchronous driver for a real ``pygent serve``: strict frame reader, auto-answered requests.

Every byte the server writes to stdout is parsed as an LSP frame; anything else is kept in
``garbage`` (an invariant of every reliability test is that it stays empty). Requests the server
sends (permission, applyEdit, showMessageRequest) are answered by a policy, on the reader thread.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Generous: the first prompt waits for litellm's import, which is slow on a loaded machine.
TIMEOUT = 180.0
SERVER_CMD = [sys.executable, "-m", "pygent", "serve"]
#: The key every reliability server is given; tests assert it never leaks.
TEST_KEY = "sk-reliability-SECRET-0123456789abcdef"


def frame(payload: Any) -> bytes:
    """One Content-Length frame."""
    body = json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def server_env(base_url: str, **extra: str) -> dict[str, str]:
    """The environment of a server talking to the fake LLM at ``base_url``."""
    env = dict(os.environ)
    env.update(
        PYGENT_MODEL="openai/fake-model",
        PYGENT_API_BASE=base_url,
        PYGENT_API_KEY=TEST_KEY,
        PYGENT_LOG_DISABLED="1",
    )
    env.update(extra)
    return env


class Server:
    """One ``pygent serve`` process.

    Args:
        root: The workspace (also the process's cwd).
        env: Its environment (see :func:`server_env`).
        permission: optionId to answer permission requests with, or a callable of the params.
        capabilities: Client capabilities sent in ``initialize``.
    """

    def __init__(
        self,
        root: Path,
        env: dict[str, str],
        *,
        permission: str | Callable[[dict[str, Any]], Any] = "allow_once",
        capabilities: dict[str, Any] | None = None,
    ) -> None:
        self.root = root
        self.permission = permission
        self.capabilities = capabilities or {
            "experimental": {"pygent": {"permissionRequests": True}}
        }
        self.stderr_path = root.parent / f"serve-{id(self)}.stderr"
        self._stderr = open(self.stderr_path, "wb")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            SERVER_CMD,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=str(root),
            env=env,
        )
        self.messages: list[dict[str, Any]] = []
        self.garbage: list[bytes] = []
        self.responses: collections.Counter[Any] = collections.Counter()
        self.server_requests: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._ids = iter(range(1, 1 << 62))
        self.eof = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # -- reading ------------------------------------------------------------------------------

    def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            while True:
                header = b""
                while not header.endswith(b"\r\n\r\n"):
                    byte = stdout.read(1)
                    if not byte:
                        if header:
                            self.garbage.append(header)
                        return
                    header += byte
                length = None
                for line in header.decode("ascii", "replace").strip().split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length" and value.strip().isdigit():
                        length = int(value)
                    elif name.strip().lower() not in ("content-length", "content-type"):
                        self.garbage.append(header)
                if length is None:
                    self.garbage.append(header)
                    continue
                body = stdout.read(length)
                try:
                    message = json.loads(body)
                except ValueError:
                    self.garbage.append(body)
                    continue
                self._on_message(message)
        finally:
            with self._cond:
                self.eof = True
                self._cond.notify_all()

    def _on_message(self, message: dict[str, Any]) -> None:
        if "method" in message and "id" in message:
            self.server_requests.append(message)
            self._answer(message)
        with self._cond:
            self.messages.append(message)
            if "method" not in message:
                self.responses[json.dumps(message.get("id"))] += 1
            self._cond.notify_all()

    def _answer(self, request: dict[str, Any]) -> None:
        method = request["method"]
        params = request.get("params") or {}
        result: Any = None
        if method == "pygent/session/requestPermission":
            answer = self.permission(params) if callable(self.permission) else self.permission
            if answer == "hang":
                return
            result = {"outcome": {"outcome": "selected", "optionId": answer}}
        elif method == "workspace/applyEdit":
            result = {"applied": True}
        self.send({"jsonrpc": "2.0", "id": request["id"], "result": result})

    # -- writing ------------------------------------------------------------------------------

    def send(self, payload: Any) -> None:
        self.send_bytes(frame(payload))

    def send_bytes(self, data: bytes) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        with self._write_lock:
            try:
                stdin.write(data)
                stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass

    def request(self, method: str, params: Any = None, msg_id: Any = None) -> Any:
        """Send a request; returns its id."""
        if msg_id is None:
            msg_id = f"r{next(self._ids)}"
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return msg_id

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait_for(self, predicate: Callable[[], Any], timeout: float = TIMEOUT) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked on every message); returns its value."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.eof:
                    raise TimeoutError(f"gave up waiting (eof={self.eof})")
                self._cond.wait(min(remaining, 0.5))

    def response(self, msg_id: Any, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The response to ``msg_id``."""

        def find() -> dict[str, Any] | None:
            for message in self.messages:
                if "method" not in message and message.get("id") == msg_id:
                    return message
            return None

        result: dict[str, Any] = self.wait_for(find, timeout)
        return result

    def call(self, method: str, params: Any = None, timeout: float = TIMEOUT) -> dict[str, Any]:
        """Request and wait for the response."""
        return self.response(self.request(method, params), timeout)

    def initialize(self) -> dict[str, Any]:
        answer = self.call(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": self.root.as_uri(),
                "capabilities": self.capabilities,
            },
        )
        self.notify("initialized", {})
        return answer

    def updates(self, session_id: str) -> list[dict[str, Any]]:
        """Every ``pygent/session/update`` of one session, in wire order."""
        with self._cond:
            return [
                m["params"]["update"]
                for m in self.messages
                if m.get("method") == "pygent/session/update"
                and m.get("params", {}).get("sessionId") == session_id
            ]

    def stdout_text(self) -> str:
        """Every message as JSON text (to search for leaks)."""
        with self._cond:
            return "\n".join(json.dumps(m) for m in self.messages)

    # -- ending -------------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def close(self, timeout: float = 60.0) -> int:
        """End of input, then wait; kill if it does not exit."""
        if self.process.poll() is None:
            stdin = self.process.stdin
            if stdin is not None:
                with self._write_lock:
                    try:
                        stdin.close()
                    except OSError:
                        pass
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)
        self._reader.join(10)
        self._stderr.close()
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL (TerminateProcess on Windows) and reap."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(30)
        self._reader.join(10)
        self._stderr.close()


def session_new(server: Server, **params: Any) -> str:
    answer = server.call("pygent/session/new", params)
    assert "result" in answer, answer
    session_id: str = answer["result"]["sessionId"]
    return session_id


def text_prompt(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text}]


def pid_alive(pid: int) -> bool:
    """True while a process with ``pid`` exists and is not a zombie."""
    if sys.platform == "win32":  # pragma: no cover - Windows CI
        out = subprocess.run(
            ["tasklist", "/FI", f"PID eq {pid}"], capture_output=True, text=True, check=False
        )
        return str(pid) in out.stdout
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            return stat.read_text().split(")")[-1].split()[0] != "Z"
        except OSError:
            return False
    return True


def wait_gone(pid: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return not pid_alive(pid)


def kill_quietly(pid: int) -> None:
    """Clean-up for a test that failed: never leave a child behind."""
    try:
        os.kill(pid, signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
    except OSError:
        pass
