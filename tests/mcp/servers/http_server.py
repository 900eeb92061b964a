"""A real MCP server over streamable HTTP on loopback for pygent's tests.

Run: ``python http_server.py PORT_FILE [--sse]``. It binds 127.0.0.1 on a free port, writes the
port to PORT_FILE once it listens, and serves ``/mcp`` (or, with ``--sse``, the legacy HTTP+SSE
transport at ``/sse``) until killed. Tool ``shout`` upper-cases text and
``token`` returns the ``Authorization`` header the client sent.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import uvicorn
from mcp.server.mcpserver import Context, MCPServer

server = MCPServer("pygent-test-http")


@server.tool()
def shout(text: str) -> str:
    """Upper-case the text."""
    return text.upper() + "!"


@server.tool()
def token(ctx: Context) -> str:
    """The Authorization header of the request."""
    request = ctx.request_context.request
    headers = getattr(request, "headers", {}) or {}
    return f"authorization={headers.get('authorization', '(none)')}"


def main() -> None:
    port_file = Path(sys.argv[1])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    if "--sse" in sys.argv:
        app = server.sse_app(host="127.0.0.1")
    else:
        app = server.streamable_http_app(host="127.0.0.1")
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)

    async def serve() -> None:
        import asyncio

        task = asyncio.create_task(uv.serve(sockets=[sock]))
        while not uv.started:
            await asyncio.sleep(0.05)
        port_file.write_text(str(port), encoding="utf-8")
        await task

    import asyncio

    asyncio.run(serve())


if __name__ == "__main__":
    main()
