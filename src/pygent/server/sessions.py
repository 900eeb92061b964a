"""The session registry of ``pygent serve``: sessions in memory, their stores and workspaces, and the
``pygent/session/*`` methods that are not turns (new, load, list, delete, setMode, setModel).

A session's store is the one of the workspace root containing its ``cwd`` (or ``cwd`` itself when
it lies outside every root); its tools' workspace is the main one, or one rooted at ``cwd`` that
shares the editor's open-document overlay.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pygent.errors import session_busy, session_not_found
from pygent.protocol import methods
from pygent.protocol.modes import MODE_DESCRIPTIONS, MODE_NAMES, PERMISSION_MODES
from pygent.server import turn_guard
from pygent.server.port import Connection, JsonRpcPort

if TYPE_CHECKING:
    from pygent.agent.loop import Agent, Turn
    from pygent.agent.session import Session, SessionStore
    from pygent.mcp.config import ServerConfig
    from pygent.permissions.engine import PermissionEngine
    from pygent.server.rpc import RequestId
    from pygent.server.stdio import FrameWriter
    from pygent.settings.models import Settings
    from pygent.tools.workspace import Workspace


@dataclass
class SessionState:
    """A session the server has in memory, and its running turn if any."""

    session: Session
    """The session's history and metadata (JSONL on disk)."""
    store: SessionStore
    """The store the session lives in (its workspace root's)."""
    port: JsonRpcPort
    """The frontend port of this session's turns."""
    workspace: Workspace
    """The roots its tools may touch."""
    mode: str
    """Permission mode (``ask``, ``auto-edit``, ``plan``, ``auto``)."""
    model: str
    """The model its next turn uses."""
    agent: Agent | None = None
    """Built at the first turn, rebuilt after ``setModel``."""
    gate: PermissionEngine | None = None
    """The agent's permission engine (``setMode`` changes its mode)."""
    turn: Turn | None = None
    """The running turn."""
    prompt_id: RequestId | None = None
    """The id of the ``pygent/session/prompt`` request running the turn."""
    busy: bool = False
    """True while a turn (or a compaction) runs."""
    task: asyncio.Task[dict[str, Any]] | None = None
    """The task running the turn."""
    cancel_timer: asyncio.TimerHandle | None = None
    """Cancels :attr:`task` when a cancelled turn does not wind down in time."""
    done: asyncio.Event = field(default_factory=asyncio.Event)
    """Set while no turn runs."""
    stamp: tuple[int, int] | None = None
    """The session file as this server last read or wrote it (see ``turn_guard``)."""
    mcp_servers: list[ServerConfig] = field(default_factory=list)
    """MCP servers the editor gave in ``session/new`` or ``session/load`` (this session only)."""


#: Settings, loaded once per connection (raises the configuration error, if any).
SettingsSource = Callable[[], Awaitable["Settings"]]
#: Validates a method's params (ACP's shapes): ``(method, params, default cwd) -> params``.
Validator = Callable[[str, Any, "Path | None"], Awaitable[dict[str, Any]]]


class SessionRegistry:
    """The sessions of one connection.

    Args:
        connection: The JSON-RPC connection (ports send through it).
        writer: Where replayed history frames are written, in batches.
        main_workspace: The tools' workspace of the connection's roots (created on first use).
        root: The first workspace root (default ``cwd``).
        settings: Loads the settings.
        validate: Validates params.
        follow_agent: Whether ports send ``window/showDocument`` for edited files; None: as
            the ``ui.follow_agent`` setting says.
    """

    def __init__(
        self,
        connection: Connection,
        writer: FrameWriter,
        main_workspace: Callable[[], Workspace],
        root: Path,
        settings: SettingsSource,
        validate: Validator,
        *,
        follow_agent: bool | None = False,
    ) -> None:
        self._conn = connection
        self._writer = writer
        self._main_workspace = main_workspace
        self.root = root
        self._settings = settings
        self._validate = validate
        self._follow_agent = follow_agent
        self.sessions: dict[str, SessionState] = {}
        self.first_added = asyncio.Event()
        """Set once the first session is created or loaded."""

    # -- lookup ------------------------------------------------------------------------------

    def get(self, session_id: str) -> SessionState:
        """A session in memory; raises ``session_not_found``."""
        state = self.sessions.get(session_id)
        if state is None:
            raise session_not_found(session_id)
        return state

    async def get_or_load(self, session_id: str) -> SessionState:
        """A session in memory, or loaded from this workspace's store on first use."""
        state = self.sessions.get(session_id)
        if state is not None:
            return state
        settings = await self._settings()
        store = self.store(self.root)
        session = await asyncio.to_thread(store.load, session_id)
        return self._add(session, store, settings)

    def busy(self) -> list[SessionState]:
        """Sessions running a turn."""
        return [state for state in self.sessions.values() if state.busy]

    # -- stores and workspaces ---------------------------------------------------------------

    def store(self, cwd: Path) -> SessionStore:
        """The session store for ``cwd`` (its workspace root's)."""
        from pygent.agent.session import SessionStore

        return SessionStore(self._store_root(cwd))

    def _store_root(self, cwd: Path) -> Path:
        for root in self._main_workspace().roots:
            if cwd == root or cwd.is_relative_to(root):
                return root
        return cwd

    def _workspace_for(self, cwd: Path) -> Workspace:
        """The main workspace when ``cwd`` lies inside it, else one rooted at ``cwd`` (same overlay)."""
        main = self._main_workspace()
        if any(cwd == root or cwd.is_relative_to(root) for root in main.roots):
            return main
        from pygent.tools.workspace import Workspace

        other = Workspace([cwd])
        other._overlay = main._overlay  # one overlay: the editor's buffers are the same
        return other

    def _add(self, session: Session, store: SessionStore, settings: Settings) -> SessionState:
        workspace = self._workspace_for(Path(session.cwd))
        follow = self._follow_agent
        if follow is None:
            follow = settings.ui.follow_agent
        port = JsonRpcPort(self._conn, session.id, workspace, follow_agent=follow)
        state = SessionState(
            session=session,
            store=store,
            port=port,
            workspace=workspace,
            mode=session.mode or settings.permissions.mode,
            model=session.model or settings.llm.model,
        )
        state.done.set()
        turn_guard.remember(state)
        self.sessions[session.id] = state
        self.first_added.set()
        return state

    # -- methods -----------------------------------------------------------------------------

    async def new(self, params: Any, msg_id: RequestId | None = None) -> dict[str, Any]:
        """``pygent/session/new {cwd?, mcpServers?}`` -> ``{sessionId, modes, models}``."""
        checked = await self._validate(methods.SESSION_NEW, params, self.root)
        settings = await self._settings()
        cwd = _cwd(checked)
        store = self.store(cwd)
        session = await asyncio.to_thread(
            store.create, settings.llm.model, cwd, mode=settings.permissions.mode
        )
        state = self._add(session, store, settings)
        state.mcp_servers = _editor_servers(checked)
        return {
            "sessionId": session.id,
            "modes": modes_payload(state.mode),
            "models": {"currentModelId": state.model},
        }

    async def load(self, params: Any, msg_id: RequestId | None = None) -> dict[str, Any]:
        """``pygent/session/load``: replay the history as updates, then answer."""
        checked = await self._validate(methods.SESSION_LOAD, params, self.root)
        settings = await self._settings()
        session_id = checked["sessionId"]
        current = self.sessions.get(session_id)
        if current is not None and current.busy:
            raise session_busy(session_id)
        cwd = _cwd(checked)
        store = self.store(cwd)
        session = await asyncio.to_thread(store.load, session_id)
        state = self._add(session, store, settings)
        state.mcp_servers = _editor_servers(checked)
        # Replay: one notification per stored message, encoded and written in a worker thread in
        # large batches (10k messages: one pass, no await per frame, the loop stays free).
        frames = await asyncio.to_thread(replay_frames, session)
        for batch in frames:
            await asyncio.to_thread(self._writer.write, batch)
        for warning in session.warnings:
            self._conn.notify(
                "window/logMessage",
                {"type": 2, "message": f"pygent: session {session_id}: {warning}"},
            )
        return {"modes": modes_payload(state.mode), "models": {"currentModelId": state.model}}

    async def list_sessions(self, params: Any, msg_id: RequestId | None = None) -> dict[str, Any]:
        """``pygent/session/list`` -> ``{sessions: [...]}``, newest first."""
        checked = await self._validate(methods.SESSION_LIST, params, self.root)
        cwd = resolve(Path(checked["cwd"])) if checked.get("cwd") else self.root
        store = self.store(cwd)
        infos = await asyncio.to_thread(store.list)
        return {"sessions": [dict(info) for info in infos]}

    async def delete(self, params: Any, msg_id: RequestId | None = None) -> None:
        """``pygent/session/delete {sessionId}``."""
        checked = await self._validate(methods.SESSION_DELETE, params, None)
        session_id = checked["sessionId"]
        state = self.sessions.get(session_id)
        if state is not None and state.busy:
            raise session_busy(session_id)
        store = state.store if state is not None else self.store(self.root)
        await asyncio.to_thread(
            turn_guard.delete_unlocked, store, session_id, store.path_for(session_id)
        )
        self.sessions.pop(session_id, None)

    async def set_mode(self, params: Any, msg_id: RequestId | None = None) -> None:
        """``pygent/session/setMode {sessionId, modeId}``."""
        checked = await self._validate(methods.SESSION_SET_MODE, params, None)
        state = await self.get_or_load(checked["sessionId"])
        state.mode = checked["modeId"]
        if state.gate is not None:
            state.gate.mode = state.mode
        with contextlib.suppress(Exception):
            await asyncio.to_thread(state.session.set_meta, mode=state.mode)
        from pygent.protocol.updates import current_mode_update

        state.port.emit(current_mode_update(state.mode))
        state.port.flush()

    async def set_model(self, params: Any, msg_id: RequestId | None = None) -> None:
        """``pygent/session/setModel {sessionId, modelId}`` (takes effect at the next prompt)."""
        checked = await self._validate(methods.SESSION_SET_MODEL, params, None)
        from pygent.agent.llm import check_provider

        # An unknown provider prefix is refused now, not at the next prompt; the model stays.
        check_provider(checked["modelId"])
        state = await self.get_or_load(checked["sessionId"])
        state.model = checked["modelId"]
        state.agent = None  # rebuilt with the new model at the next prompt
        with contextlib.suppress(Exception):
            await asyncio.to_thread(state.session.set_meta, model=state.model)


#: Replayed notifications written per ``write`` call (bounded, so other sessions' frames interleave).
_REPLAY_BATCH = 512


def replay_frames(session: Session) -> list[bytes]:
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


def modes_payload(current: str) -> dict[str, Any]:
    """ACP's ``modes`` object: the current mode and every mode with its name and meaning.

    Frontends build their mode pickers from this list (never from a copy of their own).
    """
    return {
        "currentModeId": current,
        "availableModes": [
            {"id": mode, "name": MODE_NAMES[mode], "description": MODE_DESCRIPTIONS[mode]}
            for mode in PERMISSION_MODES
        ],
    }


def resolve(path: Path) -> Path:
    """``path`` with ``~`` expanded and symlinks resolved (unchanged when that fails)."""
    try:
        return path.expanduser().resolve()
    except (OSError, RuntimeError):
        return path


def _editor_servers(params: dict[str, Any]) -> list[ServerConfig]:
    """The editor's ``mcpServers`` (already validated) as server configs, logged by name."""
    if not params.get("mcpServers"):
        return []
    from loguru import logger

    from pygent.mcp.editor import parse_editor_servers

    servers = parse_editor_servers(params["mcpServers"])
    logger.info(
        "the editor gave {} MCP server(s) for this session: {}",
        len(servers),
        ", ".join(f"{c.name} ({c.transport})" for c in servers),
    )
    return servers


def _cwd(params: dict[str, Any]) -> Path:
    from pygent.errors import invalid_params

    cwd = resolve(Path(params["cwd"]))
    if not cwd.is_dir():
        raise invalid_params(f"cwd: {cwd} is not a directory")
    return cwd
