"""A real MCP server over stdio (the SDK's ``MCPServer``, formerly FastMCP) for pygent's tests.

Tools: ``echo`` and ``add`` (plain results), ``picture`` (an image), ``readme`` (an embedded
text resource), ``fail`` (a tool error), ``crash`` (the process dies mid-call), ``hang`` (never
answers), and ``malformed`` whose input schema is broken when ``--bad-schema`` is given.
With ``STARTED_FILE`` in its environment, it appends its process id to that file on start and
``exited`` when its client closed the connection (a clean shutdown). With ``LINGER=1`` it then
keeps running, as a server that never notices its client went away does.
Run: ``python stdio_server.py [--bad-schema]``.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from typing import Any

import mcp_types
from mcp.server.mcpserver import MCPServer

BAD_SCHEMA = "--bad-schema" in sys.argv


class TestServer(MCPServer):
    """``MCPServer`` whose ``malformed`` tool can advertise a broken input schema."""

    async def list_tools(self) -> list[mcp_types.Tool]:
        tools = await super().list_tools()
        if BAD_SCHEMA:
            tools = [
                t.model_copy(
                    update={"input_schema": {"type": "object", "properties": {"value": "a string"}}}
                )
                if t.name == "malformed"
                else t
                for t in tools
            ]
        return tools


server = TestServer("pygent-test-stdio")


@server.tool()
def echo(text: str) -> str:
    """Echo the text back, with the server's MARKER environment variable."""
    return f"echo: {text} (marker={os.environ.get('MARKER', '-')}, cwd={os.getcwd()})"


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def picture() -> list[Any]:
    """A tiny PNG and a caption."""
    data = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 24).decode()
    return [
        mcp_types.TextContent(type="text", text="a picture:"),
        mcp_types.ImageContent(type="image", data=data, mime_type="image/png"),
    ]


@server.tool()
def readme() -> list[Any]:
    """The project readme as an embedded resource."""
    return [
        mcp_types.EmbeddedResource(
            type="resource",
            resource=mcp_types.TextResourceContents(
                uri="file:///demo/README.md", mime_type="text/markdown", text="# Demo readme"
            ),
        )
    ]


@server.tool()
def fail(reason: str) -> str:
    """Always fails with the reason."""
    raise ValueError(f"refused: {reason}")


@server.tool()
def crash() -> str:
    """The process dies in the middle of the call."""
    sys.stderr.write("crash tool: exiting now\n")
    sys.stderr.flush()
    os._exit(3)


@server.tool()
async def hang() -> str:
    """Never answers."""
    await asyncio.sleep(3600)
    return "unreachable"


@server.tool()
def malformed(value: str) -> str:
    """A tool whose schema the client must refuse when --bad-schema is given."""
    return value


if __name__ == "__main__":
    sys.stderr.write("pygent-test-stdio: starting\n")
    if os.environ.get("STARTED_FILE"):  # lets a test prove whether the server was started
        with open(os.environ["STARTED_FILE"], "a", encoding="utf-8") as started:
            started.write(f"{os.getpid()}\n")
    server.run("stdio")
    if os.environ.get("STARTED_FILE"):  # stdin closed: the client shut the server down cleanly
        with open(os.environ["STARTED_FILE"], "a", encoding="utf-8") as started:
            started.write("exited\n")
    if os.environ.get("LINGER") == "1":
        import time

        time.sleep(3600)
