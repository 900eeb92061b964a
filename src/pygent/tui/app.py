"""``pygent chat``: the Textual app. A client of ``pygent serve``; it never calls the agent itself.

The app is assembled from one class per job: :mod:`~pygent.tui.connection` (the server and its
sessions), :mod:`~pygent.tui.commands` (slash commands), :mod:`~pygent.tui.review` (edit review and
permission questions). This module holds the layout, the theme, the rendering of session updates
and the prompt loop.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Markdown

from pygent.tui.base import friendly, text_of
from pygent.tui.commands import MODES, SLASH_COMMANDS, SlashCommands
from pygent.tui.connection import Connection
from pygent.tui.messages import PromptSubmitted, ServerUpdate, ToolCardSelected, TurnFinished
from pygent.tui.review import Review
from pygent.tui.widgets.conversation import Conversation
from pygent.tui.widgets.diff_view import SidePane
from pygent.tui.widgets.input_box import InputBox, prompt_blocks
from pygent.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from textual.theme import Theme

    from pygent.settings.models import UISettings

__all__ = ["MODES", "QUIT_WINDOW", "SLASH_COMMANDS", "PygentApp"]

#: A second Ctrl+C within this many seconds quits.
QUIT_WINDOW = 2.0
#: Updates a turn sends only after the server saved its prompt (notices may come before).
_TURN_OUTPUT = frozenset(
    {"agent_message_chunk", "agent_thought_chunk", "tool_call", "tool_call_update", "plan"}
)


class PygentApp(Connection, SlashCommands, Review):
    """The terminal chat.

    Args:
        root: The workspace (the server's root and cwd).
        model: ``--model`` (sent as ``initializationOptions.model``).
        mode: ``--mode`` (``initializationOptions.permissionMode``).
        resume: A session id to resume at start.
        continue_last: Resume the newest session of the workspace.
        pick_session: Open the session picker at start (``--resume`` without an id).
        first_run: Show the welcome screen first (no usable key).
        config_file: The user config file the welcome screen writes.
        server_command: The server command (default ``sys.executable -m pygent serve``).
        server_env: The server's environment (default: inherited).
        connect: Start the server (False: widgets only, for snapshots).
        ui: The ``[ui]`` settings (theme, diff style, thoughts); defaults when None. A theme
            chosen in the app (command palette, "Change theme") is saved to the user config.
    """

    CSS_PATH = "app.tcss"
    TITLE = "pygent"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c", "interrupt", "Cancel", priority=True),
        Binding("ctrl+n", "new_session", "New"),
        Binding("ctrl+r", "resume", "Resume"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f2", "toggle_pane", "Pane"),
        Binding("f3", "swap_panes", "Swap"),
        Binding("alt+left", "resize_pane(5)", "Pane wider", show=False),
        Binding("alt+right", "resize_pane(-5)", "Pane narrower", show=False),
        Binding("f5", "restart_server", "Restart server", show=False),
    ]

    def __init__(
        self,
        root: Path | None = None,
        *,
        model: str | None = None,
        mode: str | None = None,
        resume: str | None = None,
        continue_last: bool = False,
        pick_session: bool = False,
        first_run: bool = False,
        config_file: Path | None = None,
        server_command: list[str] | None = None,
        server_env: dict[str, str] | None = None,
        connect: bool = True,
        ui: UISettings | None = None,
    ) -> None:
        super().__init__()
        if ui is None:
            from pygent.settings.models import UISettings

            ui = UISettings()
        self.ui = ui
        self.root = (root or Path.cwd()).resolve()
        self.model = model
        self.mode = mode
        self.resume_id = resume
        self.continue_last = continue_last
        self.pick_session = pick_session
        self.first_run = first_run
        self.config_file = config_file
        self.server_command = server_command
        self.server_env = server_env
        self.connect = connect
        self.client: Any = None
        self.session_id: str | None = None
        self.session_has_messages = False
        self.busy = False
        self.pane_width = 45
        self.side_by_side = ui.diff_style == "split"
        self._stopping_server = False
        self._last_ctrl_c = 0.0
        self._review: asyncio.Future[tuple[bool, str | None]] | None = None
        self._review_lock = asyncio.Lock()
        self._pending_prompt = ""
        self._queued_prompt = ""
        self._watch_task: asyncio.Task[None] | None = None
        self._setup_client = None
        self._setup_lock = asyncio.Lock()
        self.first_paint: float | None = None
        self.started = time.perf_counter()
        self.plugin_commands = {}

    def compose(self) -> ComposeResult:
        from pygent.tui.links import markdown_parser

        conversation = Conversation(id="conversation")
        conversation.parser_factory = markdown_parser(self.root)
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield conversation
                box = InputBox(self.root, id="input")
                box.builtin_commands = [c.split()[0] for c in SLASH_COMMANDS]
                box.slash_commands = list(box.builtin_commands)
                yield box
            yield SidePane(id="side")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        from pygent import _startup

        # `pygent chat` starts with the garbage collector paused; it runs again once the first
        # frame is up (a no-op when the app was not started by the command line).
        self.call_after_refresh(_startup.resume_gc)
        self.first_paint = time.perf_counter() - self.started
        self.status.model = self.model or ""
        self.status.mode = self.mode or ""
        self.status.refresh_status()
        self._apply_pane_width()
        self._apply_configured_theme()
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.input_box.focus()
        if self.first_run:
            self._open_welcome()
        elif self.connect:
            self.start_server(self.resume_id, continue_last=self.continue_last)

    def _apply_configured_theme(self) -> None:
        """Use ``ui.theme``; an unknown name is a warning (the default theme stays)."""
        name = self.ui.theme
        if name == self.theme:
            return
        if name in self.available_themes:
            self.theme = name
            return
        known = ", ".join(sorted(self.available_themes))
        self.notify(
            f"Unknown theme {name!r} (ui.theme); using {self.theme}. Themes: {known}.",
            title="Settings",
            severity="warning",
            timeout=12,
        )

    def _theme_changed(self, theme: Theme) -> None:
        if theme.name == self.ui.theme:
            return
        self.ui.theme = theme.name
        self.save_theme(theme.name)

    @work(thread=True, exclusive=True, group="save-theme")
    def save_theme(self, name: str) -> None:
        """Write ``ui.theme = name`` to the user config (comments and layout kept)."""
        from pygent.errors import PygentError
        from pygent.settings import paths
        from pygent.settings.editing import set_value

        path = self.config_file or paths.user_config_file()
        try:
            set_value(path, "ui.theme", name)
        except PygentError as exc:
            self.call_from_thread(
                self.notify,
                f"Theme {name} is used now but not saved: {exc.message}",
                title="Settings",
                severity="warning",
            )
        else:
            note = f"Theme {name} saved to {path}."
            project_theme = _project_theme(self.root)
            if project_theme is not None and project_theme != name:
                note += (
                    f" This project's .pygent/config.toml sets ui.theme = {project_theme!r}, "
                    "which wins here next time."
                )
            self.call_from_thread(self.notify, note, title="Settings", timeout=8)

    def _open_welcome(self) -> None:
        from pygent.settings import paths
        from pygent.tui.widgets.welcome import WelcomeResult, WelcomeScreen

        config_file = self.config_file or paths.user_config_file()

        def done(result: WelcomeResult | None) -> None:
            # The check's server read no config; the session's server is started afresh.
            self.run_worker(self.close_setup_server(), exit_on_error=False)
            if result is None:
                self.exit()
                return
            self.first_run = False
            self.model = self.model or result.model
            self.status.model = self.model
            self.status.refresh_status()
            self.show_tutorial(result)
            if self.connect:
                self.start_server(self.resume_id, continue_last=self.continue_last)

        self.push_screen(WelcomeScreen(config_file, self.check_llm), done)

    def show_tutorial(self, result: Any) -> None:
        """After the first-run setup: what was saved, a few tips, a first prompt to try."""
        from pygent.tui.widgets.welcome import TUTORIAL, TUTORIAL_PROMPT

        self.conversation.add_note(
            f"Saved {result.config_file}: model {result.model}, API key {result.key_note}."
        )
        self.conversation.add_chunk(TUTORIAL)
        self.conversation.end_stream()
        self.input_box.text = TUTORIAL_PROMPT
        self.input_box.move_cursor(self.input_box.document.end)

    def on_server_update(self, message: ServerUpdate) -> None:
        params = message.params
        if self.session_id is not None and params.get("sessionId") not in (None, self.session_id):
            return
        update = params.get("update") or {}
        self.handle_update(update)

    def handle_update(self, update: dict[str, Any]) -> None:
        """Show one ACP session update."""
        kind = update.get("sessionUpdate")
        conversation = self.conversation
        if self.busy and kind in _TURN_OUTPUT:
            self.session_has_messages = True  # the server saved the prompt before answering it
        if kind == "agent_message_chunk":
            conversation.add_chunk(text_of(update.get("content")))
        elif kind == "agent_thought_chunk":
            if self.ui.show_thoughts:
                conversation.add_thought(text_of(update.get("content")))
        elif kind == "user_message_chunk":  # a replayed history
            text = text_of(update.get("content"))
            if text:
                conversation.add_user(text)
                self.session_has_messages = True
        elif kind in ("tool_call", "tool_call_update"):
            card = conversation.tool_update(update)
            self._focus_tool(card, update)
        elif kind == "current_mode_update":
            self._mode_changed(str(update.get("currentModeId") or ""))
        elif kind == "pygent_notice":
            level = str(update.get("level", "info"))
            conversation.add_note(str(update.get("message", "")), level)
        elif kind == "plan":
            entries = update.get("entries")
            conversation.show_plan(entries if isinstance(entries, list) else [])
        elif kind == "usage_update":
            meta = update.get("_meta")
            pygent = meta.get("pygent") if isinstance(meta, dict) else None
            usage = pygent.get("usage") if isinstance(pygent, dict) else None
            if isinstance(usage, dict):
                if self.busy:  # the running turn's usage so far
                    self.status.set_turn_usage(usage)
                else:  # a replayed turn's total (session/load): add it to the session's
                    self.status.add_replayed_usage(usage)

    def _mode_changed(self, mode: str) -> None:
        """A ``current_mode_update``: the status bar, and a note when the mode really changed."""
        from pygent.protocol.modes import MODE_DESCRIPTIONS, MODE_NAMES

        if not mode or mode == self.status.mode:
            return
        self.status.mode = mode
        self.status.refresh_status()
        name = MODE_NAMES.get(mode, mode)
        description = MODE_DESCRIPTIONS.get(mode, "")
        self.conversation.add_note(f"Permission mode: {name}. {description}".strip())

    def _focus_tool(self, card: Any, update: dict[str, Any]) -> None:
        if self._review is not None:
            return  # an edit in review keeps the pane
        if card.kind == "read" and card.locations and update.get("sessionUpdate") == "tool_call":
            path = card.locations[0].get("path") if isinstance(card.locations[0], dict) else None
            if path:
                self.side.show_file(Path(path), card.title)
                return
        if card.status in ("completed", "failed") and card.kind != "read":
            output = card.output_text()
            if output:
                self.side.show_text(card.title, output)

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        self.open_link(event.href)

    def open_link(self, href: str) -> None:
        """A link in an answer: a workspace file opens in the right pane, a web address outside."""
        from pygent.tui.links import parse_file_link

        target = parse_file_link(href)
        if target is not None:
            path, line = target
            if self._review is not None:
                self.notify("An edit is in review; decide on it first.", severity="warning")
                return
            try:
                shown = path.resolve().relative_to(self.root).as_posix()
            except (OSError, ValueError):
                self.notify(f"Not opened: {path} is outside the workspace.", severity="warning")
                return
            self._show_pane(True)
            self.side.show_file(path, shown + (f":{line}" if line else ""), line)
        elif href.startswith(("http://", "https://", "mailto:")):
            self.open_url(href)
        else:
            self.notify(
                f"Not opened: {href} is neither a workspace file nor a web address.",
                severity="warning",
            )

    def on_tool_card_selected(self, message: ToolCardSelected) -> None:
        if self._review is not None:
            return
        card = self.conversation.cards.get(message.tool_call_id)
        if card is None:
            return
        output = card.output_text()
        if card.kind == "read" and card.locations and not output:
            path = card.locations[0].get("path") if isinstance(card.locations[0], dict) else None
            if path:
                self.side.show_file(Path(path), card.title)
                return
        self.side.show_text(card.title, output or "(no output)")

    def on_prompt_submitted(self, message: PromptSubmitted) -> None:
        text = message.text
        if text.startswith("/"):
            self.run_slash(text)
            return
        if self.busy:
            self.notify("A turn is running; Ctrl+C cancels it.", severity="warning")
            self.input_box.text = text
            return
        if (
            self.connect
            and self.session_id is None
            and self.status.connection.startswith("starting")
        ):
            # Typed before the server finished starting: send it as soon as it is ready.
            self._queued_prompt = text
            self.notify("Starting the server; your message is sent as soon as it is ready.")
            return
        if self.client is None or self.session_id is None:
            self.notify(
                "The server is not ready yet"
                + (
                    " (press F5 to restart it)."
                    if not self.connect or self.status.connection == "server stopped"
                    else "."
                ),
                severity="warning",
            )
            self.input_box.text = text
            return
        blocks = prompt_blocks(text, self.root)
        names = [str(b.get("name")) for b in blocks[1:]]
        self.conversation.add_user(text, names)
        self.busy = True
        self._pending_prompt = text
        self.status.set_busy(True)
        self.run_prompt(blocks, text)

    @work(group="prompt")
    async def run_prompt(self, blocks: list[dict[str, Any]], text: str) -> None:
        """Send the prompt; post :class:`TurnFinished` when it ends."""
        from pygent.client import PygentClientError

        client = self.client
        session_id = self.session_id
        assert client is not None and session_id is not None
        try:
            result = await client.prompt(session_id, blocks)
        except PygentClientError as exc:
            if exc.code == -32099:  # connection lost: ServerDied reports it
                self.post_message(TurnFinished({"stopReason": "connection_lost"}, None, text))
                return
            self.post_message(TurnFinished({}, friendly(exc), text))
            return
        self.post_message(TurnFinished(result, None, text))

    def on_turn_finished(self, message: TurnFinished) -> None:
        self.busy = False
        self.status.set_busy(False)
        self.conversation.end_stream()
        if message.error:
            self.conversation.add_error(message.error)
            self._restore_prompt()
        elif message.result.get("stopReason") == "connection_lost":
            self._restore_prompt()  # the prompt may not have been saved: offer it again
        else:
            self._pending_prompt = ""
            self.session_has_messages = True
        stop = message.result.get("stopReason")
        if stop == "cancelled":
            self.conversation.add_note("Cancelled.")
        elif stop == "max_tokens":
            self.conversation.add_note("The answer hit the model's output limit.", "warning")
        elif stop == "max_turn_requests":
            self.conversation.add_note(
                "Stopped after the most model requests one turn may make (llm.max_turn_requests).",
                "warning",
            )
        usage = message.result.get("usage") or {}
        if usage:
            cost = usage.get("costUsd")
            self.status.add_usage(
                int(usage.get("totalTokens") or 0), cost if isinstance(cost, (int, float)) else None
            )
        else:  # cancelled or failed: keep what the live usage updates counted
            self.status.add_usage(self.status.turn_tokens, self.status.turn_cost)
        self.refresh_title()

    def action_interrupt(self) -> None:
        """Ctrl+C: cancel the running turn; when idle, a second Ctrl+C quits."""
        if self.busy and self.client is not None and self.session_id is not None:
            self._last_ctrl_c = 0.0
            self.notify("Cancelling…", timeout=2)
            client, session_id = self.client, self.session_id
            self.run_worker(client.cancel(session_id), exit_on_error=False)
            return
        now = time.monotonic()
        if now - self._last_ctrl_c < QUIT_WINDOW:
            self.quit_chat()
            return
        self._last_ctrl_c = now
        self.notify("Press Ctrl+C again to quit (Ctrl+Q quits at once).", timeout=QUIT_WINDOW)

    def action_toggle_pane(self) -> None:
        """F2: show or hide the right pane."""
        self._show_pane(not self.side.display)

    def action_swap_panes(self) -> None:
        """F3: put the right pane on the left (and back)."""
        main = self.query_one("#main", Horizontal)
        left = self.query_one("#left", Vertical)
        side = self.side
        if main.children and main.children[0] is left:
            main.move_child(side, before=left)
        else:
            main.move_child(left, before=side)

    def action_resize_pane(self, step: int) -> None:
        """Alt+Left / Alt+Right: make the right pane wider or narrower."""
        self.pane_width = max(15, min(80, self.pane_width + step))
        self._apply_pane_width()

    def _apply_pane_width(self) -> None:
        self.side.styles.width = f"{self.pane_width}%"

    async def action_quit(self) -> None:
        """Ctrl+Q: quit (the server is stopped cleanly)."""
        self.quit_chat()

    def quit_chat(self) -> None:
        """Quit. The app's result (``run()``'s return value) is the session id when the session
        has messages, so ``pygent chat`` can say how to resume it; None otherwise."""
        self.exit(self.session_id if self.session_id and self.session_has_messages else None)


def _project_theme(root: Path) -> str | None:
    """``ui.theme`` of the project config in effect at ``root``, if it sets one."""
    from pygent.errors import PygentError
    from pygent.settings.loader import find_project_config_path, read_toml_file

    path = find_project_config_path(root)
    if path is None:
        return None
    try:
        ui = read_toml_file(path).get("ui")
    except PygentError:
        return None
    theme = ui.get("theme") if isinstance(ui, dict) else None
    return theme if isinstance(theme, str) else None
