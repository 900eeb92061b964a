"""The process's MCP connections: started lazily, in parallel, once per configuration; stopped at exit.

Connections belong to the event loop that started them; a new loop (a new ``asyncio.run``)
starts afresh. Every failure (a server that does not start, a skipped tool, an untrusted project
list) is reported once per process: :func:`session_tools` returns it as a notice the first time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pygent.mcp.config import (
    McpConfigError,
    ServerConfig,
    configured_servers,
    fingerprint,
    tool_name,
)
from pygent.mcp.trust import TRUST_COMMAND, record_trust, untrusted_servers, workspace_of

if TYPE_CHECKING:
    from pygent.mcp.client import ServerConnection
    from pygent.settings.models import Settings
    from pygent.tools.base import ToolRegistry, ToolSpec

__all__ = [
    "McpManager",
    "TrustAsk",
    "manager",
    "plan_servers",
    "server_status",
    "session_tools",
    "shutdown",
]

#: Asks the person whether to start a workspace's untrusted project servers:
#: ``(servers, workspace) -> True`` (trust and start), ``False`` (don't start), None (no answer).
TrustAsk = Callable[[list["ServerConfig"], Path], Awaitable["bool | None"]]


class McpManager:
    """Connections by configuration, the tools each gave, and what was already reported."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.connections: dict[str, ServerConnection] = {}
        self._specs: dict[str, list[ToolSpec]] = {}
        self._reported: set[str] = set()
        self._refused: set[str] = set()
        self._lock = asyncio.Lock()
        self._trust_lock = asyncio.Lock()

    def _once(self, key: str, text: str, out: list[str]) -> None:
        if key not in self._reported:
            self._reported.add(key)
            out.append(text)

    def refused(self, settings: Settings) -> bool:
        """True when the person chose "Don't start" for this workspace's project servers."""
        untrusted = untrusted_servers(settings)
        return bool(untrusted) and _trust_key(settings, untrusted) in self._refused

    async def _settle_trust(
        self,
        settings: Settings,
        untrusted: list[ServerConfig],
        ask: TrustAsk | None,
    ) -> bool:
        """Ask the person (once per list and process) to trust the project's servers.

        Returns:
            True when they may start now (trusted meanwhile, or "Trust and start").
        """
        key = _trust_key(settings, untrusted)
        if ask is None or key in self._refused:
            return False
        async with self._trust_lock:  # one question at a time; a second session sees the answer
            if not untrusted_servers(settings):
                return True
            if key in self._refused:
                return False
            workspace = workspace_of(settings)
            assert workspace is not None
            answer = await ask(untrusted, workspace)
            from loguru import logger

            if answer is True:
                await asyncio.to_thread(record_trust, settings)
                logger.info(
                    "trusted the MCP servers {} of {} (asked in the session)",
                    [c.name for c in untrusted],
                    workspace,
                )
                return True
            if answer is False:
                self._refused.add(key)
                logger.info("the person chose not to start the MCP servers of {}", workspace)
            return False

    async def connect(
        self,
        settings: Settings,
        root: Path,
        editor: Sequence[ServerConfig] = (),
        ask: TrustAsk | None = None,
    ) -> tuple[list[ServerConfig], list[ServerConnection], list[str]]:
        """Start (once) every enabled, trusted server of a session.

        Args:
            settings: The session's settings (its configured servers).
            root: The workspace root.
            editor: Servers the editor gave for this session (trusted; they win name clashes).
            ask: Asks the person to trust untrusted project servers (None: skip them with a notice).

        Returns:
            The session's servers, their connections and the notices not shown yet.
        """
        from pygent.mcp.client import ServerConnection
        from pygent.settings.paths import user_log_dir

        notices: list[str] = []
        servers, clashes = plan_servers(settings, editor)
        if clashes and "clash:" + ",".join(clashes) not in self._reported:
            self._reported.add("clash:" + ",".join(clashes))
            from loguru import logger

            logger.info(
                "the editor's MCP server(s) {} replace the configured ones of the same name "
                "in this session",
                clashes,
            )
        names = {c.name for c in editor}
        untrusted = untrusted_servers(settings)
        skip: set[str] = set()
        pending = [c for c in untrusted if c.name not in names]
        if pending and not await self._settle_trust(settings, untrusted, ask):
            skip = {c.name for c in untrusted} - names
            listed = ", ".join(repr(c.name) for c in untrusted if c.name in skip)
            where = workspace_of(settings)
            refused = _trust_key(settings, untrusted) in self._refused
            if refused:
                text = (
                    f"The project's MCP servers {listed} (.pygent/config.toml) were not "
                    "started: you chose not to start them. They stay off until pygent "
                    f"restarts; `{TRUST_COMMAND}` (in {where}) trusts them for good."
                )
            else:
                text = (
                    f"The project's MCP servers {listed} (.pygent/config.toml) were not "
                    f"started: this workspace has not trusted them. Review them with "
                    f"`{TRUST_COMMAND}` (in {where}) to start them."
                )
            key = "untrusted:" + fingerprint(untrusted) + (":refused" if refused else "")
            self._once(key, text, notices)
        wanted = [
            c
            for c in servers
            if c.settings.enabled and not (c.layer == "project" and c.name in skip)
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
                    "left out (`/mcp` or `pygent mcp list` shows every server; its stderr is in "
                    f"{conn.log_path}).",
                    notices,
                )
        return servers, conns, notices

    async def tools(
        self,
        settings: Settings,
        root: Path,
        taken: set[str],
        editor: Sequence[ServerConfig] = (),
        ask: TrustAsk | None = None,
    ) -> tuple[list[ToolSpec], list[str]]:
        """The tools of every running server of a session, and new notices (see :meth:`connect`)."""
        from pygent.mcp.tools import build_specs

        try:
            _, conns, notices = await self.connect(settings, root, editor, ask)
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


def plan_servers(
    settings: Settings, editor: Sequence[ServerConfig] = ()
) -> tuple[list[ServerConfig], list[str]]:
    """Every server of a session: the configured ones (an editor-given one of the same name
    replaces it), then the editor's; and the names that clashed."""
    names = {c.name for c in editor}
    configured = configured_servers(settings)
    clashes = sorted(names & {c.name for c in configured})
    return [c for c in configured if c.name not in names] + list(editor), clashes


def _key(config: ServerConfig, root: Path) -> str:
    return json.dumps(
        [
            config.name,
            config.layer,
            config.sse,
            config.settings.model_dump(mode="json"),
            str(root),
        ],
        sort_keys=True,
    )


def _trust_key(settings: Settings, untrusted: list[ServerConfig]) -> str:
    return f"{workspace_of(settings)}\n{fingerprint(untrusted)}"


_manager: McpManager | None = None


def manager() -> McpManager:
    """The manager of the running event loop (a fresh one when the loop changed)."""
    global _manager
    loop = asyncio.get_running_loop()
    if _manager is None or _manager.loop is not loop:
        _manager = McpManager(loop)
    return _manager


async def session_tools(
    settings: Settings,
    root: Path,
    base: ToolRegistry,
    editor: Sequence[ServerConfig] = (),
    ask: TrustAsk | None = None,
) -> tuple[ToolRegistry, list[str]]:
    """``base`` plus the tools of the session's MCP servers, and notices not shown yet.

    Servers start on the first call (in parallel, each within its ``startup_timeout``); a server
    that fails is reported once and left out, the others keep working. Never raises for a server.
    ``editor`` and ``ask`` are those of :meth:`McpManager.connect`.
    """
    from pygent.tools.base import ToolRegistry

    specs, notices = await manager().tools(settings, root, set(base.names()), editor, ask)
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


def server_status(
    settings: Settings, root: Path, editor: Sequence[ServerConfig] = ()
) -> list[dict[str, Any]]:
    """What ``/mcp`` shows: every server of a session, where it came from, its state and tools.

    Never starts a server. States: ``running``, ``starting``, ``failed`` (with ``error``),
    ``untrusted`` (a project server not trusted in this workspace, or refused in this process),
    ``disabled``, ``not_started`` (starts with the session's next prompt) and ``stopped``.
    """
    current = _manager
    try:
        same_loop = current is not None and current.loop is asyncio.get_running_loop()
    except RuntimeError:
        same_loop = False
    mgr = current if same_loop else None
    servers, _ = plan_servers(settings, editor)
    names = {c.name for c in editor}
    untrusted = {c.name for c in untrusted_servers(settings)} - names
    refused = mgr is not None and mgr.refused(settings)
    out: list[dict[str, Any]] = []
    for config in servers:
        s = config.settings
        entry: dict[str, Any] = {
            "name": config.name,
            "source": config.layer,
            "transport": config.transport,
            "target": config.describe(),
            "state": "not_started",
            "error": "",
            "tools": [],
        }
        conn = mgr.connections.get(_key(config, root)) if mgr is not None else None
        if not s.enabled:
            entry["state"] = "disabled"
            entry["error"] = f"mcp.servers.{config.name}.enabled is false"
        elif config.layer == "project" and config.name in untrusted:
            entry["state"] = "untrusted"
            entry["error"] = (
                "you chose not to start the project's servers (until pygent restarts)"
                if refused
                else f"this workspace has not trusted it: run `{TRUST_COMMAND}`, or answer "
                "the question pygent asks at the next prompt"
            )
        elif conn is not None and conn.state != "idle":
            entry["state"] = conn.state
            entry["error"] = conn.error
            allowed = set(s.allowed_tools) if s.allowed_tools is not None else None
            entry["tools"] = [
                {
                    "name": tool.name,
                    "modelName": tool_name(config.name, tool.name),
                    "description": (tool.description or tool.title or "").strip().split("\n")[0],
                }
                for tool in conn.tools
                if allowed is None or tool.name in allowed
            ]
        out.append(entry)
    return out
