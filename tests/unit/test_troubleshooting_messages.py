"""docs/troubleshooting.md shows the newcomer messages exactly as the code words them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pygent import errors
from pygent.agent.headless import rejection_advice
from pygent.agent.llm import check_provider
from pygent.settings.paths import broad_workspace_warning
from pygent.settings.writable import (
    DirKind,
    config_unwritable,
    dir_variable,
    log_warning,
    sessions_warning,
)

TROUBLESHOOTING = Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md"
#: The doc shows Linux's variables; other systems name their own (dir_variable).
LINUX_VARIABLES: dict[DirKind, str] = {
    "config": "XDG_CONFIG_HOME",
    "data": "XDG_DATA_HOME",
    "log": "XDG_STATE_HOME",
}


def _as_on_linux(text: str) -> str:
    for kind, linux in LINUX_VARIABLES.items():
        text = text.replace(f"Point {dir_variable(kind)} ", f"Point {linux} ")
        text = text.replace(f"point {dir_variable(kind)} ", f"point {linux} ")
    return text


def _doc() -> str:
    return TROUBLESHOOTING.read_text(encoding="utf-8")


def test_api_base_404_message_is_documented() -> None:
    error = errors.endpoint_not_found(
        "openai/m", "http://127.0.0.1:8000/nope", "http://127.0.0.1:8000/nope/chat/completions"
    )
    assert f"Error: {error}" in _doc()
    assert "| `endpoint_not_found` |" in _doc()


def test_unknown_provider_message_is_documented() -> None:
    with pytest.raises(errors.PygentError) as info:
        check_provider("anthropc/claude-sonnet-4-5")
    assert f"Error: {info.value}" in _doc()


@pytest.mark.parametrize(
    ("call", "details"),
    [
        ("create_file(`a.txt`)", {"risk": "write", "alwaysAllowRules": ["create_file(a.txt)"]}),
        ("shell(`make build`)", {"risk": "execute", "alwaysAllowRules": ["shell(make build)"]}),
        (
            "web_fetch(`https://docs.example.com/page`)",
            {"risk": "network", "alwaysAllowRules": ["web_fetch(https://docs.example.com/*)"]},
        ),
    ],
)
def test_run_rejection_notes_are_documented(call: str, details: dict[str, object]) -> None:
    note = f"pygent: {call} needs permission; rejected (mode 'ask'). {rejection_advice(details)}"
    assert note in _doc()


def test_broad_workspace_warning_is_documented() -> None:
    home = Path.home()
    warning = broad_workspace_warning(home)
    assert warning is not None
    shown = warning.replace(str(home.resolve()), "/home/you")
    assert f"pygent: warning: {shown}" in _doc()


def test_read_only_home_messages_are_documented() -> None:
    log = log_warning(Path("/home/you/.local/state/pygent/log/pygent.log"), "Read-only file system")
    sessions = sessions_warning(
        Path("/home/you/.local/share/pygent/sessions"),
        "Read-only file system",
        Path("/tmp/pygent-sessions-k2x9"),
    )
    config = config_unwritable(
        Path("/home/you/.config/pygent/config.toml"), "Read-only file system"
    )
    doc = _doc()
    # Path objects print with the OS's separator; the doc shows POSIX paths.
    for line in (f"pygent: warning: {log}", f"pygent: warning: {sessions}", f"Error: {config}"):
        assert _as_on_linux(line).replace("\\", "/") in doc
