"""User-facing errors: one place for every message a person can cause, each with a stable code.

Each error says what happened and what to do. The CLI prints ``str(error)``; the server sends
``error.message`` with ``data.code = error.code``; the TUI shows both. Later code adds new
codes here, never ad-hoc strings elsewhere.
"""

from __future__ import annotations

from typing import Any

from pygent.redact import redact, redact_value

#: Stable error codes, shared by every frontend (``data.code`` on the wire).
ERROR_CODES = (
    "no_api_key",
    "model_not_found",
    "endpoint_not_found",
    "auth_failed",
    "rate_limited",
    "context_overflow",
    "network",
    "invalid_config",
    "invalid_params",
    "session_not_found",
    "session_busy",
    "llm_error",
    "internal",
    "parse_error",
    "invalid_request",
    "method_not_found",
    "server_not_initialized",
    "cancelled",
)

#: JSON-RPC error codes used for each of our codes (the server maps with this table).
#:
#: JSON-RPC reserves -32768..-32000 (LSP uses -32099..-32000 and -32899..-32800 of it), so
#: pygent's own errors live in -31999..-31000, one number each. The protocol's own errors keep
#: their standard numbers.
JSONRPC_CODES: dict[str, int] = {
    "parse_error": -32700,
    "invalid_request": -32600,
    "method_not_found": -32601,
    "invalid_params": -32602,
    "internal": -32603,
    "server_not_initialized": -32002,
    "cancelled": -32800,
    "no_api_key": -31001,
    "model_not_found": -31002,
    "auth_failed": -31003,
    "rate_limited": -31004,
    "context_overflow": -31005,
    "network": -31006,
    "invalid_config": -31007,
    "session_not_found": -31008,
    "session_busy": -31009,
    "llm_error": -31010,
    "endpoint_not_found": -31011,
}


class PygentError(Exception):
    """An error a person can act on.

    Args:
        code: One of :data:`ERROR_CODES`.
        message: What happened, in one sentence.
        hint: What to do about it.
        data: Extra machine-readable details.
    """

    def __init__(
        self, code: str, message: str, hint: str = "", data: dict[str, Any] | None = None
    ) -> None:
        # Redacted here, once: a provider that echoes the key ("Incorrect API key provided:
        # sk-...") must not leak it into the editor, the session file or the next prompt.
        message = redact(message)
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = redact(hint)
        self.data = redact_value(data) if data else {}

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()

    def to_dict(self) -> dict[str, Any]:
        """The error as a JSON-serialisable dict (``code``, ``message``, ``hint``, extra data)."""
        return {"code": self.code, "message": self.message, "hint": self.hint, **self.data}


class ConfigError(PygentError):
    """A settings file or value is invalid (code ``invalid_config``)."""

    def __init__(self, message: str, hint: str = "", data: dict[str, Any] | None = None) -> None:
        super().__init__("invalid_config", message, hint, data)


def no_api_key(model: str, env_vars: list[str]) -> PygentError:
    """No key is configured for ``model``'s provider."""
    names = " or ".join(env_vars) if env_vars else "PYGENT_API_KEY"
    return PygentError(
        "no_api_key",
        f"No API key configured for model {model!r}.",
        f"Set {names}, run `pygent setup`, or `pygent config set llm.api_key KEY`.",
        {"model": model},
    )


def model_not_found(
    model: str, suggestions: list[str] | None = None, api_base: str | None = None
) -> PygentError:
    """The provider does not know ``model`` (``api_base``: the custom server that said so)."""
    hint = "Check the model name with `pygent config set llm.model PROVIDER/MODEL`."
    if api_base:
        hint = (
            f"The server at {api_base} does not serve it: check the model name (its "
            f"`GET {api_base.rstrip('/')}/models` lists the names), then "
            "`pygent config set llm.model openai/NAME`."
        )
    if suggestions:
        hint = f"Did you mean {', '.join(suggestions)}? " + hint
    data: dict[str, Any] = {"model": model}
    if api_base:
        data["apiBase"] = api_base
    return PygentError("model_not_found", f"The model {model!r} was not found.", hint, data)


def unknown_provider(model: str, provider: str, suggestions: list[str]) -> PygentError:
    """``model``'s ``PROVIDER/`` prefix names no provider litellm knows."""
    close = ", ".join(f"{s!r}" for s in suggestions)
    message = f"Unknown provider {provider!r} in the model {model!r}."
    if close:
        message += f" Did you mean {close}?"
    return PygentError(
        "model_not_found",
        message,
        "A model is PROVIDER/MODEL with a litellm provider (anthropic, openai, gemini, "
        "openrouter, ollama, ...; `pygent help troubleshooting`); for an OpenAI-compatible server use "
        "openai/MODEL with `llm.api_base`.",
        {"model": model, "provider": provider, "suggestions": suggestions},
    )


def endpoint_not_found(model: str, api_base: str, url: str = "") -> PygentError:
    """A custom ``llm.api_base`` answered 404 for the chat endpoint: the base URL is likely wrong."""
    where = f" for {url}" if url else ""
    return PygentError(
        "endpoint_not_found",
        f"The server at llm.api_base = {api_base} answered 404 Not Found{where}: the base URL "
        "is probably wrong (not the model name).",
        "Point `llm.api_base` at the server's OpenAI-compatible root, usually ending in /v1 "
        "(http://localhost:11434/v1 for Ollama, http://localhost:1234/v1 for LM Studio, "
        "http://localhost:8000/v1 for vLLM): `pygent config set llm.api_base URL`.",
        {"model": model, "apiBase": api_base},
    )


def auth_failed(model: str, detail: str = "") -> PygentError:
    """The provider rejected the key."""
    return PygentError(
        "auth_failed",
        f"The provider rejected the API key for {model!r}{': ' + detail if detail else ''}.",
        "Check the key (`pygent config show`), or set a new one with `pygent setup`.",
        {"model": model},
    )


def rate_limited(detail: str = "") -> PygentError:
    """The provider kept answering 429 after all retries."""
    return PygentError(
        "rate_limited",
        f"The provider is rate limiting requests{': ' + detail if detail else ''}.",
        "Wait a minute and try again, or raise `llm.num_retries`.",
    )


def context_overflow(detail: str = "") -> PygentError:
    """The conversation no longer fits the model's context window."""
    return PygentError(
        "context_overflow",
        f"The conversation is too long for the model's context window{': ' + detail if detail else ''}.",
        "Run /compact (or start a new session) and try again.",
    )


def network_error(detail: str = "") -> PygentError:
    """The provider could not be reached."""
    return PygentError(
        "network",
        f"Could not reach the model provider{': ' + detail if detail else ''}.",
        "Check your network connection and `llm.api_base`, then try again.",
    )


def invalid_params(message: str) -> PygentError:
    """A protocol request's parameters are malformed."""
    return PygentError("invalid_params", message, "")


def session_not_found(session_id: str) -> PygentError:
    """No session with that id exists in this workspace."""
    return PygentError(
        "session_not_found",
        f"No session {session_id!r} in this workspace.",
        "List sessions with `pygent sessions list`.",
        {"sessionId": session_id},
    )


def session_busy(session_id: str, holder: str = "") -> PygentError:
    """The session is already running a turn (here, or in the process ``holder`` describes)."""
    if holder:
        return PygentError(
            "session_busy",
            f"Session {session_id!r} is already running a turn in {holder}.",
            "Wait for that turn to finish, or stop that process; the session can still be "
            "loaded read-only.",
            {"sessionId": session_id, "holder": holder},
        )
    return PygentError(
        "session_busy",
        f"Session {session_id!r} is already running a turn.",
        "Wait for it to finish or cancel it first.",
        {"sessionId": session_id},
    )
