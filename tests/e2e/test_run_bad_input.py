"""Bad input through ``pygent run`` as a real process: clear message, exit 1, nothing lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from run_helpers import make_repo, pygent_env, run_pygent

from pygent.agent.session import SessionStore
from pygent.testing.fake_llm import FakeLLMThread


@pytest.mark.parametrize("bad", ["../../../etc/passwd", "01JDQ8M3V6Y5W1ZP9K4T2X/R0B", ".."])
def test_session_ids_with_slash_or_dotdot_are_refused(
    tmp_path: Path, fake_llm: FakeLLMThread, bad: str
) -> None:
    repo = make_repo(tmp_path / "repo")
    proc = run_pygent("--session", bad, "hello", cwd=repo, env=pygent_env(fake_llm.base_url))
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: ")
    assert "is not a valid session id" in proc.stderr
    assert "pygent sessions list" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert fake_llm.requests == []
    assert SessionStore(repo).list() == []


def test_corrupt_session_file_middle_and_last_line_still_resumes(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> None:
    repo = make_repo(tmp_path / "repo")
    session = SessionStore(repo).create("openai/fake-model")
    session.append({"role": "user", "content": "first question"})
    session.append({"role": "assistant", "content": "first answer"})
    session.append({"role": "user", "content": "second question"})
    session.append({"role": "assistant", "content": "second answer"})
    lines = session.path.read_bytes().split(b"\n")
    lines[4] = b'{"type":"message","message":{"role":"user","content":"second qu'  # middle
    data = b"\n".join(lines) + b'{"type":"message","ts":"2026-01-01T00:00:00Z","mess'  # cut-off
    session.path.write_bytes(data)

    fake_llm.script([{"text": "third answer"}])
    proc = run_pygent(
        "--session", session.id, "third question", cwd=repo, env=pygent_env(fake_llm.base_url)
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "third answer\n"
    assert "Line 5 of session" in proc.stderr and "skipped" in proc.stderr
    assert "The last line of session" in proc.stderr

    sent = json.dumps(fake_llm.requests[0]["messages"])
    for kept in ("first question", "first answer", "second answer", "third question"):
        assert kept in sent
    assert "second qu" not in sent

    # Nothing was lost: the file still has the damaged lines plus the new turn, and loads.
    assert session.path.read_bytes().startswith(data)
    loaded = SessionStore(repo).load(session.id)
    assert [m["content"] for m in loaded.messages][:4] == [
        "first question",
        "first answer",
        "second answer",
        "third question",
    ]
    assert loaded.messages[-1]["role"] == "assistant"


def test_no_api_key_exits_1_with_the_no_api_key_message(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    env = pygent_env(None, PYGENT_MODEL="openai/fake-model")
    proc = run_pygent("hello", cwd=repo, env=env)
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: No API key configured for model 'openai/fake-model'")
    assert "OPENAI_API_KEY" in proc.stderr and "pygent setup" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert SessionStore(repo).list() == []


def test_unknown_model_exits_1_with_the_model_not_found_message(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    with FakeLLMThread(models=["fake-model"]) as fake:
        env = pygent_env(fake.base_url, PYGENT_MODEL="openai/no-such-model")
        proc = run_pygent("hello", cwd=repo, env=env)
    assert proc.returncode == 1
    assert "no-such-model" in proc.stderr and "was not found" in proc.stderr
    assert "Traceback" not in proc.stderr
    # The prompt is not lost: it is in the session, ready for a retry with another model.
    (info,) = SessionStore(repo).list()
    assert "hello" in json.dumps(SessionStore(repo).load(info["sessionId"]).messages)


def test_unknown_provider_exits_1_naming_the_provider_and_close_matches(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> None:
    repo = make_repo(tmp_path / "repo")
    env = pygent_env(fake_llm.base_url, NOSUCHPROV_API_KEY="sk-set-but-unused")
    proc = run_pygent("--model", "anthropc/claude-sonnet-4-5", "hello", cwd=repo, env=env)
    assert proc.returncode == 1
    assert "Unknown provider 'anthropc'" in proc.stderr
    assert "Did you mean 'anthropic'" in proc.stderr
    assert "ANTHROPC_API_KEY" not in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_pygent("--model", "nosuchprov/abc", "hello", cwd=repo, env=env)
    assert proc.returncode == 1
    assert "Unknown provider 'nosuchprov'" in proc.stderr
    assert "NOSUCHPROV_API_KEY" not in proc.stderr and "was not found" not in proc.stderr
    assert fake_llm.requests == []
