"""The JSON-RPC frontend port: the agent's updates, permission questions and edits, on the wire.

One :class:`JsonRpcPort` per session. Updates go out as ``pygent/session/update`` (text chunks
coalesced); permission questions as ``pygent/session/requestPermission`` to clients that declared
``experimental.pygent.permissionRequests``, else as ``window/showMessageRequest``; every change set
as ``workspace/applyEdit`` (the review is the approval), or straight to disk for a client that
cannot apply edits (the permission engine asked before the tool ran).

Two pygent extensions ride in ``_meta`` (standard clients ignore them):

- ``workspace/applyEdit`` params carry ``_meta.pygent = {toolCallId, files: [{uri, oldText,
  newText}]}``: every file's whole text before and after, so a client shows the review without
  replaying the WorkspaceEdit (see :func:`edit_files_meta`).
- A ``tool_call_update`` that ends a call the person turned down (an edit rejected in review, a
  permission answered "Reject") carries ``_meta.pygent.outcome = "rejected"``; its status stays
  ACP's ``failed``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from loguru import logger

from pygent.edits.changes import (
    ApplyResult,
    ChangeSet,
    CreateFile,
    DeleteFile,
    RenameFile,
    TextChange,
)
from pygent.protocol.methods import SESSION_REQUEST_PERMISSION, SESSION_UPDATE
from pygent.protocol.port import PermissionOutcome, PermissionRequest, is_rejection
from pygent.protocol.updates import OUTCOME_REJECTED
from pygent.server.coalesce import ChunkCoalescer
from pygent.server.protocol import ClientFeatures

if TYPE_CHECKING:
    from pygent.tools.workspace import Workspace

CANCELLED: PermissionOutcome = {"outcome": "cancelled"}


class Connection(Protocol):
    """What the port needs from the server's connection to the client."""

    features: ClientFeatures

    def notify(self, method: str, params: Any) -> None:
        """Send a notification."""
        ...

    def request(self, method: str, params: Any) -> tuple[str, Awaitable[Any]]:
        """Send a request; returns its id and an awaitable of the result (raises on error)."""
        ...

    def cancel_request(self, request_id: str) -> None:
        """Tell the client we no longer need the answer (``$/cancelRequest``)."""
        ...


class JsonRpcPort:
    """A :class:`~pygent.protocol.port.FrontendPort` over the JSON-RPC connection, for one session.

    Args:
        connection: The server's connection to the client.
        session_id: Added to every update and permission request.
        workspace: Open documents' versions for edits.
        follow_agent: Send ``window/showDocument`` (``takeFocus: false``) for edited files.
    """

    def __init__(
        self,
        connection: Connection,
        session_id: str,
        workspace: Workspace | None = None,
        *,
        follow_agent: bool = False,
    ) -> None:
        self._conn = connection
        self.session_id = session_id
        self._workspace = workspace
        self._follow_agent = follow_agent
        self._coalescer = ChunkCoalescer(self._send_update)
        self._listeners: list[Callable[[dict[str, Any]], None]] = []
        self._cancel = asyncio.Event()
        self.progress_token: str | int | None = None
        self._titles: dict[str, str] = {}
        self._rejected: set[str] = set()

    # -- FrontendPort ------------------------------------------------------------------------

    @property
    def reviews_edits(self) -> bool:
        """True when the client reviews every edit itself (``workspace/applyEdit``)."""
        features = self._conn.features
        return features.apply_edit and features.document_changes

    def emit(self, update: dict[str, Any]) -> None:
        """Send one update (text chunks are batched; anything else flushes them first)."""
        kind = update.get("sessionUpdate")
        if kind == "tool_call_update" and update.get("status") == "failed":
            call_id = str(update.get("toolCallId", ""))
            if call_id in self._rejected:
                self._rejected.discard(call_id)
                update = mark_rejected(update)
        if self.progress_token is not None and kind in ("tool_call", "tool_call_update"):
            title = update.get("title")
            call_id = str(update.get("toolCallId", ""))
            if isinstance(title, str) and title and self._titles.get(call_id) != title:
                self._titles[call_id] = title
                self._coalescer.flush()
                self._conn.notify(
                    "$/progress",
                    {"token": self.progress_token, "value": {"kind": "report", "message": title}},
                )
        self._coalescer.push(update)

    def flush(self) -> None:
        """Send pending text now."""
        self._coalescer.flush()

    def send_now(self, update: dict[str, Any]) -> None:
        """Send one update as it is, after any pending text (session replay uses this)."""
        self._coalescer.flush()
        self._send_update(update)

    def add_listener(self, listener: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Call ``listener`` with every update this port sends (after coalescing), in wire order.

        Args:
            listener: Called on the event loop thread, after the notification was written.

        Returns:
            A function that removes the listener.
        """
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    async def request_permission(self, request: PermissionRequest) -> PermissionOutcome:
        """Ask the client; ``cancelled`` when the turn is cancelled while waiting."""
        await self._settle()
        if self._cancel.is_set():
            return CANCELLED
        options = list(request.get("options") or [])
        if self._conn.features.permission_requests:
            params: dict[str, Any] = {
                "sessionId": self.session_id,
                "toolCall": request.get("toolCall", {}),
                "options": options,
            }
            meta = request.get("_meta")
            if meta:
                params["_meta"] = meta
            answer = await self._ask(SESSION_REQUEST_PERMISSION, params)
            if answer is _CANCELLED:
                return CANCELLED
            return self._note_outcome(request, _outcome_from_answer(answer, options))
        answer = await self._ask(
            "window/showMessageRequest",
            {
                "type": 2,
                "message": permission_message(request),
                "actions": [{"title": option["name"]} for option in options],
            },
        )
        if answer is _CANCELLED:
            return CANCELLED
        title = answer.get("title") if isinstance(answer, dict) else None
        for option in options:
            if title == option["name"]:
                return self._note_outcome(
                    request, {"outcome": "selected", "optionId": option["optionId"]}
                )
        # No answer (dismissed) means "reject once".
        return self._note_outcome(request, {"outcome": "selected", "optionId": "reject_once"})

    async def apply_edit(self, change_set: ChangeSet) -> ApplyResult:
        """Have the client review and apply ``change_set`` (or apply it to disk ourselves)."""
        await self._settle()
        if self._cancel.is_set():
            return ApplyResult(False, "The turn was cancelled before the edit was applied.")
        if not self.reviews_edits:
            from pygent.edits.apply import apply_change_set

            result = await asyncio.to_thread(apply_change_set, change_set)
            if result.applied:
                self._follow(change_set)
            return result
        from pygent.edits.lsp import to_workspace_edit

        versions: dict[Path, int | None] = {}
        if self._workspace is not None:
            for path in change_set.paths():
                doc = self._workspace.document(path)
                if doc is not None:
                    versions[path] = doc.version
        edit = to_workspace_edit(
            change_set,
            annotations=self._conn.features.change_annotations,
            position_encoding=self._conn.features.position_encoding,
            versions=versions,
        )
        files = await asyncio.to_thread(edit_files_meta, change_set)
        meta = {"pygent": {"toolCallId": change_set.tool_call_id, "files": files}}
        answer = await self._ask(
            "workspace/applyEdit", {"label": change_set.label, "edit": edit, "_meta": meta}
        )
        if answer is _CANCELLED:
            return ApplyResult(False, "The turn was cancelled while the edit was in review.")
        if isinstance(answer, _Failed):
            return ApplyResult(False, f"The editor could not apply the edit: {answer.message}")
        applied = isinstance(answer, dict) and answer.get("applied") is True
        if applied:
            self._follow(change_set)
            return ApplyResult(True)
        # `applied: false` is the person's decision in review, unless the client names the change
        # that failed (LSP's `failedChange`): then the editor could not apply it.
        failed = isinstance(answer, dict) and isinstance(answer.get("failedChange"), int)
        if change_set.tool_call_id and not failed:
            self._rejected.add(change_set.tool_call_id)
        reason = answer.get("failureReason") if isinstance(answer, dict) else None
        return ApplyResult(
            False, reason if isinstance(reason, str) and reason else None, rejected=not failed
        )

    # -- turn control ------------------------------------------------------------------------

    def begin_turn(self, progress_token: str | int | None) -> None:
        """Reset the cancel flag; remember the prompt's ``workDoneToken``."""
        self._cancel = asyncio.Event()
        self.progress_token = progress_token
        self._titles.clear()
        self._rejected.clear()

    def cancel(self) -> None:
        """Release every wait for the client (permission, edit review) as cancelled."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called in this turn."""
        return self._cancel.is_set()

    # -- internals ---------------------------------------------------------------------------

    def _note_outcome(
        self, request: PermissionRequest, outcome: PermissionOutcome
    ) -> PermissionOutcome:
        """Remember a "Reject" answer, so the call's end is marked as the person's decision."""
        if is_rejection(request, outcome):
            call_id = (request.get("toolCall") or {}).get("toolCallId")
            if call_id:
                self._rejected.add(str(call_id))
        return outcome

    async def _settle(self) -> None:
        """Let the server send the updates the turn queued (the ``tool_call`` first), then flush.

        The agent queues updates for the server's consumer task and asks through this port
        directly; yielding to the loop lets that consumer run, so the client sees the tool call
        before the question about it.
        """
        for _ in range(3):
            await asyncio.sleep(0)
        self.flush()

    def _send_update(self, update: dict[str, Any]) -> None:
        self._conn.notify(SESSION_UPDATE, {"sessionId": self.session_id, "update": update})
        for listener in list(self._listeners):
            try:
                listener(update)
            except Exception as exc:  # a listener must never break the stream
                logger.opt(exception=exc).warning("session update listener failed")

    async def _ask(self, method: str, params: dict[str, Any]) -> Any:
        """Send a request and wait for its answer or the turn's cancellation."""
        request_id, answer = self._conn.request(method, params)
        answer_task: asyncio.Future[Any] = asyncio.ensure_future(answer)
        cancel_task = asyncio.ensure_future(self._cancel.wait())
        try:
            await asyncio.wait({answer_task, cancel_task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            cancel_task.cancel()
            if not answer_task.done():
                answer_task.cancel()
                self._conn.cancel_request(request_id)
        if answer_task.cancelled():
            return _CANCELLED
        exc = answer_task.exception()
        if exc is not None:
            logger.warning("{} failed on the client: {}", method, exc)
            return _Failed(str(exc))
        return answer_task.result()

    def _follow(self, change_set: ChangeSet) -> None:
        if not self._follow_agent:
            return
        for change in change_set.changes:
            if isinstance(change, (TextChange, CreateFile)):
                path = change.path
            elif isinstance(change, RenameFile):
                path = change.destination
            else:
                continue
            _, answer = self._conn.request(
                "window/showDocument", {"uri": path.as_uri(), "takeFocus": False}
            )
            task = asyncio.ensure_future(answer)
            task.add_done_callback(_ignore_result)


class _Failed:
    def __init__(self, message: str) -> None:
        self.message = message


_CANCELLED = object()


def _ignore_result(task: asyncio.Future[Any]) -> None:
    with contextlib.suppress(BaseException):
        task.result()


def _outcome_from_answer(answer: Any, options: list[Any]) -> PermissionOutcome:
    """Validate the client's ``{outcome}``; anything malformed counts as ``cancelled``."""
    if isinstance(answer, _Failed) or not isinstance(answer, dict):
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


def mark_rejected(update: dict[str, Any]) -> dict[str, Any]:
    """A copy of a ``tool_call_update`` with ``_meta.pygent.outcome = "rejected"`` (other meta kept)."""
    meta = dict(update.get("_meta") or {})
    pygent = dict(meta.get("pygent") or {})
    pygent["outcome"] = OUTCOME_REJECTED
    meta["pygent"] = pygent
    return {**update, "_meta": meta}


def edit_files_meta(change_set: ChangeSet) -> list[dict[str, Any]]:
    """``_meta.pygent.files`` of a ``workspace/applyEdit``: each file's text before and after.

    One entry per change, in order: ``{uri, oldText, newText}`` with ``oldText`` None for a created
    file (an overwritten one has its current text) and ``newText`` None for a deleted one
    (``oldText`` None too when a deleted file is not text). A rename is ``{uri: <new>, oldUri: <old>, oldText, newText}`` with the moved file's text
    in both (None for a file that is not UTF-8 text or is missing): its contents do not change.
    """
    out: list[dict[str, Any]] = []
    for change in change_set.changes:
        if isinstance(change, TextChange):
            out.append(
                {
                    "uri": change.path.as_uri(),
                    "oldText": change.old_text,
                    "newText": change.new_text,
                }
            )
        elif isinstance(change, CreateFile):
            # Overwriting an existing file replaces its text: oldText is what it held.
            previous = _read_text(change.path) if change.overwrite else None
            out.append(
                {"uri": change.path.as_uri(), "oldText": previous, "newText": change.content}
            )
        elif isinstance(change, DeleteFile):
            out.append({"uri": change.path.as_uri(), "oldText": change.old_text, "newText": None})
        elif isinstance(change, RenameFile):
            text = _read_text(change.source)
            out.append(
                {
                    "uri": change.destination.as_uri(),
                    "oldUri": change.source.as_uri(),
                    "oldText": text,
                    "newText": text,
                }
            )
    return out


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def permission_message(request: PermissionRequest) -> str:
    """The question for ``window/showMessageRequest``: what pygent wants to do and why it asks.

    A request whose ``_meta.pygent.message`` is set (the MCP trust question) uses that text.
    """
    meta_pygent = (request.get("_meta") or {}).get("pygent")
    if isinstance(meta_pygent, dict) and isinstance(meta_pygent.get("message"), str):
        return str(meta_pygent["message"])
    call = request.get("toolCall") or {}
    title = str(call.get("title") or call.get("kind") or "use a tool")
    reason = ""
    meta = request.get("_meta") or {}
    if isinstance(meta, dict):
        why = meta.get("reason")
        if not why and isinstance(meta.get("pygent"), dict):
            why = meta["pygent"].get("reason")
        if why:
            reason = f" ({why})"
    first = title[:1].lower() + title[1:] if title[:1].isupper() and title[1:2].islower() else title
    return f"pygent wants to {first}{reason}"
