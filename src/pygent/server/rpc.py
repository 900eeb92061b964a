"""JSON-RPC 2.0 for ``pygent serve``: decoding frames, checking envelopes, dispatch, responses.

This module owns the JSON-RPC layer outright; pygls is used only for its public document model
(``pygls.workspace``, in :mod:`pygent.server.server`). The reasons:

* Framing must survive bad input (resynchronise after a wrong ``Content-Length``, refuse an
  oversized message before reading it). pygls' reader owns framing and does neither, so framing
  was already ours (:mod:`pygent.server.stdio`); with it, pygls' protocol class had no job left
  but dispatch.
* pygls' public API types every message through lsprotocol's converter: custom ``pygent/*``
  params became namedtuples, responses to our own requests needed a private futures table, and
  ``initialize`` (answered early by :mod:`pygent.server.main`) had to be replayed through a
  private generator. Each was a reach into pygls internals that a pygls release could break.
* Conformance needs control pygls does not expose: ids must be strings or integers (an object
  id made pygls fail with an internal error, ``true`` was accepted), and a request may not reuse
  the id of one still in flight (``$/cancelRequest`` would be ambiguous).

Cost: none on the ``initialize`` budget (spawn -> answered, < 500 ms; this module loads in the
background while the bootstrap answers ``initialize``), and dropping ``pygls.lsp.server`` makes
that background import lighter. ``tests/benchmarks/test_server_bench.py`` measures it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from loguru import logger

from pygent.errors import PygentError
from pygent.protocol import codes
from pygent.redact import redact, redact_value
from pygent.server import protocol as wire
from pygent.server.stdio import Frame, FrameWriter


def internal_error_message(when: str, exc: BaseException) -> str:
    """The message of an ``internal`` error: what failed, and where to look (or what to check).

    A file the server could not read or write is named with what to check (a read-only home
    is the usual cause, not a bug); the log file is pointed to only when there is one.
    """
    from pygent.logs import file_logging_active

    if isinstance(exc, OSError) and exc.filename:
        text = (
            f"pygent could not use {exc.filename} {when}: {exc.strerror or exc}. Check that it "
            "exists and is writable (a read-only home: `pygent help troubleshooting`)."
        )
    else:
        text = f"Internal error in pygent {when}: {type(exc).__name__}: {exc}."
    if file_logging_active():
        return f"{text} See the log file (`pygent report`)."
    return f"{text} File logging is off, so there is no log of it (see `pygent help logging`)."


#: A JSON-RPC request id as LSP allows it.
RequestId: TypeAlias = str | int
#: Handles one request: ``(params, id) -> result`` (raise :class:`PygentError` for an error).
RequestHandler = Callable[[Any, RequestId], Awaitable[Any]]
#: Handles one notification (synchronously, on the event loop).
NotificationHandler = Callable[[Any], None]


class ClientError(Exception):
    """The client answered one of our requests with a JSON-RPC error.

    Args:
        code: The JSON-RPC error code.
        message: The client's message.
        data: The error's ``data``, if any.
    """

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{message} (code {code})")
        self.code = code
        self.message = message
        self.data = data


def valid_id(value: Any) -> bool:
    """True for an id LSP allows: a string or an integer (never a boolean, float or object)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


class JsonRpc:
    """One JSON-RPC connection over a :class:`FrameWriter`: routes messages, sends and matches requests.

    Handlers are registered by method name. Requests run as tasks (their answer is sent when the
    handler returns or raises); notifications run synchronously, in arrival order.

    Args:
        writer: Where frames go.
    """

    def __init__(self, writer: FrameWriter) -> None:
        self._writer = writer
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._running: dict[RequestId, asyncio.Task[None]] = {}
        self._requests: dict[str, RequestHandler] = {}
        self._arrived: dict[str, Callable[[], None]] = {}
        self._notifications: dict[str, NotificationHandler] = {}
        self.refusing: str | None = None
        """When set, every request but ``shutdown`` is refused with this reason (after shutdown)."""
        self.unknown_method_hint = ""
        """Appended to the "unknown method" message (what the server does support)."""

    # -- registration ------------------------------------------------------------------------

    def on_request(
        self,
        method: str,
        handler: RequestHandler,
        *,
        arrived: Callable[[], None] | None = None,
    ) -> None:
        """Route requests for ``method`` to ``handler``.

        Args:
            method: The method name.
            handler: Runs as a task; its return value is the result.
            arrived: Called synchronously when such a request arrives, before any later message
                is read (``shutdown`` must take effect before an ``exit`` right behind it).
        """
        self._requests[method] = handler
        if arrived is not None:
            self._arrived[method] = arrived

    def on_notification(self, method: str, handler: NotificationHandler) -> None:
        """Route notifications for ``method`` to ``handler``."""
        self._notifications[method] = handler

    # -- outgoing ----------------------------------------------------------------------------

    def send(self, payload: dict[str, Any]) -> None:
        """Write one JSON-RPC message."""
        payload.setdefault("jsonrpc", "2.0")
        self._writer.write_body(json.dumps(payload).encode("ascii"))

    def notify(self, method: str, params: Any) -> None:
        """Send a notification."""
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Any) -> tuple[str, Awaitable[Any]]:
        """Send a request to the client.

        Returns:
            Its id and an awaitable of the result (raises :class:`ClientError` on an error answer).
        """
        msg_id = f"pygent-{next(self._ids)}"
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        future.add_done_callback(lambda _: self._pending.pop(msg_id, None))
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return msg_id, future

    def cancel_request(self, request_id: str) -> None:
        """Withdraw one of our requests (``$/cancelRequest``); its awaitable is cancelled."""
        future = self._pending.pop(request_id, None)
        if future is not None and not future.done():
            future.cancel()
        self.notify("$/cancelRequest", {"id": request_id})

    def respond(self, msg_id: RequestId | None, result: Any) -> None:
        """Answer a request with a result."""
        self.send({"jsonrpc": "2.0", "id": msg_id, "result": result})

    def respond_error(
        self, msg_id: RequestId | None, code: int, message: str, data: dict[str, Any] | None = None
    ) -> None:
        """Answer a request (or an undecodable message, with ``id: null``) with an error."""
        error: dict[str, Any] = {"code": code, "message": redact(message)}
        if data is not None:
            error["data"] = redact_value(data)
        self.send({"jsonrpc": "2.0", "id": msg_id, "error": error})

    def respond_pygent_error(self, msg_id: RequestId | None, exc: PygentError) -> None:
        """Answer with a :class:`PygentError` (its stable code as ``data.code``)."""
        code, message, data = wire.error_payload(exc)
        self.respond_error(msg_id, code, message, data)

    # -- incoming ----------------------------------------------------------------------------

    def handle_frame(self, frame: Frame) -> None:
        """Decode one frame and handle its message; never raises."""
        if frame.error is not None:
            logger.warning("bad frame: {}", frame.error)
            self.respond_error(None, codes.PARSE_ERROR, frame.error, {"code": "parse_error"})
            return
        try:
            message = json.loads(frame.body or b"")
        except (ValueError, UnicodeDecodeError) as exc:
            text = f"Parse error: the message is not valid JSON ({exc}). It was ignored."
            logger.warning(text)
            self.respond_error(None, codes.PARSE_ERROR, text, {"code": "parse_error"})
            return
        try:
            self.handle_message(message)
        except Exception as exc:  # never let one message take the server down
            logger.opt(exception=exc).error("failed to handle a message")
            msg_id = message.get("id") if isinstance(message, dict) else None
            if isinstance(message, dict) and "method" in message and valid_id(msg_id):
                self.respond_error(
                    msg_id,
                    codes.INTERNAL_ERROR,
                    internal_error_message(f"while handling {message.get('method')}", exc),
                    {"code": "internal"},
                )

    def handle_message(self, message: Any) -> None:
        """Check one decoded message's envelope and route it."""
        if not isinstance(message, dict):
            self._invalid(None, "batches and non-object messages are not supported.")
            return
        method = message.get("method")
        is_request = "id" in message
        msg_id = message.get("id")
        if method is None:
            if is_request:
                self._resolve(message)
            return
        if is_request and not valid_id(msg_id):
            self._invalid(None, f"id must be a string or an integer, not {_describe(msg_id)}.")
            return
        if not isinstance(method, str):
            if is_request:
                self._invalid(msg_id, "method must be a string.")
            return
        params = message.get("params")
        if is_request:
            assert msg_id is not None  # checked by valid_id above
            self._start_request(msg_id, method, params)
        else:
            handler = self._notifications.get(method)
            if handler is not None:
                handler(params)
            elif not method.startswith("$/"):
                logger.debug("ignored notification {}", method)

    def _start_request(self, msg_id: RequestId, method: str, params: Any) -> None:
        if msg_id in self._running:
            self._invalid(
                msg_id,
                f"id {msg_id!r} is already used by a request still in progress; "
                "use a new id for every request.",
            )
            return
        if self.refusing is not None and method != "shutdown":
            self._invalid(msg_id, f"{method} received {self.refusing}; only exit is accepted.")
            return
        handler = self._requests.get(method)
        if handler is None:
            if method in self._notifications:
                self._invalid(msg_id, f"{method} is a notification; send it without an id.")
                return
            self.respond_error(
                msg_id,
                codes.METHOD_NOT_FOUND,
                f"Unknown method {method!r}.{self.unknown_method_hint}",
                {"code": "method_not_found"},
            )
            return
        arrived = self._arrived.get(method)
        if arrived is not None:
            arrived()
        self._running[msg_id] = asyncio.ensure_future(self._run(msg_id, method, params, handler))

    async def _run(
        self, msg_id: RequestId, method: str, params: Any, handler: RequestHandler
    ) -> None:
        try:
            result = await handler(params, msg_id)
        except PygentError as exc:
            self.respond_pygent_error(msg_id, exc)
        except asyncio.CancelledError:
            self.respond_error(
                msg_id, codes.REQUEST_CANCELLED, f"{method} was cancelled.", {"code": "cancelled"}
            )
        except Exception as exc:
            logger.opt(exception=exc).error("{} failed", method)
            self.respond_error(
                msg_id,
                codes.INTERNAL_ERROR,
                internal_error_message(f"during {method}", exc),
                {"code": "internal"},
            )
        else:
            self.respond(msg_id, result)
        finally:
            self._running.pop(msg_id, None)

    def _resolve(self, message: dict[str, Any]) -> None:
        """Match a response to one of our requests (unknown ids are logged and dropped)."""
        msg_id = message.get("id")
        future = self._pending.pop(msg_id, None) if isinstance(msg_id, str) else None
        if future is None or future.done():
            logger.debug("response to an unknown request {!r} ignored", msg_id)
            return
        error = message.get("error")
        if error is not None:
            if isinstance(error, dict):
                future.set_exception(
                    ClientError(
                        int(error.get("code", codes.INTERNAL_ERROR))
                        if isinstance(error.get("code"), int)
                        else codes.INTERNAL_ERROR,
                        str(error.get("message", "")),
                        error.get("data"),
                    )
                )
            else:
                future.set_exception(
                    ClientError(codes.INTERNAL_ERROR, f"malformed error {error!r}")
                )
            return
        future.set_result(message.get("result"))

    def _invalid(self, msg_id: RequestId | None, reason: str) -> None:
        self.respond_error(
            msg_id, codes.INVALID_REQUEST, f"Invalid request: {reason}", {"code": "invalid_request"}
        )

    # -- running requests --------------------------------------------------------------------

    def cancel_incoming(self, msg_id: Any) -> bool:
        """Cancel the client's request ``msg_id`` if it is running (it answers -32800)."""
        task = self._running.get(msg_id) if valid_id(msg_id) else None
        if task is None:
            return False
        task.cancel()
        return True

    def running(self) -> list[asyncio.Task[None]]:
        """The client's requests still being handled."""
        return [task for task in self._running.values() if not task.done()]


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float):
        return "a fractional number"
    if isinstance(value, (list, dict)):
        return "an array" if isinstance(value, list) else "an object"
    return type(value).__name__
