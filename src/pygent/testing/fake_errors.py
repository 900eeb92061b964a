"""Provider errors of the fake LLM server: OpenAI's and Anthropic's error bodies, by shorthand name."""

from __future__ import annotations

import asyncio
from typing import Any

from pygent.testing.fake_http import send_json

#: Shorthand error names -> (status, type, code, message).
ERRORS: dict[str, tuple[int, str, str | None, str]] = {
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
STATUS_TO_KIND = {
    429: "rate_limit",
    500: "server",
    503: "overloaded",
    401: "auth",
    404: "model_not_found",
}


def error_body(kind: str, message: str | None = None, model: str = "") -> dict[str, Any]:
    _status, etype, code, default = ERRORS.get(kind, ERRORS["bad_request"])
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


async def send_error(
    writer: asyncio.StreamWriter, spec: dict[str, Any], model: str, anthropic: bool = False
) -> None:
    kind = spec.get("kind")
    status = int(spec.get("status", 0) or 0)
    if kind is None:
        kind = "context_length" if spec.get("code") == "context_length_exceeded" else None
    if kind is None:
        kind = STATUS_TO_KIND.get(status, "server" if status >= 500 else "bad_request")
    if not status:
        status = ERRORS.get(kind, ERRORS["bad_request"])[0]
    body = error_body(kind, spec.get("message"), model)
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
    await send_json(writer, status, body, extra)
