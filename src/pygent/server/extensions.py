"""The ``pygent/mcp/*`` and ``pygent/commands/*`` methods of ``pygent serve``: what extends a session.

* ``pygent/mcp/list {sessionId}``: the session's MCP servers, where each came from, its state
  and tools (never starts a server; they start with the session's first prompt).
* ``pygent/commands/list {sessionId}``: the plugins' slash commands.
* ``pygent/commands/run {sessionId, name, args}``: run one; a handler that raises is an error
  answer naming the command and its plugin, and the server goes on.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pygent.errors import invalid_params

if TYPE_CHECKING:
    from pygent.server.rpc import RequestId
    from pygent.server.sessions import SessionRegistry, SessionState, SettingsSource

__all__ = ["Extensions"]


def _session_id(params: Any) -> str:
    if not isinstance(params, dict):
        raise invalid_params("params: must be an object with sessionId")
    session_id = params.get("sessionId")
    if not isinstance(session_id, str) or not session_id:
        raise invalid_params("sessionId: must be a non-empty string")
    return session_id


class Extensions:
    """Handlers of the extension methods (MCP status, plugin slash commands).

    Args:
        sessions: The connection's sessions.
        settings: Loads the settings.
    """

    def __init__(self, sessions: SessionRegistry, settings: SettingsSource) -> None:
        self._sessions = sessions
        self._settings = settings

    async def _state(self, params: Any) -> SessionState:
        return await self._sessions.get_or_load(_session_id(params))

    async def mcp_list(self, params: Any, msg_id: RequestId | None = None) -> dict[str, Any]:
        """``pygent/mcp/list {sessionId}`` -> ``{servers: [...]}`` (see :func:`server_status`)."""
        state = await self._state(params)
        settings = await self._settings()
        from pygent.mcp.manager import server_status

        # On the loop: the connections belong to it (reading the small trust file is all it does).
        return {"servers": server_status(settings, state.workspace.root, state.mcp_servers)}

    async def _commands(self) -> dict[str, Any]:
        settings = await self._settings()
        from pygent import plugins

        await asyncio.to_thread(plugins.load_plugins, settings)  # once per process
        return plugins.slash_commands()

    async def commands_list(self, params: Any, msg_id: RequestId | None = None) -> dict[str, Any]:
        """``pygent/commands/list {sessionId}`` -> ``{commands: [{name, help, source}]}``."""
        await self._state(params)
        commands = await self._commands()
        return {
            "commands": [
                {"name": c.name, "help": c.help, "source": c.plugin}
                for c in sorted(commands.values(), key=lambda c: c.name)
            ]
        }

    async def commands_run(self, params: Any, msg_id: RequestId | None = None) -> dict[str, Any]:
        """``pygent/commands/run {sessionId, name, args}`` -> ``{text}``."""
        state = await self._state(params)
        name = params.get("name")
        if not isinstance(name, str) or not name.strip("/ "):
            raise invalid_params("name: must be the command's name, e.g. 'wc' for /wc")
        name = name.strip().lstrip("/")
        args = params.get("args", "")
        if args is None:
            args = ""
        if not isinstance(args, str):
            raise invalid_params(f"args: must be a string (the text after /{name})")
        commands = await self._commands()
        command = commands.get(name)
        if command is None:
            known = ", ".join(f"/{c}" for c in sorted(commands)) or "none"
            raise invalid_params(
                f"No plugin command /{name}. Plugin commands: {known} "
                "(`pygent plugins list` shows the installed plugins)."
            )
        settings = await self._settings()
        from pygent.plugins import SlashContext

        ctx = SlashContext(
            session_id=state.session.id,
            cwd=Path(state.session.cwd),
            settings=settings,
            command=command.name,
            plugin=command.plugin,
        )
        text = await command.run_for_frontend(args, ctx)
        return {"text": text}
