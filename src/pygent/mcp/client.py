"""One connection to an MCP server over the official ``mcp`` SDK (stdio, streamable HTTP or SSE).

The SDK's client is an anyio context manager whose cancel scopes belong to the task that entered
it, so each connection lives in a task of its own: it connects, lists the tools, waits until it
is stopped and then leaves the context (closing the process or the HTTP session). Calls come
from other tasks and go through the connected client.

This module imports the SDK at its top: import it only when a server is about to start.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import traceback
from pathlib import Path
from typing import Any, Literal, TextIO

import mcp_types
from mcp import Client, StdioServerParameters

from pygent.mcp.config import McpConfigError, ServerConfig, expand_server

__all__ = ["ServerConnection", "describe_error"]

State = Literal["idle", "starting", "running", "failed", "stopped"]


def describe_error(exc: BaseException) -> str:
    """One line for a person: the innermost error of exception groups, without traceback."""
    while isinstance(getattr(exc, "exceptions", None), (list, tuple)) and exc.exceptions:  # type: ignore[attr-defined]
        exc = exc.exceptions[0]  # type: ignore[attr-defined]
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return "timed out"
    if isinstance(exc, McpConfigError):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"command not found ({exc.filename or exc})"
    if type(exc).__name__ == "MCPError" and str(exc):
        return str(exc)  # the server's or the SDK's own sentence ("Connection closed")
    lines = traceback.format_exception_only(type(exc), exc)
    text = lines[-1].strip() if lines else type(exc).__name__
    return text or type(exc).__name__


class ServerConnection:
    """A started (or failed) MCP server and the tools it listed.

    Args:
        config: The server's configuration.
        root: The workspace root (the default working directory of a stdio server).
        log_dir: Where the server's stderr goes (``mcp-NAME.log``), never the terminal.
    """

    def __init__(self, config: ServerConfig, root: Path, log_dir: Path) -> None:
        self.config = config
        self.root = root
        # The name may come from an editor: never let it reach outside the log directory.
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", config.name).lstrip(".") or "server"
        self.log_path = log_dir / f"mcp-{safe}.log"
        self.state: State = "idle"
        self.error = ""
        self.tools: list[mcp_types.Tool] = []
        self.server_name = ""
        self._client: Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._errlog: TextIO | None = None

    @property
    def name(self) -> str:
        """The server's configured name."""
        return self.config.name

    async def start(self) -> None:
        """Connect and list the tools within ``startup_timeout``; never raises (sets ``error``)."""
        if self.state != "idle":
            return
        self.state = "starting"
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        self._task = asyncio.create_task(self._serve(ready), name=f"mcp-{self.name}")
        timeout = self.config.settings.startup_timeout
        try:
            await asyncio.wait_for(asyncio.shield(ready), timeout)
        except asyncio.CancelledError:
            await self.stop(wait=False)
            raise
        except asyncio.TimeoutError:
            self._fail(
                self._with_stderr(
                    f"it did not start within {timeout:g} s "
                    f"(mcp.servers.{self.name}.startup_timeout)"
                )
            )
            await self.stop(wait=False)
        except Exception as exc:
            self._fail(self._with_stderr(describe_error(exc)))
            await self.stop(wait=False)
        else:
            self.state = "running"

    async def call(
        self, tool: str, arguments: dict[str, Any], timeout: float
    ) -> mcp_types.CallToolResult:
        """Call ``tool``; raises ``TimeoutError`` after ``timeout`` s, or the SDK's error."""
        client = self._client
        if client is None or self.state != "running":
            raise ConnectionError(self.error or "the server is not running")
        return await asyncio.wait_for(client.call_tool(tool, arguments), timeout)

    def mark_dead(self, reason: str) -> None:
        """Record that the server stopped answering (its later calls fail at once)."""
        if self.state == "running":
            self._fail(self._with_stderr(reason))

    async def stop(self, *, wait: bool = True) -> None:
        """Close the connection (and end a stdio server's process); safe to call twice.

        Args:
            wait: Give a connected server up to 10 s to shut down cleanly (stdin closed, then
                terminated by the SDK); without it, a server still starting is cut off at once.
        """
        self._stop.set()
        task = self._task
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), 10 if wait else 0.5)
            except Exception:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        if self.state in ("running", "starting"):
            self.state = "stopped"
        self._client = None
        if self._errlog is not None:
            with contextlib.suppress(OSError):
                self._errlog.close()
            self._errlog = None

    # -- internals --------------------------------------------------------------------------

    def _fail(self, message: str) -> None:
        from loguru import logger

        self.state = "failed"
        self.error = message
        logger.warning("MCP server {} failed: {}", self.name, message)

    def _with_stderr(self, message: str) -> str:
        """``message`` plus the server's last stderr line, which usually says what went wrong."""
        if self.config.transport != "stdio":
            return message
        with contextlib.suppress(OSError):
            if self._errlog is not None:
                self._errlog.flush()
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
            last = next((ln.strip() for ln in reversed(lines) if ln.strip()), "")
            if last and not last.startswith("---"):
                return f"{message} (its stderr: {last[:300]})"
        return message

    async def _serve(self, ready: asyncio.Future[None]) -> None:
        from pygent import __version__

        try:
            async with contextlib.AsyncExitStack() as stack:
                expanded = expand_server(self.config, self.root)
                info = mcp_types.Implementation(name="pygent", version=__version__)
                transport: Any
                if expanded.command is not None:
                    from mcp.client.stdio import stdio_client

                    from pygent.tools.parent_death import wrap_command

                    # The server dies with pygent even when pygent is killed outright.
                    command, args = wrap_command(
                        expanded.command,
                        list(expanded.args),
                        (expanded.env or {}).get("PATH"),
                    )
                    params = StdioServerParameters(
                        command=command,
                        args=args,
                        env=expanded.env or None,
                        cwd=expanded.cwd,
                    )
                    transport = stdio_client(params, errlog=self._open_errlog())
                elif self.config.transport == "sse":
                    from mcp.client.sse import sse_client

                    assert expanded.url is not None
                    transport = sse_client(expanded.url, headers=expanded.headers or None)
                else:
                    import httpx2
                    from mcp.client.streamable_http import streamable_http_client

                    assert expanded.url is not None
                    http = await stack.enter_async_context(
                        httpx2.AsyncClient(
                            headers=expanded.headers or None,
                            timeout=httpx2.Timeout(30.0, read=300.0),
                        )
                    )
                    transport = streamable_http_client(expanded.url, http_client=http)
                client = await stack.enter_async_context(
                    Client(transport, client_info=info, cache=None)
                )
                tools: list[mcp_types.Tool] = []
                cursor: str | None = None
                while True:
                    page = await client.list_tools(cursor=cursor)
                    tools.extend(page.tools)
                    cursor = page.next_cursor
                    if not cursor:
                        break
                self.tools = tools
                server = client.server_info
                self.server_name = server.name if server is not None else ""
                self._client = client
                if not ready.done():
                    ready.set_result(None)
                await self._stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))
            elif not self._stop.is_set() and not isinstance(exc, asyncio.CancelledError):
                self.mark_dead(f"it stopped: {describe_error(exc)}")
            if isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt, SystemExit)):
                raise
        finally:
            self._client = None

    def _open_errlog(self) -> TextIO:
        """The server's stderr goes to its log file (the SDK's default would be our stderr)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._errlog = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        self._errlog.write(f"--- {self.config.describe()}\n")
        self._errlog.flush()
        return self._errlog
