"""The process's MCP connections: started lazily, in parallel, once per configuration; stopped at exit.

Connections belong to the event loop that started them; a new loop (a new ``asyncio.run``)
starts afresh. Every failure (a server that does not start, a skipped tool, an untrusted project
list) is reported once per process: :func:`session_tools` returns it as a notice the first time.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING

from pygent.mcp.config import McpConfigError, configured_servers, fingerprint
from pygent.mcp.trust import TRUST_COMMAND, untrusted_servers, workspace_of

if TYPE_CHECKING:
    from pygent.mcp.client import ServerConnection
    from pygent.mcp.config import ServerConfig
    from pygent.settings.models import Settings
    from pygent.tools.base import ToolRegistry, ToolSpec

__all__ = ["McpManager", "manager", "session_tools", "shutdown"]


class McpManager:
    """Connections by configuration, the tools each gave, and what was already reported."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.connections: dict[str, ServerConnection] = {}
        self._specs: dict[str, list[ToolSpec]] = {}
        self._reported: set[str] = set()
        self._lock = asyncio.Lock()

    def _once(self, key: str, text: str, out: list[str]) -> None:
        if key not in self._reported:
            self._reported.add(key)
            out.append(text)

    async def connect(
        self, settings: Settings, root: Path
    ) -> tuple[list[ServerConnection], list[str]]:
        """Start (once) every enabled, trusted server; returns the connections and new notices."""
        from pygent.mcp.client import ServerConnection
        from pygent.settings.paths import user_log_dir

        notices: list[str] = []
        untrusted = untrusted_servers(settings)
        if untrusted:
            names = ", ".join(repr(c.name) for c in untrusted)
            where = workspace_of(settings)
            self._once(
                "untrusted:" + fingerprint(untrusted),
                f"The project's MCP servers {names} (.pygent/config.toml) were not started: "
                f"this workspace has not trusted them. Review them with `{TRUST_COMMAND}` "
                f"(in {where}) to start them.",
                notices,
            )
        skip = {c.name for c in untrusted}
        wanted: list[ServerConfig] = [
            c for c in configured_servers(settings) if c.settings.enabled and c.name not in skip
        ]
        conns: list[ServerConnection] = []
        async with self._lock:
            for config in wanted:
                key = _key(config, root)
                conn = self.connections.get(key)
                if conn is None:
                    conn = ServerConnection(config, root, user_log_dir())
                    self.connections[key] = conn
                conns.append(conn)
            await asyncio.gather(*(c.start() for c in conns if c.state == "idle"))
        for conn in conns:
            if conn.state == "failed":
                self._once(
                    "failed:" + _key(conn.config, root),
                    f"The MCP server {conn.name!r} is not available: {conn.error}. Its tools are "
                    "left out (`pygent mcp list` shows every server; its stderr is in "
                    f"{conn.log_path}).",
                    notices,
                )
        return conns, notices

    async def tools(
        self, settings: Settings, root: Path, taken: set[str]
    ) -> tuple[list[ToolSpec], list[str]]:
        """The tools of every running server for these settings, and new notices."""
        from pygent.mcp.tools import build_specs

        try:
            conns, notices = await self.connect(settings, root)
        except McpConfigError as exc:  # pragma: no cover - expansion errors are per server
            return [], [str(exc)]
        specs: list[ToolSpec] = []
        for conn in conns:
            if conn.state != "running":
                continue
            key = _key(conn.config, root)
            if key not in self._specs:
                built, problems = build_specs(conn, set(taken))
                self._specs[key] = built
                for problem in problems:
                    from loguru import logger

                    logger.warning("{}", problem)
                    self._once(
                        "problem:" + problem, problem[0].upper() + problem[1:] + ".", notices
                    )
            for spec in self._specs[key]:
                if spec.name not in taken:
                    taken.add(spec.name)
                    specs.append(spec)
        return specs, notices

    async def stop_all(self) -> None:
        """Stop every connection (in parallel)."""
        conns = list(self.connections.values())
        self.connections.clear()
        self._specs.clear()
        await asyncio.gather(*(c.stop() for c in conns), return_exceptions=True)


def _key(config: ServerConfig, root: Path) -> str:
    return json.dumps(
        [config.name, config.layer, config.settings.model_dump(mode="json"), str(root)],
        sort_keys=True,
    )


_manager: McpManager | None = None


def manager() -> McpManager:
    """The manager of the running event loop (a fresh one when the loop changed)."""
    global _manager
    loop = asyncio.get_running_loop()
    if _manager is None or _manager.loop is not loop:
        _manager = McpManager(loop)
    return _manager


async def session_tools(
    settings: Settings, root: Path, base: ToolRegistry
) -> tuple[ToolRegistry, list[str]]:
    """``base`` plus the tools of the configured MCP servers, and notices not shown yet.

    Servers start on the first call (in parallel, each within its ``startup_timeout``); a server
    that fails is reported once and left out, the others keep working. Never raises for a server.
    """
    from pygent.tools.base import ToolRegistry

    specs, notices = await manager().tools(settings, root, set(base.names()))
    registry = ToolRegistry()
    for spec in base:
        registry.register(spec)
    for spec in specs:
        registry.register(spec)
    return registry, notices


async def shutdown() -> None:
    """Stop every MCP server of this process (the clean exit of ``pygent run`` and ``serve``)."""
    global _manager
    current = _manager
    _manager = None
    if current is not None:
        try:
            same_loop = current.loop is asyncio.get_running_loop()
        except RuntimeError:
            same_loop = False
        if same_loop:
            await current.stop_all()
