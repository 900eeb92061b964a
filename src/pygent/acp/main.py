"""Start-up of ``pygent acp``: guard stdio, read lines in a thread, serve on the event loop.

Nothing heavy is imported before ``initialize`` is answered: the connection module needs the
standard library and loguru; settings, ACP's schema and litellm load right after, in a thread.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from pygent.acp.stdio import LineReader, LineWriter
from pygent.server.main import FramePump
from pygent.server.stdio import DEFAULT_MAX_MESSAGE_BYTES, FrameWriter, guard_stdio, open_reader

__all__ = ["run_stdio"]


def run_stdio(overrides: dict[str, Any] | None = None) -> int:
    """Serve one ACP client on stdin/stdout until the end of input.

    Args:
        overrides: Settings overrides from the command line (nested dict).

    Returns:
        The process exit code (0 when the client closed stdin).
    """
    from loguru import logger

    logger.remove()  # stderr stays quiet; the log file is set up with the settings
    fds = guard_stdio()
    limit = int(os.environ.get("PYGENT_MAX_MESSAGE_BYTES") or DEFAULT_MAX_MESSAGE_BYTES)
    pump = FramePump(LineReader(open_reader(fds.read_fd), max_bytes=limit))  # type: ignore[arg-type]
    writer = FrameWriter(fds.write_fd)

    async def main() -> int:
        from pygent.acp.agent import AcpAgent

        agent = AcpAgent(LineWriter(writer), overrides)
        loop = asyncio.get_running_loop()

        def closed() -> None:
            loop.call_soon_threadsafe(agent.stop, "the client stopped reading stdout")

        writer._on_closed = closed
        try:
            return await agent.run(pump.redirect)
        finally:
            from pygent import mcp

            await mcp.shutdown()  # the MCP servers of this process end with it

    pump.start()
    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        return 0
