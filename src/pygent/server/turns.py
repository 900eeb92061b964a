"""Turns in ``pygent serve``: ``pygent/session/prompt`` and ``compact``, and every way to cancel a turn.

A prompt runs its turn in a task of its own and answers ``{stopReason, usage}``. Cancelling
(``pygent/session/cancel``, ``$/cancelRequest`` on the prompt, ``window/workDoneProgress/cancel``,
shutdown, end of input, SIGINT) releases the turn's waits, tells the agent, and gives it
:data:`CANCEL_GRACE_SECONDS` to wind down before its task is cancelled outright; in every case the
prompt answers ``{stopReason: "cancelled"}``, never an error.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from pygent.errors import invalid_params, session_busy
from pygent.protocol import methods
from pygent.server import turn_guard

if TYPE_CHECKING:
    from pygent.agent.loop import Agent
    from pygent.server.port import Connection
    from pygent.server.rpc import RequestId
    from pygent.server.sessions import SessionRegistry, SessionState, SettingsSource, Validator
    from pygent.settings.models import Settings

#: How long a cancelled turn may take to wind down before its task is cancelled outright.
CANCEL_GRACE_SECONDS = 3.0
#: How long shutdown / end of input waits for running turns to stop.
SHUTDOWN_GRACE_SECONDS = 5.0
#: A fast stream hands over updates without the loop running anything else; yield this often so
#: incoming messages (a cancel) and timers are served while it streams.
YIELD_INTERVAL_SECONDS = 0.01


class TurnRunner:
    """Runs and cancels the turns of one connection's sessions.

    Args:
        connection: The JSON-RPC connection (progress notifications).
        registry: The sessions.
        settings: Loads the settings.
        validate: Validates params.
    """

    def __init__(
        self,
        connection: Connection,
        registry: SessionRegistry,
        settings: SettingsSource,
        validate: Validator,
    ) -> None:
        self._conn = connection
        self._registry = registry
        self._settings = settings
        self._validate = validate
        self._prompts: dict[RequestId, SessionState] = {}

    # -- requests ----------------------------------------------------------------------------

    async def prompt(self, params: Any, msg_id: RequestId) -> dict[str, Any]:
        """``pygent/session/prompt {sessionId, prompt, workDoneToken?}`` -> ``{stopReason, usage}``."""
        checked = await self._validate(methods.SESSION_PROMPT, params, None)
        try:
            return await self.run(checked["sessionId"], checked["prompt"], msg_id, checked)
        except asyncio.CancelledError:
            # Cancelled before its turn could be told (``$/cancelRequest`` during validation or
            # loading), or by the server stopping: a prompt always answers ``cancelled``.
            return {"stopReason": "cancelled"}

    async def run(
        self,
        session_id: str,
        blocks: list[dict[str, Any]],
        msg_id: RequestId,
        options: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Run one turn of ``session_id`` for request ``msg_id``; returns the prompt's answer."""
        state = await self._registry.get_or_load(session_id)
        if state.busy:
            raise session_busy(state.session.id)
        token = (options or {}).get("workDoneToken")
        if token is not None and (not isinstance(token, (str, int)) or isinstance(token, bool)):
            raise invalid_params("workDoneToken: must be a string or an integer")
        lock = turn_guard.acquire(state)  # cross-process: one turn per session
        state.busy = True
        state.done.clear()
        state.prompt_id = msg_id
        state.port.begin_turn(token)
        self._prompts[msg_id] = state
        if token is not None:
            self._conn.notify(
                "$/progress",
                {
                    "token": token,
                    "value": {"kind": "begin", "title": "pygent", "cancellable": True},
                },
            )
        try:
            await asyncio.to_thread(turn_guard.refresh, state)
            settings = await self._settings()
            inner = asyncio.ensure_future(self._run_turn(state, settings, blocks))
            state.task = inner
            # Waited on, not awaited: a cancel of the inner task must not cancel this request.
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
            turn_guard.release(state, lock)
            state.port.flush()
            if token is not None:
                self._conn.notify("$/progress", {"token": token, "value": {"kind": "end"}})
            if state.cancel_timer is not None:
                state.cancel_timer.cancel()
                state.cancel_timer = None
            state.turn = None
            state.task = None
            state.busy = False
            state.prompt_id = None
            self._prompts.pop(msg_id, None)
            state.done.set()

    async def compact(self, params: Any, msg_id: RequestId) -> dict[str, Any]:
        """``pygent/session/compact {sessionId}`` -> ``{compacted}``: summarise older turns now."""
        checked = await self._validate(methods.SESSION_COMPACT, params, None)
        state = await self._registry.get_or_load(checked["sessionId"])
        if state.busy:
            raise session_busy(state.session.id)
        settings = await self._settings()
        agent = await asyncio.to_thread(agent_for, state, settings)
        lock = turn_guard.acquire(state)  # cross-process: one writer per session
        state.busy = True
        state.done.clear()
        try:
            await asyncio.to_thread(turn_guard.refresh, state)
            compacted = await agent.compact(state.session)
        finally:
            turn_guard.release(state, lock)
            state.busy = False
            state.done.set()
        return {"compacted": bool(compacted)}

    async def _run_turn(
        self, state: SessionState, settings: Settings, blocks: list[dict[str, Any]]
    ) -> dict[str, Any]:
        agent = await asyncio.to_thread(agent_for, state, settings)
        if state.port.cancelled:
            return {"stopReason": "cancelled"}
        turn = agent.prompt(state.session, blocks)
        state.turn = turn
        port = state.port
        loop = asyncio.get_running_loop()
        yielded = loop.time()
        async for update in turn:
            port.emit(update)
            if loop.time() - yielded >= YIELD_INTERVAL_SECONDS:
                await asyncio.sleep(0)
                yielded = loop.time()
        port.flush()
        result: dict[str, Any] = {"stopReason": turn.stop_reason or "end_turn"}
        if turn.usage:
            result["usage"] = turn.usage
        return result

    # -- cancellation ------------------------------------------------------------------------

    def cancel_prompt_request(self, msg_id: Any) -> bool:
        """``$/cancelRequest`` for a prompt: cancel its turn (True when ``msg_id`` was a prompt)."""
        state = self._prompts.get(msg_id)
        if state is None:
            return False
        self.cancel(state)
        return True

    def on_session_cancel(self, params: Any) -> None:
        """``pygent/session/cancel {sessionId}`` (checked by hand: it must act before ACP's models load)."""
        session_id = params.get("sessionId") if isinstance(params, dict) else None
        if not isinstance(session_id, str):
            self._conn.notify(
                "window/logMessage",
                {
                    "type": 2,
                    "message": f"pygent: ignored {methods.SESSION_CANCEL}: sessionId: field required",
                },
            )
            return
        state = self._registry.sessions.get(session_id)
        if state is not None and state.busy:
            self.cancel(state)

    def on_progress_cancel(self, params: Any) -> None:
        """``window/workDoneProgress/cancel {token}``: cancel the turn reporting to that token."""
        token = params.get("token") if isinstance(params, dict) else None
        if token is None:
            return
        for state in self._registry.busy():
            if state.port.progress_token == token:
                self.cancel(state)

    def cancel(self, state: SessionState) -> None:
        """End a session's turn: release waits, tell the agent, and enforce a grace period."""
        if not state.busy:
            return
        state.port.cancel()
        if state.turn is not None:
            with contextlib.suppress(Exception):
                state.turn.cancel()
        if state.cancel_timer is None and state.task is not None:
            task = state.task
            state.cancel_timer = asyncio.get_running_loop().call_later(
                CANCEL_GRACE_SECONDS, task.cancel
            )

    async def stop_all(self) -> None:
        """Cancel every running turn and wait (a bounded time) until they have answered."""
        running = self._registry.busy()
        for state in running:
            self.cancel(state)
        if running:
            await asyncio.wait(
                [asyncio.ensure_future(state.done.wait()) for state in running],
                timeout=SHUTDOWN_GRACE_SECONDS,
            )


def agent_for(state: SessionState, settings: Settings) -> Agent:
    """The session's agent, built on first use (and after ``setModel``) by the shared factory."""
    if state.agent is not None:
        return state.agent
    from pygent.agent.factory import build_agent

    agent, engine = build_agent(
        settings, state.workspace, state.port, mode=state.mode, model=state.model
    )
    from pygent.mcp.trust import port_asker

    agent.mcp_servers = list(state.mcp_servers)
    agent.mcp_trust = port_asker(state.port)  # the editor's person answers, never the mode
    state.agent, state.gate = agent, engine
    return agent
