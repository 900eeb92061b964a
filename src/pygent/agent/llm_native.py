"""The native model backend: a direct httpx streaming client for OpenAI-style and Anthropic APIs.

litellm costs 3-4 s to import and ~190 MB of memory. For the two wire formats most people use -
OpenAI-style chat completions (OpenAI, OpenRouter, Groq, DeepSeek, Together, xAI, Ollama, vLLM,
llama.cpp, LM Studio) and Anthropic's Messages API - this module talks HTTP itself, so the first
answer comes without importing litellm at all.

It is deliberately thin: :func:`route` says whether (and where) a model can be served natively,
:func:`open_stream` sends one streamed request and returns a :class:`NativeStream` that yields
OpenAI-shaped ``chat.completion.chunk`` dicts (Anthropic events are translated into that shape),
so :func:`pygent.agent.llm.stream_completion` runs the same reassembly, usage, retry and error
code on both backends. HTTP errors become :class:`NativeHTTPError` (``status_code``, ``code``,
``response``), which :func:`pygent.agent.llm.map_exception` maps exactly like litellm's errors;
transport failures stay httpx exceptions (``ConnectError``, ``ReadTimeout``, ...), which it maps
to ``network``.

httpx is imported on the first request (:func:`import_httpx`), never at module import.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import ssl
import sys
import threading
import types
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import httpx

    from pygent.settings.models import Settings

__all__ = [
    "ANTHROPIC_VERSION",
    "NativeHTTPError",
    "NativeRoute",
    "NativeStream",
    "anthropic_request",
    "import_httpx",
    "open_stream",
    "openai_request",
    "route",
    "tls_context",
]

Wire = Literal["openai", "anthropic"]

#: The Messages API version sent in ``anthropic-version``.
ANTHROPIC_VERSION = "2023-06-01"
#: Output limit sent to Anthropic (which requires one) when neither settings nor the model table
#: give one (litellm's default).
DEFAULT_ANTHROPIC_MAX_TOKENS = 128_000


@dataclass(frozen=True)
class _Provider:
    wire: Wire
    base: str | None  # default API base (None: ``llm.api_base`` is required)
    env_bases: tuple[str, ...] = ()  # environment variables that override the base
    openai_compat_suffix: str = ""  # appended to a user's api_base (Ollama serves /v1)


#: Providers the native backend serves, by litellm prefix.
PROVIDERS: dict[str, _Provider] = {
    "openai": _Provider(
        "openai", "https://api.openai.com/v1", ("OPENAI_BASE_URL", "OPENAI_API_BASE")
    ),
    "anthropic": _Provider(
        "anthropic", "https://api.anthropic.com", ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_BASE")
    ),
    "openrouter": _Provider("openai", "https://openrouter.ai/api/v1", ("OPENROUTER_API_BASE",)),
    "groq": _Provider("openai", "https://api.groq.com/openai/v1", ("GROQ_API_BASE",)),
    "deepseek": _Provider("openai", "https://api.deepseek.com/v1", ("DEEPSEEK_API_BASE",)),
    "together_ai": _Provider("openai", "https://api.together.xyz/v1", ("TOGETHERAI_API_BASE",)),
    "xai": _Provider("openai", "https://api.x.ai/v1", ("XAI_API_BASE",)),
    "ollama": _Provider("openai", "http://localhost:11434", ("OLLAMA_API_BASE",), "/v1"),
    "ollama_chat": _Provider("openai", "http://localhost:11434", ("OLLAMA_API_BASE",), "/v1"),
    "lm_studio": _Provider("openai", "http://localhost:1234/v1", ("LM_STUDIO_API_BASE",)),
    "llamafile": _Provider("openai", "http://127.0.0.1:8080/v1", ("LLAMAFILE_API_BASE",)),
    "hosted_vllm": _Provider("openai", None, ("HOSTED_VLLM_API_BASE",)),
    "custom_openai": _Provider("openai", None),
}

# OpenAI reasoning models take ``max_completion_tokens`` and no temperature (litellm drops it).
_OPENAI_REASONING = re.compile(r"^(o\d|gpt-5)", re.I)


@dataclass(frozen=True)
class NativeRoute:
    """Where and how one model is called natively.

    Attributes:
        wire: ``openai`` (chat completions) or ``anthropic`` (Messages API).
        provider: The litellm provider prefix (``openai`` for unprefixed ``gpt-*`` models).
        model: The model name the provider expects (the prefix removed).
        url: The full endpoint URL.
    """

    wire: Wire
    provider: str
    model: str
    url: str


def _split(model: str) -> tuple[str, str]:
    prefix, sep, rest = model.partition("/")
    if sep and rest:
        return prefix.lower(), rest
    lowered = model.lower()
    if lowered.startswith("claude"):
        return "anthropic", model
    if lowered.startswith(("gpt-", "o1", "o3", "o4", "chatgpt")):
        return "openai", model
    return "", model


def route(model: str, api_base: str | None) -> NativeRoute | None:
    """The native route of ``model``, or None when the native backend does not serve it.

    Args:
        model: litellm model string (``anthropic/claude-sonnet-4-5``, ``openai/gpt-4o``, ...).
        api_base: ``llm.api_base`` (replaces the provider's default URL).
    """
    provider_name, name = _split(model)
    provider = PROVIDERS.get(provider_name)
    if provider is None:
        return None
    base = api_base
    if not base:
        base = next((os.environ[v] for v in provider.env_bases if os.environ.get(v)), None)
    if not base:
        base = provider.base
    if not base:
        return None
    base = base.rstrip("/")
    if provider.wire == "anthropic":
        url = base if base.endswith("/v1/messages") else f"{base}/v1/messages"
    else:
        if provider.openai_compat_suffix and not base.endswith(provider.openai_compat_suffix):
            base += provider.openai_compat_suffix
        url = base if base.endswith("/chat/completions") else f"{base}/chat/completions"
    return NativeRoute(provider.wire, provider_name, name, url)


# -- errors -------------------------------------------------------------------------------


class NativeHTTPError(Exception):
    """The provider answered with an HTTP error.

    Attributes:
        status_code: The HTTP status.
        code: The provider's error code or type (``context_length_exceeded``, ...), or "".
        message: The provider's own message.
        response: The httpx response (its headers carry ``retry-after``).
    """

    def __init__(
        self, status_code: int, message: str, code: str = "", response: Any = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.code = code
        self.response = response


class ContextWindowExceededError(NativeHTTPError):
    """The request is larger than the model's context window (named like litellm's error)."""


class ContentPolicyViolationError(NativeHTTPError):
    """The provider refused the request (named like litellm's error)."""


class StreamIncompleteError(ConnectionError):
    """The event stream ended before the provider said it was complete (a dropped connection)."""


_OVERFLOW = re.compile(
    r"prompt is too long|context[ _]length|maximum context|context window|too many tokens"
    r"|reduce the length|exceeds the (?:model's )?(?:maximum|context)",
    re.I,
)
#: Anthropic error types -> the HTTP status litellm would report.
_ANTHROPIC_TYPES = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


def _http_error(status: int, body: bytes | str, response: Any = None) -> NativeHTTPError:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    message = text.strip() or f"HTTP {status}"
    code = ""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or message)
        code = str(error.get("code") or error.get("type") or "")
    elif isinstance(error, str):
        message = error
    elif isinstance(data, dict) and isinstance(data.get("message"), str):
        message = data["message"]
    cls: type[NativeHTTPError] = NativeHTTPError
    if code in ("content_policy_violation", "content_filter"):
        cls = ContentPolicyViolationError
    elif status in (400, 413) and (code == "context_length_exceeded" or _OVERFLOW.search(message)):
        cls = ContextWindowExceededError
        code = code or "context_length_exceeded"
    return cls(status, message, code, response)


# -- request bodies -----------------------------------------------------------------------


def openai_request(
    settings: Settings,
    native: NativeRoute,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    """The JSON body of a streamed chat-completions request."""
    llm = settings.llm
    body: dict[str, Any] = {
        "model": native.model,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if tools:
        body["tools"] = tools
    reasoning = native.provider == "openai" and bool(_OPENAI_REASONING.match(native.model))
    if llm.max_tokens is not None:
        body["max_completion_tokens" if reasoning else "max_tokens"] = llm.max_tokens
    if llm.temperature is not None and not reasoning:
        body["temperature"] = llm.temperature
    return body


def _image_block(part: dict[str, Any]) -> dict[str, Any]:
    image = part.get("image_url")
    url = str(image.get("url", "") if isinstance(image, dict) else image or "")
    match = re.match(r"data:([^;,]+);base64,(.*)", url, re.S)
    if match:
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": match.group(1), "data": match.group(2)},
        }
    return {"type": "image", "source": {"type": "url", "url": url}}


def _anthropic_blocks(content: Any) -> list[dict[str, Any]]:
    """OpenAI message content (a string or parts) as Anthropic content blocks."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[dict[str, Any]] = []
    for part in content if isinstance(content, list) else []:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "text":
            if not part.get("text") and "cache_control" not in part:
                continue
            block: dict[str, Any] = {"type": "text", "text": str(part.get("text", ""))}
        elif kind == "image_url":
            block = _image_block(part)
        else:
            block = dict(part)
        if "cache_control" in part:
            block["cache_control"] = part["cache_control"]
        blocks.append(block)
    return blocks


def _tool_result(message: dict[str, Any]) -> dict[str, Any]:
    content = message.get("content")
    block: dict[str, Any] = {
        "type": "tool_result",
        "tool_use_id": str(message.get("tool_call_id", "")),
    }
    if isinstance(content, list):
        parts = _anthropic_blocks(content)
        cache = next((p.pop("cache_control") for p in parts if "cache_control" in p), None)
        block["content"] = parts
        if cache is not None:
            block["cache_control"] = cache
    else:
        block["content"] = "" if content is None else str(content)
    return block


def _tool_use(call: dict[str, Any]) -> dict[str, Any]:
    function = call.get("function") or {}
    raw = function.get("arguments") or "{}"
    try:
        arguments = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        arguments = {}
    return {
        "type": "tool_use",
        "id": str(call.get("id", "")),
        "name": str(function.get("name", "")),
        "input": arguments if isinstance(arguments, dict) else {},
    }


def anthropic_request(
    settings: Settings,
    native: NativeRoute,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    """The JSON body of a streamed Messages API request, from OpenAI-format messages.

    System messages become ``system``; assistant tool calls become ``tool_use`` blocks and tool
    results ``tool_result`` blocks in a user message; consecutive messages of one role are merged
    (the API wants user and assistant to alternate). ``cache_control`` marks set by
    :func:`pygent.agent.llm.with_cache_control` are kept on the blocks they were put on.
    """
    from pygent.agent import model_table

    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    for message in copy.deepcopy(messages):
        role = message.get("role")
        if role == "system":
            system.extend(_anthropic_blocks(message.get("content")))
            continue
        if role == "tool":
            blocks = [_tool_result(message)]
            role = "user"
        elif role == "assistant":
            blocks = _anthropic_blocks(message.get("content"))
            blocks += [_tool_use(call) for call in message.get("tool_calls") or []]
        else:
            role = "user"
            blocks = _anthropic_blocks(message.get("content"))
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    llm = settings.llm
    max_tokens = llm.max_tokens
    if max_tokens is None:
        max_tokens = (
            model_table.max_output_tokens(settings.llm.model) or DEFAULT_ANTHROPIC_MAX_TOKENS
        )
    body: dict[str, Any] = {
        "model": native.model,
        "messages": out,
        "max_tokens": max_tokens,
        "stream": True,
    }
    if system:
        body["system"] = system
    if tools:
        body["tools"] = [
            _anthropic_tool(t["function"]) for t in tools if isinstance(t.get("function"), dict)
        ]
    if llm.temperature is not None:
        body["temperature"] = min(llm.temperature, 1.0)  # Anthropic's range is 0..1
    return body


def _anthropic_tool(function: dict[str, Any]) -> dict[str, Any]:
    schema = dict(function.get("parameters") or {"type": "object"})
    if schema.get("type") == "object":
        schema.setdefault("properties", {})
    tool: dict[str, Any] = {"name": str(function.get("name", "")), "input_schema": schema}
    if function.get("description"):
        tool["description"] = str(function["description"])
    return tool


def _headers(
    native: NativeRoute, api_key: str | None, extra: dict[str, str] | None
) -> dict[str, str]:
    headers = {"content-type": "application/json", "accept": "text/event-stream"}
    if native.wire == "anthropic":
        headers["anthropic-version"] = ANTHROPIC_VERSION
        if api_key:
            headers["x-api-key"] = api_key
    elif api_key:
        headers["authorization"] = f"Bearer {api_key}"
    if extra:
        headers.update(extra)
    return headers


# -- HTTP ---------------------------------------------------------------------------------


def import_httpx() -> Any:
    """Import httpx without its command-line module (returns the module).

    ``httpx/__init__`` imports ``httpx._main`` (the ``httpx`` command: click, rich, pygments),
    about a quarter of httpx's import time, only to expose ``httpx.main``. A process that never
    runs that command gets a stand-in, unless something imported httpx already.
    """
    if "httpx" not in sys.modules and "httpx._main" not in sys.modules:
        stand_in = types.ModuleType("httpx._main")

        def main(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("httpx's command line is not available inside pygent")

        stand_in.main = main  # type: ignore[attr-defined]
        sys.modules["httpx._main"] = stand_in
    import httpx

    return httpx


_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[bool, httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)
_TLS: ssl.SSLContext | None = None
_TLS_LOCK = threading.Lock()
_PROXY_VARS = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy")


def tls_context() -> ssl.SSLContext:
    """The verifying TLS context for https endpoints (httpx's default: certifi's CA bundle).

    Loading the CA bundle takes 50-400 ms, so it happens once, on the first https request or in
    the server's warm-up thread, never for a local ``http://`` endpoint.
    """
    global _TLS
    with _TLS_LOCK:
        if _TLS is None:
            _TLS = import_httpx().create_ssl_context()
        return _TLS


def _client(https: bool) -> httpx.AsyncClient:
    """One connection pool per event loop and scheme (a pool cannot cross loops)."""
    httpx = import_httpx()
    loop = asyncio.get_running_loop()
    clients = _CLIENTS.setdefault(loop, {})
    client = clients.get(https)
    if client is None or client.is_closed:
        if https or any(os.environ.get(name) for name in _PROXY_VARS):
            verify: ssl.SSLContext = tls_context()
        else:
            # Plain http without a proxy never negotiates TLS (redirects are not followed):
            # a context without CAs (it would refuse any TLS peer) spares the CA bundle.
            verify = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client = httpx.AsyncClient(
            timeout=None,
            follow_redirects=False,
            verify=verify,
            limits=httpx.Limits(max_keepalive_connections=8),
        )
        clients[https] = client
    return client


@dataclass
class _SSE:
    """Splits a text/event-stream body into (event, data) pairs."""

    event: str = ""
    data: list[str] = field(default_factory=list)

    def feed(self, line: str) -> tuple[str, str] | None:
        if not line:
            if not self.data:
                self.event = ""
                return None
            out = (self.event, "\n".join(self.data))
            self.event, self.data = "", []
            return out
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self.event = value
        elif name == "data":
            self.data.append(value)
        return None


class NativeStream:
    """One streamed response: iterate for OpenAI-shaped chunk dicts; ``aclose()`` to stop early."""

    def __init__(self, native: NativeRoute, response: httpx.Response) -> None:
        self.native = native
        self.response = response

    async def aclose(self) -> None:
        """Close the response (the connection is dropped if the body was not read to its end)."""
        await self.response.aclose()

    async def _events(self) -> AsyncIterator[tuple[str, str]]:
        parser = _SSE()
        async for line in self.response.aiter_lines():
            event = parser.feed(line.rstrip("\r"))
            if event is not None:
                yield event
        event = parser.feed("")
        if event is not None:
            yield event

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        if self.native.wire == "anthropic":
            return self._anthropic_chunks()
        return self._openai_chunks()

    async def _openai_chunks(self) -> AsyncIterator[dict[str, Any]]:
        finished = False
        async for _, data in self._events():
            if data.strip() == "[DONE]":
                finished = True
                break
            try:
                chunk = json.loads(data)
            except ValueError:
                continue
            if not isinstance(chunk, dict):
                continue
            if "error" in chunk and not chunk.get("choices"):
                raise _http_error(_stream_error_status(chunk["error"]), data, self.response)
            for choice in chunk.get("choices") or []:
                if isinstance(choice, dict) and choice.get("finish_reason"):
                    finished = True
            yield chunk
        if not finished:
            raise StreamIncompleteError("the stream ended before the answer was complete")

    async def _anthropic_chunks(self) -> AsyncIterator[dict[str, Any]]:
        message_id = "msg"
        prompt = cache_read = cache_write = output = 0
        tool_index: dict[int, int] = {}
        stop_reason: str | None = None
        finished = False
        async for name, data in self._events():
            try:
                event = json.loads(data)
            except ValueError:
                continue
            if not isinstance(event, dict):
                continue
            kind = event.get("type") or name
            if kind == "message_start":
                message = event.get("message") or {}
                message_id = str(message.get("id") or message_id)
                usage = message.get("usage") or {}
                prompt = int(usage.get("input_tokens") or 0)
                cache_read = int(usage.get("cache_read_input_tokens") or 0)
                cache_write = int(usage.get("cache_creation_input_tokens") or 0)
                output = int(usage.get("output_tokens") or 0)
            elif kind == "content_block_start":
                block = event.get("content_block") or {}
                index = int(event.get("index") or 0)
                if block.get("type") == "tool_use":
                    position = len(tool_index)
                    tool_index[index] = position
                    yield _chunk(
                        message_id,
                        {
                            "tool_calls": [
                                {
                                    "index": position,
                                    "id": block.get("id"),
                                    "type": "function",
                                    "function": {"name": block.get("name"), "arguments": ""},
                                }
                            ]
                        },
                    )
                elif block.get("type") == "text" and block.get("text"):
                    yield _chunk(message_id, {"content": block["text"]})
                elif block.get("type") == "thinking" and block.get("thinking"):
                    yield _chunk(message_id, {"reasoning_content": block["thinking"]})
            elif kind == "content_block_delta":
                delta = event.get("delta") or {}
                index = int(event.get("index") or 0)
                dtype = delta.get("type")
                if dtype == "text_delta" and delta.get("text"):
                    yield _chunk(message_id, {"content": delta["text"]})
                elif dtype == "thinking_delta" and delta.get("thinking"):
                    yield _chunk(message_id, {"reasoning_content": delta["thinking"]})
                elif dtype == "input_json_delta" and index in tool_index:
                    piece = delta.get("partial_json") or ""
                    if piece:
                        yield _chunk(
                            message_id,
                            {
                                "tool_calls": [
                                    {"index": tool_index[index], "function": {"arguments": piece}}
                                ]
                            },
                        )
            elif kind == "message_delta":
                stop_reason = (event.get("delta") or {}).get("stop_reason") or stop_reason
                usage = event.get("usage") or {}
                output = int(usage.get("output_tokens") or output)
                if usage.get("input_tokens") is not None:
                    prompt = int(usage["input_tokens"] or prompt)
                if usage.get("cache_read_input_tokens") is not None:
                    cache_read = int(usage["cache_read_input_tokens"] or 0)
                if usage.get("cache_creation_input_tokens") is not None:
                    cache_write = int(usage["cache_creation_input_tokens"] or 0)
            elif kind == "message_stop":
                finished = True
                break
            elif kind == "error":
                error = event.get("error") or {}
                status = _ANTHROPIC_TYPES.get(str(error.get("type", "")), 500)
                raise _http_error(status, json.dumps(event), self.response)
        if not finished:
            raise StreamIncompleteError("the stream ended before the answer was complete")
        total_prompt = prompt + cache_read + cache_write
        yield _chunk(message_id, {}, _ANTHROPIC_STOP.get(stop_reason or "", "stop"))
        yield {
            "id": message_id,
            "choices": [],
            "usage": {
                "prompt_tokens": total_prompt,
                "completion_tokens": output,
                "total_tokens": total_prompt + output,
                "prompt_tokens_details": {"cached_tokens": cache_read},
                "cache_read_input_tokens": cache_read,
                "cache_creation_input_tokens": cache_write,
            },
        }


def _stream_error_status(error: Any) -> int:
    """The HTTP status an error sent inside an OpenAI-style stream stands for (500 if unsaid)."""
    if isinstance(error, dict):
        for key in ("status", "code"):
            value = error.get(key)
            if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
                return int(value)
    return 500


_ANTHROPIC_STOP = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def _chunk(message_id: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": message_id, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


async def open_stream(
    settings: Settings,
    native: NativeRoute,
    body: dict[str, Any],
    api_key: str | None,
    extra_headers: dict[str, str] | None = None,
) -> NativeStream:
    """Send one streamed request; raises :class:`NativeHTTPError` when the provider refuses it.

    ``llm.timeout`` bounds connecting and every wait for more data (a stalled stream fails with
    ``ReadTimeout``), not the whole answer, which may stream for longer.
    """
    httpx = import_httpx()
    client = _client(native.url.startswith("https:"))
    timeout = httpx.Timeout(settings.llm.timeout)
    request = client.build_request(
        "POST",
        native.url,
        content=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        headers=_headers(native, api_key, extra_headers),
        timeout=timeout,
    )
    response = await client.send(request, stream=True)
    if response.status_code >= 400:
        try:
            raw = await response.aread()
        finally:
            await response.aclose()
        raise _http_error(response.status_code, raw, response)
    return NativeStream(native, response)
