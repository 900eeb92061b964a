"""LLM access: the backend choice, one streamed model call with retries, and error mapping.

Two backends serve a call (``llm.backend``): ``native`` (:mod:`pygent.agent.llm_native`, a direct
httpx client for OpenAI-style and Anthropic APIs; no litellm import) and ``litellm`` (every other
provider). ``auto``, the default, takes native where it serves the provider
(:func:`resolve_backend`). Both feed the same chunk loop below, so reassembly, usage, retries and
error mapping are one code path. Everything that touches litellm goes through this module.

* :func:`import_litellm` imports litellm once, quietly: ``LITELLM_LOCAL_MODEL_COST_MAP=True`` first
  (no network at import; a stalled network otherwise blocks the import for 5 s),
  ``suppress_debug_info``, ``drop_params``, its loggers moved off stdout into our log file, and
  ``gc.freeze()`` afterwards (interpreter exit drops from ~1 s to ~50 ms).
* :func:`stream_completion` runs one ``litellm.acompletion(stream=True, ...)`` and yields
  normalised :data:`LLMEvent` objects: text and reasoning deltas as they arrive, then each tool call
  fully reassembled, the usage and the finish reason.

Event loops: litellm caches its HTTP clients per event loop, so a process should run all its model
calls on one loop (the server's loop; ``asyncio.run`` once in ``pygent run``). Calls from a new
loop still work (litellm keys loop-bound clients by loop) but pay for a new connection pool.

Retries: a 429, a 5xx, a timeout or a dropped connection is retried with exponential backoff and
jitter (``retry-after`` honoured), up to ``settings.llm.num_retries`` times, each announced by a
:class:`RetryNotice` event. A retry happens only while nothing of the attempt has been shown: once
text or reasoning was yielded, a dropped stream ends the turn with a ``network`` error instead of
retrying (a retry would repeat text the person has already seen). Tool-call fragments are never
yielded before the stream completes, so a stream cut in the middle of a tool call never produces a
half call: it is retried when no text came before it, else the turn fails without running it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import gc
import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pygent import errors

if TYPE_CHECKING:
    from pygent.settings.models import Settings

__all__ = [
    "KEYLESS_PROVIDERS",
    "FinishEvent",
    "LLMEvent",
    "ReasoningDelta",
    "RetryNotice",
    "TextDelta",
    "ToolCallEvent",
    "UsageEvent",
    "check_api_key",
    "check_provider",
    "custom_api_base",
    "ensure_litellm",
    "import_litellm",
    "is_anthropic",
    "loaded_litellm",
    "map_exception",
    "model_provider",
    "prepare_backend",
    "resolve_backend",
    "start_background_import",
    "stream_completion",
]

#: Providers that need no API key (local servers, or cloud auth from the environment).
KEYLESS_PROVIDERS = frozenset(
    {
        "ollama",
        "ollama_chat",
        "lm_studio",
        "llamafile",
        "hosted_vllm",
        "vllm",
        "xinference",
        "oobabooga",
        "bedrock",
        "sagemaker",
        "vertex_ai",
        "vertex_ai_beta",
    }
)

#: Provider prefix -> environment variables holding its key (fallback when the loader lacks one).
_PROVIDER_ENV = {
    "anthropic": ["ANTHROPIC_API_KEY"],
    "openai": ["OPENAI_API_KEY"],
    "gemini": ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
    "openrouter": ["OPENROUTER_API_KEY"],
    "mistral": ["MISTRAL_API_KEY"],
    "groq": ["GROQ_API_KEY"],
    "deepseek": ["DEEPSEEK_API_KEY"],
    "xai": ["XAI_API_KEY"],
    "azure": ["AZURE_API_KEY"],
    "cohere": ["COHERE_API_KEY"],
    "together_ai": ["TOGETHERAI_API_KEY"],
}

#: Sent as the key to an ``llm.api_base`` endpoint when no key is configured.
NO_KEY_PLACEHOLDER = "sk-no-key-required"

#: First backoff delay in seconds (doubled per attempt, with jitter); tests may lower it.
RETRY_BASE_DELAY = float(os.environ.get("PYGENT_RETRY_BASE_DELAY", "1.0"))
#: Longest single backoff delay in seconds.
RETRY_MAX_DELAY = 30.0

_LITELLM: Any = None
_IMPORT_LOCK = threading.Lock()
_LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "LiteLLM Proxy Stdout")


class _ToLoguru(logging.Handler):
    """Forwards litellm's stdlib log records to loguru (our log file), never to stdout."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from loguru import logger

            logger.opt(depth=0).log(
                record.levelname if record.levelno >= logging.DEBUG else "DEBUG",
                "litellm: {}",
                record.getMessage(),
            )
        except Exception:
            pass


def _quiet_litellm_loggers() -> None:
    handler = _ToLoguru(logging.WARNING)
    for name in list(logging.root.manager.loggerDict) + list(_LITELLM_LOGGERS):
        if not name.startswith("LiteLLM"):
            continue
        log = logging.getLogger(name)
        for existing in list(log.handlers):
            log.removeHandler(existing)
        log.addHandler(handler)
        log.setLevel(logging.WARNING)
        log.propagate = False


def import_litellm() -> Any:
    """Import and configure litellm once per process (thread-safe); returns the module.

    Sets ``LITELLM_LOCAL_MODEL_COST_MAP=True`` before the import so it never touches the network,
    silences litellm's stdout output and freezes the GC afterwards.
    """
    global _LITELLM
    if _LITELLM is not None:
        return _LITELLM
    with _IMPORT_LOCK:
        if _LITELLM is None:
            os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
            os.environ.setdefault("LITELLM_LOG", "ERROR")
            import litellm as module

            litellm: Any = module
            litellm.suppress_debug_info = True
            litellm.drop_params = True
            litellm.telemetry = False
            litellm.set_verbose = False
            _quiet_litellm_loggers()
            gc.freeze()
            _LITELLM = litellm
    return _LITELLM


async def ensure_litellm() -> Any:
    """:func:`import_litellm` from async code: the first import (seconds) runs off the event loop
    so the frontend stays responsive and a cancel still works meanwhile."""
    if _LITELLM is not None:
        return _LITELLM
    return await asyncio.to_thread(import_litellm)


def loaded_litellm() -> Any:
    """The litellm module when it was already imported, else None (never imports it)."""
    return _LITELLM


def start_background_import() -> threading.Thread:
    """Import litellm in a daemon thread (the server does this right after ``initialized``)."""
    thread = threading.Thread(target=import_litellm, name="import-litellm", daemon=True)
    thread.start()
    return thread


# -- events -------------------------------------------------------------------------------


@dataclass
class TextDelta:
    """A piece of the answer text."""

    text: str


@dataclass
class ReasoningDelta:
    """A piece of the model's visible reasoning."""

    text: str


@dataclass
class ToolCallEvent:
    """One complete tool call (yielded only after the stream ended normally).

    Attributes:
        id: The model's call id.
        name: Tool name as the model wrote it.
        arguments: The raw argument JSON (may be malformed: dispatch reports that to the model).
    """

    id: str
    name: str
    arguments: str


@dataclass
class UsageEvent:
    """Token counts of one model call, and its cost when litellm knows the model's prices."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float | None = None


@dataclass
class FinishEvent:
    """The model stopped: ``stop``, ``tool_calls``, ``length``, ``content_filter``."""

    reason: str


@dataclass
class RetryNotice:
    """A retryable failure; the call is repeated after ``delay`` seconds."""

    message: str
    delay: float
    attempt: int
    error_code: str


LLMEvent = TextDelta | ReasoningDelta | ToolCallEvent | UsageEvent | FinishEvent | RetryNotice


# -- keys and models ----------------------------------------------------------------------


def model_provider(model: str) -> str:
    """The provider prefix of a litellm model string (``anthropic/claude-x`` -> ``anthropic``)."""
    if "/" in model:
        return model.split("/", 1)[0].lower()
    lowered = model.lower()
    if lowered.startswith("claude"):
        return "anthropic"
    if lowered.startswith(("gpt-", "o1", "o3", "o4", "chatgpt")):
        return "openai"
    if lowered.startswith("gemini"):
        return "gemini"
    return ""


def is_anthropic(model: str) -> bool:
    """True for models served by Anthropic's API (prompt caching with ``cache_control``)."""
    provider = model_provider(model)
    return provider == "anthropic" or (
        provider in ("", "bedrock", "vertex_ai") and "claude" in model
    )


def _provider_env_vars(model: str) -> list[str]:
    try:
        from pygent.settings import loader

        return list(loader.provider_env_vars(model))
    except (ImportError, AttributeError):
        provider = model_provider(model)
        return _PROVIDER_ENV.get(provider, [f"{provider.upper()}_API_KEY"] if provider else [])


def resolve_key(settings: Settings) -> str | None:
    """The API key to use: ``llm.api_key``, else the provider's environment variable."""
    try:
        from pygent.settings import loader

        key: str | None = loader.resolve_api_key(settings)
        return key
    except (ImportError, AttributeError):
        pass
    if settings.llm.api_key is not None:
        value = settings.llm.api_key.get_secret_value()
        if value:
            return value
    for var in _provider_env_vars(settings.llm.model):
        value = os.environ.get(var, "")
        if value:
            return value
    return None


def check_provider(model: str) -> None:
    """Raise ``model_not_found`` naming close matches when ``model``'s prefix is no provider.

    Checked before the key, so ``nosuchprov/abc`` never asks for a ``NOSUCHPROV_API_KEY``
    that nothing reads. Valid prefixes are checked against a static list (no litellm import).
    """
    from pygent.settings.model_names import unknown_provider

    unknown = unknown_provider(model)
    if unknown is not None:
        raise errors.unknown_provider(model, *unknown)


def check_api_key(settings: Settings) -> str | None:
    """Return the key for the configured model, or raise before any request.

    A key is not required with ``llm.api_base`` (a local or self-hosted endpoint) or for a
    provider in :data:`KEYLESS_PROVIDERS`; ``None`` is returned then when none is set.

    Raises:
        PygentError: ``model_not_found`` for an unknown provider prefix (:func:`check_provider`),
            ``no_api_key`` when a key is needed and none is configured.
    """
    check_provider(settings.llm.model)
    key = resolve_key(settings)
    if key:
        return key
    model = settings.llm.model
    if settings.llm.api_base or model_provider(model) in KEYLESS_PROVIDERS:
        return None
    raise errors.no_api_key(model, _provider_env_vars(model))


# -- backends -----------------------------------------------------------------------------


def resolve_backend(settings: Settings) -> str:
    """``native`` or ``litellm``: which backend serves ``settings.llm.model`` (no import happens).

    ``auto`` picks ``native`` when :func:`pygent.agent.llm_native.route` serves the provider
    (OpenAI-style APIs and Anthropic), else ``litellm``.

    Raises:
        PygentError: ``model_not_found`` when the model's provider prefix is unknown, or when
            ``llm.backend = "native"`` but the native backend cannot call the model.
    """
    from pygent.agent import llm_native

    llm = settings.llm
    check_provider(llm.model)
    if llm.backend == "litellm":
        return "litellm"
    if llm_native.route(llm.model, llm.api_base) is not None:
        return "native"
    if llm.backend == "native":
        served = ", ".join(sorted(llm_native.PROVIDERS))
        raise errors.PygentError(
            "model_not_found",
            f"The native backend cannot call {llm.model!r}: it serves these providers: {served}"
            " (hosted_vllm and custom_openai need `llm.api_base`).",
            'Set `llm.backend = "auto"` (or "litellm") to use litellm for this model.',
            {"model": llm.model, "backend": "native"},
        )
    return "litellm"


async def prepare_backend(settings: Settings) -> str:
    """Resolve the backend and load what it needs (litellm is imported only for ``litellm``)."""
    backend = resolve_backend(settings)
    if backend == "litellm":
        await ensure_litellm()
    return backend


# -- errors -------------------------------------------------------------------------------

_RETRYABLE = ("rate_limited", "server", "network")


_NETWORK_ERRORS = frozenset(
    {
        "MidStreamFallbackError",
        "APIConnectionError",
        "Timeout",
        "APITimeoutError",
        "TimeoutError",
        "TimeoutException",
        "ConnectError",
        "ConnectTimeout",
        "ReadError",
        "ReadTimeout",
        "RemoteProtocolError",
        "ConnectionError",
        "TransportError",
    }
)


def _caused_by_network(exc: BaseException) -> bool:
    seen = 0
    current = exc.__cause__ or exc.__context__
    while current is not None and seen < 8:
        if {cls.__name__ for cls in type(current).__mro__} & _NETWORK_ERRORS:
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def _classify(exc: BaseException) -> str:
    """``rate_limited`` | ``server`` | ``network`` (retryable) or a final error code."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    status = getattr(exc, "status_code", None)
    code = str(getattr(exc, "code", "") or "")
    if "ContextWindowExceededError" in names or code == "context_length_exceeded":
        return "context_overflow"
    if "ContentPolicyViolationError" in names or code in (
        "content_policy_violation",
        "content_filter",
    ):
        return "refusal"
    if "AuthenticationError" in names or status == 401:
        return "auth_failed"
    if "PermissionDeniedError" in names or status == 403:
        return "auth_failed"
    if "NotFoundError" in names or status == 404:
        return "model_not_found"
    if "RateLimitError" in names or status == 429:
        return "rate_limited"
    if "LiteLLMUnknownProvider" in names:
        return "model_not_found"
    if "BadRequestError" in names and "LLM Provider NOT provided" in str(exc):
        return "model_not_found"
    if names & _NETWORK_ERRORS or _caused_by_network(exc) or "Connection error" in str(exc):
        # litellm reports a refused connection as an InternalServerError ("Connection error.").
        return "network"
    if names & {"InternalServerError", "ServiceUnavailableError", "BadGatewayError"}:
        return "server"
    if isinstance(status, int) and status >= 500:
        return "server"
    return "llm_error"


_PREFIX = re.compile(r"^.*?\b\w+(?:Exception|Error) - ", re.S)
_BYTES_LITERAL = re.compile(r"^b'(.*)'$", re.S)


def _detail(exc: BaseException) -> str:
    """The provider's own message, without litellm's class-name prefixes and JSON wrapping."""
    message = str(getattr(exc, "message", "") or exc).strip()
    # litellm prefixes messages with class names ("litellm.BadRequestError: AnthropicError - ...").
    match = _PREFIX.match(message)
    if match:
        message = message[match.end() :]
    raw = _BYTES_LITERAL.sub(r"\1", message.strip())
    if raw.startswith("{"):
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("message"):
            message = str(error["message"])
        elif isinstance(error, str):
            message = error
    message = message.strip().rstrip(".")
    return message[:300] + ("…" if len(message) > 300 else "")


def custom_api_base(settings: Settings) -> str | None:
    """The base URL the person chose for the model (``llm.api_base`` or the provider's
    ``*_API_BASE`` / ``*_BASE_URL`` variable), or None when the provider's default is used."""
    if settings.llm.api_base:
        return settings.llm.api_base
    from pygent.agent import llm_native

    provider = llm_native.PROVIDERS.get(model_provider(settings.llm.model))
    if provider is None:
        return None
    return next((os.environ[v] for v in provider.env_bases if os.environ.get(v)), None)


def _names_the_model(detail: str, model: str) -> bool:
    """True when a 404's text says the *model* is unknown (not the URL)."""
    lowered = detail.lower()
    bare = model.split("/", 1)[1] if "/" in model else model
    return "model" in lowered and (bare.lower() in lowered or "model_not_found" in lowered)


def _request_url(exc: BaseException) -> str:
    for holder in (getattr(exc, "response", None), exc):
        request = getattr(holder, "request", None)
        url = getattr(request, "url", None)
        if url is not None:
            return str(url)
    return ""


def map_exception(
    exc: BaseException, model: str, api_base: str | None = None
) -> errors.PygentError:
    """The user-facing :class:`~pygent.errors.PygentError` for a litellm (or transport) error.

    Args:
        exc: What the backend raised.
        model: The model string, named in the message.
        api_base: The custom base URL in use (:func:`custom_api_base`): a 404 from it that does
            not name the model blames the URL (``endpoint_not_found``), not the model.
    """
    if isinstance(exc, errors.PygentError):
        return exc
    kind = _classify(exc)
    detail = _detail(exc)
    if (
        kind == "model_not_found"
        and api_base
        and _is_http_404(exc)
        and not _names_the_model(detail, model)
    ):
        kind = "endpoint_not_found"
    from loguru import logger

    # The provider's raw words, for `pygent report`; the log sink redacts any key they echo.
    logger.warning("model call failed ({}): {}: {}", kind, type(exc).__name__, str(exc)[:2000])
    if kind == "context_overflow":
        return errors.context_overflow(detail)
    if kind == "auth_failed":
        return errors.auth_failed(model, detail)
    if kind == "model_not_found":
        return errors.model_not_found(model, api_base=api_base if _is_http_404(exc) else None)
    if kind == "endpoint_not_found":
        return errors.endpoint_not_found(model, api_base or "", _request_url(exc))
    if kind == "rate_limited":
        return errors.rate_limited(detail)
    if kind == "network":
        return errors.network_error(detail)
    if kind == "server":
        return errors.PygentError(
            "llm_error",
            f"The model provider failed: {detail}.",
            "This is usually temporary; try again in a moment.",
            {"model": model},
        )
    if kind == "refusal":
        return errors.PygentError(
            "llm_error", f"The provider refused the request: {detail}.", "", {"model": model}
        )
    return errors.PygentError(
        "llm_error",
        f"The model call failed: {detail}.",
        "Check `llm.model` and `llm.api_base` (`pygent config show`).",
        {"model": model},
    )


def _is_http_404(exc: BaseException) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    return getattr(exc, "status_code", None) == 404 or (
        "NotFoundError" in names and "LiteLLMUnknownProvider" not in names
    )


def _retry_after(exc: BaseException) -> float | None:
    headers: Any = None
    response = getattr(exc, "response", None)
    if response is not None:
        headers = getattr(response, "headers", None)
    if headers is None:
        headers = getattr(exc, "litellm_response_headers", None)
    if headers is None:
        return None
    try:
        value = headers.get("retry-after") or headers.get("Retry-After")
    except Exception:
        return None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None


def backoff_delay(attempt: int, retry_after: float | None = None) -> float:
    """Seconds to wait before retry ``attempt`` (1-based): ``retry-after`` or exponential + jitter."""
    if retry_after is not None:
        return min(retry_after, RETRY_MAX_DELAY * 4)
    base: float = RETRY_BASE_DELAY * 2.0 ** (attempt - 1)
    return min(RETRY_MAX_DELAY, base) * (0.5 + random.random() / 2)


def _retry_message(kind: str, delay: float, attempt: int, total: int) -> str:
    what = {
        "rate_limited": "rate limited",
        "server": "the provider failed",
        "network": "connection problem",
    }.get(kind, "request failed")
    shown = f"{delay:.0f} s" if delay >= 1 else f"{delay:.1f} s"
    return f"{what}, retrying in {shown} (attempt {attempt} of {total})"


# -- request building ---------------------------------------------------------------------


def with_cache_control(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of ``messages`` with Anthropic ``cache_control`` on the system prompt and the prefix.

    Marks the system message and the last message with text content (the conversation prefix
    up to there is cached; the next request reuses it).
    """
    out = copy.deepcopy(messages)

    def mark(message: dict[str, Any]) -> bool:
        content = message.get("content")
        if isinstance(content, str) and content:
            message["content"] = [
                {"type": "text", "text": content, "cache_control": {"type": "ephemeral"}}
            ]
            return True
        if isinstance(content, list) and content and isinstance(content[-1], dict):
            content[-1]["cache_control"] = {"type": "ephemeral"}
            return True
        return False

    for message in out:
        if message.get("role") == "system":
            mark(message)
            break
    for message in reversed(out):
        if message.get("role") != "system" and mark(message):
            break
    return out


def build_request(
    settings: Settings,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
    api_key: str | None,
    *,
    stream: bool = True,
) -> dict[str, Any]:
    """The keyword arguments for ``litellm.acompletion``."""
    llm = settings.llm
    if llm.prompt_caching and is_anthropic(llm.model):
        messages = with_cache_control(messages)
    kwargs: dict[str, Any] = {
        "model": llm.model,
        "messages": messages,
        "timeout": llm.timeout,
        # Our retry loop owns retries (and reports them); no hidden ones below it.
        "num_retries": 0,
        "max_retries": 0,
    }
    if stream:
        kwargs["stream"] = True
        kwargs["stream_options"] = {"include_usage": True}
    if tools:
        kwargs["tools"] = tools
    if llm.api_base:
        kwargs["api_base"] = llm.api_base
    if api_key:
        kwargs["api_key"] = api_key
    elif llm.api_base:
        # Local OpenAI-compatible servers need no key, but the OpenAI client insists on one.
        kwargs["api_key"] = NO_KEY_PLACEHOLDER
    if llm.max_tokens is not None:
        kwargs["max_tokens"] = llm.max_tokens
    if llm.temperature is not None:
        kwargs["temperature"] = llm.temperature
    return kwargs


# -- streaming ----------------------------------------------------------------------------


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class _Assembler:
    """Reassembles tool calls whose id, name and arguments arrive split across chunks."""

    def __init__(self) -> None:
        self.calls: dict[int, _PartialCall] = {}

    def add(self, fragment: Any) -> None:
        index = _get(fragment, "index")
        call_id = _get(fragment, "id")
        if index is None:
            index = next((i for i, c in self.calls.items() if call_id and c.id == call_id), None)
            if index is None:
                index = len(self.calls) if call_id or not self.calls else max(self.calls)
        partial = self.calls.setdefault(int(index), _PartialCall())
        if call_id:
            partial.id = str(call_id)
        function = _get(fragment, "function")
        if function is None:
            return
        name = _get(function, "name")
        if name:
            # Most providers send the name once; some repeat it on every fragment.
            if not partial.name or name == partial.name:
                partial.name = str(name)
            elif not partial.name.endswith(str(name)):
                partial.name += str(name)
        arguments = _get(function, "arguments")
        if arguments:
            partial.arguments.append(str(arguments))

    def finished(self, prefix: str) -> list[ToolCallEvent]:
        out = []
        for n, index in enumerate(sorted(self.calls)):
            partial = self.calls[index]
            if not partial.name and not partial.arguments:
                continue
            call_id = partial.id or f"{prefix}_{n}"
            out.append(ToolCallEvent(call_id, partial.name, "".join(partial.arguments)))
        return out


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _usage_event(usage: Any, model: str, backend: str = "litellm") -> UsageEvent:
    prompt = int(_get(usage, "prompt_tokens") or 0)
    completion = int(_get(usage, "completion_tokens") or 0)
    details = _get(usage, "prompt_tokens_details")
    cached = int((_get(details, "cached_tokens") if details is not None else 0) or 0)
    cached = cached or int(_get(usage, "cache_read_input_tokens") or 0)
    if backend == "litellm":
        cost = _cost(model, prompt, completion, cached)
    else:
        from pygent.agent import model_table

        cost = model_table.cost_usd(model, prompt, completion, cached)
    return UsageEvent(prompt, completion, cached, cost)


def _cost(model: str, prompt: int, completion: int, cached: int) -> float | None:
    """Cost in USD when litellm knows the model's prices (None otherwise; never raises)."""
    litellm = import_litellm()
    try:
        kwargs: dict[str, Any] = {
            "model": model,
            "prompt_tokens": prompt,
            "completion_tokens": completion,
        }
        if cached:
            kwargs["cache_read_input_tokens"] = cached
        try:
            prompt_cost, completion_cost = litellm.cost_per_token(**kwargs)
        except TypeError:
            kwargs.pop("cache_read_input_tokens", None)
            prompt_cost, completion_cost = litellm.cost_per_token(**kwargs)
        total = float(prompt_cost) + float(completion_cost)
    except Exception:
        return None
    return total if total > 0 else None


async def _close_stream(response: Any) -> None:
    closer = getattr(response, "aclose", None)
    if closer is None:
        return
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.shield(closer()), 2)


#: Longest stretch a stream is read without giving the event loop a turn.
STREAM_YIELD_SECONDS = 0.005


async def stream_completion(
    settings: Settings,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None = None,
    *,
    api_key: str | None = None,
    sleep: Callable[[float], Any] = asyncio.sleep,
) -> AsyncGenerator[LLMEvent, None]:
    """Stream one model call as normalised events, retrying transient failures.

    Yields text and reasoning deltas as they arrive; after the stream ended normally, each tool
    call (complete), the usage, then the finish reason. Retries are announced by
    :class:`RetryNotice` events before the wait.

    Args:
        settings: Effective settings (``llm.*``).
        messages: OpenAI-format messages.
        tools: OpenAI-format tool schemas.
        api_key: A key already checked with :func:`check_api_key` (checked here when None).
        sleep: The wait function (tests may replace it).

    Raises:
        PygentError: ``no_api_key`` before any request, ``auth_failed``, ``model_not_found``,
            ``context_overflow``, ``rate_limited`` / ``network`` / ``llm_error`` after the retries.
    """
    from loguru import logger

    key = api_key if api_key is not None else check_api_key(settings)
    model = settings.llm.model
    backend = await prepare_backend(settings)
    total = settings.llm.num_retries
    open_response = _opener(settings, backend, messages, tools, key)
    # INFO: the request in one line (never its content); DEBUG: its size.
    logger.info(
        "LLM request: model={} backend={} messages={} tools={}",
        model,
        backend,
        len(messages),
        len(tools or ()),
    )
    logger.opt(lazy=True).debug(
        "LLM request size: {} characters of messages", lambda: _payload_chars(messages)
    )
    attempt = 0
    while True:
        shown = False
        response: Any = None
        started = time.perf_counter()
        first_chunk: float | None = None
        try:
            response = await open_response()
            assembler = _Assembler()
            finish: str | None = None
            usage: UsageEvent | None = None
            completion_id = "call"
            loop = asyncio.get_running_loop()
            yielded = loop.time()
            async for chunk in response:
                if first_chunk is None:
                    first_chunk = time.perf_counter()
                if loop.time() - yielded >= STREAM_YIELD_SECONDS:
                    # A fast stream is read from an already-filled buffer without ever
                    # suspending: let the consumer (the server sending updates, a cancel
                    # arriving) run, or the client sees nothing until the answer is complete.
                    await asyncio.sleep(0)
                    yielded = loop.time()
                completion_id = str(_get(chunk, "id") or completion_id)
                chunk_usage = _get(chunk, "usage")
                if chunk_usage is not None and (
                    _get(chunk_usage, "prompt_tokens") or _get(chunk_usage, "completion_tokens")
                ):
                    usage = _usage_event(chunk_usage, model, backend)
                choices = _get(chunk, "choices") or []
                if not choices:
                    continue
                choice = choices[0]
                delta = _get(choice, "delta")
                if delta is not None:
                    reasoning = _get(delta, "reasoning_content")
                    if reasoning:
                        shown = True
                        yield ReasoningDelta(str(reasoning))
                    text = _get(delta, "content")
                    if text:
                        shown = True
                        yield TextDelta(str(text))
                    for fragment in _get(delta, "tool_calls") or []:
                        assembler.add(fragment)
                reason = _get(choice, "finish_reason")
                if reason:
                    finish = str(reason)
            for call in assembler.finished(completion_id):
                yield call
            if usage is not None:
                yield usage
            if finish is None:
                finish = "tool_calls" if assembler.calls else "stop"
            if finish == "tool_calls" and not assembler.calls:
                finish = "stop"
            logger.info(
                "LLM response: model={} stop={} tool_calls={} latency={:.0f} ms "
                "first_chunk={} tokens_in={} tokens_out={}",
                model,
                finish,
                len(assembler.calls),
                (time.perf_counter() - started) * 1000,
                f"{(first_chunk - started) * 1000:.0f} ms" if first_chunk is not None else "-",
                usage.prompt_tokens if usage is not None else "?",
                usage.completion_tokens if usage is not None else "?",
            )
            yield FinishEvent(finish)
            return
        except (asyncio.CancelledError, GeneratorExit):
            if response is not None:
                await _close_stream(response)
            raise
        except Exception as exc:
            if response is not None:
                await _close_stream(response)
            kind = _classify(exc)
            if kind == "refusal":
                logger.info("LLM response: model={} stop=content_filter (refused)", model)
                yield FinishEvent("content_filter")
                return
            # Only transient failures are retried: a 404 (wrong model or wrong api_base), a
            # 401/403 or a bad request would fail the same way again, only later.
            if kind not in _RETRYABLE or attempt >= total or shown:
                error = map_exception(exc, model, custom_api_base(settings))
                if shown and kind == "network":
                    error = errors.network_error(
                        "the connection dropped in the middle of the answer"
                    )
                error.data.setdefault("attempts", attempt + 1)
                logger.error(
                    "LLM request failed: model={} code={} attempts={} after {:.0f} ms: {}",
                    model,
                    error.code,
                    attempt + 1,
                    (time.perf_counter() - started) * 1000,
                    error.message,
                )
                raise error from None
            attempt += 1
            delay = backoff_delay(attempt, _retry_after(exc))
            logger.warning(
                "LLM request retry {} of {} in {:.1f} s: model={} reason={}",
                attempt,
                total,
                delay,
                model,
                kind,
            )
            yield RetryNotice(_retry_message(kind, delay, attempt, total), delay, attempt, kind)
            await sleep(delay)


def _payload_chars(messages: list[dict[str, Any]]) -> int:
    """Characters of the messages' text (a size for the log, not a token count)."""
    total = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            total += len(content)
        elif isinstance(content, list):
            total += sum(
                len(str(part.get("text", ""))) for part in content if isinstance(part, dict)
            )
        for call in message.get("tool_calls") or ():
            total += len(str((call.get("function") or {}).get("arguments", "")))
    return total


def _opener(
    settings: Settings,
    backend: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
    key: str | None,
) -> Callable[[], Awaitable[Any]]:
    """A function that sends the request once and returns the stream of OpenAI-shaped chunks."""
    if backend == "litellm":
        litellm = import_litellm()
        kwargs = build_request(settings, messages, tools, key)

        async def via_litellm() -> Any:
            return await litellm.acompletion(**kwargs)

        return via_litellm

    from pygent.agent import llm_native

    llm = settings.llm
    native = llm_native.route(llm.model, llm.api_base)
    assert native is not None  # resolve_backend checked it
    if native.wire == "anthropic":
        if llm.prompt_caching:
            messages = with_cache_control(messages)
        body = llm_native.anthropic_request(settings, native, messages, tools)
    else:
        body = llm_native.openai_request(settings, native, messages, tools)
    sent_key = key or (NO_KEY_PLACEHOLDER if llm.api_base else None)

    async def via_native() -> Any:
        return await llm_native.open_stream(settings, native, body, sent_key)

    return via_native
