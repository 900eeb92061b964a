"""File logging: redaction at the sink, level, location, nothing on stdout, disabled in tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from loguru import logger

from pygent import logs
from pygent.settings.models import Settings

SECRETS = [
    "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx",
    "sk-or-v1-0123456789abcdef0123456789abcdef",
    "sk-fake-test",
    "AIzaSyA-abcdefghijklmnopqrstuvwxyz012",
    "gsk_abcdefghijklmnopqrstuvwxyz0123",
    "xai-abcdefghijklmnopqrstuvwxyz0123",
    "hf_abcdefghijklmnopqrstuvwxyz0123",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "AKIAABCDEFGHIJKLMNOP",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_redact_provider_key_formats(secret: str) -> None:
    line = f"calling provider with key {secret} now"
    out = logs.redact(line)
    assert secret not in out
    assert out == f"calling provider with key {logs.REDACTED} now"


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("Authorization: Bearer abcdefghijklmnop123", "Authorization: Bearer "),
        ("{'authorization': 'Bearer zzzzzzzzzzzzzzzz'}", "'authorization': 'Bearer "),
        ("x-api-key: 1234567890abcdef", "x-api-key: "),
        ("api_key=plainsecret99&model=x", "api_key="),
        ('{"api_key": "plainsecret99", "model": "x"}', '"api_key": "'),
        ("ANTHROPIC_API_KEY=whatever-secret-1", "ANTHROPIC_API_KEY="),
        ("password: hunter2hunter2", "password: "),
    ],
)
def test_redact_headers_and_pairs(line: str, kept: str) -> None:
    out = logs.redact(line)
    assert kept in out
    assert logs.REDACTED in out
    for secret in ("abcdefghijklmnop123", "zzzzzzzzzzzzzzzz", "1234567890abcdef"):
        assert secret not in out
    assert "plainsecret99" not in out and "hunter2hunter2" not in out
    assert "whatever-secret-1" not in out


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "GET https://generativelanguage.googleapis.com/v1/models?key=plainkey123&alt=sse",
            "GET https://generativelanguage.googleapis.com/v1/models?key=[REDACTED]&alt=sse",
        ),
        (
            "proxy https://bob:hunter2pass@proxy.local:8080/",
            "proxy https://bob:[REDACTED]@proxy.local:8080/",
        ),
    ],
)
def test_redact_urls(line: str, expected: str) -> None:
    assert logs.redact(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "max_tokens=4096 tokens used: 1200",
        "see https://example.com/path?page=2&sort=asc",
        "task-force skeleton sk-8 desk-lamp",
        "model=anthropic/claude-sonnet-4-5 temperature=0.2",
        "Authorization required",
    ],
)
def test_redact_leaves_ordinary_text(line: str) -> None:
    assert logs.redact(line) == line


def test_added_secret_of_any_format_is_redacted() -> None:
    logs.add_secret("custom-format-key-0042")
    assert "custom-format-key-0042" not in logs.redact("x custom-format-key-0042 y")


@pytest.fixture
def file_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.delenv("PYGENT_LOG_DISABLED", raising=False)
    yield logs.log_path()
    logs.shutdown_logging()


def test_log_file_location_and_redaction_at_sink(
    file_logging: Path, isolated_home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    if sys.platform == "linux":
        assert file_logging == isolated_home / ".local/state/pygent/log/pygent.log"
    settings = Settings.model_validate(
        {"llm": {"model": "openai/x", "api_key": "weird-format-secret-777"}}
    )
    logs.setup_logging(settings)
    logger.info("request headers={'Authorization': 'Bearer sk-ant-api03-SECRETSECRETSECRET'}")
    logger.info("key weird-format-secret-777 and {braces} stay")
    logger.debug("debug is below INFO")
    try:
        raise ValueError("failed with api_key=sk-inside-exception-123456")
    except ValueError:
        logger.exception("boom")
    logs.shutdown_logging()
    text = file_logging.read_text(encoding="utf-8")
    assert "SECRETSECRETSECRET" not in text
    assert "weird-format-secret-777" not in text
    assert "sk-inside-exception" not in text
    assert "{braces} stay" in text
    assert "ValueError" in text and "Traceback" in text
    assert "debug is below INFO" not in text
    captured = capfd.readouterr()
    assert captured.out == ""
    assert "boom" not in captured.err


def test_level_from_environment(file_logging: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYGENT_LOG_LEVEL", "debug")
    logs.setup_logging(Settings())
    logger.debug("visible at debug")
    logs.shutdown_logging()
    assert "visible at debug" in file_logging.read_text()


def test_setup_twice_keeps_one_handler(file_logging: Path) -> None:
    logs.setup_logging()
    logs.setup_logging()
    logger.info("once")
    logs.shutdown_logging()
    assert file_logging.read_text().count("| once") == 1


def test_custom_log_file_and_disabled_setting(file_logging: Path, tmp_path: Path) -> None:
    custom = tmp_path / "logs" / "mine.log"
    logs.setup_logging(Settings.model_validate({"logging": {"file": str(custom)}}))
    logger.info("to custom")
    logs.shutdown_logging()
    assert "to custom" in custom.read_text()
    logs.setup_logging(Settings.model_validate({"logging": {"enabled": False}}))
    logger.info("nowhere")
    logs.shutdown_logging()
    assert not file_logging.exists()


def test_disabled_by_environment_is_a_no_op(isolated_home: Path) -> None:
    logs.setup_logging(Settings())
    logger.info("should not be written")
    assert logs._handler_id is None
    assert not logs.log_path().exists()


def test_default_stderr_handler_removed_in_a_fresh_process(tmp_path: Path) -> None:
    code = (
        "from pygent.logs import setup_logging; setup_logging();"
        "from loguru import logger; logger.info('only-in-file'); "
        "from pygent.logs import shutdown_logging; shutdown_logging()"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYGENT_LOG_DISABLED"}
    env.update(
        {
            "HOME": str(tmp_path),
            "USERPROFILE": str(tmp_path),
            "XDG_STATE_HOME": str(tmp_path / "state"),
            "LOCALAPPDATA": str(tmp_path / "state"),
        }
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and "only-in-file" not in out.stderr
    found = list(tmp_path.rglob("pygent.log"))
    assert found and "only-in-file" in found[0].read_text()
