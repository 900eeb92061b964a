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

__all__ = [
    "FALLBACK_MODELS",
    "LITELLM_PROVIDERS",
    "LOCAL_PROVIDERS",
    "check_model",
    "known_models",
    "known_providers",
    "unknown_provider",
]

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

#: litellm's provider prefixes (``litellm.provider_list``), kept here so checking a model's prefix
#: never imports litellm; ``tests/unit/test_model_names.py`` checks it against litellm's real list.
LITELLM_PROVIDERS: frozenset[str] = frozenset(
    {
        "a2a",
        "a2a_agent",
        "abliteration",
        "ai21",
        "ai21_chat",
        "aiand",
        "aiml",
        "aiohttp_openai",
        "amazon_nova",
        "anthropic",
        "anthropic_text",
        "apertis",
        "assemblyai",
        "auto_router",
        "aws_polly",
        "aws_textract",
        "azure",
        "azure_ai",
        "azure_speech",
        "azure_text",
        "baseten",
        "bedrock",
        "bedrock_mantle",
        "bespoke",
        "bigmodel",
        "black_forest_labs",
        "bytez",
        "cerebras",
        "charity_engine",
        "chatgpt",
        "chutes",
        "clarifai",
        "clf_ai_gateway",
        "cloudflare",
        "codestral",
        "cognition",
        "cohere",
        "cohere_chat",
        "cometapi",
        "compactifai",
        "coralbricks",
        "cortecs",
        "cursor",
        "custom",
        "custom_openai",
        "darkbloom",
        "dashscope",
        "databricks",
        "databricks_agent",
        "datarobot",
        "deepgram",
        "deepinfra",
        "deepseek",
        "docker_model_runner",
        "dotprompt",
        "edenai",
        "elevenlabs",
        "empiriolabs",
        "empower",
        "eu_jev",
        "fal_ai",
        "featherless_ai",
        "fireworks_ai",
        "friendliai",
        "galadriel",
        "gdc",
        "gemini",
        "gigachat",
        "github",
        "github_copilot",
        "gradient_ai",
        "groq",
        "helicone",
        "heroku",
        "hosted_vllm",
        "hostinger_router",
        "huggingface",
        "humanloop",
        "hyperbolic",
        "inception",
        "inferenceapis",
        "infinity",
        "jina_ai",
        "kyma",
        "lambda_ai",
        "langflow",
        "langfuse",
        "langgraph",
        "laya",
        "lemonade",
        "libertai",
        "litellm_agent",
        "litellm_proxy",
        "llamafile",
        "lm_studio",
        "manus",
        "maritalk",
        "meta",
        "meta_llama",
        "microsoft_365_copilot",
        "milvus",
        "minimax",
        "mistral",
        "modelscope",
        "mongodb",
        "moonshot",
        "morph",
        "nace",
        "nadir",
        "nano-gpt",
        "nebius",
        "neosantara",
        "nlp_cloud",
        "novita",
        "nscale",
        "nvidia_nim",
        "nvidia_riva",
        "oci",
        "ollama",
        "ollama_chat",
        "oobabooga",
        "openai",
        "openai_like",
        "opencode_go",
        "openinfer",
        "openrouter",
        "opensearch",
        "ovhcloud",
        "parallel_ai",
        "parasail",
        "perplexity",
        "petals",
        "pg_vector",
        "pinstripes",
        "poe",
        "predibase",
        "prism",
        "publicai",
        "qwen_ai_platform",
        "qwencloud",
        "ragflow",
        "recraft",
        "reducto",
        "refuseless",
        "reka",
        "replicate",
        "runwayml",
        "s3_vectors",
        "sagemaker",
        "sagemaker_chat",
        "sagemaker_nova",
        "sail",
        "sambanova",
        "sap",
        "scaledown",
        "scaleway",
        "scx-ai",
        "snowflake",
        "soniox",
        "stability",
        "strands_decider",
        "streamlake",
        "synthetic",
        "tencent",
        "tensormesh",
        "text-completion-codestral",
        "text-completion-inception",
        "text-completion-openai",
        "together_ai",
        "topaz",
        "transcribe",
        "triton",
        "typesafe",
        "v0",
        "valkey",
        "vercel_ai_gateway",
        "vertex_ai",
        "vertex_ai_beta",
        "vllm",
        "volcengine",
        "voyage",
        "wally",
        "wandb",
        "watsonx",
        "watsonx_text",
        "xai",
        "xiaomi_mimo",
        "xinference",
        "zai",
        "zerogpu",
    }
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

    Custom endpoints (``api_base`` set) and local providers are never warned about, except for
    a provider prefix litellm does not know (nothing can serve that).
    """
    unknown = unknown_provider(model)
    if unknown is not None:  # no endpoint serves a provider litellm does not know
        provider, close = unknown
        message = f"Unknown provider {provider!r} in {model!r}."
        if close:
            message += " Did you mean " + ", ".join(repr(m) for m in close) + "?"
        return message + " (An OpenAI-compatible server: openai/MODEL with llm.api_base.)"
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


def known_providers() -> frozenset[str]:
    """Every provider prefix pygent accepts: :data:`LITELLM_PROVIDERS`, the providers of litellm's
    model table, and ``litellm.provider_list`` when litellm is already loaded (a newer litellm may
    know more than the static list; this never imports it)."""
    import sys

    names = set(LITELLM_PROVIDERS)
    litellm = sys.modules.get("litellm")
    for provider in getattr(litellm, "provider_list", None) or ():
        names.add(str(getattr(provider, "value", provider)))
    table = _litellm_table()
    if table is not None:
        try:
            data = json.loads(table.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        for info in data.values() if isinstance(data, dict) else ():
            provider = info.get("litellm_provider") if isinstance(info, dict) else None
            if isinstance(provider, str):
                names.add(provider)
    return frozenset(names)


def unknown_provider(model: str) -> tuple[str, list[str]] | None:
    """``(provider, close matches)`` when ``model``'s ``PROVIDER/`` prefix is no litellm provider.

    None for a known prefix and for a bare name (litellm infers the provider of ``gpt-4o``). The
    common prefixes are checked against the static list only, so the usual path reads no file.
    """
    provider, sep, rest = model.partition("/")
    if not sep or not rest:
        return None
    provider = provider.strip().lower()
    if provider in LITELLM_PROVIDERS:
        return None
    known = known_providers()
    if provider in known:
        return None
    matches = difflib.get_close_matches(provider, sorted(known), n=3, cutoff=0.6)
    if not matches:
        matches = sorted(p for p in known if p.startswith(provider[:3]) and len(provider) >= 3)[:3]
    return provider, matches
