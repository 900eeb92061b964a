"""Test isolation: no test sees the developer's real home, config, data or logs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["pygent.testing.pytest_plugin"]

_PROVIDER_VARS = (
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "OPENROUTER_API_KEY",
    "MISTRAL_API_KEY",
    "GROQ_API_KEY",
    "DEEPSEEK_API_KEY",
    "XAI_API_KEY",
    "AZURE_API_KEY",
    "COHERE_API_KEY",
    "TOGETHERAI_API_KEY",
)


_BENCHMARKS = Path(__file__).parent / "benchmarks"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Benchmarks are not tests: collect them only for ``--benchmark-only`` runs."""
    if collection_path == _BENCHMARKS and not config.getoption("benchmark_only", False):
        return True
    return None


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Point HOME and every XDG directory into a fresh temp dir; drop real keys and PYGENT_* vars."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    for var, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
        ("APPDATA", "AppData/Roaming"),
        ("LOCALAPPDATA", "AppData/Local"),
    ):
        path = home / sub
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(path))
        if var in ("APPDATA", "LOCALAPPDATA"):
            # platformdirs asks Windows itself (not these variables) unless overridden here.
            override = "LOCAL_APPDATA" if var == "LOCALAPPDATA" else var
            monkeypatch.setenv(f"WIN_PD_OVERRIDE_{override}", str(path))
    for var in list(os.environ):
        if var.startswith("PYGENT_") or var in _PROVIDER_VARS:
            monkeypatch.delenv(var, raising=False)
    # File logging stays off unless a test turns it on (see pygent.logs).
    monkeypatch.setenv("PYGENT_LOG_DISABLED", "1")
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    monkeypatch.setenv("NO_COLOR", "1")
    yield home


@pytest.fixture(autouse=True)
def _forget_registered_secrets() -> Iterator[None]:
    """Each test starts with the secrets pygent.redact knows now (a test may register more)."""
    from pygent import redact

    with redact._lock:
        before = set(redact._extra_secrets)
    yield
    with redact._lock:
        redact._extra_secrets.clear()
        redact._extra_secrets.update(before)
