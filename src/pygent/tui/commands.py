"""Slash commands of the TUI (``/help``, ``/model``, ``/mode``, ...), also in the command palette.

Each command is either local to the screen (``/clear``, ``/quit``) or one request to the server
(``/model`` -> ``pygent/session/setModel``, ``/mode`` -> ``setMode``, ``/compact``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import work
from textual.app import SystemCommand
from textual.screen import Screen

from pygent.protocol.modes import PERMISSION_MODES
from pygent.tui.base import friendly
from pygent.tui.extensions import Extensions

#: Slash commands and what they do (``/help`` shows this).
SLASH_COMMANDS: dict[str, str] = {
    "/help": "keys and commands",
    "/new": "start a new session",
    "/sessions": "resume a session of this workspace",
    "/model [NAME]": "show or switch the model",
    "/mode [MODE]": "show or switch the permission mode (ask, auto-edit, plan, auto)",
    "/compact": "summarise older turns to free context",
    "/mcp": "MCP servers of this session: state, tools and where each came from",
    "/clear": "clear the screen (the session is kept)",
    "/quit": "quit",
}
MODES: tuple[str, ...] = PERMISSION_MODES


class SlashCommands(Extensions):
    """``/command`` parsing and the server requests behind them (plugins' commands included)."""

    def get_system_commands(self, screen: Screen[Any]) -> Any:
        yield from super().get_system_commands(screen)
        for name, help_text in SLASH_COMMANDS.items():
            command = name.split()[0]
            yield SystemCommand(command, help_text, self._slash_callback(command))

    def _slash_callback(self, command: str) -> Callable[[], None]:
        def run() -> None:
            self.run_slash(command)

        return run

    def run_slash(self, text: str) -> None:
        """Run a ``/command``."""
        name, _, arg = text.strip().partition(" ")
        arg = arg.strip()
        conversation = self.conversation
        if name == "/help":
            from pygent.help_topics import SHORTCUT_SECTIONS

            sections = [*SHORTCUT_SECTIONS, ("Commands", tuple(SLASH_COMMANDS.items()))]
            plugin = self.plugin_help()
            if plugin:
                sections.append(("Plugin commands", tuple(plugin)))
            conversation.add_help(sections)
        elif name == "/quit":
            self.quit_chat()
        elif name == "/clear":
            conversation.clear()
        elif name == "/new":
            self.action_new_session()
        elif name == "/sessions":
            self.action_resume()
        elif name == "/model":
            if not arg:
                conversation.add_note(f"Model: {self.status.model or '(server default)'}")
            else:
                self.call_server("setModel", arg)
        elif name == "/mode":
            if not arg:
                conversation.add_note(f"Mode: {self.status.mode}. Modes: {', '.join(MODES)}.")
            elif arg not in MODES:
                conversation.add_error(f"Unknown mode {arg!r}.", f"Use one of: {', '.join(MODES)}.")
            elif arg == self.status.mode:
                conversation.add_note(f"The permission mode is already {arg}.")
            else:
                self.call_server("setMode", arg)
        elif name == "/compact":
            self.call_server("compact", "")
        elif name == "/mcp":
            self.show_mcp()
        elif name[1:] in getattr(self, "plugin_commands", {}):
            self.run_plugin_command(name[1:], arg)
        else:
            known = [c.split()[0] for c in SLASH_COMMANDS] + [c for c, _ in self.plugin_help()]
            conversation.add_error(f"Unknown command {name}.", "Commands: " + ", ".join(known))

    @work(group="commands")
    async def call_server(self, what: str, arg: str) -> None:
        """``/model``, ``/mode`` and ``/compact`` on the server."""
        from pygent.client import PygentClientError

        client = self.client
        if client is None or self.session_id is None:
            self.conversation.add_error("The server is not running.", "Press F5 to restart it.")
            return
        try:
            if what == "setModel":
                await client.set_model(self.session_id, arg)
                self.model = arg
                self.status.model = arg
                self.status.refresh_status()
                self.conversation.add_note(f"Model: {arg} (from the next message).")
            elif what == "setMode":
                # The server answers with a current_mode_update, which the app shows.
                await client.set_mode(self.session_id, arg)
            elif what == "compact":
                if self.busy:
                    self.conversation.add_error(
                        "A turn is running.", "Wait for it or press Ctrl+C."
                    )
                    return
                self.conversation.add_note("Compacting older turns…")
                result = await client.request(
                    "pygent/session/compact", {"sessionId": self.session_id}
                )
                if isinstance(result, dict) and result.get("compacted") is False:
                    self.conversation.add_note("Nothing to compact yet: the session is short.")
                else:
                    self.conversation.add_note("Compacted: older turns are now a summary.")
        except PygentClientError as exc:
            if exc.error_code == "method_not_found" or exc.code == -32601:
                self.conversation.add_error(
                    "This server has no /compact yet (pygent/session/compact).",
                    "Long sessions are still compacted automatically near the context limit.",
                )
                return
            self.conversation.add_error(friendly(exc))
