"""A fake OpenAI-compatible LLM server for tests: scripted answers, SSE streaming, injected failures.

Every test suite of the project (Python, Neovim, VS Code) talks to this server through real litellm
over real HTTP by pointing ``llm.api_base`` at :attr:`FakeLLM.base_url`. Nothing is mocked.

Endpoints: ``POST /v1/chat/completions`` (also ``/chat/completions``), Anthropic's
``POST /v1/messages`` (same scripts, Anthropic's event stream and error shapes, so ``anthropic/``
models can be tested with ``llm.api_base`` = the server's root URL), ``GET /v1/models``, and two
control endpoints for out-of-process users: ``POST /_fake/script`` (body: a script, replaces the
current one) and ``GET /_fake/requests`` (every request body received so far, as a JSON list).

Script items (plain dicts, or JSON in a file)::

    {"text": "Hello"}                                          # streamed in chunks of chunk_size chars
    {"tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}}]}
    {"tool_calls": [{"name": "edit_file", "arguments": "{not json"}]}   # raw string: malformed JSON
    {"text": "Let me look.", "tool_calls": [...], "reasoning": "thinking..."}
    {"text": "...", "finish_reason": "length"}                 # stop | tool_calls | length | content_filter
    {"text": "...", "usage": {"prompt_tokens": 10, "completion_tokens": 5, "cached_tokens": 3}}
    {"error": {"status": 429, "retry_after": 0.1}}             # or "rate_limit"
    {"error": "server"} | {"error": "auth"} | {"error": "model_not_found"} | {"error": "context_length"}
    {"text": "...", "delay": 0.05}                             # seconds before every chunk (slow stream)
    {"tool_calls": [...], "drop_after_chunks": 3}              # close the socket after 3 SSE events
    {"error": "rate_limit", "repeat": 5}                       # the same item 5 times
    {"match": "regex", "respond": {...}}                       # rule on the last user message
    {"after_tool": "regex", "respond": {...}}                  # rule on the last tool result
    {"match": "regex", "respond": {...}, "times": 1}           # a rule that fires once

Answer selection per request: a rule whose pattern matches wins (``match`` is tried only when the
request's last message is the user's, ``after_tool`` only when it is a tool result, so a rule does
not fire again on every step of a tool loop); else the next item of the list; else the default
answer ``{"text": "(fake) done"}``, so turns always end.

Streaming sends OpenAI ``chat.completion.chunk`` events: the text split into ``chunk_size``
characters per event; each tool call as one event with ``index``, ``id`` and ``name`` (empty
arguments) followed by events carrying argument fragments; a final event with ``finish_reason``;
and, when the request has ``stream_options.include_usage``, a usage event (``choices: []``).
``drop_after_chunks`` counts those events.

Run standalone (editor test suites do)::

    python -m pygent.testing.fake_llm --script script.json [--port N] [--chunk-size N]

prints the port as the first line of stdout and serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["DEFAULT_TEXT", "FakeLLM", "FakeLLMThread", "load_script"]

#: What the server answers once the script is exhausted.
DEFAULT_TEXT = "(fake) done"

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}

#: Shorthand error names -> (status, type, code, message).
_ERRORS: dict[str, tuple[int, str, str | None, str]] = {
    "rate_limit": (
        429,
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for fake-model: Limit 3, Used 3, Requested 1. Please try again later.",
    ),
    "server": (
        500,
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    "overloaded": (503, "server_error", None, "The engine is currently overloaded."),
    "auth": (
        401,
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided: sk-fake***. You can find your API key in your account settings.",
    ),
    "model_not_found": (
        404,
        "invalid_request_error",
        "model_not_found",
        "The model `{model}` does not exist or you do not have access to it.",
    ),
    "context_length": (
        400,
        "invalid_request_error",
        "context_length_exceeded",
        "This model's maximum context length is 8192 tokens. However, your messages resulted in "
        "9000 tokens. Please reduce the length of the messages.",
    ),
    "bad_request": (400, "invalid_request_error", None, "Invalid request."),
}
_STATUS_TO_KIND = {
    429: "rate_limit",
    500: "server",
    503: "overloaded",
    401: "auth",
    404: "model_not_found",
}


def load_script(path: str | Path) -> list[dict[str, Any]]:
    """Read a script file: a JSON list of items, or ``{"responses": [...]}``."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = list(data.get("responses", [])) + list(data.get("rules", []))
    if not isinstance(data, list):
        raise ValueError(f"{path}: a script is a JSON list of response items")
    return [dict(item) for item in data]


@dataclass
class _Rule:
    pattern: re.Pattern[str]
    on: str  # "user" or "tool"
    respond: dict[str, Any]
    times: int | None = None


@dataclass
class _State:
    queue: deque[dict[str, Any]] = field(default_factory=deque)
    rules: list[_Rule] = field(default_factory=list)


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
        self._lock = threading.Lock()
        self._state = _State()
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._counter = 0
        if script is not None:
            self.script(script)

    # -- scripting ------------------------------------------------------------------------

    def script(self, items: Iterable[dict[str, Any]]) -> None:
        """Replace the script (list items and rules) with ``items``."""
        state = _State()
        for item in items:
            self._add_to(state, dict(item))
        with self._lock:
            self._state = state

    def add(self, *items: dict[str, Any]) -> None:
        """Append items (or rules) to the current script."""
        with self._lock:
            for item in items:
                self._add_to(self._state, dict(item))

    @staticmethod
    def _add_to(state: _State, item: dict[str, Any]) -> None:
        if "match" in item or "after_tool" in item:
            on = "user" if "match" in item else "tool"
            pattern = re.compile(str(item.get("match", item.get("after_tool")) or ""), re.S)
            respond = item.get("respond")
            if not isinstance(respond, dict):
                raise ValueError(f"rule {item!r} needs a 'respond' dict")
            times = item.get("times")
            state.rules.append(_Rule(pattern, on, respond, int(times) if times else None))
            return
        repeat = int(item.pop("repeat", 1))
        for _ in range(max(1, repeat)):
            state.queue.append(dict(item))

    @property
    def remaining(self) -> int:
        """How many list items are not consumed yet."""
        with self._lock:
            return len(self._state.queue)

    def _next_item(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = body.get("messages") or []
        last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
        role = last.get("role")
        text = _content_text(last.get("content"))
        results = _anthropic_tool_results(last.get("content"))
        if role == "user" and results is not None:
            role, text = "tool", results
        with self._lock:
            for rule in self._state.rules:
                if rule.times is not None and rule.times <= 0:
                    continue
                if rule.on == role and rule.pattern.search(text):
                    if rule.times is not None:
                        rule.times -= 1
                    return dict(rule.respond)
            if self._state.queue:
                return self._state.queue.popleft()
        return {"text": DEFAULT_TEXT}

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
                request = await _read_request(reader)
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
            await _send_json(writer, 200, {"object": "list", "data": data})
            return True
        if method == "GET" and path == "/_fake/requests":
            await _send_json(writer, 200, self.requests)
            return True
        if method == "POST" and path == "/_fake/script":
            try:
                items = json.loads(raw or b"[]")
                self.script(items if isinstance(items, list) else items.get("responses", []))
            except (ValueError, AttributeError, TypeError) as exc:
                await _send_json(writer, 400, {"error": {"message": str(exc)}})
                return True
            await _send_json(writer, 200, {"ok": True})
            return True
        anthropic = path in ("/v1/messages", "/messages")
        if method != "POST" or not (
            anthropic or path in ("/v1/chat/completions", "/chat/completions")
        ):
            await _send_json(
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
            await _send_json(writer, 400, _error_body("bad_request", f"Invalid JSON body: {exc}"))
            return True
        self.requests.append(body)
        model = str(body.get("model", ""))
        if self.api_key is not None and self.api_key not in (
            headers.get("authorization", "").removeprefix("Bearer "),
            headers.get("x-api-key"),
        ):
            await _send_error(writer, {"status": 401}, model, anthropic)
            return True
        if self.models is not None and model not in self.models:
            await _send_error(writer, {"status": 404}, model, anthropic)
            return True
        item = self._next_item(body)
        error = item.get("error")
        if error is not None:
            if item.get("delay"):
                await asyncio.sleep(float(item["delay"]))
            spec = {"kind": error} if isinstance(error, str) else dict(error)
            await _send_error(writer, spec, model, anthropic)
            return True
        self._counter += 1
        if anthropic:
            return await self._anthropic(writer, body, item, f"msg_fake{self._counter}", model)
        completion_id = f"chatcmpl-fake{self._counter}"
        if body.get("stream"):
            return await self._stream(writer, body, item, completion_id, model)
        await self._complete(writer, body, item, completion_id, model)
        return True

    def _usage(self, body: dict[str, Any], item: dict[str, Any], text: str) -> dict[str, Any]:
        given = dict(item.get("usage") or {})
        prompt = int(
            given.get("prompt_tokens", max(1, len(json.dumps(body.get("messages", []))) // 4))
        )
        completion = int(given.get("completion_tokens", max(1, len(text) // 4)))
        cached = int(given.get("cached_tokens", item.get("cached_tokens", 0)))
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached},
        }

    def _tool_calls(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        calls = []
        for i, call in enumerate(item.get("tool_calls") or []):
            args = call.get("arguments", {})
            raw = args if isinstance(args, str) else json.dumps(args)
            call_id = call.get("id") or f"call_{self._counter}_{i}"
            calls.append({"id": call_id, "name": call.get("name", ""), "arguments": raw})
        return calls

    async def _complete(
        self,
        writer: asyncio.StreamWriter,
        body: dict[str, Any],
        item: dict[str, Any],
        completion_id: str,
        model: str,
    ) -> None:
        if item.get("delay"):
            await asyncio.sleep(float(item["delay"]))
        text = str(item.get("text", ""))
        calls = self._tool_calls(item)
        message: dict[str, Any] = {"role": "assistant", "content": text or None}
        if item.get("reasoning"):
            message["reasoning_content"] = str(item["reasoning"])
        if calls:
            message["tool_calls"] = [
                {
                    "id": c["id"],
                    "type": "function",
                    "function": {"name": c["name"], "arguments": c["arguments"]},
                }
                for c in calls
            ]
        finish = item.get("finish_reason") or ("tool_calls" if calls else "stop")
        await _send_json(
            writer,
            200,
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": self._usage(body, item, text),
            },
        )

    async def _stream(
        self,
        writer: asyncio.StreamWriter,
        body: dict[str, Any],
        item: dict[str, Any],
        completion_id: str,
        model: str,
    ) -> bool:
        created = int(time.time())
        size = int(item.get("chunk_size", self.chunk_size))
        text = str(item.get("text", ""))
        calls = self._tool_calls(item)

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        events: list[dict[str, Any]] = []
        first = True

        def with_role(delta: dict[str, Any]) -> dict[str, Any]:
            nonlocal first
            if first:
                first = False
                return {"role": "assistant", **delta}
            return delta

        for piece in _pieces(str(item.get("reasoning", "")), size):
            events.append(chunk(with_role({"reasoning_content": piece})))
        for piece in _pieces(text, size):
            events.append(chunk(with_role({"content": piece})))
        for index, call in enumerate(calls):
            head = {
                "index": index,
                "id": call["id"],
                "type": "function",
                "function": {"name": call["name"], "arguments": ""},
            }
            events.append(chunk(with_role({"content": None, "tool_calls": [head]})))
            for piece in _pieces(call["arguments"], size):
                events.append(
                    chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
                )
        if first:  # nothing at all: one empty assistant delta
            events.append(chunk(with_role({"content": ""})))
        finish = item.get("finish_reason") or ("tool_calls" if calls else "stop")
        events.append(chunk({}, finish))
        options = body.get("stream_options") or {}
        if isinstance(options, dict) and options.get("include_usage"):
            events.append(
                {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": self._usage(body, item, text),
                }
            )

        payloads = [b"data: " + json.dumps(event).encode() + b"\n\n" for event in events]
        return await _send_event_stream(writer, payloads, item, trailer=b"data: [DONE]\n\n")

    async def _anthropic(
        self,
        writer: asyncio.StreamWriter,
        body: dict[str, Any],
        item: dict[str, Any],
        message_id: str,
        model: str,
    ) -> bool:
        """Answer on Anthropic's Messages API (``POST /v1/messages``), streamed or not."""
        text = str(item.get("text", ""))
        reasoning = str(item.get("reasoning", ""))
        calls = self._tool_calls(item)
        openai_usage = self._usage(body, item, text)
        usage = {
            "input_tokens": openai_usage["prompt_tokens"],
            "output_tokens": openai_usage["completion_tokens"],
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": openai_usage["prompt_tokens_details"]["cached_tokens"],
        }
        finish = item.get("finish_reason") or ("tool_calls" if calls else "stop")
        stop_reason = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}.get(
            str(finish), "refusal" if finish == "content_filter" else "end_turn"
        )
        blocks: list[dict[str, Any]] = []
        if reasoning:
            blocks.append({"type": "thinking", "thinking": reasoning, "signature": "fake-sig"})
        if text:
            blocks.append({"type": "text", "text": text})
        for call in calls:
            try:
                parsed = json.loads(call["arguments"] or "{}")
            except ValueError:
                parsed = {}
            blocks.append(
                {
                    "type": "tool_use",
                    "id": call["id"].replace("call_", "toolu_"),
                    "name": call["name"],
                    "input": parsed,
                    "_raw": call["arguments"],
                }
            )
        if not body.get("stream"):
            if item.get("delay"):
                await asyncio.sleep(float(item["delay"]))
            content = [{k: v for k, v in b.items() if k != "_raw"} for b in blocks]
            await _send_json(
                writer,
                200,
                {
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": content,
                    "stop_reason": stop_reason,
                    "stop_sequence": None,
                    "usage": usage,
                },
            )
            return True
        size = int(item.get("chunk_size", self.chunk_size))
        start_usage = dict(usage, output_tokens=1)
        events: list[tuple[str, dict[str, Any]]] = [
            (
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": message_id,
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": start_usage,
                    },
                },
            )
        ]
        for index, block in enumerate(blocks):
            kind = block["type"]
            if kind == "thinking":
                start: dict[str, Any] = {"type": "thinking", "thinking": ""}
                deltas = [
                    {"type": "thinking_delta", "thinking": p} for p in _pieces(reasoning, size)
                ]
                deltas.append({"type": "signature_delta", "signature": "fake-sig"})
            elif kind == "text":
                start = {"type": "text", "text": ""}
                deltas = [{"type": "text_delta", "text": p} for p in _pieces(text, size)]
            else:
                start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
                deltas = [
                    {"type": "input_json_delta", "partial_json": p}
                    for p in _pieces(block["_raw"], size)
                ]
            events.append(
                (
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": start},
                )
            )
            for delta in deltas:
                events.append(
                    (
                        "content_block_delta",
                        {"type": "content_block_delta", "index": index, "delta": delta},
                    )
                )
            events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        events.append(
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                    "usage": {"output_tokens": usage["output_tokens"]},
                },
            )
        )
        events.append(("message_stop", {"type": "message_stop"}))
        payloads = [
            f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events
        ]
        return await _send_event_stream(writer, payloads, item)


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _anthropic_tool_results(content: Any) -> str | None:
    """The text of Anthropic ``tool_result`` blocks in a user message, or None if there are none."""
    if not isinstance(content, list):
        return None
    texts = [
        _content_text(part.get("content"))
        for part in content
        if isinstance(part, dict) and part.get("type") == "tool_result"
    ]
    return "\n".join(texts) if texts else None


def _error_body(kind: str, message: str | None = None, model: str = "") -> dict[str, Any]:
    _status, etype, code, default = _ERRORS.get(kind, _ERRORS["bad_request"])
    return {
        "error": {
            "message": (message or default).replace("{model}", model),
            "type": etype,
            "param": "messages" if kind == "context_length" else None,
            "code": code,
        }
    }


_ANTHROPIC_TYPES = {
    "rate_limit": "rate_limit_error",
    "server": "api_error",
    "overloaded": "overloaded_error",
    "auth": "authentication_error",
    "model_not_found": "not_found_error",
    "context_length": "invalid_request_error",
    "bad_request": "invalid_request_error",
}
_ANTHROPIC_CONTEXT_MESSAGE = "prompt is too long: 210000 tokens > 200000 maximum"


async def _send_error(
    writer: asyncio.StreamWriter, spec: dict[str, Any], model: str, anthropic: bool = False
) -> None:
    kind = spec.get("kind")
    status = int(spec.get("status", 0) or 0)
    if kind is None:
        kind = "context_length" if spec.get("code") == "context_length_exceeded" else None
    if kind is None:
        kind = _STATUS_TO_KIND.get(status, "server" if status >= 500 else "bad_request")
    if not status:
        status = _ERRORS.get(kind, _ERRORS["bad_request"])[0]
    body = _error_body(kind, spec.get("message"), model)
    if "code" in spec:
        body["error"]["code"] = spec["code"]
    if "type" in spec:
        body["error"]["type"] = spec["type"]
    if anthropic:
        message = body["error"]["message"]
        if kind == "context_length" and "message" not in spec:
            message = _ANTHROPIC_CONTEXT_MESSAGE
        error_type = spec.get("type") or _ANTHROPIC_TYPES.get(kind, "invalid_request_error")
        body = {"type": "error", "error": {"type": error_type, "message": message}}
    extra: dict[str, str] = {}
    if spec.get("retry_after") is not None:
        extra["retry-after"] = str(spec["retry_after"])
    await _send_json(writer, status, body, extra)


async def _send_json(
    writer: asyncio.StreamWriter,
    status: int,
    payload: Any,
    headers: dict[str, str] | None = None,
) -> None:
    data = json.dumps(payload).encode()
    head = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
        "content-type: application/json",
        f"content-length: {len(data)}",
    ]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
    await writer.drain()


async def _send_event_stream(
    writer: asyncio.StreamWriter,
    payloads: list[bytes],
    item: dict[str, Any],
    trailer: bytes | None = None,
) -> bool:
    """Stream server-sent event ``payloads`` (then ``trailer``) as a chunked 200 response.

    The script item's ``delay`` waits before each event; ``drop_after_chunks`` cuts the
    connection after that many events (before the trailer). Returns False when it was cut.
    """
    delay = float(item.get("delay", 0) or 0)
    drop_after = item.get("drop_after_chunks")
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
        b"transfer-encoding: chunked\r\n\r\n"
    )
    await writer.drain()
    for sent, payload in enumerate(payloads):
        if drop_after is not None and sent >= int(drop_after):
            _abort(writer)
            return False
        if delay:
            await asyncio.sleep(delay)
        _write_chunk(writer, payload)
        await writer.drain()
    if trailer is not None:
        if drop_after is not None and len(payloads) >= int(drop_after):
            _abort(writer)
            return False
        _write_chunk(writer, trailer)
    writer.write(b"0\r\n\r\n")
    await writer.drain()
    return True


def _write_chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")


def _abort(writer: asyncio.StreamWriter) -> None:
    transport = writer.transport
    with contextlib.suppress(Exception):
        transport.abort()


async def _read_request(
    reader: asyncio.StreamReader,
) -> tuple[str, str, dict[str, str], bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) < 2:
        return None
    method, path = parts[0].upper(), parts[1]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    body = b""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    else:
        length = int(headers.get("content-length", "0") or 0)
        if length:
            body = await reader.readexactly(length)
    return method, path, headers, body


class FakeLLMThread:
    """The same server on its own event loop in a daemon thread, for sync code and fixtures.

    ``with FakeLLMThread(script) as fake:`` — the attributes and scripting methods of
    :class:`FakeLLM` (``base_url``, ``port``, ``requests``, ``script()``, ``add()``) work from any thread.
    """

    def __init__(self, script: Iterable[dict[str, Any]] | None = None, **options: Any) -> None:
        self.server = FakeLLM(script, **options)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stop = asyncio.Event()

    def start(self) -> None:
        """Start the thread and wait until the server listens."""
        self._thread = threading.Thread(target=self._run, name="fake-llm", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise RuntimeError(f"fake LLM server failed to start: {self._error}")

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        try:
            await self.server.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        await self._stop.wait()
        await self.server.stop()
        current = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def stop(self) -> None:
        """Stop the server and join the thread."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._stop.set)
            thread.join(10)

    def __enter__(self) -> FakeLLMThread:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``."""
        return self.server.base_url

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` (for ``anthropic/`` models)."""
        return self.server.root_url

    @property
    def port(self) -> int:
        """The listening port."""
        return self.server.port

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every chat request body received, in order."""
        return self.server.requests

    @property
    def request_log(self) -> list[dict[str, Any]]:
        """Every HTTP request (method, path, headers)."""
        return self.server.request_log

    @property
    def remaining(self) -> int:
        """Unconsumed list items."""
        return self.server.remaining

    def script(self, items: Iterable[dict[str, Any]]) -> None:
        """Replace the script."""
        self.server.script(items)

    def add(self, *items: dict[str, Any]) -> None:
        """Append items or rules."""
        self.server.add(*items)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: serve a script until killed; prints the port first."""
    parser = argparse.ArgumentParser(
        prog="python -m pygent.testing.fake_llm",
        description="Fake OpenAI-compatible LLM server for tests.",
    )
    parser.add_argument("--script", help="JSON file with a list of response items")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--chunk-size", type=int, default=4, help="characters per streamed chunk")
    args = parser.parse_args(argv)
    try:
        script = load_script(args.script) if args.script else []
    except (OSError, ValueError) as exc:
        print(f"fake_llm: cannot read script: {exc}", file=sys.stderr)
        return 2

    async def run() -> None:
        fake = FakeLLM(script, port=args.port, host=args.host, chunk_size=args.chunk_size)
        await fake.start()
        sys.stdout.write(f"{fake.port}\n")
        sys.stdout.flush()
        await fake.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
