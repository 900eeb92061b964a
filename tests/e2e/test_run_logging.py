"""A whole `pygent run` writes the log `pygent report` bundles (issue #17 item 11).

Each test runs the real program in a subprocess against the fake LLM, with file logging on (the
suite turns it off by default), and reads the log file it wrote. A DEBUG run logs the session, each
model request and response, each tool call with its (redacted) arguments; an INFO run leaves the
arguments out; retries and failures are logged at WARNING and ERROR. Secrets in the prompt, the
arguments and the key never reach the file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pygent.logs import log_path
from pygent.testing.fake_llm import FakeLLMThread

#: Secrets in formats the redaction recognises, put where a careless log would copy them.
PROMPT_SECRET = "sk-ant-api03-PromptSecret0123456789abcdefXYZ"
ARGUMENT_SECRET = "sk-proj-ArgumentSecretAbCdEfGhIjKlMn"
API_KEY = "sk-fake-test-key-0123456789"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / "notes.txt").write_text("the notes\n", encoding="utf-8")
    return root


def run_logged(
    project: Path, fake: FakeLLMThread, level: str, prompt: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run `pygent run PROMPT` with file logging at ``level``; returns (result, log text)."""
    environ: dict[str, Any] = {k: v for k, v in os.environ.items() if k != "PYGENT_LOG_DISABLED"}
    environ.update(
        {
            "PYGENT_LOG_LEVEL": level,
            "PYGENT_MODEL": "openai/fake-model",
            "PYGENT_API_BASE": fake.base_url,
            "PYGENT_API_KEY": API_KEY,
            "PYGENT_RETRY_BASE_DELAY": "0.01",
            **env,
        }
    )
    result = subprocess.run(
        [sys.executable, "-m", "pygent", "run", prompt],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    path = log_path()  # the subprocess shares the test's isolated XDG_STATE_HOME
    return result, path.read_text(encoding="utf-8") if path.exists() else ""


def lines_with(log: str, needle: str) -> list[str]:
    return [line for line in log.splitlines() if needle in line]


def test_debug_run_logs_session_llm_requests_and_tool_calls(
    project: Path, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script(
        [
            {
                "tool_calls": [
                    {
                        "name": "grep",
                        "arguments": {"pattern": ARGUMENT_SECRET, "path": "notes.txt"},
                    }
                ]
            },
            {"text": "No match."},
        ]
    )

    result, log = run_logged(
        project, fake_llm, "DEBUG", f"Search notes.txt for my key {PROMPT_SECRET}"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "No match.\n"  # stdout carries the answer, never a log line
    assert len(lines_with(log, "| INFO     | pygent.cli.run:")) == 1
    assert "model=openai/fake-model" in lines_with(log, "pygent.cli.run")[0]
    assert len(lines_with(log, "session start: ")) == 1
    assert len(lines_with(log, "turn start: session=")) == 1
    requests = lines_with(log, "LLM request: model=openai/fake-model")
    assert len(requests) == 2 and "messages=2 " in requests[0] and "messages=4 " in requests[1]
    responses = lines_with(log, "LLM response: model=openai/fake-model")
    assert len(responses) == 2
    assert "stop=tool_calls tool_calls=1 latency=" in responses[0]
    assert "stop=stop tool_calls=0 latency=" in responses[1]
    assert len(lines_with(log, "| DEBUG    | pygent.agent.llm:")) == 2  # request sizes
    arguments = lines_with(log, "tool call grep call_")
    assert len(arguments) == 1 and "| DEBUG    |" in arguments[0]
    assert '"path": "notes.txt"' in arguments[0] and "[REDACTED]" in arguments[0]
    outcome = lines_with(log, "tool call grep: ")
    assert len(outcome) == 1 and "| INFO     |" in outcome[0] and ": ok in " in outcome[0]
    end = lines_with(log, "turn end: session=")
    assert len(end) == 1 and "stop=end_turn requests=2 tools=1 " in end[0]
    for secret in (PROMPT_SECRET, ARGUMENT_SECRET, API_KEY):
        assert secret not in log


def test_info_run_logs_tool_outcomes_without_arguments(
    project: Path, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script(
        [
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "private-plan.txt"}}]},
            {"text": "It is not there."},
        ]
    )

    result, log = run_logged(project, fake_llm, "INFO", "Read private-plan.txt")

    assert result.returncode == 0, result.stderr
    outcome = lines_with(log, "tool call read_file: ")
    assert len(outcome) == 1 and ": failed in " in outcome[0]
    assert "private-plan.txt" not in log  # arguments and error details are DEBUG only
    assert "| DEBUG    |" not in log
    assert len(lines_with(log, "LLM response: ")) == 2


def test_retries_are_warnings_and_a_failed_request_is_an_error(
    project: Path, fake_llm: FakeLLMThread
) -> None:
    fake_llm.script([{"error": "rate_limit"}, {"error": "auth"}])

    result, log = run_logged(project, fake_llm, "INFO", "hello")

    assert result.returncode == 1
    assert "rejected the API key" in result.stderr
    retry = lines_with(log, "LLM request retry 1 of ")
    assert len(retry) == 1 and "| WARNING  |" in retry[0] and "reason=rate_limited" in retry[0]
    failed = lines_with(log, "LLM request failed: model=openai/fake-model code=auth_failed")
    assert len(failed) == 1 and "| ERROR    |" in failed[0] and "attempts=2 " in failed[0]
    turn_failed = lines_with(log, "turn failed: session=")
    assert len(turn_failed) == 1 and "code=auth_failed" in turn_failed[0]
    assert API_KEY not in log


def test_logging_disabled_in_settings_writes_no_log(project: Path, fake_llm: FakeLLMThread) -> None:
    config = project / ".pygent" / "config.toml"
    config.parent.mkdir()
    config.write_text("[logging]\nenabled = false\n", encoding="utf-8")

    result, log = run_logged(project, fake_llm, "DEBUG", "hello")

    assert result.returncode == 0, result.stderr
    assert log == ""


def test_report_after_a_run_bundles_the_run_s_log(
    project: Path, fake_llm: FakeLLMThread, tmp_path: Path
) -> None:
    import tarfile

    fake_llm.script([{"text": "Hello."}])
    result, _ = run_logged(project, fake_llm, "INFO", f"hi, my key is {PROMPT_SECRET}")
    assert result.returncode == 0, result.stderr
    bundle = tmp_path / "report.tar.gz"

    report = subprocess.run(
        [sys.executable, "-m", "pygent", "report", "-o", str(bundle)],
        cwd=project,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )

    assert report.returncode == 0, report.stderr
    with tarfile.open(bundle) as archive:
        texts = [
            archive.extractfile(member).read().decode("utf-8")  # type: ignore[union-attr]
            for member in archive.getmembers()
            if member.isfile() and member.name.endswith(".log")
        ]
    bundled = "\n".join(texts)
    assert "LLM request: model=openai/fake-model" in bundled
    assert "turn end: session=" in bundled and "stop=end_turn" in bundled
    assert PROMPT_SECRET not in bundled
