"""An asyncio client of ``pygent serve``: spawns the server, speaks the protocol, surfaces updates.

Example::

    async with PygentClient(root=Path.cwd(), request_permission=ask_user) as client:
        session_id = await client.new_session()
        async with client.stream(session_id) as updates:
            task = asyncio.create_task(client.prompt(session_id, "Explain main.py"))
            async for update in updates.until(task):
                print(update["sessionUpdate"])
        print(task.result()["stopReason"])

Server requests go to callbacks: ``apply_edit(params) -> {"applied", "failureReason"?}``,
``request_permission(params) -> {"outcome": {...}}``, ``show_message_request(params) -> {"title"} | None``
(each may be a plain or an async function). Frames are read by a small Content-Length reader over
the subprocess pipes; nothing heavy is imported.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import os
import sys
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["PygentClient", "PygentClientError", "UpdateStream"]

Handler = Callable[[dict[str, Any]], Any]
"""A callback for a server request: ``(params) -> result`` or an awaitable of it."""


class PygentClientError(Exception):
    """A JSON-RPC error answer, or the server going away.

    Attributes:
        code: JSON-RPC error code (``-32099`` when the connection was lost).
        message: The server's message.
        data: The error's ``data`` (``data["code"]`` is pygent's stable error code).
    """

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    @property
    def error_code(self) -> str | None:
        """pygent's stable code (``session_busy``, ``no_api_key``, ...), if any."""
        return self.data.get("code") if isinstance(self.data, dict) else None


CONNECTION_LOST = -32099


def default_command() -> list[str]:
    """``python -m pygent serve`` with the running interpreter."""
    return [sys.executable, "-m", "pygent", "serve"]


class PygentClient:
    """A client of ``pygent serve`` over a child process's stdin/stdout.

    Args:
        command: The server command (default: :func:`default_command`).
        root: Workspace root sent as ``rootUri`` (default: the current directory).
        env: Environment of the server process (default: inherited).
        initialization_options: ``initializationOptions`` (``model``, ``permissionMode``, ...).
        apply_edit: Handles ``workspace/applyEdit``; when None the client does not declare
            ``workspace.applyEdit`` and the server applies edits itself.
        request_permission: Handles ``pygent/session/requestPermission``; when None the client does
            not declare ``experimental.pygent.permissionRequests``.
        show_message_request: Handles ``window/showMessageRequest`` (default: dismiss, ``null``).
        show_document: Handles ``window/showDocument`` (default: ``{"success": false}``).
        on_update: Called with each ``pygent/session/update`` params (``{sessionId, update}``).
        on_notification: Called with ``(method, params)`` for every other notification.
        change_annotations: Declare ``changeAnnotationSupport`` (with ``apply_edit``).
        on_trace: Called with ``("send", message)`` / ``("recv", message)`` for every JSON-RPC
            message, in wire order (protocol tracing and recordings).
    """

    def __init__(
        self,
        command: Sequence[str] | None = None,
        *,
        root: Path | str | None = None,
        env: dict[str, str] | None = None,
        initialization_options: dict[str, Any] | None = None,
        apply_edit: Handler | None = None,
        request_permission: Handler | None = None,
        show_message_request: Handler | None = None,
        show_document: Handler | None = None,
        on_update: Callable[[dict[str, Any]], None] | None = None,
        on_notification: Callable[[str, Any], None] | None = None,
        change_annotations: bool = True,
        on_trace: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.command = list(command) if command is not None else default_command()
        self.root = Path(root) if root is not None else Path.cwd()
        self.env = env
        self.initialization_options = initialization_options
        self.handlers: dict[str, Handler] = {}
        if apply_edit is not None:
            self.handlers["workspace/applyEdit"] = apply_edit
        if request_permission is not None:
            self.handlers["pygent/session/requestPermission"] = request_permission
        self.handlers["window/showMessageRequest"] = show_message_request or (lambda _p: None)
        self.handlers["window/showDocument"] = show_document or (lambda _p: {"success": False})
        self.handlers["window/workDoneProgress/create"] = lambda _p: None
        self.on_update = on_update
        self.on_notification = on_notification
        self.change_annotations = change_annotations
        self.on_trace = on_trace
        self.process: asyncio.subprocess.Process | None = None
        self.server_info: dict[str, Any] = {}
        self.server_capabilities: dict[str, Any] = {}
        self.stderr_tail: deque[str] = deque(maxlen=200)
        """The last lines the server wrote to stderr (for error reports)."""
        self.notifications: list[tuple[str, Any]] = []
        """Every notification other than session updates, in order (method, params)."""
        self._ids = itertools.count(1)
        self._pending: dict[Any, asyncio.Future[Any]] = {}
        self._incoming: dict[Any, asyncio.Task[Any]] = {}
        self._streams: list[UpdateStream] = []
        self._reader_task: asyncio.Task[None] | None = None
        self._stderr_task: asyncio.Task[None] | None = None
        self._write_lock = asyncio.Lock()
        self._closed = asyncio.Event()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> dict[str, Any]:
        """Spawn the server and run ``initialize`` / ``initialized``; returns the initialize result."""
        kwargs: dict[str, Any] = {}
        if os.name == "nt":  # pragma: no cover - Windows only
            import subprocess

            kwargs["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        self.process = await asyncio.create_subprocess_exec(
            *self.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=str(self.root),
            env=self.env,
            limit=1 << 20,
            **kwargs,
        )
        self._reader_task = asyncio.create_task(self._read_loop())
        self._stderr_task = asyncio.create_task(self._read_stderr())
        result = await self.request("initialize", self.initialize_params())
        self.server_info = result.get("serverInfo") or {}
        self.server_capabilities = result.get("capabilities") or {}
        await self.notify("initialized", {})
        return dict(result)

    def initialize_params(self) -> dict[str, Any]:
        """The ``initialize`` params this client sends (capabilities follow the callbacks given)."""
        workspace: dict[str, Any] = {
            "workspaceFolders": True,
            "workspaceEdit": {
                "documentChanges": True,
                "resourceOperations": ["create", "rename", "delete"],
                "failureHandling": "abort",
            },
        }
        if "workspace/applyEdit" in self.handlers:
            workspace["applyEdit"] = True
            if self.change_annotations:
                workspace["workspaceEdit"]["changeAnnotationSupport"] = {"groupsOnLabel": True}
        capabilities: dict[str, Any] = {
            "general": {"positionEncodings": ["utf-16"]},
            "workspace": workspace,
            "window": {"workDoneProgress": True, "showDocument": {"support": True}},
            "experimental": {
                "pygent": {
                    "permissionRequests": "pygent/session/requestPermission" in self.handlers
                }
            },
        }
        params: dict[str, Any] = {
            "processId": os.getpid(),
            "clientInfo": {"name": "pygent-client", "version": _version()},
            "rootUri": self.root.resolve().as_uri(),
            "workspaceFolders": [
                {"uri": self.root.resolve().as_uri(), "name": self.root.resolve().name or "root"}
            ],
            "capabilities": capabilities,
        }
        if self.initialization_options is not None:
            params["initializationOptions"] = self.initialization_options
        return params

    async def close(self, timeout: float = 10.0) -> int | None:
        """``shutdown`` + ``exit``, then wait for the process (killed after ``timeout``)."""
        process = self.process
        if process is None:
            return None
        if process.returncode is None and not self._closed.is_set():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.request("shutdown", None), timeout)
            with contextlib.suppress(Exception):
                await self.notify("exit", None)
        with contextlib.suppress(Exception):
            if process.stdin is not None:
                process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except asyncio.TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        for task in (self._reader_task, self._stderr_task):
            if task is not None:
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(task, 2.0)
        return process.returncode

    async def __aenter__(self) -> PygentClient:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- JSON-RPC ----------------------------------------------------------------------------

    async def _write(self, payload: dict[str, Any]) -> None:
        process = self.process
        if process is None or process.stdin is None:
            raise PygentClientError(CONNECTION_LOST, "The server is not running.")
        body = json.dumps(payload).encode("utf-8")
        async with self._write_lock:
            if self.on_trace is not None:
                with contextlib.suppress(Exception):
                    self.on_trace("send", payload)
            try:
                process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
                await process.stdin.drain()
            except (ConnectionError, RuntimeError) as exc:
                raise PygentClientError(
                    CONNECTION_LOST, f"The server went away: {exc}", self._stderr_data()
                ) from exc

    async def request(self, method: str, params: Any = None) -> Any:
        """Send a request and return its result.

        Raises:
            PygentClientError: The server answered with an error, or the connection was lost.
        """
        msg_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        if self._closed.is_set():
            self._pending.pop(msg_id, None)
            raise PygentClientError(CONNECTION_LOST, "The server has exited.", self._stderr_data())
        payload: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            payload["params"] = params
        try:
            await self._write(payload)
            return await future
        except asyncio.CancelledError:
            if not future.done():
                with contextlib.suppress(Exception):
                    await self.notify("$/cancelRequest", {"id": msg_id})
            raise
        finally:
            self._pending.pop(msg_id, None)

    def request_with_id(self, method: str, params: Any = None) -> tuple[int, asyncio.Task[Any]]:
        """Start a request; returns its id (for ``$/cancelRequest``) and a task of its result."""
        msg_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future

        async def run() -> Any:
            payload: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
            if params is not None:
                payload["params"] = params
            try:
                await self._write(payload)
                return await future
            finally:
                self._pending.pop(msg_id, None)

        return msg_id, asyncio.create_task(run())

    async def notify(self, method: str, params: Any = None) -> None:
        """Send a notification."""
        payload: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            payload["params"] = params
        await self._write(payload)

    async def cancel_request(self, msg_id: int) -> None:
        """``$/cancelRequest`` for one of our requests."""
        await self.notify("$/cancelRequest", {"id": msg_id})

    async def _read_loop(self) -> None:
        process = self.process
        assert process is not None and process.stdout is not None
        stdout = process.stdout
        try:
            while True:
                length: int | None = None
                while True:
                    line = await stdout.readline()
                    if not line:
                        return
                    line = line.strip()
                    if not line:
                        if length is not None:
                            break
                        continue
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                body = await stdout.readexactly(length)
                try:
                    message = json.loads(body)
                except ValueError:
                    continue
                if isinstance(message, dict):
                    if self.on_trace is not None:
                        with contextlib.suppress(Exception):
                            self.on_trace("recv", message)
                    self._dispatch(message)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            return
        finally:
            self._closed.set()
            error = PygentClientError(CONNECTION_LOST, "The server exited.", self._stderr_data())
            for future in list(self._pending.values()):
                if not future.done():
                    future.set_exception(error)
            for stream in self._streams:
                stream._close()

    async def _read_stderr(self) -> None:
        process = self.process
        assert process is not None and process.stderr is not None
        with contextlib.suppress(Exception):
            while True:
                line = await process.stderr.readline()
                if not line:
                    return
                self.stderr_tail.append(line.decode("utf-8", "replace").rstrip())

    def _stderr_data(self) -> dict[str, Any]:
        return {"code": "connection_lost", "stderr": "\n".join(list(self.stderr_tail)[-20:])}

    def _dispatch(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        if method is None:
            future = self._pending.get(message.get("id"))
            if future is None or future.done():
                return
            if "error" in message and message["error"] is not None:
                err = message["error"]
                future.set_exception(
                    PygentClientError(
                        int(err.get("code", -32603)), str(err.get("message", "")), err.get("data")
                    )
                )
            else:
                future.set_result(message.get("result"))
            return
        params = message.get("params")
        if "id" in message:
            task = asyncio.create_task(self._answer(message["id"], method, params))
            self._incoming[message["id"]] = task
            return
        if method == "$/cancelRequest" and isinstance(params, dict):
            running = self._incoming.get(params.get("id"))
            if running is not None:
                running.cancel()
            return
        if method == "pygent/session/update" and isinstance(params, dict):
            if self.on_update is not None:
                with contextlib.suppress(Exception):
                    self.on_update(params)
            for stream in self._streams:
                stream._push(params)
            return
        self.notifications.append((method, params))
        if self.on_notification is not None:
            with contextlib.suppress(Exception):
                self.on_notification(method, params)

    async def _answer(self, msg_id: Any, method: str, params: Any) -> None:
        handler = self.handlers.get(method)
        try:
            if handler is None:
                reply: dict[str, Any] = {
                    "jsonrpc": "2.0",
                    "id": msg_id,
                    "error": {"code": -32601, "message": f"Unhandled method {method}"},
                }
            else:
                result = handler(params)
                if inspect.isawaitable(result):
                    result = await result
                reply = {"jsonrpc": "2.0", "id": msg_id, "result": result}
        except asyncio.CancelledError:
            reply = {
                "jsonrpc": "2.0",
                "id": msg_id,
                "error": {"code": -32800, "message": "cancelled"},
            }
        except Exception as exc:
            reply = {
                "jsonrpc": "2.0",
                "id": msg_id,
                "error": {"code": -32603, "message": f"{type(exc).__name__}: {exc}"},
            }
        finally:
            self._incoming.pop(msg_id, None)
        with contextlib.suppress(PygentClientError):
            await self._write(reply)

    # -- pygent methods ----------------------------------------------------------------------

    async def new_session(self, cwd: Path | str | None = None) -> str:
        """``pygent/session/new``; returns the session id."""
        result = await self.new_session_result(cwd)
        return str(result["sessionId"])

    async def new_session_result(self, cwd: Path | str | None = None) -> dict[str, Any]:
        """``pygent/session/new``; returns the whole result (``sessionId``, ``modes``, ``models``)."""
        params: dict[str, Any] = {}
        if cwd is not None:
            params["cwd"] = str(cwd)
        result: dict[str, Any] = await self.request("pygent/session/new", params)
        return result

    async def prompt(
        self,
        session_id: str,
        prompt: str | list[dict[str, Any]],
        *,
        work_done_token: str | int | None = None,
    ) -> dict[str, Any]:
        """``pygent/session/prompt``; returns ``{stopReason, usage?}`` when the turn ends."""
        blocks = [{"type": "text", "text": prompt}] if isinstance(prompt, str) else prompt
        params: dict[str, Any] = {"sessionId": session_id, "prompt": blocks}
        if work_done_token is not None:
            params["workDoneToken"] = work_done_token
        result: dict[str, Any] = await self.request("pygent/session/prompt", params)
        return result

    async def cancel(self, session_id: str) -> None:
        """``pygent/session/cancel`` (the running prompt answers ``{stopReason: "cancelled"}``)."""
        await self.notify("pygent/session/cancel", {"sessionId": session_id})

    async def list_sessions(self) -> list[dict[str, Any]]:
        """``pygent/session/list``: this workspace's sessions, newest first."""
        result = await self.request("pygent/session/list", {})
        return list(result.get("sessions", []))

    async def load_session(self, session_id: str, cwd: Path | str | None = None) -> dict[str, Any]:
        """``pygent/session/load`` (history arrives as updates before the answer)."""
        params: dict[str, Any] = {"sessionId": session_id}
        if cwd is not None:
            params["cwd"] = str(cwd)
        result: dict[str, Any] = await self.request("pygent/session/load", params) or {}
        return result

    async def delete_session(self, session_id: str) -> None:
        """``pygent/session/delete``."""
        await self.request("pygent/session/delete", {"sessionId": session_id})

    async def set_mode(self, session_id: str, mode_id: str) -> None:
        """``pygent/session/setMode`` (``ask``, ``auto-edit``, ``plan``, ``auto``)."""
        await self.request("pygent/session/setMode", {"sessionId": session_id, "modeId": mode_id})

    async def set_model(self, session_id: str, model_id: str) -> None:
        """``pygent/session/setModel``."""
        await self.request(
            "pygent/session/setModel", {"sessionId": session_id, "modelId": model_id}
        )

    # -- documents ---------------------------------------------------------------------------

    async def did_open(
        self, path: Path, text: str, version: int = 1, language_id: str = ""
    ) -> None:
        """``textDocument/didOpen``."""
        await self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": path.resolve().as_uri(),
                    "languageId": language_id or "plaintext",
                    "version": version,
                    "text": text,
                }
            },
        )

    async def did_change(self, path: Path, text: str, version: int) -> None:
        """``textDocument/didChange`` with the whole text."""
        await self.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": path.resolve().as_uri(), "version": version},
                "contentChanges": [{"text": text}],
            },
        )

    async def did_close(self, path: Path) -> None:
        """``textDocument/didClose``."""
        await self.notify(
            "textDocument/didClose", {"textDocument": {"uri": path.resolve().as_uri()}}
        )

    # -- updates -----------------------------------------------------------------------------

    def stream(self, session_id: str | None = None) -> UpdateStream:
        """An async iterator of updates (``{sessionId, update}``), optionally for one session.

        Use as ``async with client.stream(sid) as updates: async for p in updates.until(task)``.
        """
        return UpdateStream(self, session_id)

    async def updates(self, session_id: str | None = None) -> AsyncIterator[dict[str, Any]]:
        """Iterate over updates until the server exits."""
        stream = self.stream(session_id)
        async with stream:
            async for params in stream:
                yield params


class UpdateStream:
    """Updates received while the stream is open, in order."""

    def __init__(self, client: PygentClient, session_id: str | None) -> None:
        self._client = client
        self._session_id = session_id
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    def _push(self, params: dict[str, Any]) -> None:
        if self._session_id is None or params.get("sessionId") == self._session_id:
            self._queue.put_nowait(params)

    def _close(self) -> None:
        self._queue.put_nowait(None)

    async def __aenter__(self) -> UpdateStream:
        self._client._streams.append(self)
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(ValueError):
            self._client._streams.remove(self)

    def __aiter__(self) -> UpdateStream:
        return self

    async def __anext__(self) -> dict[str, Any]:
        item = await self._queue.get()
        if item is None:
            raise StopAsyncIteration
        return item

    async def until(self, task: Awaitable[Any]) -> AsyncIterator[dict[str, Any]]:
        """Updates until ``task`` finishes (then the ones already received)."""
        future = asyncio.ensure_future(task)
        while True:
            getter = asyncio.ensure_future(self._queue.get())
            done, _ = await asyncio.wait({getter, future}, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                item = getter.result()
                if item is None:
                    return
                yield item
                continue
            getter.cancel()
            while not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    return
                yield item
            return

    def drain(self) -> list[dict[str, Any]]:
        """Every update received so far and not yet iterated."""
        out: list[dict[str, Any]] = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                out.append(item)
        return out


def _version() -> str:
    from pygent import __version__

    return __version__
