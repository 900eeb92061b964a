"""Start-up of ``pygent serve``: guard stdio, answer ``initialize`` fast, then hand over to the server.

Importing the server (loguru, and lsprotocol's types for document sync, ~0.5 s) would push the
``initialize`` answer past its 500 ms budget, so the main thread answers ``initialize`` with plain
JSON while a background thread imports :mod:`pygent.server.server`. Frames that arrive meanwhile
wait in a queue, in order.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
from typing import TYPE_CHECKING, Any

from pygent.protocol.codes import INVALID_REQUEST, PARSE_ERROR, SERVER_NOT_INITIALIZED
from pygent.redact import redact
from pygent.server.protocol import initialize_result
from pygent.server.stdio import (
    DEFAULT_MAX_MESSAGE_BYTES,
    Frame,
    FrameReader,
    FrameWriter,
    guard_stdio,
    open_reader,
)

if TYPE_CHECKING:
    from collections.abc import Callable


class FramePump:
    """A reader thread that delivers frames to a sink; the sink can be swapped without loss.

    Until :meth:`redirect` is called, frames collect in a queue (read with :meth:`get`).
    """

    def __init__(self, reader: FrameReader) -> None:
        self._reader = reader
        self._queue: queue.SimpleQueue[Frame | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._sink: Callable[[Frame | None], None] | None = None
        self._thread = threading.Thread(target=self._run, name="pygent-stdin", daemon=True)

    def start(self) -> None:
        """Start reading."""
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                frame = self._reader.read_frame()
            except (OSError, ValueError):
                frame = None
            with self._lock:
                if self._sink is not None:
                    self._sink(frame)
                else:
                    self._queue.put(frame)
            if frame is None:
                return

    def get(self) -> Frame | None:
        """The next queued frame (blocks)."""
        return self._queue.get()

    def redirect(self, sink: Callable[[Frame | None], None]) -> None:
        """Deliver queued and future frames to ``sink``, in order."""
        with self._lock:
            while True:
                try:
                    sink(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._sink = sink


def _send(writer: FrameWriter, payload: dict[str, Any]) -> None:
    writer.write_body(json.dumps(payload).encode("ascii"))


_DATA_CODES = {PARSE_ERROR: "parse_error", INVALID_REQUEST: "invalid_request"}


def _error(writer: FrameWriter, msg_id: Any, code: int, message: str) -> None:
    data_code = _DATA_CODES.get(code, "invalid_params")
    _send(
        writer,
        {
            "jsonrpc": "2.0",
            "id": msg_id,
            "error": {"code": code, "message": redact(message), "data": {"code": data_code}},
        },
    )


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _wait_for_initialize(pump: FramePump, writer: FrameWriter) -> dict[str, Any] | None:
    """Answer frames until ``initialize`` arrives; returns its message (None at end of input)."""
    from pygent import __version__

    while True:
        frame = pump.get()
        if frame is None:
            return None
        if frame.error is not None:
            _error(writer, None, PARSE_ERROR, frame.error)
            continue
        try:
            message = json.loads(frame.body or b"")
        except (ValueError, UnicodeDecodeError) as exc:
            _error(
                writer, None, PARSE_ERROR, f"Parse error: the message is not valid JSON ({exc})."
            )
            continue
        if not isinstance(message, dict) or not isinstance(message.get("method"), str):
            if isinstance(message, dict) and "id" in message and "method" not in message:
                continue  # a response to nothing we asked: ignore
            _error(
                writer,
                message.get("id") if isinstance(message, dict) else None,
                INVALID_REQUEST,
                "Invalid request: expected a JSON-RPC object with a method.",
            )
            continue
        method = message["method"]
        if "id" in message and not _valid_id(message["id"]):
            _error(
                writer, None, INVALID_REQUEST, "Invalid request: id must be a string or an integer."
            )
            continue
        if method == "initialize" and "id" in message:
            params = message.get("params")
            if not isinstance(params, dict):
                _error(writer, message["id"], -32602, "params: must be an object")
                continue
            result = initialize_result(params, __version__)
            _send(writer, {"jsonrpc": "2.0", "id": message["id"], "result": result})
            return message
        if method == "exit":
            return None
        if "id" in message:
            _send(
                writer,
                {
                    "jsonrpc": "2.0",
                    "id": message["id"],
                    "error": {
                        "code": SERVER_NOT_INITIALIZED,
                        "message": f"{method} received before initialize: send initialize first.",
                        "data": {"code": "server_not_initialized"},
                    },
                },
            )
        # Notifications before initialize are dropped, as LSP says.


def message_limit(explicit: int | None = None) -> int:
    """The largest message body to accept: ``explicit``, else ``PYGENT_MAX_MESSAGE_BYTES``, else 64 MiB.

    An unusable variable is reported on stderr (never stdout) and the default is used.
    """
    if explicit is not None and explicit > 0:
        return explicit
    raw = os.environ.get("PYGENT_MAX_MESSAGE_BYTES", "").strip()
    if not raw:
        return DEFAULT_MAX_MESSAGE_BYTES
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        print(
            f"pygent: PYGENT_MAX_MESSAGE_BYTES={raw!r} is not a positive number of bytes; "
            f"using the default ({DEFAULT_MAX_MESSAGE_BYTES}).",
            file=sys.stderr,
        )
        return DEFAULT_MAX_MESSAGE_BYTES
    return value


def run_stdio(overrides: dict[str, Any] | None = None, max_message_bytes: int | None = None) -> int:
    """Serve one client on stdin/stdout until ``exit`` or end of input.

    Args:
        overrides: Settings overrides from the command line (nested dict).
        max_message_bytes: The largest message accepted (default: :func:`message_limit`).

    Returns:
        The process exit code (0 after ``shutdown`` + ``exit`` or end of input, 1 for ``exit``
        without ``shutdown``).
    """
    limit = message_limit(max_message_bytes)
    fds = guard_stdio()
    pump = FramePump(FrameReader(open_reader(fds.read_fd), max_bytes=limit))
    writer = FrameWriter(fds.write_fd)
    pump.start()

    imported: dict[str, Any] = {}

    def import_server() -> None:
        try:
            from pygent.server import server

            imported["module"] = server
            # What the first session/new needs next: the settings (pydantic) and the store.
            import pygent.agent.session.store
            import pygent.settings.loader  # noqa: F401
        except BaseException as exc:  # reported below, on the main thread
            imported["error"] = exc

    importer = threading.Thread(target=import_server, name="pygent-import", daemon=True)
    importer.start()
    init_message = _wait_for_initialize(pump, writer)
    if init_message is None:
        return 0
    importer.join()
    if "error" in imported:
        raise imported["error"]
    server_module = imported["module"]
    code: int = server_module.serve(pump, writer, init_message, overrides or {})
    return code
