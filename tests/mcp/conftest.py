"""Fixtures of the MCP tests: real MCP servers (the SDK's MCPServer) and configs that start them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))  # run_helpers

SERVERS = Path(__file__).resolve().parent / "servers"
STDIO_SERVER = SERVERS / "stdio_server.py"
HTTP_SERVER = SERVERS / "http_server.py"


def stdio_table(*extra_args: str, **values: Any) -> dict[str, Any]:
    """A ``[mcp.servers.NAME]`` table that starts the stdio test server."""
    return {"command": sys.executable, "args": [str(STDIO_SERVER), *extra_args], **values}


def toml_table(name: str, table: dict[str, Any]) -> str:
    """``table`` as a TOML ``[mcp.servers.NAME]`` section (strings, numbers, lists, inline tables)."""
    import json

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        return json.dumps(str(v))

    lines = [f"[mcp.servers.{name}]"] + [f"{k} = {value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def user_config(text: str) -> Path:
    """Write the user config (HOME and XDG are isolated by tests/conftest.py)."""
    from pygent.settings.paths import user_config_file

    path = user_config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    """A streamable-HTTP MCP server on 127.0.0.1 (a real process); yields its /mcp URL."""
    port_file = tmp_path / "mcp-http-port"
    proc = subprocess.Popen(
        [sys.executable, str(HTTP_SERVER), str(port_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            if proc.poll() is not None:
                raise RuntimeError(f"the HTTP MCP server died: {proc.stderr.read()!r}")  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                raise RuntimeError("the HTTP MCP server did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port_file.read_text().strip()}/mcp"
    finally:
        proc.kill()
        proc.wait(timeout=30)
