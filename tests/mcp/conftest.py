"""Fixtures of the MCP tests: real MCP servers (the SDK's MCPServer) and configs that start them."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))  # run_helpers
sys.path.insert(0, str(Path(__file__).resolve().parent))  # mcp_helpers

from mcp_helpers import HTTP_SERVER


@contextlib.contextmanager
def _start_http(tmp_path: Path, *extra: str) -> Iterator[Path]:
    """Run the HTTP test server until the block ends; yields the file holding its port."""
    port_file = tmp_path / ("mcp-http-port" + "".join(extra))
    proc = subprocess.Popen(
        [sys.executable, str(HTTP_SERVER), str(port_file), *extra],
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
        yield port_file
    finally:
        proc.kill()
        proc.wait(timeout=30)


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    """A streamable-HTTP MCP server on 127.0.0.1 (a real process); yields its /mcp URL."""
    with _start_http(tmp_path) as port_file:
        yield f"http://127.0.0.1:{port_file.read_text().strip()}/mcp"


@pytest.fixture
def sse_server(tmp_path: Path) -> Iterator[str]:
    """The same server speaking the legacy HTTP+SSE transport; yields its /sse URL."""
    with _start_http(tmp_path, "--sse") as port_file:
        yield f"http://127.0.0.1:{port_file.read_text().strip()}/sse"
