"""The providers the first-run wizards offer (``pygent setup`` and the chat's welcome screen).

One table for both, and the one function that writes their choice to a config file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["PROVIDERS", "Provider", "model_string", "write_llm_config"]


@dataclass(frozen=True)
class Provider:
    """A choice in the wizard.

    Attributes:
        label: What the menu shows.
        prefix: The litellm provider prefix prepended to the model name.
        default_model: The suggested model (without prefix).
        env_var: The provider's own key variable (None: no key needed by default).
        local: An OpenAI-compatible server of the user's (asks for the base URL).
    """

    label: str
    prefix: str
    default_model: str
    env_var: str | None
    local: bool = False


PROVIDERS: tuple[Provider, ...] = (
    Provider("Anthropic (Claude)", "anthropic", "claude-sonnet-4-5", "ANTHROPIC_API_KEY"),
    Provider("OpenAI (GPT)", "openai", "gpt-4.1", "OPENAI_API_KEY"),
    Provider("Google Gemini", "gemini", "gemini-2.5-pro", "GEMINI_API_KEY"),
    Provider(
        "OpenRouter (many models)",
        "openrouter",
        "anthropic/claude-sonnet-4.5",
        "OPENROUTER_API_KEY",
    ),
    Provider(
        "Local OpenAI-compatible server (Ollama, LM Studio, vLLM, llama.cpp)",
        "openai",
        "qwen2.5-coder",
        None,
        local=True,
    ),
)


def model_string(provider: Provider, name: str) -> str:
    """The litellm model string for ``name`` typed by the person (the provider prefix added)."""
    name = name.strip()
    if name.startswith(provider.prefix + "/"):
        return name
    return f"{provider.prefix}/{name}"


def write_llm_config(
    config_file: Path, model: str, api_base: str | None, api_key: str | None
) -> None:
    """Write the wizard's choices to ``config_file`` (also used by ``pygent chat``'s first-run screen).

    Sets ``llm.model``; sets or removes ``llm.api_base`` and ``llm.api_key`` in one atomic write
    (comments and other settings are kept; the result is validated first).
    """
    from pygent.settings.editing import set_values

    set_values(config_file, {"llm.model": model, "llm.api_base": api_base, "llm.api_key": api_key})
