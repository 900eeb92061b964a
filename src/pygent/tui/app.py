"""``pygent chat``: the Textual app. A client of ``pygent serve``; it never calls the agent itself.

The app spawns the server with its own interpreter (``sys.executable -m pygent serve``) through
:class:`pygent.client.PygentClient`, shows the session's updates as they stream, reviews every
``workspace/applyEdit`` in the right pane (and applies accepted edits to disk itself), and asks
permission questions in a modal.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer

from pygent.tui.edits import EditError, apply_reviewed, change_set_from_workspace_edit, file_diffs
from pygent.tui.messages import (
    PromptSubmitted,
    ReviewDecided,
    ServerDied,
    ServerNotice,
    ServerReady,
    ServerUpdate,
    ToolCardSelected,
    TurnFinished,
)
from pygent.tui.widgets.conversation import Conversation
from pygent.tui.widgets.diff_view import DiffView, SidePane
from pygent.tui.widgets.input_box import InputBox, prompt_blocks
from pygent.tui.widgets.permission_modal import PermissionModal
from pygent.tui.widgets.session_picker import SessionPicker
from pygent.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from textual.theme import Theme

    from pygent.settings.models import UISettings

#: Slash commands and what they do (``/help`` shows this).
SLASH_COMMANDS: dict[str, str] = {
    "/help": "keys and commands",
    "/new": "start a new session",
    "/sessions": "resume a session of this workspace",
    "/model [NAME]": "show or switch the model",
    "/mode [MODE]": "show or switch the permission mode (ask, auto-edit, plan, auto)",
    "/compact": "summarise older turns to free context",
    "/clear": "clear the screen (the session is kept)",
    "/quit": "quit",
}
MODES = ("ask", "auto-edit", "plan", "auto")
#: A second Ctrl+C within this many seconds quits.
QUIT_WINDOW = 2.0


class PygentApp(App[None]):
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
        self.first_paint: float | None = None
        self.started = time.perf_counter()

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Conversation(id="conversation")
                yield InputBox(self.root, id="input")
            yield SidePane(id="side")
        yield StatusBar(id="status")
        yield Footer()

    @property
    def conversation(self) -> Conversation:
        """The conversation widget."""
        return self.query_one("#conversation", Conversation)

    @property
    def side(self) -> SidePane:
        """The right pane."""
        return self.query_one("#side", SidePane)

    @property
    def input_box(self) -> InputBox:
        """The prompt editor."""
        return self.query_one("#input", InputBox)

    @property
    def status(self) -> StatusBar:
        """The status bar."""
        return self.query_one("#status", StatusBar)

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

    # -- theme -------------------------------------------------------------------------------

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

    def get_system_commands(self, screen: Screen[Any]) -> Any:
        yield from super().get_system_commands(screen)
        for name, help_text in SLASH_COMMANDS.items():
            command = name.split()[0]
            yield SystemCommand(command, help_text, self._slash_callback(command))

    def _slash_callback(self, command: str) -> Callable[[], None]:
        def run() -> None:
            self.run_slash(command)

        return run

    # -- first run ---------------------------------------------------------------------------

    def _open_welcome(self) -> None:
        from pygent.settings import paths
        from pygent.tui.widgets.welcome import WelcomeResult, WelcomeScreen

        config_file = self.config_file or paths.user_config_file()

        def done(result: WelcomeResult | None) -> None:
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

        self.push_screen(WelcomeScreen(config_file, self.root), done)

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

    # -- server ------------------------------------------------------------------------------

    @work(exclusive=True, group="server")
    async def start_server(self, resume: str | None = None, *, continue_last: bool = False) -> None:
        """Spawn ``pygent serve``, then open (or resume) a session."""
        from pygent.client import PygentClient, PygentClientError

        self.status.connection = "starting server"
        self.status.refresh_status()
        options: dict[str, Any] = {}
        if self.model:
            options["model"] = self.model
        if self.mode:
            options["permissionMode"] = self.mode
        client = PygentClient(
            self.server_command,
            root=self.root,
            env=self.server_env,
            initialization_options=options or None,
            apply_edit=self.handle_apply_edit,
            request_permission=self.handle_request_permission,
            on_update=self._client_update,
            on_notification=self._on_notification,
        )
        self.client = client
        try:
            await client.start()
            if continue_last and resume is None:
                sessions = await client.list_sessions()
                if sessions:
                    resume = str(sessions[0]["sessionId"])
            if resume:
                result = await client.load_session(resume)
                session_id = resume
            else:
                result = await client.new_session_result()
                session_id = str(result["sessionId"])
        except PygentClientError as exc:
            if client.process is not None and client.process.returncode is None and resume:
                self.conversation.add_error(
                    f"Could not resume session {resume}: {exc.message}",
                    "Starting a new session instead. /sessions lists the ones you can resume.",
                )
                await self._open_new(client)
                return
            await client.close(timeout=2)
            self.client = None
            self.status.connection = "no server"
            self.status.refresh_status()
            self._restore_queued_prompt()
            stderr = (exc.data or {}).get("stderr", "") if isinstance(exc.data, dict) else ""
            self.conversation.add_error(
                f"The pygent server could not start: {exc.message}",
                "Press F5 to try again; `pygent report` bundles the logs."
                + (f"\n{stderr}" if stderr else ""),
            )
            return
        except OSError as exc:
            self.client = None
            self.status.connection = "no server"
            self.status.refresh_status()
            self._restore_queued_prompt()
            self.conversation.add_error(
                f"Could not start the pygent server: {exc}",
                "Check that pygent is installed in this Python environment, then press F5.",
            )
            return
        self._session_opened(session_id, result, resumed=bool(resume))
        self._watch_task = asyncio.create_task(self._watch(client))

    async def _open_new(self, client: Any) -> None:
        result = await client.new_session_result()
        self._session_opened(str(result["sessionId"]), result, resumed=False)
        self._watch_task = asyncio.create_task(self._watch(client))

    def _session_opened(self, session_id: str, result: dict[str, Any], *, resumed: bool) -> None:
        self.session_id = session_id
        self.status.connection = "ready"
        modes = result.get("modes") or {}
        if modes.get("currentModeId"):
            self.status.mode = str(modes["currentModeId"])
        models = result.get("models") or {}
        if models.get("currentModelId"):
            self.status.model = str(models["currentModelId"])
        self.status.refresh_status()
        self.post_message(ServerReady(session_id, resumed))
        self.refresh_title()

    async def _watch(self, client: Any) -> None:
        process = client.process
        if process is None:
            return
        code = await process.wait()
        if self._stopping_server or client is not self.client:
            return
        stderr = "\n".join(list(client.stderr_tail)[-8:])
        self.post_message(ServerDied(code, stderr))

    def _client_update(self, params: dict[str, Any]) -> None:
        self.post_message(ServerUpdate(params))

    def _on_notification(self, method: str, params: Any) -> None:
        if method in ("window/showMessage",) and isinstance(params, dict):
            self.post_message(
                ServerNotice(str(params.get("message", "")), int(params.get("type", 3)))
            )

    def _restore_queued_prompt(self) -> None:
        """The server did not start: give a prompt typed meanwhile back to the input box."""
        queued, self._queued_prompt = self._queued_prompt, ""
        if queued and not self.input_box.text.strip():
            self.input_box.text = queued

    def on_server_ready(self, message: ServerReady) -> None:
        if message.resumed:
            self.conversation.end_stream()
            self.conversation.add_note(f"Resumed session {message.session_id}.")
        queued, self._queued_prompt = self._queued_prompt, ""
        if queued:
            self.post_message(PromptSubmitted(queued))
        if self.pick_session:
            self.pick_session = False
            self.action_resume()

    def on_server_notice(self, message: ServerNotice) -> None:
        if message.level == 1:
            self.conversation.add_error(message.message)
        else:
            self.notify(
                message.message, severity="warning" if message.level == 2 else "information"
            )

    def on_server_died(self, message: ServerDied) -> None:
        self.client = None
        # Questions the dead server asked are void.
        if self._review is not None and not self._review.done():
            self._review.cancel()
        if isinstance(self.screen, PermissionModal):
            self.screen.dismiss(None)
        self.busy = False
        self.status.set_busy(False)
        self.status.connection = "server stopped"
        self.status.refresh_status()
        self.conversation.add_error(
            f"The pygent server stopped unexpectedly (exit code {message.returncode}).",
            "Press F5 to restart it and resume this session; nothing you typed is lost."
            + (f"\nLast server output:\n{message.stderr}" if message.stderr else ""),
        )
        self._restore_prompt()

    def _restore_prompt(self) -> None:
        if self._pending_prompt and not self.input_box.text.strip():
            self.input_box.text = self._pending_prompt
        self._pending_prompt = ""

    def action_restart_server(self) -> None:
        """Restart the server (after it died) and resume the session."""
        client = self.client
        if client is not None and client.process is not None and client.process.returncode is None:
            self.notify("The server is running.")
            return
        self.conversation.clear()
        self.start_server(self.session_id)

    async def _shutdown(self) -> None:
        await self.close_server()
        await super()._shutdown()

    async def close_server(self) -> None:
        """Stop the server (``shutdown`` + ``exit``) without reporting it as a crash."""
        self._stopping_server = True
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close(timeout=3)
        if self._watch_task is not None:
            self._watch_task.cancel()

    # -- updates -----------------------------------------------------------------------------

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
        if kind == "agent_message_chunk":
            conversation.add_chunk(_text(update.get("content")))
        elif kind == "agent_thought_chunk":
            if self.ui.show_thoughts:
                conversation.add_thought(_text(update.get("content")))
        elif kind == "user_message_chunk":
            text = _text(update.get("content"))
            if text:
                conversation.add_user(text)
        elif kind in ("tool_call", "tool_call_update"):
            card = conversation.tool_update(update)
            self._focus_tool(card, update)
        elif kind == "current_mode_update":
            self.status.mode = str(update.get("currentModeId") or self.status.mode)
            self.status.refresh_status()
        elif kind == "pygent_notice":
            conversation.add_note(str(update.get("message", "")), str(update.get("level", "info")))
        elif kind == "plan":
            entries = update.get("entries") or []
            lines = [f"- [{e.get('status', '')}] {e.get('content', '')}" for e in entries]
            conversation.add_note("Plan:\n" + "\n".join(lines))

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

    # -- prompts -----------------------------------------------------------------------------

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
            self.post_message(TurnFinished({}, _friendly(exc), text))
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
        self.refresh_title()

    @work(group="title", exclusive=True)
    async def refresh_title(self) -> None:
        """Fetch the session's title from the server's session list."""
        client = self.client
        if client is None or self.session_id is None:
            return
        with contextlib.suppress(Exception):
            for info in await client.list_sessions():
                if info.get("sessionId") == self.session_id:
                    self.status.title = str(info.get("title") or "")
                    self.status.refresh_status()
                    return

    # -- edits and permissions ---------------------------------------------------------------

    async def handle_apply_edit(self, params: dict[str, Any]) -> dict[str, Any]:
        """``workspace/applyEdit``: show the diff, wait for a decision, apply accepted edits."""
        async with self._review_lock:
            try:
                change_set = change_set_from_workspace_edit(params)
            except EditError as exc:
                self.conversation.add_error(f"pygent proposed an edit the TUI cannot apply: {exc}")
                return {"applied": False, "failureReason": f"The edit could not be applied: {exc}"}
            loop = asyncio.get_running_loop()
            future: asyncio.Future[tuple[bool, str | None]] = loop.create_future()
            self._review = future
            self._show_pane(True)
            view = self.side.show_diff(
                change_set.label, file_diffs(change_set, self.root), side_by_side=self.side_by_side
            )
            self.call_after_refresh(view.focus)
            try:
                accepted, reason = await future
            except asyncio.CancelledError:
                self.side.clear_review(f"Withdrawn: {change_set.label}")
                raise
            finally:
                self._review = None
                self.side_by_side = view.side_by_side
                self.input_box.focus()
            if not accepted:
                self.side.clear_review(f"Rejected: {change_set.label}")
                answer: dict[str, Any] = {"applied": False}
                if reason:
                    answer["failureReason"] = reason
                return answer
            result = await asyncio.to_thread(apply_reviewed, change_set)
            if not result.applied:
                self.side.clear_review(f"Could not apply: {change_set.label}")
                self.conversation.add_error(
                    f"The edit could not be applied: {result.failure_reason}",
                    "pygent was told; it may read the file again and retry.",
                )
                return {"applied": False, "failureReason": result.failure_reason or "not applied"}
            self.side.clear_review(f"Applied: {change_set.label}")
            return {"applied": True}

    def on_review_decided(self, message: ReviewDecided) -> None:
        if self._review is not None and not self._review.done():
            self._review.set_result((message.accepted, message.reason))

    async def handle_request_permission(self, params: dict[str, Any]) -> dict[str, Any]:
        """``pygent/session/requestPermission``: ask in a modal."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()

        def answered(option: str | None) -> None:
            if not future.done():
                future.set_result(option)

        modal = PermissionModal(params)
        self.push_screen(modal, answered)
        try:
            option = await future
        except asyncio.CancelledError:
            if modal.is_attached and self.screen is modal:
                self.pop_screen()
            raise
        if option is None:
            return {"outcome": {"outcome": "cancelled"}}
        return {"outcome": {"outcome": "selected", "optionId": option}}

    # -- slash commands ----------------------------------------------------------------------

    def run_slash(self, text: str) -> None:
        """Run a ``/command``."""
        name, _, arg = text.strip().partition(" ")
        arg = arg.strip()
        conversation = self.conversation
        if name == "/help":
            from pygent.help_topics import TOPICS

            lines = [f"  {cmd:<16} {what}" for cmd, what in SLASH_COMMANDS.items()]
            conversation.add_note(TOPICS["shortcuts"] + "\nCommands\n\n" + "\n".join(lines))
        elif name == "/quit":
            self.exit()
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
            else:
                self.call_server("setMode", arg)
        elif name == "/compact":
            self.call_server("compact", "")
        else:
            conversation.add_error(
                f"Unknown command {name}.",
                "Commands: " + ", ".join(c.split()[0] for c in SLASH_COMMANDS),
            )

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
                await client.set_mode(self.session_id, arg)
                self.status.mode = arg
                self.status.refresh_status()
                self.conversation.add_note(f"Permission mode: {arg}.")
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
            self.conversation.add_error(_friendly(exc))

    # -- actions -----------------------------------------------------------------------------

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
            self.exit()
            return
        self._last_ctrl_c = now
        self.notify("Press Ctrl+C again to quit (Ctrl+Q quits at once).", timeout=QUIT_WINDOW)

    def action_new_session(self) -> None:
        """Ctrl+N: a new session."""
        if self.busy:
            self.notify("A turn is running; Ctrl+C cancels it first.", severity="warning")
            return
        self.new_session()

    @work(group="session", exclusive=True)
    async def new_session(self) -> None:
        """Open a new session on the running server."""
        from pygent.client import PygentClientError

        if self.client is None:
            self.conversation.add_error("The server is not running.", "Press F5 to restart it.")
            return
        try:
            result = await self.client.new_session_result()
        except PygentClientError as exc:
            self.conversation.add_error(_friendly(exc))
            return
        self.conversation.clear()
        self.status.tokens, self.status.cost, self.status.title = 0, None, ""
        self._session_opened(str(result["sessionId"]), result, resumed=False)
        self.conversation.add_note("New session.")

    def action_resume(self) -> None:
        """Ctrl+R: pick a session of this workspace to resume."""
        if self.busy:
            self.notify("A turn is running; Ctrl+C cancels it first.", severity="warning")
            return
        self.open_picker()

    @work(group="session", exclusive=True)
    async def open_picker(self) -> None:
        """List the sessions and resume the chosen one."""
        from pygent.client import PygentClientError

        client = self.client
        if client is None:
            self.conversation.add_error("The server is not running.", "Press F5 to restart it.")
            return
        try:
            sessions = await client.list_sessions()
        except PygentClientError as exc:
            self.conversation.add_error(_friendly(exc))
            return
        chosen = await self.push_screen_wait(SessionPicker(sessions))
        if not chosen or chosen == self.session_id:
            return
        self.conversation.clear()
        self.status.tokens, self.status.cost = 0, None
        previous, self.session_id = self.session_id, chosen  # its replayed history is shown
        try:
            result = await client.load_session(chosen)
        except PygentClientError as exc:
            self.session_id = previous
            self.conversation.add_error(_friendly(exc))
            return
        self._session_opened(chosen, result, resumed=True)

    def action_toggle_pane(self) -> None:
        """F2: show or hide the right pane."""
        self._show_pane(not self.side.display)

    def _show_pane(self, shown: bool) -> None:
        self.side.display = shown

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
        self.exit()

    @property
    def in_review(self) -> DiffView | None:
        """The edit in review, if any."""
        views = list(self.side.query(DiffView))
        return views[0] if views and self._review is not None else None


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


def _text(content: Any) -> str:
    if isinstance(content, dict) and content.get("type") == "text":
        return str(content.get("text", ""))
    if isinstance(content, list):
        return "".join(_text(c) for c in content)
    return ""


def _friendly(exc: Any) -> str:
    message = str(getattr(exc, "message", exc))
    return message or "The server reported an error without a message; see `pygent report`."
