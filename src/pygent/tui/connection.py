"""The TUI's connection to ``pygent serve``: start it, open or resume sessions, notice it dying.

The app spawns the server with its own interpreter (``sys.executable -m pygent serve``) through
:class:`pygent.client.PygentClient`. Everything the TUI knows about models, sessions and tools
comes over that connection; the first-run screen's connection test too
(``pygent/llm/check`` on a short-lived server of its own, see :meth:`Connection.check_llm`).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from textual import work

from pygent.tui.base import AppBase, friendly
from pygent.tui.messages import PromptSubmitted, ServerDied, ServerNotice, ServerReady, ServerUpdate
from pygent.tui.widgets.permission_modal import PermissionModal
from pygent.tui.widgets.session_picker import SessionPicker

if TYPE_CHECKING:
    from pygent.client import PygentClient


class Connection(AppBase):
    """Server lifecycle and sessions: start, resume, new session, picker, restart, stop."""

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

    async def _open_new(self, client: PygentClient) -> None:
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
        self.refresh_plugin_commands()

    async def _watch(self, client: PygentClient) -> None:
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
        self.status.reset_usage()  # the replay adds the session's usage again
        self.start_server(self.session_id)

    async def _shutdown(self) -> None:
        await self.close_setup_server()
        await self.close_server()
        await super()._shutdown()

    async def check_llm(
        self, model: str, api_base: str | None, api_key: str | None
    ) -> tuple[bool, str]:
        """Test a model configuration through the server (``pygent/llm/check``): ``(ok, message)``.

        Runs on a server of its own, started on first use and stopped when the first-run screen
        closes: the session's server must read the config the screen is about to write.
        """
        from pygent.client import PygentClient, PygentClientError
        from pygent.protocol.methods import LLM_CHECK

        async with self._setup_lock:
            client = self._setup_client
            if client is None or client.process is None or client.process.returncode is not None:
                client = PygentClient(self.server_command, root=self.root, env=self.server_env)
                self._setup_client = client
                try:
                    await client.start()
                except (PygentClientError, OSError) as exc:
                    self._setup_client = None
                    with contextlib.suppress(Exception):
                        await client.close(timeout=2)
                    return False, f"Could not start the pygent server to test: {friendly(exc)}"
        params: dict[str, Any] = {"model": model}
        if api_base:
            params["apiBase"] = api_base
        if api_key:
            params["apiKey"] = api_key
        try:
            answer = await client.request(LLM_CHECK, params)
        except PygentClientError as exc:
            return False, f"Connection failed: {friendly(exc)}"
        if not isinstance(answer, dict):
            return False, "The server gave no answer to the connection test; see `pygent report`."
        return answer.get("ok") is True, str(answer.get("message") or "")

    async def close_setup_server(self) -> None:
        """Stop the first-run screen's server, if one was started."""
        client, self._setup_client = self._setup_client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close(timeout=3)

    async def close_server(self) -> None:
        """Stop the server (``shutdown`` + ``exit``) without reporting it as a crash."""
        self._stopping_server = True
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close(timeout=3)
        if self._watch_task is not None:
            self._watch_task.cancel()

    @work(group="title", exclusive=True)
    async def refresh_title(self) -> None:
        """Fetch the session's title from the server's session list."""
        client = self.client
        if client is None or self.session_id is None:
            return
        with contextlib.suppress(Exception):
            for info in await client.list_sessions():
                if info.get("sessionId") == self.session_id:
                    if info.get("messageCount"):  # e.g. a turn that failed after the prompt
                        self.session_has_messages = True
                    self.status.title = str(info.get("title") or "")
                    self.status.refresh_status()
                    return

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
            self.conversation.add_error(friendly(exc))
            return
        self.conversation.clear()
        self.status.reset_usage()
        self.status.title = ""
        self.session_has_messages = False
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
            self.conversation.add_error(friendly(exc))
            return
        chosen = await self.push_screen_wait(SessionPicker(sessions))
        if not chosen or chosen == self.session_id:
            return
        self.conversation.clear()
        self.status.reset_usage()
        previous, had_messages = self.session_id, self.session_has_messages
        self.session_id, self.session_has_messages = chosen, False  # its replay is shown
        try:
            result = await client.load_session(chosen)
        except PygentClientError as exc:
            self.session_id, self.session_has_messages = previous, had_messages
            self.conversation.add_error(friendly(exc))
            return
        self._session_opened(chosen, result, resumed=True)
