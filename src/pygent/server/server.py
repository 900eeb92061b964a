"""The pygent language server: pygls for LSP plumbing, pygent's sessions and agent behind ``pygent/*``.

pygls (with lsprotocol) owns the LSP side: document sync into its workspace, typed LSP messages,
responses to our requests, unknown methods. The ``pygent/*`` methods, ``workspace/executeCommand``,
cancellation and the lifecycle are dispatched here with plain-dict params (pygls' default
converter would turn custom params into namedtuples), validated against ACP's shapes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loguru import logger
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    LanguageServerProtocol,
    default_converter,
)

from pygent import __version__
from pygent.errors import PygentError, invalid_params, session_busy, session_not_found
from pygent.protocol import codes, methods
from pygent.server import protocol as wire
from pygent.server.port import JsonRpcPort
from pygent.server.protocol import ClientFeatures
from pygent.server.stdio import Frame, FrameWriter

if TYPE_CHECKING:
    import cattrs

    from pygent.agent.session import Session, SessionStore
    from pygent.server.main import FramePump
    from pygent.settings.models import Settings
    from pygent.tools.workspace import Workspace

#: How long a cancelled turn may take to wind down before its task is cancelled outright.
CANCEL_GRACE_SECONDS = 3.0
#: Seconds after the warm-up imports before ACP's models are loaded in the background.
SCHEMA_WARM_DELAY_SECONDS = 2.0
#: How long shutdown / end of input waits for running turns to stop.
SHUTDOWN_GRACE_SECONDS = 5.0


def _keep_params(obj: dict[str, Any], cls: type[Any]) -> Any:
    return cls(
        id=obj.get("id"),
        method=obj.get("method", ""),
        jsonrpc=obj.get("jsonrpc", "2.0"),
        params=obj.get("params"),
    )


def _keep_notification(obj: dict[str, Any], cls: type[Any]) -> Any:
    return cls(
        method=obj.get("method", ""), jsonrpc=obj.get("jsonrpc", "2.0"), params=obj.get("params")
    )


def _keep_result(obj: dict[str, Any], cls: type[Any]) -> Any:
    return cls(id=obj.get("id"), jsonrpc=obj.get("jsonrpc", "2.0"), result=obj.get("result"))


def pygent_converter() -> cattrs.Converter:
    """lsprotocol's converter, but untyped messages keep their params and results as plain dicts."""
    converter: cattrs.Converter = default_converter()  # type: ignore[no-untyped-call]
    converter.register_structure_hook(JsonRPCRequestMessage, _keep_params)
    converter.register_structure_hook(JsonRPCNotification, _keep_notification)
    converter.register_structure_hook(JsonRPCResponseMessage, _keep_result)
    return converter


class _LanguageServer(LanguageServer):
    """pygls' server, reporting its own errors to the log (and the client's log) rather than popups."""

    def report_server_error(self, error: Exception, source: Any) -> None:
        logger.warning("pygls: {}: {}", getattr(source, "__name__", source), error)
        with contextlib.suppress(Exception):
            self.protocol.notify(
                "window/logMessage",
                {"type": 2, "message": f"pygent: ignored a malformed message ({error})"},
            )


class PygentProtocol(LanguageServerProtocol):
    """pygls' LSP protocol with pygent's writer (whole frames, never raises on a vanished client)."""

    frame_writer: FrameWriter | None = None

    def _send_data(self, data: Any) -> None:
        if not data:
            return
        if not isinstance(data, dict):
            data = json.loads(json.dumps(data, default=self._serialize_message))
        if self.frame_writer is not None:
            self.frame_writer.write_body(json.dumps(data).encode("ascii"))


@dataclass
class SessionState:
    """A session the server has in memory."""

    session: Session
    store: SessionStore
    port: JsonRpcPort
    workspace: Workspace
    mode: str
    model: str
    agent: Any = None
    gate: Any = None
    turn: Any = None
    prompt_id: Any = None
    busy: bool = False
    task: asyncio.Task[Any] | None = None
    cancel_timer: asyncio.TimerHandle | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class PygentServer:
    """One client connection: lifecycle, sessions, turns.

    Args:
        writer: Where frames go.
        init_message: The ``initialize`` request (already answered).
        overrides: Settings overrides from the command line.
    """

    def __init__(
        self, writer: FrameWriter, init_message: dict[str, Any], overrides: dict[str, Any]
    ) -> None:
        self.writer = writer
        self.init_params: dict[str, Any] = init_message.get("params") or {}
        self.features: ClientFeatures = wire.client_features(self.init_params)
        self.options, self._option_warnings = wire.parse_init_options(
            self.init_params.get("initializationOptions")
        )
        self.overrides = _merge(overrides, self.options.settings_overrides())
        self.roots = wire.workspace_roots(self.init_params)
        self.root = self.roots[0].expanduser().resolve()
        self.ls = _LanguageServer(
            "pygent",
            __version__,
            protocol_cls=PygentProtocol,
            converter_factory=pygent_converter,
        )
        self.protocol: PygentProtocol = self.ls.protocol  # type: ignore[assignment]
        self.protocol.frame_writer = writer
        self.protocol.set_writer(writer)  # type: ignore[arg-type]
        self._ids = itertools.count(1)
        self._requests: dict[Any, asyncio.Task[Any]] = {}
        self._prompt_requests: dict[Any, SessionState] = {}
        self.sessions: dict[str, SessionState] = {}
        self._settings: Settings | None = None
        self._settings_error: PygentError | None = None
        self._warm: asyncio.Future[None] | None = None
        self._workspace: Workspace | None = None
        self._shutdown = False
        self._exit_code: int | None = None
        self._stopped = asyncio.Event()
        self._stop_task: asyncio.Future[None] | None = None
        self._command_session: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handlers: dict[str, Callable[[Any, Any], Awaitable[Any]]] = {
            methods.SESSION_NEW: self.session_new,
            methods.SESSION_PROMPT: self.session_prompt,
            methods.SESSION_LIST: self.session_list,
            methods.SESSION_LOAD: self.session_load,
            methods.SESSION_DELETE: self.session_delete,
            methods.SESSION_SET_MODE: self.session_set_mode,
            methods.SESSION_SET_MODEL: self.session_set_model,
            methods.SESSION_COMPACT: self.session_compact,
            "workspace/executeCommand": self.execute_command,
            "shutdown": self.shutdown,
        }
        self._init_pygls()
        self._register_document_sync()

    # -- plumbing ----------------------------------------------------------------------------

    def _init_pygls(self) -> None:
        """Run pygls' ``initialize`` bookkeeping (workspace, client capabilities); the answer is ours."""
        try:
            params = self.protocol._converter.structure(self.init_params, types.InitializeParams)
        except Exception:
            logger.warning("initialize params do not match LSP's shape; using defaults")
            params = types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                root_uri=self.root.as_uri(),
            )
        gen = self.protocol.lsp_initialize(params)
        with contextlib.suppress(StopIteration):
            while True:
                next(gen)

    def _register_document_sync(self) -> None:
        @self.ls.feature(types.TEXT_DOCUMENT_DID_OPEN)
        def did_open(params: types.DidOpenTextDocumentParams) -> None:
            self._mirror_document(params.text_document.uri)

        @self.ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)
        def did_change(params: types.DidChangeTextDocumentParams) -> None:
            self._mirror_document(params.text_document.uri)

        @self.ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)
        def did_close(params: types.DidCloseTextDocumentParams) -> None:
            path = wire.uri_to_path(params.text_document.uri)
            if path is not None and self._workspace is not None:
                self._workspace.close_document(_resolve(path))

    def _mirror_document(self, uri: str) -> None:
        """Copy pygls' view of an open document into the tools' overlay."""
        path = wire.uri_to_path(uri)
        if path is None:
            return
        try:
            doc = self.ls.workspace.get_text_document(uri)
            self.workspace.open_document(_resolve(path), doc.source, doc.version)
        except (OSError, ValueError) as exc:  # a change to a document never opened, ...
            logger.warning("cannot mirror {}: {}", uri, exc)

    @property
    def workspace(self) -> Workspace:
        """The tools' workspace (roots and the open-document overlay)."""
        if self._workspace is None:
            from pygent.tools.workspace import Workspace

            self._workspace = Workspace(self.roots)
        return self._workspace

    def send(self, payload: dict[str, Any]) -> None:
        """Write one JSON-RPC message."""
        payload.setdefault("jsonrpc", "2.0")
        self.writer.write_body(json.dumps(payload).encode("ascii"))

    def notify(self, method: str, params: Any) -> None:
        """Send a notification."""
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Any) -> tuple[str, Awaitable[Any]]:
        """Send a request; pygls matches the response to the returned awaitable."""
        import concurrent.futures

        msg_id = f"pygent-{next(self._ids)}"
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.protocol._request_futures[msg_id] = future
        self.protocol._result_types[msg_id] = None
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return msg_id, asyncio.wrap_future(future)

    def cancel_request(self, request_id: str) -> None:
        """Withdraw one of our requests (``$/cancelRequest``)."""
        future = self.protocol._request_futures.pop(request_id, None)
        if future is not None:
            future.cancel()
        self.notify("$/cancelRequest", {"id": request_id})

    def log_message(self, message: str, level: int = 2) -> None:
        """``window/logMessage`` (1 error, 2 warning, 3 info, 4 log)."""
        self.notify("window/logMessage", {"type": level, "message": message})

    def show_message(self, message: str, level: int = 3) -> None:
        """``window/showMessage``."""
        self.notify("window/showMessage", {"type": level, "message": message})

    def _respond(self, msg_id: Any, result: Any) -> None:
        self.send({"jsonrpc": "2.0", "id": msg_id, "result": result})

    def _respond_error(
        self, msg_id: Any, code: int, message: str, data: dict[str, Any] | None = None
    ) -> None:
        error: dict[str, Any] = {"code": code, "message": message}
        if data is not None:
            error["data"] = data
        self.send({"jsonrpc": "2.0", "id": msg_id, "error": error})

    def _respond_pygent_error(self, msg_id: Any, exc: PygentError) -> None:
        code, message, data = wire.error_payload(exc)
        self._respond_error(msg_id, code, message, data)

    # -- incoming ----------------------------------------------------------------------------

    def on_frame(self, frame: Frame | None) -> None:
        """Handle one frame from the reader (on the event loop)."""
        if frame is None:
            self._on_end_of_input()
            return
        if frame.error is not None:
            logger.warning("bad frame: {}", frame.error)
            self._respond_error(None, codes.PARSE_ERROR, frame.error, {"code": "invalid_params"})
            self.log_message(f"pygent: {frame.error}")
            return
        try:
            message = json.loads(frame.body or b"")
        except (ValueError, UnicodeDecodeError) as exc:
            text = f"Parse error: the message is not valid JSON ({exc}). It was ignored."
            logger.warning(text)
            self._respond_error(None, codes.PARSE_ERROR, text, {"code": "invalid_params"})
            return
        try:
            self.dispatch(message)
        except Exception as exc:  # never let one message take the server down
            logger.opt(exception=exc).error("failed to handle a message")
            msg_id = message.get("id") if isinstance(message, dict) else None
            if isinstance(message, dict) and "method" in message and msg_id is not None:
                self._respond_error(
                    msg_id,
                    codes.INTERNAL_ERROR,
                    f"Internal error in pygent while handling {message.get('method')}: {exc}. "
                    "See the log file (`pygent report`).",
                    {"code": "internal"},
                )

    def dispatch(self, message: Any) -> None:
        """Route one decoded message."""
        if not isinstance(message, dict):
            self._respond_error(
                None,
                codes.INVALID_REQUEST,
                "Invalid request: batches and non-object messages are not supported.",
                {"code": "invalid_params"},
            )
            return
        method = message.get("method")
        msg_id = message.get("id")
        is_request = "id" in message
        if method is None:
            if is_request:  # a response to one of our requests
                self._handle_response(message)
            return
        if not isinstance(method, str):
            if is_request:
                self._respond_error(
                    msg_id,
                    codes.INVALID_REQUEST,
                    "Invalid request: method must be a string.",
                    {"code": "invalid_params"},
                )
            return
        params = message.get("params")
        if method == "exit":
            self._exit_code = 0 if self._shutdown else 1
            self._begin_stop()
            return
        if self._shutdown and is_request and method != "shutdown":
            self._respond_error(
                msg_id,
                codes.INVALID_REQUEST,
                f"{method} received after shutdown; only exit is accepted.",
                {"code": "invalid_params"},
            )
            return
        if method == "shutdown":
            self._shutdown = True  # before any later exit is read
        if method == "initialize":
            if is_request:
                self._respond_error(
                    msg_id,
                    codes.INVALID_REQUEST,
                    "initialize was already received; send it only once.",
                    {"code": "invalid_params"},
                )
            return
        if method == "initialized":
            self._on_initialized()
            return
        if method == "$/cancelRequest":
            self._on_cancel_request(params)
            return
        if method == methods.SESSION_CANCEL:
            self._on_session_cancel(params)
            return
        if method == "window/workDoneProgress/cancel":
            token = params.get("token") if isinstance(params, dict) else None
            for state in self.sessions.values():
                if state.busy and token is not None and state.port.progress_token == token:
                    self._cancel_turn(state)
            return
        handler = self._handlers.get(method)
        if handler is not None:
            if not is_request:
                logger.warning("{} sent as a notification; it must be a request", method)
                return
            task = asyncio.ensure_future(self._run_request(msg_id, method, params, handler))
            self._requests[msg_id] = task
            return
        fm = self.protocol.fm
        if method not in fm.builtin_features and method not in fm.features:
            if is_request:
                self._respond_error(
                    msg_id,
                    codes.METHOD_NOT_FOUND,
                    f"Unknown method {method!r}. pygent supports: "
                    + ", ".join(methods.CLIENT_METHODS)
                    + " and the LSP lifecycle.",
                    {"code": "method_not_found"},
                )
            return
        # Everything else (document sync, $/setTrace, ...) goes to pygls.
        try:
            structured = self.protocol.structure_message(message)
        except JsonRpcException as exc:
            if is_request:
                self._respond_error(
                    msg_id,
                    codes.INVALID_PARAMS,
                    f"Invalid params for {method}: {exc}",
                    {"code": "invalid_params"},
                )
            else:
                logger.warning("ignored malformed {}: {}", method, exc)
            return
        self.protocol.handle_message(structured)

    def _handle_response(self, message: dict[str, Any]) -> None:
        try:
            structured = self.protocol.structure_message(message)
        except JsonRpcException as exc:
            logger.warning("malformed response {}: {}", message.get("id"), exc)
            future = self.protocol._request_futures.pop(message.get("id"), None)  # type: ignore[arg-type]
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        self.protocol.handle_message(structured)

    async def _run_request(
        self,
        msg_id: Any,
        method: str,
        params: Any,
        handler: Callable[[Any, Any], Awaitable[Any]],
    ) -> None:
        try:
            result = await handler(params, msg_id)
        except PygentError as exc:
            self._respond_pygent_error(msg_id, exc)
        except asyncio.CancelledError:
            self._respond_error(
                msg_id, codes.REQUEST_CANCELLED, f"{method} was cancelled.", {"code": "cancelled"}
            )
        except Exception as exc:
            logger.opt(exception=exc).error("{} failed", method)
            self._respond_error(
                msg_id,
                codes.INTERNAL_ERROR,
                f"Internal error in pygent during {method}: {type(exc).__name__}: {exc}. "
                "See the log file (`pygent report`).",
                {"code": "internal"},
            )
        else:
            self._respond(msg_id, result)
        finally:
            self._requests.pop(msg_id, None)

    # -- lifecycle ---------------------------------------------------------------------------

    def _on_initialized(self) -> None:
        for warning in self._option_warnings:
            self.show_message(f"pygent: {warning}", 2)
        if self._warm is None:
            self._warm = asyncio.ensure_future(self._warm_up())

    async def _warm_up(self) -> None:
        """Load settings and the heavy modules in a worker thread, off the request path."""
        try:
            await asyncio.to_thread(self._load_settings)
        except Exception as exc:  # reported when a session needs settings
            logger.opt(exception=exc).error("loading settings failed")
        if self._settings_error is not None:
            self.show_message(f"pygent: {self._settings_error}", 1)
        elif self._settings is not None:
            self._say_when_unsandboxed(self._settings)
        # Heavy imports, in the order the first prompt needs them.
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
        self._settings = settings
        try:
            from pygent.logs import setup_logging

            setup_logging(settings)
        except Exception as exc:  # logging must never stop the server
            print(f"pygent: could not set up logging: {exc}", file=sys.stderr)

    async def _ready(self) -> Settings:
        """Settings (loading them if ``initialized`` never came); raises a config error."""
        if self._warm is None:
            self._warm = asyncio.ensure_future(self._warm_up())
        if self._settings is None:
            await asyncio.to_thread(self._load_settings)
        if self._settings_error is not None:
            raise self._settings_error
        assert self._settings is not None
        return self._settings

    async def shutdown(self, params: Any, msg_id: Any) -> None:
        """``shutdown``: stop every turn; afterwards only ``exit`` is accepted."""
        self._shutdown = True
        await self._stop_turns()
        return None

    def _on_end_of_input(self) -> None:
        logger.info("client closed stdin; stopping")
        if self._exit_code is None:
            self._exit_code = 0
        self._begin_stop()

    def _begin_stop(self) -> None:
        async def stop() -> None:
            try:
                await self._stop_turns()
            finally:
                self._stopped.set()

        self._stop_task = asyncio.ensure_future(stop())

    async def _stop_turns(self) -> None:
        running = [s for s in self.sessions.values() if s.busy]
        for state in running:
            self._cancel_turn(state)
        if running:
            await asyncio.wait(
                [asyncio.ensure_future(s.done.wait()) for s in running],
                timeout=SHUTDOWN_GRACE_SECONDS,
            )
        others = [
            task
            for task in self._requests.values()
            if not task.done() and task is not asyncio.current_task()
        ]
        if others:
            _, pending = await asyncio.wait(others, timeout=SHUTDOWN_GRACE_SECONDS)
            for task in pending:
                task.cancel()

    async def run(self, pump: FramePump) -> int:
        """Serve until ``exit`` or end of input."""
        loop = asyncio.get_running_loop()
        self._loop = loop

        def deliver(frame: Frame | None) -> None:
            loop.call_soon_threadsafe(self.on_frame, frame)

        pump.redirect(deliver)
        await self._stopped.wait()
        for state in self.sessions.values():
            state.port.flush()
        return self._exit_code if self._exit_code is not None else 0

    # -- cancellation ------------------------------------------------------------------------

    def _on_cancel_request(self, params: Any) -> None:
        msg_id = params.get("id") if isinstance(params, dict) else None
        state = self._prompt_requests.get(msg_id)
        if state is not None:
            self._cancel_turn(state)
            return
        task = self._requests.get(msg_id)
        if task is not None:
            task.cancel()
            return
        # Maybe a pygls-handled request.
        future = self.protocol._request_futures.pop(msg_id, None)  # type: ignore[arg-type]
        if future is not None:
            future.cancel()

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

    def _on_session_cancel(self, params: Any) -> None:
        # Checked by hand: a cancel must act at once, even before ACP's models are loaded.
        session_id = params.get("sessionId") if isinstance(params, dict) else None
        if not isinstance(session_id, str):
            self.log_message(f"pygent: ignored {methods.SESSION_CANCEL}: sessionId: field required")
            return
        state = self.sessions.get(session_id)
        if state is not None and state.busy:
            self._cancel_turn(state)

    def _cancel_turn(self, state: SessionState) -> None:
        """End a session's turn: release waits, tell the agent, and enforce a grace period."""
        if not state.busy:
            return
        state.port.cancel()
        if state.turn is not None:
            with contextlib.suppress(Exception):
                state.turn.cancel()
        if state.cancel_timer is None and state.task is not None and self._loop is not None:
            task = state.task
            state.cancel_timer = self._loop.call_later(CANCEL_GRACE_SECONDS, task.cancel)

    # -- sessions ----------------------------------------------------------------------------

    def _store(self, cwd: Path) -> SessionStore:
        from pygent.agent.session import SessionStore

        return SessionStore(self._store_root(cwd))

    def _store_root(self, cwd: Path) -> Path:
        for root in self.workspace.roots:
            if cwd == root or cwd.is_relative_to(root):
                return root
        return cwd

    def _workspace_for(self, cwd: Path) -> Workspace:
        """The main workspace when ``cwd`` lies inside it, else one rooted at ``cwd`` (same overlay)."""
        main = self.workspace
        if any(cwd == root or cwd.is_relative_to(root) for root in main.roots):
            return main
        from pygent.tools.workspace import Workspace

        other = Workspace([cwd])
        other._overlay = main._overlay  # one overlay: the editor's buffers are the same
        return other

    def _new_state(self, session: Session, store: SessionStore, settings: Settings) -> SessionState:
        cwd = Path(session.cwd)
        workspace = self._workspace_for(cwd)
        port = JsonRpcPort(self, session.id, workspace, follow_agent=self.options.follow_agent)
        mode = session.mode or settings.permissions.mode
        state = SessionState(
            session=session,
            store=store,
            port=port,
            workspace=workspace,
            mode=mode,
            model=session.model or settings.llm.model,
        )
        state.done.set()
        self.sessions[session.id] = state
        return state

    def _cwd(self, params: dict[str, Any]) -> Path:
        cwd = _resolve(Path(params["cwd"]))
        if not cwd.is_dir():
            raise invalid_params(f"cwd: {cwd} is not a directory")
        return cwd

    async def session_new(self, params: Any, msg_id: Any) -> dict[str, Any]:
        """``pygent/session/new {cwd?, mcpServers?}`` -> ``{sessionId}``."""
        checked = await self._validate(methods.SESSION_NEW, params, self.root)
        settings = await self._ready()
        cwd = self._cwd(checked)
        store = self._store(cwd)
        session = await asyncio.to_thread(
            store.create, settings.llm.model, cwd, mode=settings.permissions.mode
        )
        state = self._new_state(session, store, settings)
        return {
            "sessionId": session.id,
            "modes": _modes(state.mode),
            "models": {"currentModelId": state.model},
        }

    async def session_load(self, params: Any, msg_id: Any) -> dict[str, Any]:
        """``pygent/session/load``: replay the history as updates, then answer."""
        checked = await self._validate(methods.SESSION_LOAD, params, self.root)
        settings = await self._ready()
        session_id = checked["sessionId"]
        current = self.sessions.get(session_id)
        if current is not None and current.busy:
            raise session_busy(session_id)
        cwd = self._cwd(checked)
        store = self._store(cwd)
        session = await asyncio.to_thread(store.load, session_id)
        state = self._new_state(session, store, settings)
        # Replay: one notification per stored message, encoded and written in a worker thread in
        # large batches (10k messages: one pass, no await per frame, the loop stays free).
        frames = await asyncio.to_thread(_replay_frames, session)
        for batch in frames:
            await asyncio.to_thread(self.writer.write, batch)
        for warning in session.warnings:
            self.log_message(f"pygent: session {session_id}: {warning}")
        return {"modes": _modes(state.mode), "models": {"currentModelId": state.model}}

    async def session_list(self, params: Any, msg_id: Any) -> dict[str, Any]:
        """``pygent/session/list`` -> ``{sessions: [...]}``, newest first."""
        checked = await self._validate(methods.SESSION_LIST, params, self.root)
        cwd = _resolve(Path(checked["cwd"])) if checked.get("cwd") else self.root
        store = self._store(cwd)
        infos = await asyncio.to_thread(store.list)
        return {"sessions": [dict(info) for info in infos]}

    async def session_delete(self, params: Any, msg_id: Any) -> None:
        """``pygent/session/delete {sessionId}``."""
        checked = await self._validate(methods.SESSION_DELETE, params)
        session_id = checked["sessionId"]
        state = self.sessions.get(session_id)
        if state is not None and state.busy:
            raise session_busy(session_id)
        store = state.store if state is not None else self._store(self.root)
        await asyncio.to_thread(store.delete, session_id)
        self.sessions.pop(session_id, None)
        return None

    def _state(self, session_id: str) -> SessionState:
        state = self.sessions.get(session_id)
        if state is None:
            raise session_not_found(session_id)
        return state

    async def _state_or_load(self, session_id: str) -> SessionState:
        """A session in memory, or loaded from this workspace's store on first use."""
        state = self.sessions.get(session_id)
        if state is not None:
            return state
        settings = await self._ready()
        store = self._store(self.root)
        session = await asyncio.to_thread(store.load, session_id)
        return self._new_state(session, store, settings)

    async def session_set_mode(self, params: Any, msg_id: Any) -> None:
        """``pygent/session/setMode {sessionId, modeId}``."""
        checked = await self._validate(methods.SESSION_SET_MODE, params)
        state = await self._state_or_load(checked["sessionId"])
        state.mode = checked["modeId"]
        if state.gate is not None:
            state.gate.mode = state.mode
        with contextlib.suppress(Exception):
            await asyncio.to_thread(state.session.set_meta, mode=state.mode)
        from pygent.protocol.updates import current_mode_update

        state.port.emit(current_mode_update(state.mode))
        state.port.flush()
        return None

    async def session_set_model(self, params: Any, msg_id: Any) -> None:
        """``pygent/session/setModel {sessionId, modelId}`` (takes effect at the next prompt)."""
        checked = await self._validate(methods.SESSION_SET_MODEL, params)
        state = await self._state_or_load(checked["sessionId"])
        state.model = checked["modelId"]
        state.agent = None  # rebuilt with the new model at the next prompt
        with contextlib.suppress(Exception):
            await asyncio.to_thread(state.session.set_meta, model=state.model)
        return None

    async def session_compact(self, params: Any, msg_id: Any) -> dict[str, Any]:
        """``pygent/session/compact {sessionId}`` -> ``{compacted}``: summarise older turns now."""
        checked = await self._validate(methods.SESSION_COMPACT, params)
        state = await self._state_or_load(checked["sessionId"])
        if state.busy:
            raise session_busy(state.session.id)
        settings = await self._ready()
        agent = await asyncio.to_thread(self._agent_for, state, settings)
        state.busy = True
        state.done.clear()
        try:
            compacted = await agent.compact(state.session)
        finally:
            state.busy = False
            state.done.set()
        return {"compacted": bool(compacted)}

    # -- turns -------------------------------------------------------------------------------

    def _agent_for(self, state: SessionState, settings: Settings) -> Any:
        if state.agent is not None:
            return state.agent
        from pygent.agent.loop import Agent
        from pygent.permissions.engine import PermissionEngine

        if state.model != settings.llm.model:
            settings = settings.model_copy(deep=True)
            settings.llm.model = state.model
        gate = PermissionEngine(settings, state.workspace.root, mode=state.mode)
        state.gate = gate
        state.agent = Agent(settings, state.workspace, state.port, gate=gate)
        return state.agent

    async def session_prompt(self, params: Any, msg_id: Any) -> dict[str, Any]:
        """``pygent/session/prompt {sessionId, prompt}`` -> ``{stopReason, usage}``."""
        checked = await self._validate(methods.SESSION_PROMPT, params)
        state = await self._state_or_load(checked["sessionId"])
        if state.busy:
            raise session_busy(state.session.id)
        token = checked.get("workDoneToken")
        if token is not None and not isinstance(token, (str, int)):
            raise invalid_params("workDoneToken: must be a string or an integer")
        state.busy = True
        state.done.clear()
        state.prompt_id = msg_id
        state.port.begin_turn(token)
        self._prompt_requests[msg_id] = state
        if token is not None:
            self.notify(
                "$/progress",
                {
                    "token": token,
                    "value": {"kind": "begin", "title": "pygent", "cancellable": True},
                },
            )
        try:
            settings = await self._ready()
            inner = asyncio.ensure_future(self._run_turn(state, settings, checked["prompt"]))
            state.task = inner
            await asyncio.wait({inner})
            if inner.cancelled():
                if state.port.cancelled:
                    return {"stopReason": "cancelled"}
                raise asyncio.CancelledError
            result: dict[str, Any] = inner.result()
            if state.port.cancelled:
                result["stopReason"] = "cancelled"
            return result
        finally:
            state.port.flush()
            if token is not None:
                self.notify("$/progress", {"token": token, "value": {"kind": "end"}})
            if state.cancel_timer is not None:
                state.cancel_timer.cancel()
                state.cancel_timer = None
            state.turn = None
            state.task = None
            state.busy = False
            state.prompt_id = None
            self._prompt_requests.pop(msg_id, None)
            state.done.set()

    async def _run_turn(
        self, state: SessionState, settings: Settings, blocks: list[dict[str, Any]]
    ) -> dict[str, Any]:
        agent = await asyncio.to_thread(self._agent_for, state, settings)
        if state.port.cancelled:
            return {"stopReason": "cancelled"}
        turn = agent.prompt(state.session, blocks)
        state.turn = turn
        port = state.port
        async for update in turn:
            port.emit(update)
        port.flush()
        result: dict[str, Any] = {"stopReason": turn.stop_reason or "end_turn"}
        if turn.usage:
            result["usage"] = turn.usage
        return result

    # -- workspace/executeCommand ------------------------------------------------------------

    async def execute_command(self, params: Any, msg_id: Any) -> Any:
        """``pygent.prompt [text]`` runs a turn in a per-connection session; ``pygent.cancel`` stops it."""
        if not isinstance(params, dict) or not isinstance(params.get("command"), str):
            raise invalid_params("command: field required")
        command = params["command"]
        arguments = params.get("arguments") or []
        if command == methods.COMMAND_CANCEL:
            for state in self.sessions.values():
                if state.busy and state.session.id == self._command_session:
                    self._cancel_turn(state)
            return None
        if command != methods.COMMAND_PROMPT:
            raise PygentError(
                "invalid_params",
                f"Unknown command {command!r}.",
                f"Commands: {methods.COMMAND_PROMPT}, {methods.COMMAND_CANCEL}.",
            )
        if not isinstance(arguments, list) or not arguments or not isinstance(arguments[0], str):
            raise invalid_params("arguments[0]: the prompt text is required")
        text = arguments[0]
        session_id = self._command_session
        if session_id is None or session_id not in self.sessions:
            created = await self.session_new({}, msg_id)
            session_id = created["sessionId"]
            self._command_session = session_id
        state = self.sessions[session_id]
        chunks: list[str] = []
        original_send = state.port._send_update

        def capture(update: dict[str, Any]) -> None:
            if update.get("sessionUpdate") == "agent_message_chunk":
                chunks.append(str(update.get("content", {}).get("text", "")))
            original_send(update)

        state.port._send_update = capture  # type: ignore[method-assign]
        state.port._coalescer._send = capture
        try:
            result = await self.session_prompt(
                {"sessionId": session_id, "prompt": [{"type": "text", "text": text}]}, msg_id
            )
        finally:
            state.port._send_update = original_send  # type: ignore[method-assign]
            state.port._coalescer._send = original_send
        answer = "".join(chunks).strip()
        if answer:
            self.show_message(answer, 3)
        return {"stopReason": result["stopReason"], "text": answer, "sessionId": session_id}


def _modes(current: str) -> dict[str, Any]:
    names = {"ask": "Ask", "auto-edit": "Auto-edit", "plan": "Plan", "auto": "Auto"}
    return {
        "currentModeId": current,
        "availableModes": [{"id": mode, "name": name} for mode, name in names.items()],
    }


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = {key: dict(value) if isinstance(value, dict) else value for key, value in base.items()}
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def _resolve(path: Path) -> Path:
    try:
        return path.expanduser().resolve()
    except (OSError, RuntimeError):
        return path


#: Replayed notifications written per ``write`` call (bounded, so other sessions' frames interleave).
_REPLAY_BATCH = 512


def _replay_frames(session: Session) -> list[bytes]:
    """The ``session/update`` frames replaying ``session``'s history, joined into write batches."""
    encode = json.JSONEncoder(ensure_ascii=True, separators=(", ", ": ")).encode
    batches: list[bytes] = []
    pending: list[bytes] = []
    for update in session.replay_updates():
        body = encode(
            {
                "jsonrpc": "2.0",
                "method": methods.SESSION_UPDATE,
                "params": {"sessionId": session.id, "update": update},
            }
        ).encode("ascii")
        pending.append(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        if len(pending) >= _REPLAY_BATCH:
            batches.append(b"".join(pending))
            pending = []
    if pending:
        batches.append(b"".join(pending))
    return batches


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

        def closed() -> None:
            loop.call_soon_threadsafe(server._on_end_of_input)

        writer._on_closed = closed
        return await server.run(pump)

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        return 0
