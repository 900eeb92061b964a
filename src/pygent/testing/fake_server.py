"""The fake LLM server itself: listening, routing, and the control endpoints for out-of-process users.

See :mod:`pygent.testing.fake_llm` for the script format and the endpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from pygent.testing import fake_anthropic
from pygent.testing import fake_openai as openai
from pygent.testing.fake_errors import error_body, send_error
from pygent.testing.fake_http import read_request, send_json
from pygent.testing.fake_script import Script


class FakeLLM:
    """The server, run on the caller's event loop: ``async with FakeLLM(script) as fake``.

    Args:
        script: Initial script items (see the module docstring).
        chunk_size: Characters of text (and of tool arguments) per streamed event.
        port: Port to listen on (0: any free port).
        host: Interface (default 127.0.0.1).
        models: When given, requests for any other model get a 404 ``model_not_found``.
        api_key: When given, requests without ``Authorization: Bearer <api_key>`` get a 401.
    """

    def __init__(
        self,
        script: Iterable[dict[str, Any]] | None = None,
        *,
        chunk_size: int = 4,
        port: int = 0,
        host: str = "127.0.0.1",
        models: Iterable[str] | None = None,
        api_key: str | None = None,
    ) -> None:
        self.chunk_size = max(1, chunk_size)
        self.host = host
        self.port = port
        self.models = list(models) if models is not None else None
        self.api_key = api_key
        #: Every request body received on the chat endpoint (parsed JSON), in order.
        self.requests: list[dict[str, Any]] = []
        #: Every HTTP request: ``{"method", "path", "headers"}``.
        self.request_log: list[dict[str, Any]] = []
        self._script = Script()
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._counter = 0
        if script is not None:
            self._script.replace(script)

    # -- scripting ------------------------------------------------------------------------

    def script(self, items: Iterable[dict[str, Any]]) -> None:
        """Replace the script (list items and rules) with ``items``."""
        self._script.replace(items)

    def add(self, *items: dict[str, Any]) -> None:
        """Append items (or rules) to the current script."""
        self._script.add(*items)

    @property
    def remaining(self) -> int:
        """How many list items are not consumed yet."""
        return self._script.remaining

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: what ``llm.api_base`` should be."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT``: ``llm.api_base`` for ``anthropic/`` models."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Listen (the port is known afterwards)."""
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the listener and every open connection."""
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def __aenter__(self) -> FakeLLM:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def serve_forever(self) -> None:
        """Serve until cancelled."""
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    # -- HTTP -----------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                request = await read_request(reader)
                if request is None:
                    break
                keep_open = await self._route(writer, *request)
                if not keep_open:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    async def _route(
        self,
        writer: asyncio.StreamWriter,
        method: str,
        path: str,
        headers: dict[str, str],
        raw: bytes,
    ) -> bool:
        path = path.split("?", 1)[0].rstrip("/")
        self.request_log.append({"method": method, "path": path, "headers": headers})
        if method == "GET" and path in ("/v1/models", "/models"):
            names = self.models or ["fake-model"]
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "pygent"} for m in names]
            await send_json(writer, 200, {"object": "list", "data": data})
            return True
        if method == "GET" and path == "/_fake/requests":
            await send_json(writer, 200, self.requests)
            return True
        if method == "POST" and path == "/_fake/script":
            try:
                items = json.loads(raw or b"[]")
                self.script(items if isinstance(items, list) else items.get("responses", []))
            except (ValueError, AttributeError, TypeError) as exc:
                await send_json(writer, 400, {"error": {"message": str(exc)}})
                return True
            await send_json(writer, 200, {"ok": True})
            return True
        anthropic = path in ("/v1/messages", "/messages")
        if method != "POST" or not (
            anthropic or path in ("/v1/chat/completions", "/chat/completions")
        ):
            await send_json(
                writer,
                404,
                {
                    "error": {
                        "message": f"No route {method} {path}",
                        "type": "invalid_request_error",
                    }
                },
            )
            return True
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError("body must be an object")
        except ValueError as exc:
            await send_json(writer, 400, error_body("bad_request", f"Invalid JSON body: {exc}"))
            return True
        self.requests.append(body)
        model = str(body.get("model", ""))
        if self.api_key is not None and self.api_key not in (
            headers.get("authorization", "").removeprefix("Bearer "),
            headers.get("x-api-key"),
        ):
            await send_error(writer, {"status": 401}, model, anthropic)
            return True
        if self.models is not None and model not in self.models:
            await send_error(writer, {"status": 404}, model, anthropic)
            return True
        item = self._script.next_item(body)
        error = item.get("error")
        if error is not None:
            if item.get("delay"):
                await asyncio.sleep(float(item["delay"]))
            spec = {"kind": error} if isinstance(error, str) else dict(error)
            await send_error(writer, spec, model, anthropic)
            return True
        self._counter += 1
        calls = openai.tool_calls(item, self._counter)
        size = int(item.get("chunk_size", self.chunk_size))
        if anthropic:
            message_id = f"msg_fake{self._counter}"
            return await fake_anthropic.answer(writer, body, item, message_id, model, calls, size)
        completion_id = f"chatcmpl-fake{self._counter}"
        if body.get("stream"):
            return await openai.stream(writer, body, item, completion_id, model, calls, size)
        await openai.complete(writer, body, item, completion_id, model, calls)
        return True
