"""Telemetry: the event schema refuses content; the CLI turns it on and off and shows the spool."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pygent import telemetry
from pygent.cli import cli
from pygent.settings import paths
from pygent.settings.models import Settings


def _settings(enabled: bool = True, endpoint: str | None = None) -> Settings:
    return Settings.model_validate(
        {"telemetry": {"enabled": enabled, "endpoint": endpoint}, "llm": {"model": "openai/x-1"}}
    )


@pytest.mark.parametrize(
    "event",
    [
        {"event": "tool_call", "prompt": "hello"},  # a field that does not exist
        {"event": "tool_call", "tool": "cat /etc/passwd"},  # a space: not a token
        {"event": "tool_call", "tool": "https://example.com/x"},  # a URL
        {"event": "tool_call", "tool": "x" * 101},  # too long
        {"event": "tool_call", "tool": ["read_file"]},  # not a scalar
        {"event": "tool_call", "tool": "a\nb"},
    ],
)
def test_record_refuses_anything_but_short_tokens_in_known_fields(event: dict[str, object]) -> None:
    assert telemetry.record(_settings(), event) is False
    assert telemetry.spool_events() == []


def test_record_spools_an_allowed_event_with_the_common_fields() -> None:
    assert telemetry.record(_settings(), {"event": "tool_call", "tool": "grep", "outcome": "ok"})
    (event,) = telemetry.spool_events()
    assert event["tool"] == "grep" and event["model"] == "openai/x-1"
    assert set(event) == {
        "event",
        "tool",
        "outcome",
        "ts",
        "install_id",
        "pygent",
        "os",
        "python",
        "frontend",
        "model",
    }


def test_a_url_shaped_model_name_is_replaced() -> None:
    settings = Settings.model_validate(
        {"telemetry": {"enabled": True}, "llm": {"model": "openai/http://build-host.corp:8080"}}
    )
    telemetry.record(settings, {"event": "turn"})
    (event,) = telemetry.spool_events()
    assert event["model"] == "other"


def test_disabled_records_nothing_and_creates_no_id() -> None:
    assert telemetry.record(_settings(enabled=False), {"event": "turn"}) is False
    assert not telemetry.spool_file().exists()
    assert telemetry.install_id(create=False) is None


def test_install_id_is_random_and_stable() -> None:
    first = telemetry.install_id()
    assert first is not None and len(first) == 32
    assert telemetry.install_id() == first
    telemetry.delete_local_data()
    assert telemetry.install_id() != first


def test_the_spool_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(telemetry, "MAX_SPOOL_BYTES", 2000)
    for _ in range(60):
        telemetry.record(_settings(), {"event": "tool_call", "tool": "grep"})
    assert telemetry.spool_file().stat().st_size <= 2000 + 300
    assert 0 < len(telemetry.spool_events()) < 60


def test_endpoint_must_be_an_http_url() -> None:
    with pytest.raises(ValueError):
        _settings(endpoint="file:///etc/passwd")


def test_cli_enable_status_show_disable(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["telemetry", "status"])
    assert result.exit_code == 0 and "telemetry: off" in result.output
    result = runner.invoke(cli, ["telemetry", "enable"])
    assert result.exit_code == 0, result.output
    assert "enabled = true" in paths.user_config_file().read_text(encoding="utf-8")
    assert "telemetry: on" in runner.invoke(cli, ["telemetry", "status"]).output
    telemetry.record(_settings(), {"event": "tool_call", "tool": "grep", "outcome": "ok"})
    shown = runner.invoke(cli, ["telemetry", "show"])
    assert shown.exit_code == 0
    assert json.loads(shown.output.splitlines()[0])["tool"] == "grep"
    result = runner.invoke(cli, ["telemetry", "disable"])
    assert result.exit_code == 0 and "Telemetry is off" in result.output
    assert "enabled = false" in paths.user_config_file().read_text(encoding="utf-8")
    assert telemetry.spool_events() == [] and telemetry.install_id(create=False) is None
    assert "No telemetry events" in runner.invoke(cli, ["telemetry", "show"]).output
