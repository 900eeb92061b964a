"""Model and provider names: the static provider list matches litellm's, and the check is cheap."""

from __future__ import annotations

import subprocess
import sys

from pygent.settings.model_names import LITELLM_PROVIDERS, check_model, unknown_provider


def test_static_provider_list_has_every_provider_litellm_knows() -> None:
    import litellm

    real = {str(getattr(p, "value", p)) for p in litellm.provider_list}
    missing = sorted(real - LITELLM_PROVIDERS)
    assert not missing, (
        f"litellm knows providers missing from LITELLM_PROVIDERS: {missing}; add them to "
        "src/pygent/settings/model_names.py"
    )
    # Prefixes pygent documents or routes natively are all in it.
    for provider in ("openai", "anthropic", "ollama", "hosted_vllm", "lm_studio", "custom_openai"):
        assert provider in LITELLM_PROVIDERS


def test_unknown_provider_lists_close_matches_and_accepts_known_ones() -> None:
    assert unknown_provider("openai/anything-at-all") is None
    assert unknown_provider("OpenRouter/anthropic/claude-sonnet-4.5") is None
    assert unknown_provider("gpt-4o") is None  # bare names: litellm infers the provider
    provider, close = unknown_provider("olama/llama3") or ("", [])
    assert provider == "olama"
    assert "ollama" in close


def test_config_show_warning_names_an_unknown_provider_even_with_api_base() -> None:
    warning = check_model("antropic/claude-x", api_base="http://127.0.0.1:9/v1")
    assert warning is not None
    assert warning.startswith("Unknown provider 'antropic' in 'antropic/claude-x'.")
    assert "'anthropic'" in warning
    assert check_model("openai/whatever", api_base="http://127.0.0.1:9/v1") is None


def test_provider_check_never_imports_litellm() -> None:
    code = (
        "import sys\n"
        "from pygent.agent.llm import check_provider\n"
        "from pygent.errors import PygentError\n"
        "check_provider('anthropic/claude-sonnet-4-5')\n"
        "try:\n"
        "    check_provider('nosuchprov/abc')\n"
        "except PygentError as exc:\n"
        "    print(exc.message)\n"
        "print('litellm' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()
    assert out == ["Unknown provider 'nosuchprov' in the model 'nosuchprov/abc'.", "False"]
