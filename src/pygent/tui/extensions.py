"""What extends the chat: ``/mcp`` (the session's MCP servers) and the plugins' slash commands.

A pure client: ``/mcp`` asks the server (``pygent/mcp/list``), plugin commands are listed with
``pygent/commands/list`` when a session opens and run with ``pygent/commands/run``.
"""

from __future__ import annotations

from typing import Any

from textual import work

from pygent.tui.base import AppBase, friendly

__all__ = ["Extensions", "format_mcp_servers"]

#: How each server state reads in ``/mcp``.
_STATES = {
    "running": "running",
    "starting": "starting",
    "failed": "FAILED",
    "untrusted": "not trusted",
    "disabled": "disabled",
    "not_started": "not started yet (starts with the next prompt)",
    "stopped": "stopped",
}
_SOURCES = {
    "user": "your config",
    "project": "the project's .pygent/config.toml",
    "editor": "this session (given by the client)",
}


def format_mcp_servers(servers: list[dict[str, Any]]) -> str:
    """The ``pygent/mcp/list`` answer as the lines ``/mcp`` shows."""
    if not servers:
        return (
            "No MCP servers in this session. Add one with `pygent mcp add NAME -- COMMAND` "
            "(see `pygent help mcp`)."
        )
    lines = [f"MCP servers ({len(servers)})"]
    for server in servers:
        state = _STATES.get(str(server.get("state")), str(server.get("state")))
        source = _SOURCES.get(str(server.get("source")), str(server.get("source")))
        lines.append("")
        lines.append(f"  {server.get('name')}  [{state}]  from {source}")
        lines.append(f"    {server.get('transport')}: {server.get('target')}")
        if server.get("error"):
            lines.append(f"    why: {server['error']}")
        tools = server.get("tools") or []
        if tools:
            lines.append(f"    tools ({len(tools)}):")
            for tool in tools:
                about = f" - {tool['description']}" if tool.get("description") else ""
                lines.append(f"      {tool.get('modelName') or tool.get('name')}{about}")
        elif server.get("state") == "running":
            lines.append("    tools: (none)")
    return "\n".join(lines)


class Extensions(AppBase):
    """``/mcp`` and the plugins' slash commands (listed per session, run on the server)."""

    plugin_commands: dict[str, dict[str, Any]]

    def plugin_help(self) -> list[tuple[str, str]]:
        """``(/name, help (plugin))`` of every plugin command, for ``/help``."""
        commands = getattr(self, "plugin_commands", {})
        return [
            (f"/{name}", f"{c.get('help') or ''} (plugin {c.get('source')})".strip())
            for name, c in sorted(commands.items())
        ]

    @work(group="plugin-commands", exclusive=True)
    async def refresh_plugin_commands(self) -> None:
        """Ask the server for the plugins' commands (after a session opened)."""
        client, session = self.client, self.session_id
        if client is None or session is None:
            return
        try:
            answer = await client.request("pygent/commands/list", {"sessionId": session})
        except Exception as exc:  # an older server, or a plugin loading problem: no commands
            from loguru import logger

            logger.debug("pygent/commands/list failed: {}", exc)
            return
        commands = answer.get("commands") if isinstance(answer, dict) else None
        self.plugin_commands = {
            str(c["name"]): c for c in commands or [] if isinstance(c, dict) and c.get("name")
        }
        self.input_box.slash_commands = sorted(
            {*self.input_box.builtin_commands, *(f"/{n}" for n in self.plugin_commands)}
        )

    @work(group="extensions")
    async def show_mcp(self) -> None:
        """``/mcp``: the session's MCP servers, their state, tools and origin."""
        client, session = self.client, self.session_id
        if client is None or session is None:
            self.conversation.add_error("The server is not running.", "Press F5 to restart it.")
            return
        try:
            answer = await client.request("pygent/mcp/list", {"sessionId": session})
        except Exception as exc:
            self.conversation.add_error(friendly(exc))
            return
        servers = answer.get("servers") if isinstance(answer, dict) else None
        self.conversation.add_note(format_mcp_servers(list(servers or [])))

    @work(group="extensions")
    async def run_plugin_command(self, name: str, args: str) -> None:
        """Run ``/name args`` of a plugin on the server and show its text (or its error)."""
        client, session = self.client, self.session_id
        if client is None or session is None:
            self.conversation.add_error("The server is not running.", "Press F5 to restart it.")
            return
        try:
            answer = await client.request(
                "pygent/commands/run", {"sessionId": session, "name": name, "args": args}
            )
        except Exception as exc:
            data = getattr(exc, "data", None)
            hint = data.get("hint", "") if isinstance(data, dict) else ""
            self.conversation.add_error(friendly(exc), str(hint or ""))
            return
        text = answer.get("text") if isinstance(answer, dict) else None
        self.conversation.add_note(str(text) if text else f"/{name} returned nothing.")
