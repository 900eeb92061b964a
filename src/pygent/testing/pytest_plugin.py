"""pytest fixtures shared by every test suite of the project (loaded from ``tests/conftest.py``).

* ``fake_llm``: a running :class:`~pygent.testing.fake_llm.FakeLLMThread` (its own thread, so it
  serves sync tests, async tests and subprocesses alike). Script it with ``fake_llm.script([...])``;
  inspect ``fake_llm.requests``; point clients at ``fake_llm.base_url``.
* ``fake_settings``: :class:`~pygent.settings.models.Settings` aimed at that server (model
  ``openai/fake-model``, key ``sk-fake-test``, few retries, short timeouts). Built directly, without
  reading any config file; ``llm.backend`` follows ``PYGENT_LLM_BACKEND`` like the loader does.
* ``llm_backend``: runs a test once per model backend (``litellm``, ``native``) by setting
  ``PYGENT_LLM_BACKEND`` (subprocesses inherit it). Use it with
  ``pytestmark = pytest.mark.usefixtures("llm_backend")``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from pygent.testing.fake_llm import FakeLLMThread

if TYPE_CHECKING:
    from pygent.settings.models import Settings


def pytest_configure(config: pytest.Config) -> None:
    """Silence litellm's own pydantic deprecation noise (not ours to fix; ours stay errors)."""
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:litellm.*")


#: Model string used by every test against the fake server.
FAKE_MODEL = "openai/fake-model"
#: API key used by every test against the fake server.
FAKE_API_KEY = "sk-fake-test"


@pytest.fixture
def fake_llm() -> Iterator[FakeLLMThread]:
    """A running fake LLM server (empty script: every request answers "(fake) done")."""
    with FakeLLMThread() as fake:
        yield fake


def make_fake_settings(base_url: str, **llm: object) -> Settings:
    """Settings pointing at a fake server at ``base_url`` (``llm`` overrides LLM fields)."""
    from pygent.settings.models import LLMSettings, Settings

    values: dict[str, object] = {
        "model": FAKE_MODEL,
        "api_base": base_url,
        "api_key": FAKE_API_KEY,
        "num_retries": 2,
        "timeout": 20.0,
        "backend": os.environ.get("PYGENT_LLM_BACKEND") or "auto",
    }
    values.update(llm)
    return Settings(llm=LLMSettings.model_validate(values))


@pytest.fixture
def fake_settings(fake_llm: FakeLLMThread) -> Settings:
    """Settings whose model is ``openai/fake-model`` served by ``fake_llm``."""
    return make_fake_settings(fake_llm.base_url)


#: The model backends every parity test runs on.
BACKENDS = ("litellm", "native")


@pytest.fixture(params=BACKENDS)
def llm_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The backend this run of the test uses (``PYGENT_LLM_BACKEND`` is set to it)."""
    backend = str(request.param)
    monkeypatch.setenv("PYGENT_LLM_BACKEND", backend)
    return backend
