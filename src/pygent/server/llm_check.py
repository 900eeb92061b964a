"""``pygent/llm/check``: one tiny completion with a model, base URL and key the client proposes.

The first-run screen of ``pygent chat`` (and any frontend's setup form) asks the server whether a
configuration works before saving it, so no frontend talks to a model provider itself. The answer
is ``{ok, message}``: a failed connection is a normal answer with the friendly error (what happened
and what to do), not a JSON-RPC error; only malformed params are (``invalid_params``). The key is
never logged and never echoed back.
"""

from __future__ import annotations

from typing import Any

from pygent.errors import PygentError, invalid_params

__all__ = ["check_llm", "handle"]

#: Seconds the check may take before it counts as failed (one short request, no retries).
CHECK_TIMEOUT = 30.0
_MAX_MODEL = 200
_MAX_FIELD = 4096


def _validated(params: Any) -> tuple[str, str | None, str | None]:
    """``(model, apiBase, apiKey)`` from the params; raises ``invalid_params`` naming the field."""
    if not isinstance(params, dict):
        raise invalid_params("params: an object {model, apiBase?, apiKey?} is required")
    model = params.get("model")
    if not isinstance(model, str) or not model.strip():
        raise invalid_params("model: field required (a model string such as openai/gpt-4o-mini)")
    if len(model) > _MAX_MODEL or any(c.isspace() for c in model.strip()):
        raise invalid_params("model: not a model name (no spaces, at most 200 characters)")
    api_base = params.get("apiBase")
    if api_base is not None:
        if not isinstance(api_base, str) or len(api_base) > _MAX_FIELD:
            raise invalid_params("apiBase: must be a URL string")
        api_base = api_base.strip() or None
        if api_base is not None and not api_base.startswith(("http://", "https://")):
            raise invalid_params("apiBase: must start with http:// or https://")
    api_key = params.get("apiKey")
    if api_key is not None:
        if not isinstance(api_key, str) or len(api_key) > _MAX_FIELD:
            raise invalid_params("apiKey: must be a string")
        api_key = api_key.strip() or None
    return model.strip(), api_base, api_key


def _redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


async def check_llm(model: str, api_base: str | None, api_key: str | None) -> dict[str, Any]:
    """Send one tiny completion; ``{ok, message}`` (the friendly error when it fails).

    Without ``api_key`` the provider's usual environment variable is used, as a saved config
    without a key would.
    """
    from pygent.agent.llm import TextDelta, check_api_key, map_exception, stream_completion
    from pygent.settings.models import LLMSettings, Settings

    values: dict[str, object] = {
        "model": model,
        "num_retries": 0,
        "timeout": CHECK_TIMEOUT,
        "max_tokens": 8,
    }
    if api_base:
        values["api_base"] = api_base
    if api_key:
        values["api_key"] = api_key
    text = ""
    try:
        settings = Settings(llm=LLMSettings.model_validate(values))
        key = check_api_key(settings)
        messages = [{"role": "user", "content": "Reply with the word OK."}]
        async for event in stream_completion(settings, messages, api_key=key):
            if isinstance(event, TextDelta):
                text += event.text
    except PygentError as exc:
        return {"ok": False, "message": _redact(f"Connection failed: {exc}", api_key)}
    except Exception as exc:  # litellm's and the transport's errors, mapped to a friendly one
        friendly = map_exception(exc, model, api_base)
        return {"ok": False, "message": _redact(f"Connection failed: {friendly}", api_key)}
    reply = _redact(text.strip()[:60], api_key)
    said = f' (it said "{reply}")' if reply else ""
    return {"ok": True, "message": f"Connected to {model}{said}."}


async def handle(params: Any, msg_id: Any) -> dict[str, Any]:
    """The request handler: validate, then :func:`check_llm`."""
    model, api_base, api_key = _validated(params)
    return await check_llm(model, api_base, api_key)
