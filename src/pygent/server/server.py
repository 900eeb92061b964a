"""The pygent server assembled: one connection's lifecycle, settings and document sync, wired to the
JSON-RPC layer (:mod:`~pygent.server.rpc`), the sessions (:mod:`~pygent.server.sessions`), the
turns (:mod:`~pygent.server.turns`) and the command adapter (:mod:`~pygent.server.commands`).

``initialize`` was answered by :mod:`pygent.server.main` while this module was imported in a
background thread; the server takes over from the first message after it. Open documents are kept
by :mod:`pygent.server.documents` (pygls' document model, loaded on the first ``textDocument/did*``
so that lsprotocol's types stay off the ``session/new`` path).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import sys
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loguru import logger

from pygent.errors import PygentError
from pygent.protocol import methods
from pygent.redact import redact
from pygent.server import llm_check
from pygent.server import protocol as wire
from pygent.server.commands import CommandAdapter
from pygent.server.documents import METHODS as DOCUMENT_METHODS
from pygent.server.documents import OpenDocuments
from pygent.server.extensions import Extensions
from pygent.server.protocol import ClientFeatures
from pygent.server.rpc import JsonRpc, RequestId
from pygent.server.sessions import SessionRegistry, resolve
from pygent.server.stdio import Frame, FrameWriter
from pygent.server.turns import SHUTDOWN_GRACE_SECONDS, TurnRunner

#: How long the warm-up imports wait for the first session to be answered.
WARM_UP_WAIT_SECONDS = 0.25
#: Seconds after the warm-up imports before ACP's models are loaded in the background.
SCHEMA_WARM_DELAY_SECONDS = 2.0

if TYPE_CHECKING:
    from pygent.server.main import FramePump
    from pygent.settings.models import Settings
    from pygent.tools.workspace import Workspace

__all__ = ["PygentServer", "serve"]


class PygentServer:
    """One client connection: lifecycle, settings, documents; sessions and turns by delegation.

    Implements the port's :class:`~pygent.server.port.Connection` (``features``, ``notify``,
    ``request``, ``cancel_request``).

    Args:
        writer: Where frames go.
        init_message: The ``initialize`` request (already answered).
        overrides: Settings overrides from the command line.
    """

    def __init__(
        self, writer: FrameWriter, init_message: dict[str, Any], overrides: dict[str, Any]
    ) -> None:
        self.rpc = JsonRpc(writer)
        self.writer = writer
        self.init_params: dict[str, Any] = init_message.get("params") or {}
        self.features: ClientFeatures = wire.client_features(self.init_params)
        self.options, self._option_warnings = wire.parse_init_options(
            self.init_params.get("initializationOptions")
        )
        self.overrides = _merge(overrides, self.options.settings_overrides())
        self.roots = wire.workspace_roots(self.init_params)
        self.root = self.roots[0].expanduser().resolve()
        self._settings: Settings | None = None
        self._settings_error: PygentError | None = None
        self._storage_warnings: list[str] = []
        self._warm: asyncio.Future[None] | None = None
        self._settings_loading: asyncio.Future[None] | None = None
        self._workspace: Workspace | None = None
        self.documents = OpenDocuments(
            self.root, self.features.position_encoding, self._mirror_text, self._close_text
        )
        self._shutdown = False
        self._exit_code: int | None = None
        self._stopped = asyncio.Event()
        self._stop_task: asyncio.Future[None] | None = None
        self.sessions = SessionRegistry(
            self,
            writer,
            lambda: self.workspace,
            self.root,
            self.ready,
            self._validate,
            follow_agent=_follow_agent(self.options, self.features),
        )
        self.turns = TurnRunner(self, self.sessions, self._turn_ready, self._validate)
        self.commands = CommandAdapter(self, self.sessions, self.turns)
        self.extensions = Extensions(self.sessions, self.ready)
        self._register()

    def _register(self) -> None:
        rpc = self.rpc
        rpc.unknown_method_hint = (
            " pygent supports: " + ", ".join(methods.CLIENT_METHODS) + " and the LSP lifecycle."
        )
        rpc.on_request(methods.SESSION_NEW, self.sessions.new)
        rpc.on_request(methods.SESSION_LOAD, self.sessions.load)
        rpc.on_request(methods.SESSION_LIST, self.sessions.list_sessions)
        rpc.on_request(methods.SESSION_DELETE, self.sessions.delete)
        rpc.on_request(methods.SESSION_SET_MODE, self.sessions.set_mode)
        rpc.on_request(methods.SESSION_SET_MODEL, self.sessions.set_model)
        rpc.on_request(methods.SESSION_PROMPT, self.turns.prompt)
        rpc.on_request(methods.SESSION_COMPACT, self.turns.compact)
        rpc.on_request(methods.LLM_CHECK, llm_check.handle)
        rpc.on_request(methods.MCP_LIST, self.extensions.mcp_list)
        rpc.on_request(methods.COMMANDS_LIST, self.extensions.commands_list)
        rpc.on_request(methods.COMMANDS_RUN, self.extensions.commands_run)
        rpc.on_request("workspace/executeCommand", self.commands.execute)
        rpc.on_request("shutdown", self.shutdown, arrived=self._mark_shutdown)
        rpc.on_request("initialize", self._initialize_again)
        rpc.on_notification("initialized", lambda _: self._on_initialized())
        rpc.on_notification("exit", lambda _: self._on_exit())
        rpc.on_notification("$/cancelRequest", self._on_cancel_request)
        rpc.on_notification(methods.SESSION_CANCEL, self.turns.on_session_cancel)
        rpc.on_notification("window/workDoneProgress/cancel", self.turns.on_progress_cancel)
        for method in DOCUMENT_METHODS:
            rpc.on_notification(method, functools.partial(self.documents.handle, method))

    # -- Connection (for the ports) ----------------------------------------------------------

    def notify(self, method: str, params: Any) -> None:
        """Send a notification."""
        self.rpc.notify(method, params)

    def request(self, method: str, params: Any) -> tuple[str, Awaitable[Any]]:
        """Send a request; returns its id and an awaitable of the result."""
        return self.rpc.request(method, params)

    def cancel_request(self, request_id: str) -> None:
        """Withdraw one of our requests (``$/cancelRequest``)."""
        self.rpc.cancel_request(request_id)

    def log_message(self, message: str, level: int = 2) -> None:
        """``window/logMessage`` (1 error, 2 warning, 3 info, 4 log)."""
        self.notify("window/logMessage", {"type": level, "message": redact(message)})

    def show_message(self, message: str, level: int = 3) -> None:
        """``window/showMessage``."""
        self.notify("window/showMessage", {"type": level, "message": redact(message)})

    # -- incoming ----------------------------------------------------------------------------

    def on_frame(self, frame: Frame | None) -> None:
        """Handle one frame from the reader (on the event loop); None is the end of input."""
        if frame is None:
            self._on_end_of_input()
            return
        self.rpc.handle_frame(frame)
        if frame.error is not None:
            self.log_message(f"pygent: {frame.error}")

    def _on_cancel_request(self, params: Any) -> None:
        msg_id = params.get("id") if isinstance(params, dict) else None
        if not self.turns.cancel_prompt_request(msg_id):
            self.rpc.cancel_incoming(msg_id)

    async def _initialize_again(self, params: Any, msg_id: RequestId) -> None:
        raise PygentError("invalid_request", "initialize was already received; send it only once.")

    # -- documents ---------------------------------------------------------------------------

    @property
    def workspace(self) -> Workspace:
        """The tools' workspace (roots and the open-document overlay)."""
        if self._workspace is None:
            from pygent.tools.workspace import Workspace

            self._workspace = Workspace(self.roots)
        return self._workspace

    def _mirror_text(self, path: Path, text: str, version: int | None) -> None:
        self.workspace.open_document(resolve(path), text, version)

    def _close_text(self, path: Path) -> None:
        if self._workspace is not None:
            self._workspace.close_document(resolve(path))

    async def _turn_ready(self) -> Settings:
        """What a turn waits for: the editor's buffers as sent so far, then the settings."""
        await self.documents.settled()
        return await self.ready()

    # -- settings ----------------------------------------------------------------------------

    def _on_initialized(self) -> None:
        for warning in self._option_warnings:
            self.show_message(f"pygent: {warning}", 2)
        from pygent.settings.paths import broad_workspace_warning

        for root in self.roots:
            broad = broad_workspace_warning(root)
            if broad:
                self.show_message(f"pygent: {broad}", 2)
        if self._warm is None:
            self._warm = asyncio.ensure_future(self._warm_up())

    async def _warm_up(self) -> None:
        """Load settings and the heavy modules in a worker thread, off the request path."""
        try:
            await asyncio.shield(self._settings_loaded())
        except Exception as exc:  # reported when a session needs settings
            logger.opt(exception=exc).error("loading settings failed")
        if self._settings_error is not None:
            self.show_message(f"pygent: {self._settings_error}", 1)
        elif self._settings is not None:
            self._say_when_unsandboxed(self._settings)
        for warning in self._storage_warnings:
            self.show_message(f"pygent: {warning}", 2)
        # The first session/new, which most clients send right after initialize, needs the CPU
        # more than the warm-up does (two threads share one interpreter lock): wait for it, or a
        # moment. Then the heavy imports, in the order the first prompt needs them.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.sessions.first_added.wait(), WARM_UP_WAIT_SECONDS)
        await asyncio.to_thread(_warm_imports, self._settings)
        # ACP's models (~0.4 s of CPU) serve only request shapes beyond the common ones (see
        # wire.validate_common); loaded a little later so they do not compete with a first
        # prompt sent right after start (a request that needs them earlier loads them itself).
        await asyncio.sleep(SCHEMA_WARM_DELAY_SECONDS)
        if not wire.schema_models_loaded():
            await asyncio.to_thread(wire.load_schema_models)

    def _say_when_unsandboxed(self, settings: Settings) -> None:
        """Warn once per server when the settings ask for a sandbox this OS cannot provide."""
        from pygent.sandbox.runtime import sandbox_status

        status = sandbox_status(settings)
        if status.unsupported:
            self.show_message(f"pygent: sandbox {status.describe()}.", 2)

    def _load_settings(self) -> None:
        from pygent.settings.loader import load_settings

        try:
            settings = load_settings(self.root, self.overrides or None)
        except PygentError as exc:
            self._settings_error = exc
            from pygent.settings.models import Settings

            settings = Settings()
        try:
            from pygent.settings.writable import prepare_storage

            # Before the settings are published: a session created right after must already
            # see the temporary sessions directory when the real one cannot be written.
            self._storage_warnings = prepare_storage(settings)
        except PygentError as exc:
            self._storage_warnings = [str(exc)]
        self._settings = settings
        try:
            from pygent.logs import setup_logging

            setup_logging(settings)
        except Exception as exc:  # logging must never stop the server
            print(f"pygent: could not set up logging: {exc}", file=sys.stderr)

    def _settings_loaded(self) -> asyncio.Future[None]:
        """The one load of the settings (in a worker thread), started on first need."""
        if self._settings_loading is None:
            self._settings_loading = asyncio.ensure_future(asyncio.to_thread(self._load_settings))
        return self._settings_loading

    async def ready(self) -> Settings:
        """Settings (loading them if ``initialized`` never came); raises a config error."""
        if self._warm is None:
            self._warm = asyncio.ensure_future(self._warm_up())
        with contextlib.suppress(Exception):  # logged by the warm-up; tried once more below
            await asyncio.shield(self._settings_loaded())
        if self._settings is None:
            await asyncio.to_thread(self._load_settings)
        if self._settings_error is not None:
            raise self._settings_error
        assert self._settings is not None
        return self._settings

    async def _validate(
        self, method: str, params: Any, default_cwd: Path | None = None
    ) -> dict[str, Any]:
        """Validate params; ACP's models are imported in a worker thread, never on the loop."""
        common = wire.validate_common(method, params, default_cwd)
        if common is not None:  # the usual shapes need no ACP models (a first prompt never waits)
            return common
        if not wire.schema_models_loaded():
            await asyncio.to_thread(wire.load_schema_models)
        return wire.validate_params(method, params, default_cwd)

    # -- lifecycle ---------------------------------------------------------------------------

    async def shutdown(self, params: Any, msg_id: RequestId) -> None:
        """``shutdown``: stop every turn; afterwards only ``exit`` is accepted."""
        self._mark_shutdown()
        await self._stop_turns()

    def _mark_shutdown(self) -> None:
        self._shutdown = True
        self.rpc.refusing = "after shutdown"

    def _on_exit(self) -> None:
        self._exit_code = 0 if self._shutdown else 1
        self._begin_stop()

    def _on_end_of_input(self) -> None:
        logger.info("client closed stdin; stopping")
        if self._exit_code is None:
            self._exit_code = 0
        self._begin_stop()

    def on_interrupt(self) -> None:
        """SIGINT: cancel running turns (their prompts answer ``cancelled``), then stop.

        A second SIGINT stops at once.
        """
        if self._stop_task is not None:
            logger.info("second interrupt; stopping now")
            self._stopped.set()
            return
        logger.info("interrupted; cancelling running turns and stopping")
        if self._exit_code is None:
            self._exit_code = 0
        self._mark_shutdown()
        self._begin_stop()

    def _begin_stop(self) -> None:
        if self._stop_task is not None:
            return

        async def stop() -> None:
            try:
                await self._stop_turns()
            finally:
                self._stopped.set()

        self._stop_task = asyncio.ensure_future(stop())

    async def _stop_turns(self) -> None:
        await self.turns.stop_all()
        others = [task for task in self.rpc.running() if task is not asyncio.current_task()]
        if others:
            _, pending = await asyncio.wait(others, timeout=SHUTDOWN_GRACE_SECONDS)
            for task in pending:
                task.cancel()

    async def run(self, pump: FramePump) -> int:
        """Serve until ``exit``, end of input or an interrupt; returns the exit code."""
        loop = asyncio.get_running_loop()

        def deliver(frame: Frame | None) -> None:
            loop.call_soon_threadsafe(self.on_frame, frame)

        pump.redirect(deliver)
        await self._stopped.wait()
        from pygent import mcp

        await mcp.shutdown()  # the MCP servers of this process end with it
        for state in self.sessions.sessions.values():
            state.port.flush()
        return self._exit_code if self._exit_code is not None else 0


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = {key: dict(value) if isinstance(value, dict) else value for key, value in base.items()}
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def _warm_imports(settings: Settings | None = None) -> None:
    """Import what the first prompt needs (the agent, the tools and the model backend).

    litellm (3-4 s, ~190 MB) is imported only when it will serve the configured model; the
    native backend needs only httpx.
    """
    started = time.perf_counter()
    for name in ("pygent.agent.loop", "pygent.permissions.engine", "pygent.edits.lsp"):
        with contextlib.suppress(Exception):
            __import__(name)
    with contextlib.suppress(Exception):
        from pygent.agent.llm import import_litellm, resolve_backend

        if settings is None or resolve_backend(settings) == "litellm":
            import_litellm()
        else:
            from pygent.agent import llm_native, model_table

            llm_native.import_httpx()  # the native backend's client
            model_table.context_window(settings.llm.model)  # reads the model table once
            route = llm_native.route(settings.llm.model, settings.llm.api_base)
            if route is not None and route.url.startswith("https:"):
                llm_native.tls_context()  # loads the CA bundle off the first request's path
    with contextlib.suppress(Exception):
        from pygent.tools.base import default_registry

        default_registry()
    logger.debug("warm-up imports took {:.0f} ms", (time.perf_counter() - started) * 1000)


class _PyglsLogBridge(logging.Handler):
    """pygls logs through stdlib logging; send its warnings to loguru's file, never to stdout."""

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            logger.opt(depth=6).log(record.levelname, record.getMessage())


def _install_interrupt(loop: asyncio.AbstractEventLoop, on_interrupt: Any) -> None:
    """Route SIGINT to ``on_interrupt`` on the loop (POSIX: the loop's handler; Windows: signal)."""
    try:
        loop.add_signal_handler(signal.SIGINT, on_interrupt)
    except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
        with contextlib.suppress(ValueError):
            signal.signal(
                signal.SIGINT, lambda signum, frame: loop.call_soon_threadsafe(on_interrupt)
            )


def serve(
    pump: FramePump, writer: FrameWriter, init_message: dict[str, Any], overrides: dict[str, Any]
) -> int:
    """Run the server after ``initialize`` was answered; returns the exit code."""
    logger.remove()  # no loguru output on stderr; setup_logging adds the log file
    pygls_logger = logging.getLogger("pygls")
    pygls_logger.addHandler(_PyglsLogBridge(logging.WARNING))
    pygls_logger.propagate = False

    async def main() -> int:
        server = PygentServer(writer, init_message, overrides)
        loop = asyncio.get_running_loop()
        _install_interrupt(loop, server.on_interrupt)

        def closed() -> None:
            loop.call_soon_threadsafe(server._on_end_of_input)

        writer._on_closed = closed
        from pygent.server import signals

        restore = signals.install(loop, server._on_end_of_input)  # SIGTERM/SIGHUP = end of input
        try:
            return await server.run(pump)
        finally:
            restore()

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        return 0


def _follow_agent(options: wire.InitOptions, features: wire.ClientFeatures) -> bool | None:
    """``followAgent`` as the editor sent it; else None (``ui.follow_agent`` decides), but only
    for an editor that can show documents."""
    if options.follow_agent is not None:
        return options.follow_agent
    return None if features.show_document else False
