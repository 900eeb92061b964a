"""Telemetry end to end: a real `pygent run` with tools, secrets in the prompt, arguments and paths.

A local collector (loopback) receives what an enabled install sends. It must hold the counts and
timings, and none of the secret-looking text, paths, commands, keys, the user name or host name.
"""

from __future__ import annotations

import getpass
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from run_helpers import FAKE_KEY, pygent_env, run_pygent

from pygent import telemetry
from pygent.settings import paths
from pygent.testing.fake_llm import FakeLLMThread

SECRET_PROMPT = "the launch code is ZEBRA-7731-QUARTZ"
SECRET_DIR = "clients_acme_private"
SECRET_COMMAND = "echo sk-live-4f9a8b7c6d5e4f3a2b1c"


class Collector:
    """A loopback HTTP server that keeps every POSTed JSON body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                outer.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/collect"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict[str, Any]]:
        return [event for body in self.bodies for event in body["events"]]


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    yield c
    c.server.shutdown()
    c.server.server_close()


def _user_config(text: str) -> None:
    path = paths.user_config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _script() -> list[dict[str, Any]]:
    return [
        {
            "text": "Looking.",
            "tool_calls": [
                {"name": "read_file", "arguments": {"path": f"{SECRET_DIR}/notes.txt"}},
                {"name": "shell", "arguments": {"command": SECRET_COMMAND}},
                {"name": "read_file", "arguments": {"path": f"{SECRET_DIR}/missing.txt"}},
            ],
        },
        {"text": "Done: ZEBRA noted."},
    ]


def _turn(tmp_path: Path, fake: FakeLLMThread) -> None:
    (tmp_path / SECRET_DIR).mkdir()
    (tmp_path / SECRET_DIR / "notes.txt").write_text("password=hunter2\n", encoding="utf-8")
    result = run_pygent(
        "--mode", "auto", SECRET_PROMPT, cwd=tmp_path, env=pygent_env(fake.base_url)
    )
    assert result.returncode == 0, result.stderr
    assert "Done: ZEBRA noted." in result.stdout


def test_enabled_with_endpoint_sends_counts_and_never_content(
    tmp_path: Path, collector: Collector
) -> None:
    _user_config(f'[telemetry]\nenabled = true\nendpoint = "{collector.url}"\n')
    with FakeLLMThread(_script()) as fake:
        _turn(tmp_path, fake)
    events = collector.events()
    tools = [e for e in events if e["event"] == "tool_call"]
    turns = [e for e in events if e["event"] == "turn"]
    assert sorted((e["tool"], e["outcome"]) for e in tools) == [
        ("read_file", "error"),
        ("read_file", "ok"),
        ("shell", "ok"),
    ]
    assert len(turns) == 1
    turn = turns[0]
    assert turn["stop_reason"] == "end_turn" and turn["requests"] == 2 and turn["tool_calls"] == 3
    assert turn["first_token_ms"] is not None and turn["duration_ms"] >= turn["first_token_ms"]
    assert {e["frontend"] for e in events} == {"run"}
    assert {e["model"] for e in events} == {"openai/fake-model"}
    assert len({e["install_id"] for e in events}) == 1
    for event in events:
        assert set(event) <= telemetry.FIELDS
    sent = json.dumps(collector.bodies)
    for secret in (
        "ZEBRA",
        "QUARTZ",
        SECRET_DIR,
        "notes.txt",
        "sk-live",
        "hunter2",
        FAKE_KEY,
        str(tmp_path),
        socket.gethostname(),
        fake.base_url,
    ):
        assert secret not in sent, f"{secret!r} reached the telemetry endpoint"
    user = getpass.getuser()
    assert all(value != user for e in events for value in e.values())
    # sent means gone from the spool
    assert telemetry.spool_events() == []


def test_enabled_without_endpoint_spools_locally_and_sends_nothing(
    tmp_path: Path, collector: Collector
) -> None:
    _user_config("[telemetry]\nenabled = true\n")
    with FakeLLMThread(_script()) as fake:
        _turn(tmp_path, fake)
    assert collector.bodies == []
    spooled = telemetry.spool_events()
    assert [e["event"] for e in spooled].count("tool_call") == 3
    assert "ZEBRA" not in telemetry.spool_file().read_text(encoding="utf-8")


def test_disabled_spools_nothing_and_sends_nothing(tmp_path: Path, collector: Collector) -> None:
    _user_config(f'[telemetry]\nenabled = false\nendpoint = "{collector.url}"\n')
    with FakeLLMThread(_script()) as fake:
        _turn(tmp_path, fake)
    assert collector.bodies == []
    assert not telemetry.spool_file().exists()
    assert telemetry.install_id(create=False) is None


def test_an_unreachable_endpoint_is_dropped_silently(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _user_config(f'[telemetry]\nenabled = true\nendpoint = "http://127.0.0.1:{port}/x"\n')
    with FakeLLMThread(_script()) as fake:
        _turn(tmp_path, fake)
    assert telemetry.spool_events() == []  # the failed batch is dropped, not kept forever
