"""The frontend port: the agent's only way out to a person.

The server implements it over JSON-RPC, the ACP adapter over ACP; :mod:`pygent.agent.headless`
(``pygent run``, unit tests) answers from policy and applies edits to disk itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict

if TYPE_CHECKING:  # annotations only: the protocol package imports nothing of pygent at run time
    from pygent.edits.changes import ApplyResult, ChangeSet


class PermissionOption(TypedDict):
    """One of ACP's permission options."""

    optionId: str
    name: str
    kind: Literal["allow_once", "allow_always", "reject_once", "reject_always"]


class PermissionRequest(TypedDict):
    """ACP's ``session/request_permission`` params, minus ``sessionId`` (the server adds it).

    ``_meta.reason`` says why pygent asks (the mode or the rule), for frontends that show it.
    """

    toolCall: dict[str, Any]
    options: list[PermissionOption]
    _meta: dict[str, Any]


class PermissionOutcome(TypedDict, total=False):
    """ACP's outcome: ``{"outcome": "selected", "optionId": ...}`` or ``{"outcome": "cancelled"}``."""

    outcome: Literal["selected", "cancelled"]
    optionId: str


ALLOW_ONCE: PermissionOption = {
    "optionId": "allow_once",
    "name": "Allow once",
    "kind": "allow_once",
}
ALLOW_ALWAYS: PermissionOption = {
    "optionId": "allow_always",
    "name": "Allow always",
    "kind": "allow_always",
}
REJECT_ONCE: PermissionOption = {
    "optionId": "reject_once",
    "name": "Reject once",
    "kind": "reject_once",
}
REJECT_ALWAYS: PermissionOption = {
    "optionId": "reject_always",
    "name": "Reject always",
    "kind": "reject_always",
}


class FrontendPort(Protocol):
    """What the agent needs from whoever drives it."""

    @property
    def reviews_edits(self) -> bool:
        """True when the frontend shows each edit for review (then the review *is* the approval)."""
        ...

    def emit(self, update: dict[str, Any]) -> None:
        """Deliver one ACP ``sessionUpdate`` dict (never blocks; the frontend batches)."""
        ...

    async def request_permission(self, request: PermissionRequest) -> PermissionOutcome:
        """Ask the person; resolves to the selected option or ``cancelled``."""
        ...

    async def apply_edit(self, change_set: ChangeSet) -> ApplyResult:
        """Have the change set reviewed and applied (or rejected, with an optional reason)."""
        ...


class TerminalRun(TypedDict):
    """How a command run in the client's terminal ended (:meth:`ClientTerminals.run_command`).

    Attributes:
        terminalId: The client's terminal (frontends embed it in the tool call).
        output: The output the client kept (its end, when ``truncated``).
        truncated: The client dropped the beginning of the output.
        exitCode: The exit code; None when killed by a signal or stopped on timeout.
        signal: The signal that ended the command, if any.
        timedOut: pygent stopped the command after its timeout.
    """

    terminalId: str
    output: str
    truncated: bool
    exitCode: int | None
    signal: str | None
    timedOut: bool


class ClientTerminals(Protocol):
    """An optional port capability: run shell commands in the frontend's own terminals.

    A port that has it (ACP clients declaring ``terminal: true``) offers ``run_command``; the
    shell tool uses it instead of spawning the command itself.
    """

    async def run_command(
        self,
        command: str,
        *,
        cwd: str,
        env: dict[str, str],
        timeout: float,
        output_limit: int,
        tool_call_id: str,
    ) -> TerminalRun | None:
        """Run ``command`` to its end (killed after ``timeout`` s); None: run it yourself."""
        ...


def client_terminals(port: object) -> ClientTerminals | None:
    """The port's :class:`ClientTerminals` capability, if it has one."""
    runner = getattr(port, "run_command", None)
    return port if callable(runner) else None  # type: ignore[return-value]


def is_rejection(request: PermissionRequest, outcome: PermissionOutcome) -> bool:
    """Whether ``outcome`` selected one of ``request``'s reject options (the person said no).

    The option's ``kind`` decides (``reject_once``, ``reject_always``); an option id the request
    does not list counts by its own name.
    """
    if outcome.get("outcome") != "selected":
        return False
    option_id = outcome.get("optionId", "")
    kinds = {o.get("optionId"): o.get("kind") for o in request.get("options") or []}
    return str(kinds.get(option_id, option_id)).startswith("reject")
