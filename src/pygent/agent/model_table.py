"""Model facts without litellm: context window, output limit and prices from litellm's model table.

litellm ships its model map as a JSON file (``model_prices_and_context_window_backup.json``); the
litellm backend reads the same file (``LITELLM_LOCAL_MODEL_COST_MAP=True``). Reading it directly
takes ~25 ms instead of the 3-4 s of ``import litellm``, so the native backend can report costs and
size its context without importing litellm. When litellm is not installed every lookup returns
None and callers use their defaults.

Lookup: the model string as written (``deepseek/deepseek-chat``), then without its provider prefix
when the table's entry belongs to that provider (``anthropic/claude-sonnet-4-5`` ->
``claude-sonnet-4-5``), so an ``openai/`` prefix never picks up another provider's prices.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import threading
from pathlib import Path
from typing import Any

__all__ = ["context_window", "cost_usd", "lookup", "max_output_tokens"]

_TABLE_FILE = "model_prices_and_context_window_backup.json"
_LOCK = threading.Lock()
_TABLE: dict[str, Any] | None = None

#: Provider aliases: the prefix a person writes -> the ``litellm_provider`` values it may match.
_PROVIDER_ALIASES = {
    "ollama_chat": ("ollama", "ollama_chat"),
    "together_ai": ("together_ai",),
}


def _table_path() -> Path | None:
    spec = importlib.util.find_spec("litellm")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / _TABLE_FILE
        if path.is_file():
            return path
    return None


def _table() -> dict[str, Any]:
    global _TABLE
    if _TABLE is not None:
        return _TABLE
    with _LOCK:
        if _TABLE is None:
            data: Any = {}
            path = _table_path()
            if path is not None:
                try:
                    data = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    data = {}
            _TABLE = data if isinstance(data, dict) else {}
    return _TABLE


@functools.lru_cache(maxsize=64)
def lookup(model: str) -> dict[str, Any] | None:
    """The table entry of ``model`` (a litellm model string), or None when it is unknown."""
    table = _table()
    entry = table.get(model)
    if isinstance(entry, dict) and model != "sample_spec":
        return entry
    prefix, sep, bare = model.partition("/")
    if not sep:
        return None
    entry = table.get(bare)
    if not isinstance(entry, dict):
        return None
    provider = str(entry.get("litellm_provider", ""))
    allowed = _PROVIDER_ALIASES.get(prefix.lower(), (prefix.lower(),))
    return entry if provider in allowed else None


def _positive_int(entry: dict[str, Any] | None, *keys: str) -> int | None:
    if entry is None:
        return None
    for key in keys:
        value = entry.get(key)
        if isinstance(value, int) and value > 0:
            return value
    return None


def context_window(model: str) -> int | None:
    """The model's input window in tokens, or None when the table does not know it."""
    return _positive_int(lookup(model), "max_input_tokens", "max_tokens")


def max_output_tokens(model: str) -> int | None:
    """The most tokens the model may generate per response, or None when unknown."""
    return _positive_int(lookup(model), "max_output_tokens", "max_tokens")


def _price(entry: dict[str, Any], key: str, tokens: int) -> float | None:
    tiered = entry.get(f"{key}_above_200k_tokens")
    if tokens > 200_000 and isinstance(tiered, (int, float)):
        return float(tiered)
    value = entry.get(key)
    return float(value) if isinstance(value, (int, float)) else None


def cost_usd(model: str, prompt: int, completion: int, cached: int = 0) -> float | None:
    """Cost in USD of one call (None when the model's prices are unknown or zero).

    Args:
        model: litellm model string.
        prompt: Prompt tokens, cached ones included.
        completion: Generated tokens.
        cached: Prompt tokens read from the provider's cache (billed at the cache-read price).
    """
    entry = lookup(model)
    if entry is None:
        return None
    input_price = _price(entry, "input_cost_per_token", prompt)
    output_price = _price(entry, "output_cost_per_token", prompt)
    if input_price is None or output_price is None:
        return None
    cached = max(0, min(cached, prompt))
    cache_price = _price(entry, "cache_read_input_token_cost", prompt)
    if cache_price is None:
        cache_price = input_price
    total = (prompt - cached) * input_price + cached * cache_price + completion * output_price
    return total if total > 0 else None
