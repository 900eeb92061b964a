"""The ACP frontend port: one per session; permission requests, edits, client files and terminals.

Edits are reviewed inside the permission request: the agent computes the change set first, then
:meth:`AcpPort.apply_edit` asks ``session/request_permission`` with a ``diff`` per file (so Zed's and
JetBrains' review UIs show it), and writes only after approval: through the client's
``fs/write_text_file`` when it declared that, else atomically to disk. Because this port reviews
edits itself (``reviews_edits``), the permission engine never asks about a reviewed edit a second
time; the port applies the session's mode instead (``auto-edit`` and ``auto`` write without
asking, except into ``.git/`` or ``.pygent/``; "Allow always" switches the session to ``auto-edit``).

Shell commands run in the client's terminals (``terminal/*``) when it declared ``terminal: true``
(:class:`~pygent.protocol.port.ClientTerminals`). Files the next tool call names are read through
``fs/read_text_file`` into the workspace's buffer overlay when the client declared it, so the tools
see unsaved editor buffers (:class:`ClientFilesGate`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from loguru import logger

from pygent.edits.changes import ApplyResult, ChangeSet, CreateFile, TextChange
from pygent.permissions.protected import is_protected
from pygent.protocol.port import (
    ALLOW_ALWAYS,
    ALLOW_ONCE,
    REJECT_ALWAYS,
    REJECT_ONCE,
    PermissionOutcome,
    PermissionRequest,
    TerminalRun,
)
from pygent.protocol.updates import tool_call_update

if TYPE_CHECKING:
    from pygent.tools.base import PermissionDecision, PermissionGate, ToolContext, ToolSpec
    from pygent.tools.workspace import Workspace

__all__ = [
    "AcpPort",
    "AcpTerminalPort",
    "ClientCapabilities",
    "ClientError",
    "ClientFilesGate",
    "Connection",
    "make_port",
]

CANCELLED: PermissionOutcome = {"outcome": "cancelled"}
_EDIT_OPTIONS = [ALLOW_ONCE, ALLOW_ALWAYS, REJECT_ONCE, REJECT_ALWAYS]
#: Seconds between ``terminal/output`` polls while a command runs (live output on the tool call).
TERMINAL_POLL_SECONDS = 0.5


class ClientError(Exception):
    """The client answered one of our requests with a JSON-RPC error."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class RequestCancelledError(Exception):
    """The turn was cancelled while waiting for the client's answer."""


@dataclass(frozen=True)
class ClientCapabilities:
    """What the client declared in ``initialize`` (``clientCapabilities``)."""

    read_text_file: bool = False
    write_text_file: bool = False
    terminal: bool = False

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ClientCapabilities:
        """Parse ``initialize`` params leniently (anything malformed means "not declared")."""
        caps = params.get("clientCapabilities")
        caps = caps if isinstance(caps, dict) else {}
        fs = caps.get("fs")
        fs = fs if isinstance(fs, dict) else {}
        return cls(
            read_text_file=fs.get("readTextFile") is True,
            write_text_file=fs.get("writeTextFile") is True,
            terminal=caps.get("terminal") is True,
        )


class Connection(Protocol):
    """What the port needs from the ACP connection."""

    capabilities: ClientCapabilities

    def notify(self, method: str, params: dict[str, Any]) -> None:
        """Send a notification."""
        ...

    def request(self, method: str, params: dict[str, Any]) -> tuple[Any, asyncio.Future[Any]]:
        """Send a request; returns its id and a future of the result (raises ClientError)."""
        ...

    def cancel_request(self, request_id: Any) -> None:
        """Withdraw one of our requests (``$/cancel_request``)."""
        ...


class AcpPort:
    """A :class:`~pygent.protocol.port.FrontendPort` over ACP, for one session.

    Args:
        connection: The ACP connection.
        session_id: Added to every update and request.
        workspace: The session's workspace (overlay for client buffers).
        mode: The session's permission mode (kept current by the connection).
        on_mode_change: Called when an answer switches the session's mode ("Allow always").
    """

    def __init__(
        self,
        connection: Connection,
        session_id: str,
        workspace: Workspace,
        mode: str,
        on_mode_change: Callable[[str], None] | None = None,
    ) -> None:
        self._conn = connection
        self.session_id = session_id
        self.workspace = workspace
        self.mode = mode
        self._on_mode_change = on_mode_change
        self._cancel = asyncio.Event()
        self.edits_refused = False
        """Set by "Reject always" on an edit: later edits of the session are refused unasked."""
        self._send: Callable[[dict[str, Any]], None] | None = None
        self._cleanups: set[asyncio.Future[None]] = set()

    # -- FrontendPort ------------------------------------------------------------------------

    @property
    def reviews_edits(self) -> bool:
        """Always True: every edit is reviewed in the permission request that carries its diff."""
        return True

    def emit(self, update: dict[str, Any]) -> None:
        """Send one update (through the connection's adapter)."""
        if self._send is not None:
            self._send(update)

    def set_sender(self, send: Callable[[dict[str, Any]], None]) -> None:
        """Where :meth:`emit` delivers (the connection's converting sender)."""
        self._send = send

    async def request_permission(self, request: PermissionRequest) -> PermissionOutcome:
        """Ask the client; ``cancelled`` when the turn is cancelled while waiting."""
        # Let the connection send the updates the turn queued first (the tool call itself), so
        # the client knows the call the question is about.
        for _ in range(3):
            await asyncio.sleep(0)
        if self._cancel.is_set():
            return CANCELLED
        options = list(request.get("options") or [])
        call = dict(request.get("toolCall") or {})
        params: dict[str, Any] = {
            "sessionId": self.session_id,
            "toolCall": call,
            "options": options,
        }
        meta = dict(request.get("_meta") or {})
        if meta:
            details = meta.pop("pygent", None)
            params["_meta"] = {"pygent": {**meta, **(details if isinstance(details, dict) else {})}}
        try:
            answer = await self._ask("session/request_permission", params)
        except RequestCancelledError:
            return CANCELLED
        except ClientError as exc:
            logger.warning("session/request_permission failed on the client: {}", exc)
            return CANCELLED
        return _outcome(answer, options)

    async def apply_edit(self, change_set: ChangeSet) -> ApplyResult:
        """Ask (with the diffs) unless the mode lets edits run, then write."""
        if self._cancel.is_set():
            return ApplyResult(False, "The turn was cancelled before the edit was applied.")
        if self.edits_refused:
            return ApplyResult(
                False,
                "The user asked not to be asked about edits again in this session (Reject always). "
                "Do not retry; describe the change instead, or ask the user to allow edits.",
            )
        protected = [p for p in change_set.paths() if self._protected(p)]
        if self.mode not in ("auto-edit", "auto") or protected:
            refusal = await self._review(change_set, protected)
            if refusal is not None:
                return refusal
        return await self._write(change_set)

    # -- turn control ------------------------------------------------------------------------

    def begin_turn(self) -> None:
        """Reset the cancel flag for a new prompt."""
        self._cancel = asyncio.Event()

    def cancel(self) -> None:
        """Release every wait for the client (permission, terminal) as cancelled."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called in this turn."""
        return self._cancel.is_set()

    # -- edits -------------------------------------------------------------------------------

    def _protected(self, path: Path) -> bool:
        try:
            parts = path.relative_to(self.workspace.root).parts
        except ValueError:
            parts = path.parts
        return is_protected("/".join(parts))

    async def _review(self, change_set: ChangeSet, protected: list[Path]) -> ApplyResult | None:
        """The permission request with the diffs; None when approved, else the refusal."""
        diffs = _diffs(change_set)
        call: dict[str, Any] = {
            "toolCallId": change_set.tool_call_id or "edit",
            "title": change_set.label,
            "kind": "edit",
            "status": "pending",
            "content": diffs,
            "locations": [{"path": d["path"]} for d in diffs if d.get("type") == "diff"],
        }
        reason = f"changes protected path {protected[0]}" if protected else f"mode '{self.mode}'"
        request: PermissionRequest = {
            "toolCall": call,
            "options": list(_EDIT_OPTIONS),
            "_meta": {"reason": reason, "message": f"pygent wants to: {change_set.label}"},
        }
        outcome = await self.request_permission(request)
        if outcome.get("outcome") != "selected":
            return ApplyResult(
                False, "The permission request was cancelled, so the edit was not applied."
            )
        kind = {o["optionId"]: o["kind"] for o in _EDIT_OPTIONS}.get(
            str(outcome.get("optionId")), "reject_once"
        )
        if kind == "allow_always":
            if self.mode not in ("auto-edit", "auto"):
                self.mode = "auto-edit"
                if self._on_mode_change is not None:
                    self._on_mode_change("auto-edit")
            return None
        if kind == "allow_once":
            return None
        if kind == "reject_always":
            self.edits_refused = True
            return ApplyResult(
                False,
                "The user rejected the edit and asked not to be asked about edits again in this "
                "session. Do not retry; describe the change instead.",
                rejected=True,
            )
        return ApplyResult(
            False,
            "The user rejected the edit. Do not retry it unchanged; ask how to proceed.",
            rejected=True,
        )

    async def _write(self, change_set: ChangeSet) -> ApplyResult:
        simple = all(isinstance(c, (TextChange, CreateFile)) for c in change_set.changes)
        if not (self._conn.capabilities.write_text_file and simple):
            from pygent.edits.apply import apply_change_set

            result = await asyncio.to_thread(apply_change_set, change_set)
            for path in change_set.paths():
                self.workspace.close_document(path)
            return result
        for change in change_set.changes:
            if isinstance(change, TextChange):
                path, text = change.path, change.new_text
            else:
                assert isinstance(change, CreateFile)
                path, text = change.path, change.content
            try:
                await self._ask(
                    "fs/write_text_file",
                    {"sessionId": self.session_id, "path": str(path), "content": text},
                    cancellable=False,
                )
            except ClientError as exc:
                return ApplyResult(
                    False,
                    f"The editor could not write {self.workspace.display(path)}: {exc.message}",
                )
            except RequestCancelledError:  # pragma: no cover - writes are not cancellable
                return ApplyResult(False, "The turn was cancelled while the edit was written.")
            self.workspace.close_document(path)
        return ApplyResult(True)

    # -- client files --------------------------------------------------------------------------

    async def read_into_overlay(self, paths: list[Path]) -> None:
        """Fetch ``paths`` with ``fs/read_text_file`` into the overlay (the editor's buffers)."""
        for path in paths:
            try:
                answer = await self._ask(
                    "fs/read_text_file", {"sessionId": self.session_id, "path": str(path)}
                )
            except (ClientError, RequestCancelledError) as exc:
                # Missing files and files the client cannot read come from disk (or not at all).
                logger.debug("fs/read_text_file {}: {}", path, exc)
                continue
            content = answer.get("content") if isinstance(answer, dict) else None
            if isinstance(content, str):
                self.workspace.open_document(path, content, None)

    # -- terminals ---------------------------------------------------------------------------

    async def _run_in_terminal(
        self,
        command: str,
        *,
        cwd: str,
        env: dict[str, str],
        timeout: float,
        output_limit: int,
        tool_call_id: str,
    ) -> TerminalRun | None:
        from pygent.tools.process import platform_shell

        argv = platform_shell()
        params: dict[str, Any] = {
            "sessionId": self.session_id,
            "command": argv[0],
            "args": [*argv[1:], command],
            "env": [{"name": k, "value": v} for k, v in env.items()],
            "cwd": cwd,
            "outputByteLimit": output_limit,
        }
        # Never withdrawn: a terminal the client creates after a cancel must still be stopped.
        _, answer = self._conn.request("terminal/create", params)
        try:
            created = await asyncio.shield(answer)
        except asyncio.CancelledError:
            answer.add_done_callback(self._stop_late_terminal)
            raise
        except ClientError as exc:
            logger.warning("terminal/create failed ({}); running the command locally", exc)
            return None
        terminal_id = created.get("terminalId") if isinstance(created, dict) else None
        if not isinstance(terminal_id, str):
            logger.warning("terminal/create answered without a terminalId; running locally")
            return None
        ids = {"sessionId": self.session_id, "terminalId": terminal_id}
        if self._cancel.is_set():
            await asyncio.shield(self._stop_terminal(ids))
            raise asyncio.CancelledError
        self.emit(
            tool_call_update(
                tool_call_id,
                status="in_progress",
                content=[{"type": "terminal", "terminalId": terminal_id}],
            )
        )
        timed_out = False
        status: dict[str, Any] = {}
        try:
            try:
                answer = await asyncio.wait_for(
                    self._ask("terminal/wait_for_exit", dict(ids)), timeout
                )
                status = answer if isinstance(answer, dict) else {}
            except asyncio.TimeoutError:
                timed_out = True
                await self._quietly("terminal/kill", ids)
            output = await self._ask("terminal/output", dict(ids), cancellable=False)
        except RequestCancelledError:
            await asyncio.shield(self._stop_terminal(ids))
            raise asyncio.CancelledError from None
        except asyncio.CancelledError:
            # Shielded: a second cancel (the turn's grace period) must not skip kill + release.
            await asyncio.shield(self._stop_terminal(ids))
            raise
        except ClientError as exc:
            await self._quietly("terminal/release", ids)
            return TerminalRun(
                terminalId=terminal_id,
                output=f"(the editor's terminal failed: {exc.message})",
                truncated=False,
                exitCode=None,
                signal=None,
                timedOut=False,
            )
        await self._quietly("terminal/release", ids)
        exit_status = output.get("exitStatus") if isinstance(output, dict) else None
        if not isinstance(exit_status, dict):
            exit_status = status
        code = exit_status.get("exitCode")
        signal = exit_status.get("signal")
        return TerminalRun(
            terminalId=terminal_id,
            output=str(output.get("output", "")) if isinstance(output, dict) else "",
            truncated=bool(output.get("truncated")) if isinstance(output, dict) else False,
            exitCode=code if isinstance(code, int) and not timed_out else None,
            signal=signal if isinstance(signal, str) else None,
            timedOut=timed_out,
        )

    def _stop_late_terminal(self, answer: asyncio.Future[Any]) -> None:
        """A terminal created after its turn was cancelled: stop it too."""
        if answer.cancelled() or answer.exception() is not None:
            return
        created = answer.result()
        terminal_id = created.get("terminalId") if isinstance(created, dict) else None
        if isinstance(terminal_id, str):
            self._stop_terminal({"sessionId": self.session_id, "terminalId": terminal_id})

    def _stop_terminal(self, ids: dict[str, Any]) -> asyncio.Future[None]:
        """Kill the command, then release the terminal, as a task of its own."""

        async def stop() -> None:
            await self._quietly("terminal/kill", ids)
            await self._quietly("terminal/release", ids)

        task = asyncio.ensure_future(stop())
        self._cleanups.add(task)
        task.add_done_callback(self._cleanups.discard)
        return task

    async def _quietly(self, method: str, params: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._ask(method, dict(params), cancellable=False), 5)

    # -- internals ---------------------------------------------------------------------------

    async def _ask(self, method: str, params: dict[str, Any], *, cancellable: bool = True) -> Any:
        """Send a request and wait for its answer (or, when ``cancellable``, the turn's cancel)."""
        request_id, answer = self._conn.request(method, params)
        if not cancellable:
            return await answer
        cancel_task = asyncio.ensure_future(self._cancel.wait())
        try:
            await asyncio.wait({answer, cancel_task}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            if not answer.done():
                answer.cancel()
                self._conn.cancel_request(request_id)
            raise
        finally:
            cancel_task.cancel()
        if not answer.done():
            answer.cancel()
            self._conn.cancel_request(request_id)
            raise RequestCancelledError(method)
        return answer.result()


class AcpTerminalPort(AcpPort):
    """An :class:`AcpPort` with :class:`~pygent.protocol.port.ClientTerminals`: the shell tool
    runs commands in the client's terminals (``terminal/create`` ... ``terminal/release``)."""

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
        """Run ``command`` in a client terminal embedded in the tool call; None: run it here."""
        return await self._run_in_terminal(
            command,
            cwd=cwd,
            env=env,
            timeout=timeout,
            output_limit=output_limit,
            tool_call_id=tool_call_id,
        )


def _diffs(change_set: ChangeSet) -> list[dict[str, Any]]:
    """ACP tool-call content for every change (diffs with absolute paths; moves as text)."""
    from pygent.tools.base import diff_contents

    return diff_contents(change_set)


def _outcome(answer: Any, options: list[Any]) -> PermissionOutcome:
    """Validate the client's ``{outcome}``; anything malformed counts as ``cancelled``."""
    if not isinstance(answer, dict):
        return CANCELLED
    outcome = answer.get("outcome")
    if not isinstance(outcome, dict):
        return CANCELLED
    if outcome.get("outcome") == "selected":
        option_id = outcome.get("optionId")
        if any(option.get("optionId") == option_id for option in options):
            return {"outcome": "selected", "optionId": str(option_id)}
        logger.warning("permission answer names an unknown option {!r}", option_id)
    return CANCELLED


class ClientFilesGate:
    """Wraps the permission engine: an allowed call's files are first read from the client.

    Before a tool that names files runs, their text is fetched with ``fs/read_text_file`` into
    the workspace overlay, so the tool sees the editor's unsaved buffer. The overlay holds only the
    current call's files: whatever an earlier call fetched is dropped first, so nothing goes stale.

    Args:
        inner: The permission engine.
        port: The session's port.
    """

    def __init__(self, inner: PermissionGate, port: AcpPort) -> None:
        self.inner = inner
        self.port = port
        self._fetched: set[Path] = set()

    async def check(
        self, spec: ToolSpec, args: dict[str, Any], ctx: ToolContext
    ) -> PermissionDecision:
        """The engine's decision; when allowed, the call's files are read from the client."""
        decision = await self.inner.check(spec, args, ctx)
        if decision.allowed and spec.path_args:
            await self._fetch(spec, args)
        return decision

    async def _fetch(self, spec: ToolSpec, args: dict[str, Any]) -> None:
        from pygent.tools.errors import ToolError

        workspace = self.port.workspace
        for path in self._fetched:
            workspace.close_document(path)
        self._fetched.clear()
        paths: list[Path] = []
        for name in spec.path_args:
            value = args.get(name)
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if not isinstance(item, (str, Path)) or not str(item):
                    continue
                try:
                    resolved = workspace.resolve(str(item))
                except ToolError:
                    continue  # the tool reports it
                if resolved.is_file():
                    paths.append(resolved)
        await self.port.read_into_overlay(paths)
        self._fetched.update(p for p in paths if workspace.document(p) is not None)


def make_port(
    connection: Connection,
    session_id: str,
    workspace: Workspace,
    mode: str,
    on_mode_change: Callable[[str], None] | None = None,
) -> AcpPort:
    """An :class:`AcpPort`, with terminals when the client declared them."""
    cls = AcpTerminalPort if connection.capabilities.terminal else AcpPort
    return cls(connection, session_id, workspace, mode, on_mode_change)
