"""The sandbox in a whole headless turn: real litellm to the fake LLM, the real engine and shell.

In ``auto-edit`` a confined command that stays in the workspace runs without asking (``pygent run``
would otherwise reject it), a write outside comes back to the model as "blocked by the sandbox",
and on a machine without a sandbox (simulated with an injected support probe) nothing is relaxed
and ``pygent run`` says so on stderr.
"""

from __future__ import annotations

import io
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pygent.cli.run import run_prompt
from pygent.sandbox import runtime
from pygent.sandbox.landlock import abi_version
from pygent.testing.fake_llm import FakeLLMThread

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or abi_version() < 1, reason="needs Linux with Landlock"
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def fake_env(fake_llm: FakeLLMThread, monkeypatch: pytest.MonkeyPatch) -> FakeLLMThread:
    monkeypatch.setenv("PYGENT_MODEL", "openai/fake-model")
    monkeypatch.setenv("PYGENT_API_BASE", fake_llm.base_url)
    monkeypatch.setenv("PYGENT_API_KEY", "sk-fake-test")
    return fake_llm


@pytest.fixture
def outside() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="pygent-sandbox-run-", dir="/var/tmp"))
    try:
        yield path
    finally:
        for child in path.iterdir():
            child.unlink()
        path.rmdir()


def _shell(command: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "shell", "arguments": {"command": command}}]}


def _tool_texts(request: dict[str, Any]) -> list[str]:
    return [str(m.get("content")) for m in request["messages"] if m.get("role") == "tool"]


def _run(prompt: str, **kwargs: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_prompt(prompt, out=out, err=err, **kwargs)
    return code, out.getvalue(), err.getvalue()


def test_auto_edit_runs_confined_commands_but_asks_for_outside_paths(
    project: Path, fake_env: FakeLLMThread, outside: Path
) -> None:
    fake_env.script(
        [
            _shell("echo built > build.txt"),
            _shell(f"echo x > {outside}/stolen.txt"),
            {"text": "done"},
        ]
    )
    code, out, err = _run("build it", mode="auto-edit")
    assert code == 0, err
    assert out.endswith("done\n")
    assert (project / "build.txt").read_text() == "built\n"
    assert not (outside / "stolen.txt").exists()
    first, second = _tool_texts(fake_env.requests[-1])
    assert first.startswith("Exit code: 0")
    assert "declined" in second  # pygent run cannot ask, so what would ask is rejected
    assert err.count("needs permission; rejected") == 1


def test_a_blocked_write_reaches_the_model_as_such(
    project: Path, fake_env: FakeLLMThread, outside: Path
) -> None:
    fake_env.script([_shell(f"echo x > {outside}/stolen.txt"), {"text": "blocked"}])
    code, out, err = _run("write it", mode="auto")
    assert code == 0, err
    assert out.endswith("blocked\n")
    assert not (outside / "stolen.txt").exists()
    (text,) = _tool_texts(fake_env.requests[-1])
    assert f"blocked by the sandbox: write to {outside}/stolen.txt" in text
    assert "escalate=true" in text


def test_without_a_sandbox_nothing_is_relaxed_and_run_says_so(
    project: Path, fake_env: FakeLLMThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_landlock = runtime.detect_support(lambda: 0, platform="linux")
    monkeypatch.setattr(runtime, "_cached_support", lambda: no_landlock)
    fake_env.script([_shell("echo built > build.txt"), {"text": "could not"}])
    code, out, err = _run("build it", mode="auto-edit")
    assert code == 0, err
    assert out.endswith("could not\n")
    assert "pygent: sandbox off: this kernel has no Landlock" in err
    assert "needs permission; rejected" in err
    assert not (project / "build.txt").exists()


def test_sandbox_flag_off_turns_confinement_off_for_the_run(
    project: Path, fake_env: FakeLLMThread, outside: Path
) -> None:
    fake_env.script([_shell(f"touch {outside}/free.txt"), {"text": "ok"}])
    code, out, err = _run("touch it", mode="auto", sandbox="off")
    assert code == 0, err
    assert out.endswith("ok\n")
    assert (outside / "free.txt").exists()
    assert "sandbox off" not in err  # turned off on purpose: no warning
