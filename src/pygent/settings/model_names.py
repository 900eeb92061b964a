"""Known model names, for a friendly warning when ``llm.model`` looks mistyped.

An unknown model is never an error: custom and local endpoints serve any name. The list comes from
the model table litellm ships as a JSON file, read directly (litellm itself is not imported,
which would cost seconds); a small built-in list is the fallback.
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import json
from pathlib import Path

__all__ = ["FALLBACK_MODELS", "LOCAL_PROVIDERS", "check_model", "known_models"]

#: Used when litellm's model table cannot be read.
FALLBACK_MODELS: tuple[str, ...] = (
    "anthropic/claude-sonnet-4-5",
    "anthropic/claude-opus-4-1",
    "anthropic/claude-haiku-4-5",
    "anthropic/claude-3-5-haiku-latest",
    "openai/gpt-5",
    "openai/gpt-5-mini",
    "openai/gpt-4.1",
    "openai/gpt-4.1-mini",
    "openai/gpt-4o",
    "openai/gpt-4o-mini",
    "openai/o3",
    "openai/o4-mini",
    "gemini/gemini-2.5-pro",
    "gemini/gemini-2.5-flash",
    "openrouter/anthropic/claude-sonnet-4.5",
    "openrouter/openai/gpt-5",
    "mistral/mistral-large-latest",
    "mistral/codestral-latest",
    "deepseek/deepseek-chat",
    "groq/llama-3.3-70b-versatile",
    "xai/grok-4",
)

#: Providers that serve whatever model the user runs locally (never warned about).
LOCAL_PROVIDERS: frozenset[str] = frozenset(
    {"ollama", "ollama_chat", "lm_studio", "hosted_vllm", "llamafile", "custom_openai"}
)

# Provider prefixes litellm writes in its table without the prefix (keys like "gpt-4o").
_PREFIXLESS_PROVIDERS = frozenset({"openai", "anthropic", "text-completion-openai"})


def _litellm_table() -> Path | None:
    spec = importlib.util.find_spec("litellm")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / "model_prices_and_context_window_backup.json"
        if path.is_file():
            return path
    return None


@functools.lru_cache(maxsize=1)
def known_models() -> frozenset[str]:
    """Every model string litellm knows (``provider/model`` and bare forms), or the fallback."""
    names: set[str] = set(FALLBACK_MODELS)
    table = _litellm_table()
    if table is None:
        return frozenset(names)
    try:
        data = json.loads(table.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset(names)
    for key, info in data.items():
        if key == "sample_spec" or not isinstance(info, dict):
            continue
        names.add(key)
        provider = info.get("litellm_provider")
        if isinstance(provider, str) and "/" not in key:
            names.add(f"{provider}/{key}")
    return frozenset(names)


def check_model(model: str, api_base: str | None = None) -> str | None:
    """A warning when ``model`` is not a model litellm knows, with close matches; else None.

    Custom endpoints (``api_base`` set) and local providers are never warned about.
    """
    if api_base:
        return None
    provider, sep, rest = model.partition("/")
    if sep and provider.lower() in LOCAL_PROVIDERS:
        return None
    from pygent.settings.loader import provider_of

    if not sep:  # a bare name is routed like litellm does: gpt-4o -> openai/gpt-4o
        provider = provider_of(model)
        if f"{provider}/{model}" in FALLBACK_MODELS:
            return None
    if model in FALLBACK_MODELS:  # common names: no need to read litellm's table
        return None
    names = known_models()
    if model in names or (sep and provider in _PREFIXLESS_PROVIDERS and rest in names):
        return None
    if not sep and f"{provider}/{model}" in names:
        return None
    pool = sorted(n for n in names if not sep or n.startswith(provider + "/")) or sorted(names)
    matches = difflib.get_close_matches(model, pool, n=3, cutoff=0.6)
    message = f"Model {model!r} is not in litellm's model list."
    if matches:
        message += " Did you mean " + ", ".join(repr(m) for m in matches) + "?"
    message += " (Custom and local endpoints are fine: set llm.api_base.)"
    return message
