"""``workspace/executeCommand`` for bare LSP clients: ``pygent.prompt [text]`` and ``pygent.cancel``.

A client with no pygent plugin can still run a turn: ``pygent.prompt`` runs it in one session per
connection (created on first use), collects the answer's text through a listener on the session's
port, shows it with ``window/showMessage`` and returns ``{stopReason, text, sessionId}``.
Permission questions go to such a client as ``window/showMessageRequest``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pygent.errors import PygentError, invalid_params
from pygent.protocol import methods

if TYPE_CHECKING:
    from pygent.server.port import Connection
    from pygent.server.rpc import RequestId
    from pygent.server.sessions import SessionRegistry
    from pygent.server.turns import TurnRunner


class CommandAdapter:
    """Runs ``workspace/executeCommand`` requests against the sessions and turns.

    Args:
        connection: The JSON-RPC connection (``window/showMessage``).
        registry: The sessions.
        turns: The turn runner.
    """

    def __init__(
        self, connection: Connection, registry: SessionRegistry, turns: TurnRunner
    ) -> None:
        self._conn = connection
        self._registry = registry
        self._turns = turns
        self.session_id: str | None = None
        """The connection's command session (created by the first ``pygent.prompt``)."""

    async def execute(self, params: Any, msg_id: RequestId) -> Any:
        """``workspace/executeCommand {command, arguments}``."""
        if not isinstance(params, dict) or not isinstance(params.get("command"), str):
            raise invalid_params("command: field required")
        command = params["command"]
        arguments = params.get("arguments") or []
        if command == methods.COMMAND_CANCEL:
            if self.session_id is not None:
                state = self._registry.sessions.get(self.session_id)
                if state is not None and state.busy:
                    self._turns.cancel(state)
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
        if self.session_id is None or self.session_id not in self._registry.sessions:
            created = await self._registry.new({}, msg_id)
            self.session_id = str(created["sessionId"])
        session_id = self.session_id
        state = self._registry.get(session_id)
        chunks: list[str] = []

        def collect(update: dict[str, Any]) -> None:
            if update.get("sessionUpdate") == "agent_message_chunk":
                content = update.get("content")
                if isinstance(content, dict):
                    chunks.append(str(content.get("text", "")))

        remove = state.port.add_listener(collect)
        try:
            result = await self._turns.run(session_id, [{"type": "text", "text": text}], msg_id)
        finally:
            remove()
        answer = "".join(chunks).strip()
        if answer:
            self._conn.notify("window/showMessage", {"type": 3, "message": answer})
        return {"stopReason": result["stopReason"], "text": answer, "sessionId": session_id}
