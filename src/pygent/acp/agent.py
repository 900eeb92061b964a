"""The ACP connection: ``initialize``, sessions, prompts, modes and cancellation over ND-JSON.

One :class:`AcpAgent` serves one client on the event loop. Incoming lines arrive from the reader
thread; requests run as tasks, so ``session/cancel`` and ``$/cancel_request`` act while a prompt
runs. ``initialize`` is answered from the standard library alone; settings, ACP's schema models
(``acp.schema``) and litellm load in a worker thread right after it, off the answer's path.

Bad input never stops the agent: a line that is not JSON gets ``-32700``, a batch or a non-request
``-32600``, an unknown method ``-32601`` and wrong params ``-32602`` (each with ``id: null`` when the
request's id cannot be known). Closing stdin cancels running turns (their child processes are
stopped, their history is settled and saved) and ends the process with status 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loguru import logger

from pygent import __version__
from pygent.acp.adapter import UpdateAdapter, prompt_result
from pygent.acp.port import AcpPort, ClientCapabilities, ClientError, ClientFilesGate, make_port
from pygent.errors import PygentError, invalid_params, session_busy, session_not_found
from pygent.protocol import codes, updates
from pygent.protocol.modes import MODE_DESCRIPTIONS, MODE_NAMES, PERMISSION_MODES

if TYPE_CHECKING:
    from pygent.acp.stdio import LineWriter
    from pygent.agent.session import Session, SessionStore
    from pygent.mcp.config import ServerConfig
    from pygent.server.stdio import Frame
    from pygent.settings.models import Settings
    from pygent.tools.workspace import Workspace

__all__ = ["PROTOCOL_VERSION", "AcpAgent"]

#: The ACP protocol version pygent speaks.
PROTOCOL_VERSION = 1
#: How long a cancelled turn may take to wind down before its task is cancelled outright.
CANCEL_GRACE_SECONDS = 0.5
#: How long the end of input waits for running turns to stop.
SHUTDOWN_GRACE_SECONDS = 5.0

_SCHEMA_MODELS = {
    "session/new": "NewSessionRequest",
    "session/load": "LoadSessionRequest",
    "session/prompt": "PromptRequest",
    "session/set_mode": "SetSessionModeRequest",
    "session/list": "ListSessionsRequest",
}


@dataclass
class SessionState:
    """A session this connection has in memory."""

    session: Session
    store: SessionStore
    workspace: Workspace
    port: AcpPort
    adapter: UpdateAdapter
    settings: Settings
    mode: str
    model: str
    agent: Any = None
    engine: Any = None
    turn: Any = None
    busy: bool = False
    task: asyncio.Task[Any] | None = None
    cancel_timer: asyncio.TimerHandle | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    mcp_servers: list[ServerConfig] = field(default_factory=list)


class AcpAgent:
    """One ACP client connection.

    Args:
        writer: Where messages go (stdout, guarded).
        overrides: Settings overrides from the command line (nested dict).
    """

    def __init__(self, writer: LineWriter, overrides: dict[str, Any] | None = None) -> None:
        self.writer = writer
        self.overrides = overrides or {}
        self.capabilities = ClientCapabilities()
        self.initialized = False
        self.sessions: dict[str, SessionState] = {}
        self._ids = itertools.count(0)
        self._pending: dict[Any, asyncio.Future[Any]] = {}
        self._requests: dict[Any, asyncio.Task[Any]] = {}
        self._prompts: dict[Any, SessionState] = {}
        self._settings: dict[Path, Settings] = {}
        self._warnings: list[str] = []
        """Warnings for the person not yet shown (unwritable storage, a too-broad workspace)."""
        self._warned_cwds: set[Path] = set()
        self._warm: asyncio.Future[None] | None = None
        self._schema: Any = None
        self._stopped = asyncio.Event()
        self._stopping = False
        self._stop_task: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._background: set[asyncio.Future[None]] = set()
        self._handlers: dict[str, Callable[[Any, Any], Awaitable[Any]]] = {
            "authenticate": self.authenticate,
            "session/new": self.session_new,
            "session/load": self.session_load,
            "session/list": self.session_list,
            "session/prompt": self.session_prompt,
            "session/set_mode": self.session_set_mode,
        }

    # -- wire --------------------------------------------------------------------------------

    def send(self, payload: dict[str, Any]) -> None:
        """Write one message."""
        self.writer.send(payload)

    def notify(self, method: str, params: dict[str, Any]) -> None:
        """Send a notification."""
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: dict[str, Any]) -> tuple[Any, asyncio.Future[Any]]:
        """Send a request to the client; the future resolves with its result (or ClientError)."""
        msg_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return msg_id, future

    def cancel_request(self, request_id: Any) -> None:
        """Withdraw one of our requests (``$/cancel_request``)."""
        future = self._pending.pop(request_id, None)
        if future is not None and not future.done():
            future.cancel()
        self.notify("$/cancel_request", {"requestId": request_id})

    def _error(
        self, msg_id: Any, code: int, message: str, data: dict[str, Any] | None = None
    ) -> None:
        from pygent.redact import redact, redact_value

        # The one choke point for errors on the ACP wire, as rpc.respond_error is for serve's.
        error: dict[str, Any] = {"code": code, "message": redact(message)}
        if data:
            error["data"] = redact_value(data)
        self.send({"jsonrpc": "2.0", "id": msg_id, "error": error})

    def _pygent_error(self, msg_id: Any, exc: PygentError) -> None:
        from pygent.errors import JSONRPC_CODES

        data: dict[str, Any] = {"code": exc.code}
        data.update({k: v for k, v in exc.data.items() if k != "code"})
        if exc.hint:
            data["hint"] = exc.hint
        self._error(msg_id, JSONRPC_CODES.get(exc.code, codes.INTERNAL_ERROR), str(exc), data)

    # -- incoming ----------------------------------------------------------------------------

    def on_frame(self, frame: Frame | None) -> None:
        """Handle one line from the reader (on the event loop); None is the end of input."""
        if frame is None:
            self.stop("the client closed stdin")
            return
        if frame.error is not None:
            logger.warning("bad message: {}", frame.error)
            self._error(None, codes.INVALID_REQUEST, frame.error, {"code": "invalid_params"})
            return
        try:
            message = json.loads(frame.body or b"")
        except (ValueError, UnicodeDecodeError) as exc:
            text = f"Parse error: the line is not valid JSON ({exc}); it was ignored."
            logger.warning(text)
            self._error(None, codes.PARSE_ERROR, text, {"code": "invalid_params"})
            return
        try:
            self.dispatch(message)
        except Exception as exc:  # one message must never take the agent down
            logger.opt(exception=exc).error("failed to handle a message")
            msg_id = message.get("id") if isinstance(message, dict) else None
            if isinstance(message, dict) and "method" in message and msg_id is not None:
                self._error(
                    msg_id,
                    codes.INTERNAL_ERROR,
                    f"Internal error in pygent while handling {message.get('method')}: {exc}. "
                    "See the log file (`pygent report`).",
                    {"code": "internal"},
                )

    def dispatch(self, message: Any) -> None:
        """Route one decoded message."""
        if isinstance(message, list):
            self._error(
                None,
                codes.INVALID_REQUEST,
                "Invalid request: JSON-RPC batches are not supported by ACP; send one message "
                "per line.",
                {"code": "invalid_params"},
            )
            return
        if not isinstance(message, dict):
            self._error(
                None,
                codes.INVALID_REQUEST,
                "Invalid request: a message must be a JSON object.",
                {"code": "invalid_params"},
            )
            return
        msg_id = message.get("id")
        has_id = "id" in message
        if has_id and (isinstance(msg_id, (bool, dict, list, float))):
            self._error(
                None,
                codes.INVALID_REQUEST,
                "Invalid request: id must be a string, an integer or null.",
                {"code": "invalid_params"},
            )
            return
        method = message.get("method")
        if method is None:
            if has_id and ("result" in message or "error" in message):
                self._on_response(message)
            else:
                self._error(
                    msg_id if has_id else None,
                    codes.INVALID_REQUEST,
                    "Invalid request: method is missing.",
                    {"code": "invalid_params"},
                )
            return
        if not isinstance(method, str):
            self._error(
                msg_id if has_id else None,
                codes.INVALID_REQUEST,
                "Invalid request: method must be a string.",
                {"code": "invalid_params"},
            )
            return
        params = message.get("params")
        if not has_id:
            self._on_notification(method, params)
            return
        if method == "initialize":
            try:
                self.send({"jsonrpc": "2.0", "id": msg_id, "result": self.initialize(params)})
            except PygentError as exc:
                self._pygent_error(msg_id, exc)
            return
        handler = self._handlers.get(method)
        if handler is None:
            self._error(
                msg_id,
                codes.METHOD_NOT_FOUND,
                f"Unknown method {method!r}. pygent's ACP agent supports: "
                + ", ".join(["initialize", *self._handlers, "session/cancel"])
                + ".",
                {"code": "method_not_found"},
            )
            return
        if not self.initialized:
            self._error(
                msg_id,
                codes.INVALID_REQUEST,
                f"{method} received before initialize: send initialize first.",
                {"code": "invalid_params"},
            )
            return
        if self._stopping:
            return
        task = asyncio.ensure_future(self._run_request(msg_id, method, params, handler))
        self._requests[msg_id] = task

    def _on_notification(self, method: str, params: Any) -> None:
        if method == "session/cancel":
            session_id = params.get("sessionId") if isinstance(params, dict) else None
            if not isinstance(session_id, str):
                logger.warning("ignored session/cancel without a sessionId")
                return
            state = self.sessions.get(session_id)
            if state is not None:
                self._cancel_turn(state)
            return
        if method == "$/cancel_request":
            request_id = params.get("requestId") if isinstance(params, dict) else None
            state = self._prompts.get(request_id)
            if state is not None:
                self._cancel_turn(state)
                return
            task = self._requests.get(request_id)
            if task is not None:
                task.cancel()
            return
        logger.info("ignored notification {}", method)

    def _on_response(self, message: dict[str, Any]) -> None:
        future = self._pending.pop(message.get("id"), None)
        if future is None or future.done():
            logger.debug("response to an unknown request {!r}", message.get("id"))
            return
        error = message.get("error")
        if error is not None:
            error = error if isinstance(error, dict) else {}
            code = error.get("code")
            future.set_exception(
                ClientError(
                    code if isinstance(code, int) else codes.INTERNAL_ERROR,
                    str(error.get("message") or "the client reported an error"),
                )
            )
        else:
            future.set_result(message.get("result"))

    async def _run_request(
        self, msg_id: Any, method: str, params: Any, handler: Callable[[Any, Any], Awaitable[Any]]
    ) -> None:
        try:
            result = await handler(params, msg_id)
        except PygentError as exc:
            self._pygent_error(msg_id, exc)
        except asyncio.CancelledError:
            self._error(
                msg_id, codes.REQUEST_CANCELLED, f"{method} was cancelled.", {"code": "cancelled"}
            )
        except Exception as exc:
            logger.opt(exception=exc).error("{} failed", method)
            self._error(
                msg_id,
                codes.INTERNAL_ERROR,
                f"Internal error in pygent during {method}: {type(exc).__name__}: {exc}. "
                "See the log file (`pygent report`).",
                {"code": "internal"},
            )
        else:
            self.send({"jsonrpc": "2.0", "id": msg_id, "result": result})
        finally:
            self._requests.pop(msg_id, None)

    # -- lifecycle ---------------------------------------------------------------------------

    def initialize(self, params: Any) -> dict[str, Any]:
        """``initialize``: negotiate the version, remember the client's capabilities.

        Answered at once, in order: later lines may rely on it having been handled.
        """
        if not isinstance(params, dict):
            raise invalid_params("params: must be an object with protocolVersion")
        version = params.get("protocolVersion")
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise invalid_params("protocolVersion: must be a non-negative integer (ACP uses 1)")
        caps = params.get("clientCapabilities")
        if caps is not None and not isinstance(caps, dict):
            raise invalid_params("clientCapabilities: must be an object")
        self.capabilities = ClientCapabilities.from_params(params)
        self.initialized = True
        info = params.get("clientInfo")
        logger.info(
            "ACP client {} asked for protocol {}; capabilities {}",
            info.get("name") if isinstance(info, dict) else "?",
            version,
            self.capabilities,
        )
        if self._warm is None:
            self._warm = asyncio.ensure_future(self._warm_up())
        return {
            # The version asked for when we speak it, else ours: the client decides to go on.
            "protocolVersion": PROTOCOL_VERSION,
            "agentCapabilities": {
                "loadSession": True,
                "promptCapabilities": {"image": True, "audio": False, "embeddedContext": True},
                "mcpCapabilities": {"http": True, "sse": True},
                "sessionCapabilities": {"list": {}},
            },
            "agentInfo": {"name": "pygent", "title": "pygent", "version": __version__},
            "authMethods": [],
        }

    async def authenticate(self, params: Any, msg_id: Any = None) -> dict[str, Any]:
        """``authenticate``: pygent offers no auth methods (API keys come from settings)."""
        raise PygentError(
            "invalid_params",
            "pygent has no authentication methods; it reads API keys from its settings.",
            "Run `pygent setup` or set the provider's API key variable, then retry.",
        )

    async def _warm_up(self) -> None:
        """Settings, ACP's models and the agent's modules, in a worker thread."""
        started = time.perf_counter()
        with contextlib.suppress(Exception):
            await self._settings_for(Path.cwd())
        await asyncio.to_thread(_warm_imports)
        logger.debug("warm-up took {:.0f} ms", (time.perf_counter() - started) * 1000)

    async def _settings_for(self, cwd: Path) -> Settings:
        """The effective settings of the project at ``cwd`` (cached); raises a config error."""
        cached = self._settings.get(cwd)
        if cached is not None:
            return cached

        def load() -> Settings:
            from pygent.settings.loader import load_settings

            settings = load_settings(cwd, self.overrides or None)
            if not self._settings:  # the first load: pygent's own directories, once
                try:
                    from pygent.settings.writable import prepare_storage

                    self._warnings += prepare_storage(settings)
                except PygentError as exc:
                    self._warnings.append(str(exc))
            try:
                from pygent.logs import setup_logging

                setup_logging(settings)
            except Exception as exc:  # logging must never stop the agent
                logger.warning("could not set up logging: {}", exc)
            return settings

        settings = await asyncio.to_thread(load)
        self._settings[cwd] = settings
        return settings

    def stop(self, why: str) -> None:
        """Stop serving: cancel running turns, wait for them to settle, then end."""
        if self._stopping:
            return
        self._stopping = True
        logger.info("stopping: {}", why)

        async def stop() -> None:
            try:
                running = [s for s in self.sessions.values() if s.busy]
                for state in running:
                    self._cancel_turn(state)
                tasks = [t for t in self._requests.values() if not t.done()]
                if tasks:
                    _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_SECONDS)
                    for task in pending:
                        task.cancel()
                for future in self._pending.values():
                    future.cancel()
            finally:
                self._stopped.set()

        self._stop_task = asyncio.ensure_future(stop())

    async def run(self, deliver: Callable[[Callable[[Frame | None], None]], None]) -> int:
        """Serve until the end of input; ``deliver`` connects the reader to :meth:`on_frame`."""
        loop = asyncio.get_running_loop()
        self._loop = loop

        def sink(frame: Frame | None) -> None:
            loop.call_soon_threadsafe(self.on_frame, frame)

        deliver(sink)
        await self._stopped.wait()
        return 0

    # -- validation --------------------------------------------------------------------------

    async def _validate(self, method: str, params: Any) -> dict[str, Any]:
        if not isinstance(params, dict):
            raise invalid_params(f"params: must be an object, got {type(params).__name__}")
        if self._schema is None:
            self._schema = await asyncio.to_thread(_import_schema)
        from pydantic import ValidationError

        model = getattr(self._schema, _SCHEMA_MODELS[method])
        try:
            model.model_validate(params)
        except ValidationError as exc:
            raise invalid_params(_describe(exc, params)) from None
        return params

    @staticmethod
    def _cwd(params: dict[str, Any]) -> Path:
        raw = params["cwd"]
        if not os.path.isabs(raw):
            raise invalid_params(f"cwd: must be an absolute path, got {raw!r}")
        cwd = Path(raw).expanduser()
        with contextlib.suppress(OSError, RuntimeError):
            cwd = cwd.resolve()
        if not cwd.is_dir():
            raise invalid_params(f"cwd: {cwd} is not a directory")
        return cwd

    @staticmethod
    def _mcp_servers(params: Any) -> list[ServerConfig]:
        """The editor's ``mcpServers`` (for this session only); a bad entry is named by index,
        server name and field, before ACP's models see it."""
        if not isinstance(params, dict):
            return []
        from pygent.mcp.editor import parse_editor_servers

        servers = parse_editor_servers(params.get("mcpServers"))
        if servers:
            logger.info(
                "the client gave {} MCP server(s) for this session: {}",
                len(servers),
                ", ".join(f"{c.name} ({c.transport})" for c in servers),
            )
        return servers

    # -- sessions ----------------------------------------------------------------------------

    def _new_state(self, session: Session, store: SessionStore, settings: Settings) -> SessionState:
        from pygent.tools.workspace import Workspace

        workspace = Workspace([session.cwd])
        mode = session.mode if session.mode in PERMISSION_MODES else settings.permissions.mode
        holder: list[SessionState] = []

        def switched(new_mode: str) -> None:
            if holder:
                self._set_mode(holder[0], new_mode)

        port = make_port(self, session.id, workspace, mode, switched)
        state = SessionState(
            session=session,
            store=store,
            workspace=workspace,
            port=port,
            adapter=UpdateAdapter(),
            settings=settings,
            mode=mode,
            model=session.model or settings.llm.model,
        )
        holder.append(state)
        port.set_sender(lambda update: self._send_update(state, update))
        state.done.set()
        self.sessions[session.id] = state
        return state

    def _send_update(self, state: SessionState, update: dict[str, Any]) -> None:
        converted = state.adapter.convert(update)
        if converted is not None:
            self.notify("session/update", {"sessionId": state.session.id, "update": converted})

    async def session_new(self, params: Any, msg_id: Any = None) -> dict[str, Any]:
        """``session/new {cwd, mcpServers}`` -> ``{sessionId, modes}``."""
        servers = self._mcp_servers(params)
        checked = await self._validate("session/new", _without_servers(params))
        cwd = self._cwd(checked)
        settings = await self._settings_for(cwd)
        from pygent.agent.session import SessionStore

        store = SessionStore(cwd)
        session = await asyncio.to_thread(
            store.create, settings.llm.model, cwd, mode=settings.permissions.mode
        )
        state = self._new_state(session, store, settings)
        state.mcp_servers = servers
        self._announce_commands(state)  # runs after this answer is sent
        self._announce_warnings(state, cwd)
        return {"sessionId": session.id, "modes": _modes(state.mode)}

    async def session_load(self, params: Any, msg_id: Any = None) -> dict[str, Any]:
        """``session/load``: replay the history as ``session/update``s, then answer."""
        servers = self._mcp_servers(params)
        checked = await self._validate("session/load", _without_servers(params))
        cwd = self._cwd(checked)
        session_id = checked["sessionId"]
        current = self.sessions.get(session_id)
        if current is not None and current.busy:
            raise session_busy(session_id)
        settings = await self._settings_for(cwd)
        from pygent.agent.session import SessionStore

        store = SessionStore(cwd)
        session = await asyncio.to_thread(store.load, session_id)
        state = self._new_state(session, store, settings)
        state.mcp_servers = servers
        self._announce_commands(state)
        self._announce_warnings(state, cwd)
        for update in await asyncio.to_thread(session.replay_updates):
            if update.get("sessionUpdate") == "usage_update":
                # A replayed turn's total: counted like a live turn's (its own used tokens, the
                # session's cost so far plus its own).
                state.adapter.begin_turn()
            self._send_update(state, update)
        for warning in session.warnings:
            logger.warning("session {}: {}", session_id, warning)
        return {"modes": _modes(state.mode)}

    async def session_list(self, params: Any, msg_id: Any = None) -> dict[str, Any]:
        """``session/list {cwd?}`` -> ``{sessions}``, newest first."""
        checked = await self._validate("session/list", params if params is not None else {})
        cwd = self._cwd(checked) if checked.get("cwd") else Path.cwd()
        from pygent.agent.session import SessionStore

        infos = await asyncio.to_thread(SessionStore(cwd).list)
        return {
            "sessions": [
                {
                    "sessionId": info["sessionId"],
                    "cwd": info["cwd"] or str(cwd),
                    "title": info["title"] or None,
                    "updatedAt": info["updatedAt"] or None,
                    "_meta": {
                        "pygent": {"model": info["model"], "messageCount": info["messageCount"]}
                    },
                }
                for info in infos
            ]
        }

    def _state(self, session_id: str) -> SessionState:
        state = self.sessions.get(session_id)
        if state is None:
            raise session_not_found(session_id)
        return state

    async def session_set_mode(self, params: Any, msg_id: Any = None) -> dict[str, Any]:
        """``session/set_mode {sessionId, modeId}``."""
        checked = await self._validate("session/set_mode", params)
        state = self._state(checked["sessionId"])
        mode = checked["modeId"]
        if mode not in PERMISSION_MODES:
            raise invalid_params(
                f"modeId: {mode!r} is not a mode; use one of {', '.join(PERMISSION_MODES)}"
            )
        state.port.edits_refused = False
        self._set_mode(state, mode)
        return {}

    def _set_mode(self, state: SessionState, mode: str) -> None:
        from pygent.protocol.updates import current_mode_update

        state.mode = mode
        state.port.mode = mode
        if state.engine is not None:
            state.engine.mode = mode
        try:
            state.session.set_meta(mode=mode)
        except Exception as exc:  # the mode still applies to this connection
            logger.warning("could not save the mode of session {}: {}", state.session.id, exc)
        self._send_update(state, current_mode_update(mode))

    # -- turns -------------------------------------------------------------------------------

    def _build_agent(self, state: SessionState) -> Any:
        """The session's Agent and PermissionEngine (the one place pygent acp builds them)."""
        if state.agent is not None:
            return state.agent
        from pygent.agent.loop import Agent
        from pygent.permissions.engine import PermissionEngine

        settings = state.settings
        if state.model != settings.llm.model:
            settings = settings.model_copy(deep=True)
            settings.llm.model = state.model
        engine = PermissionEngine(settings, state.workspace.root, mode=state.mode)
        state.engine = engine
        gate: Any = engine
        if self.capabilities.read_text_file:
            gate = ClientFilesGate(engine, state.port)
        state.agent = Agent(settings, state.workspace, state.port, gate=gate)
        from pygent.mcp.trust import port_asker

        state.agent.mcp_servers = list(state.mcp_servers)
        state.agent.mcp_trust = port_asker(state.port)  # the client's person answers, not the mode
        with contextlib.suppress(Exception):
            state.adapter.context_window = state.agent.context_window
        return state.agent

    async def session_prompt(self, params: Any, msg_id: Any = None) -> dict[str, Any]:
        """``session/prompt {sessionId, prompt}`` -> ``{stopReason}`` (usage in ``_meta``)."""
        checked = await self._validate("session/prompt", params)
        state = self._state(checked["sessionId"])
        if state.busy:
            raise session_busy(state.session.id)
        state.busy = True
        state.done.clear()
        state.port.begin_turn()
        state.adapter.begin_turn()
        self._prompts[msg_id] = state
        try:
            inner = asyncio.ensure_future(self._run_turn(state, checked["prompt"]))
            state.task = inner
            await asyncio.wait({inner})
            if inner.cancelled():
                return prompt_result("cancelled", None)
            result: dict[str, Any] = inner.result()
            if state.port.cancelled:
                result["stopReason"] = "cancelled"
            return result
        finally:
            if state.cancel_timer is not None:
                state.cancel_timer.cancel()
                state.cancel_timer = None
            state.turn = None
            state.task = None
            state.busy = False
            self._prompts.pop(msg_id, None)
            state.done.set()

    # -- warnings ----------------------------------------------------------------------------

    def _announce_warnings(self, state: SessionState, cwd: Path) -> None:
        """Show the pending warnings as notices of this session, after its answer is sent.

        Storage problems are shown once per process; a workspace that is the home directory or
        a filesystem root, once per directory.
        """
        from pygent.settings.paths import broad_workspace_warning

        pending, self._warnings = self._warnings, []
        if cwd not in self._warned_cwds:
            self._warned_cwds.add(cwd)
            broad = broad_workspace_warning(cwd)
            if broad:
                pending.append(broad)
        if not pending:
            return
        for text in pending:
            logger.warning(text)

        async def announce() -> None:
            await asyncio.sleep(0)  # after the answer that created the session
            for text in pending:
                self._send_update(state, updates.notice(text, "warning"))

        task = asyncio.ensure_future(announce())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- plugin slash commands ----------------------------------------------------------------

    def _announce_commands(self, state: SessionState) -> None:
        """Send ``available_commands_update`` with the plugins' slash commands (if any), once the
        answer that created the session is out (the task starts after this request's step)."""

        async def announce() -> None:
            try:
                from pygent import plugins

                await asyncio.to_thread(plugins.load_plugins, state.settings)
                commands = sorted(plugins.slash_commands().values(), key=lambda c: c.name)
            except Exception as exc:  # plugins never cost a session
                logger.warning("could not list the plugins' slash commands: {}", exc)
                return
            if commands and state.session.id in self.sessions:
                update = {
                    "sessionUpdate": "available_commands_update",
                    "availableCommands": [
                        {
                            "name": c.name,
                            "description": f"{c.help} (plugin {c.plugin})".strip(),
                            "input": {"hint": "text after the command"},
                        }
                        for c in commands
                    ],
                }
                self.notify("session/update", {"sessionId": state.session.id, "update": update})

        task = asyncio.ensure_future(announce())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _plugin_command(self, state: SessionState, blocks: list[dict[str, Any]]) -> Any:
        """The plugin command a prompt of one ``/name args`` text block runs, with its args."""
        if len(blocks) != 1 or blocks[0].get("type") != "text":
            return None
        text = str(blocks[0].get("text", "")).strip()
        if not text.startswith("/"):
            return None
        name, _, args = text[1:].partition(" ")
        from pygent import plugins

        await asyncio.to_thread(plugins.load_plugins, state.settings)
        command = plugins.slash_commands().get(name)
        return (command, args.strip()) if command is not None else None

    async def _run_command(self, state: SessionState, command: Any, args: str) -> dict[str, Any]:
        """Run a plugin's slash command: its text is the answer; the model is not called."""
        from pygent.plugins import SlashContext

        ctx = SlashContext(
            session_id=state.session.id,
            cwd=Path(state.session.cwd),
            settings=state.settings,
            command=command.name,
            plugin=command.plugin,
        )
        text = await command.run_for_frontend(args, ctx)
        from pygent.protocol.updates import agent_message_chunk

        self._send_update(state, agent_message_chunk(text or f"/{command.name} returned nothing."))
        return prompt_result("end_turn", None)

    async def _run_turn(self, state: SessionState, blocks: list[dict[str, Any]]) -> dict[str, Any]:
        command = await self._plugin_command(state, blocks)
        if command is not None:
            return await self._run_command(state, *command)
        agent = await asyncio.to_thread(self._build_agent, state)
        if state.port.cancelled:
            return prompt_result("cancelled", None)
        turn = agent.prompt(state.session, blocks)
        state.turn = turn
        async for update in turn:
            self._send_update(state, update)
        return prompt_result(turn.stop_reason or "end_turn", turn.usage)

    def _cancel_turn(self, state: SessionState) -> None:
        """End a session's turn: release waits for the client, stop the agent, bound the wait."""
        if not state.busy:
            return
        state.port.cancel()
        if state.turn is not None:
            with contextlib.suppress(Exception):
                state.turn.cancel()
        if state.cancel_timer is None and state.task is not None and self._loop is not None:
            state.cancel_timer = self._loop.call_later(CANCEL_GRACE_SECONDS, state.task.cancel)


def _modes(current: str) -> dict[str, Any]:
    return {
        "currentModeId": current,
        "availableModes": [
            {"id": mode, "name": MODE_NAMES[mode], "description": MODE_DESCRIPTIONS[mode]}
            for mode in PERMISSION_MODES
        ],
    }


def _without_servers(params: Any) -> Any:
    """``params`` with ``mcpServers`` emptied: checked by :func:`parse_editor_servers` already
    (which lets ``args``, ``env`` and ``headers`` be left out)."""
    if isinstance(params, dict) and "mcpServers" in params:
        return {**params, "mcpServers": []}
    return params


def _import_schema() -> Any:
    from acp import schema

    return schema


def _describe(exc: Any, params: dict[str, Any]) -> str:
    """The first validation errors as ``prompt[0].text: field required``."""
    from pygent.server.protocol import format_loc

    errors = exc.errors()
    parts = []
    for err in errors[:3]:
        where = format_loc(tuple(err["loc"]), params)
        msg = "field required" if err["type"] == "missing" else err["msg"]
        parts.append(f"{where}: {msg}")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(parts) + more


def _warm_imports() -> None:
    """Import what the first session and prompt need: ACP's models, the agent, litellm."""
    for name in ("acp.schema", "pygent.agent.session", "pygent.agent.loop"):
        with contextlib.suppress(Exception):
            __import__(name)
    with contextlib.suppress(Exception):
        from pygent.permissions import engine  # noqa: F401
    with contextlib.suppress(Exception):
        from pygent.agent.llm import import_litellm

        import_litellm()
    with contextlib.suppress(Exception):
        from pygent.tools.base import default_registry

        default_registry()
