"""The conversation loop: one turn = model calls, tool runs and results fed back, until done.

``async for update in agent.prompt(session, blocks)`` runs a turn and yields ACP session updates
(:mod:`pygent.protocol.updates`): ``agent_message_chunk``, ``agent_thought_chunk``, ``tool_call``,
``tool_call_update`` (with diffs from edit tools), ``usage_update`` and ``pygent_notice``. The loop
never calls ``port.emit`` itself: every update comes out of the iterator, and the frontend decides
where it goes. When the iteration ends, :attr:`Turn.stop_reason` and :attr:`Turn.usage` are set.

The history stays valid for the next request whatever happens: every assistant tool call gets a
result in the history (a synthetic one if it never ran), partial text is kept with a note when a
turn is cancelled or fails, and errors leave the loop only after that.

Example::

    agent = Agent(settings, Workspace([root]), HeadlessPort())
    turn = agent.prompt(session, [{"type": "text", "text": "Explain main.py"}])
    async for update in turn:
        print(update)
    print(turn.stop_reason, turn.usage)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import unquote, urlparse

from pygent import errors
from pygent.agent.llm import (
    FinishEvent,
    ReasoningDelta,
    RetryNotice,
    TextDelta,
    ToolCallEvent,
    UsageEvent,
)
from pygent.protocol import updates
from pygent.protocol.port import is_rejection

if TYPE_CHECKING:
    from pygent.edits.changes import ApplyResult, ChangeSet
    from pygent.mcp.config import ServerConfig
    from pygent.mcp.manager import TrustAsk
    from pygent.protocol.port import FrontendPort, PermissionOutcome, PermissionRequest
    from pygent.settings.models import Settings
    from pygent.tools.base import (
        PermissionDecision,
        PermissionGate,
        ToolContext,
        ToolRegistry,
        ToolResult,
        ToolSpec,
    )
    from pygent.tools.workspace import Workspace

__all__ = ["CANCELLED_RESULT", "INTERRUPTED_NOTE", "Agent", "SessionLike", "StopReason", "Turn"]

StopReason = Literal["end_turn", "max_tokens", "max_turn_requests", "refusal", "cancelled"]

#: Appended to partial assistant text when the person cancels the turn.
INTERRUPTED_NOTE = "[interrupted by user]"
#: The result recorded for a tool call that was cancelled or never ran because of a cancel.
CANCELLED_RESULT = "Cancelled by the user."
#: Characters of a tool's text output shown in the final ``tool_call_update`` (the model gets more).
UI_OUTPUT_CHARS = 8_000
#: Characters of an attached file included in the prompt.
ATTACHMENT_CHARS = 100_000
#: Tool calls run from one model message; the rest get a "not run" result (hostile or looping
#: models can emit thousands).
MAX_TOOL_CALLS_PER_MESSAGE = 64
#: Characters of one call's argument JSON; a larger call is refused before it is parsed, and only
#: ``{}`` is kept in the history (no model writes this much in one call; a hostile one might).
MAX_TOOL_ARGUMENT_CHARS = 4 * 1024 * 1024

_FALLBACK_SYSTEM_PROMPT = (
    "You are pygent, an AI coding agent working in the repository at {root}. Use the tools to "
    "read, search and change files and to run commands. Keep answers short and concrete."
)


def screen_calls(
    calls: list[ToolCallEvent],
) -> tuple[list[ToolCallEvent], dict[str, str]]:
    """Bound what one model message can make pygent do, before anything runs.

    Returns:
        The calls (an oversized call's arguments replaced by ``{}``, so neither the history nor
        the editor receives them) and, by call id, the "not run" reason of each refused call:
        arguments over :data:`MAX_TOOL_ARGUMENT_CHARS`, or calls past
        :data:`MAX_TOOL_CALLS_PER_MESSAGE`.
    """
    screened: list[ToolCallEvent] = []
    refused: dict[str, str] = {}
    for index, call in enumerate(calls):
        size = len(call.arguments or "")
        if size > MAX_TOOL_ARGUMENT_CHARS:
            refused[call.id] = (
                f"Not run: the arguments of this {call.name} call are {size:,} characters, over "
                f"the limit of {MAX_TOOL_ARGUMENT_CHARS:,}. Write large content in smaller "
                "pieces (several edit_file calls)."
            )
            call = ToolCallEvent(call.id, call.name, "{}")
        elif index >= MAX_TOOL_CALLS_PER_MESSAGE:
            refused[call.id] = (
                f"Not run: {len(calls)} tool calls in one message; at most "
                f"{MAX_TOOL_CALLS_PER_MESSAGE} run per message. Ask for the rest in the next one."
            )
        screened.append(call)
    return screened, refused


class SessionLike(Protocol):
    """What the loop needs from a session (:class:`pygent.agent.session.Session` provides it)."""

    id: str
    messages: list[dict[str, Any]]

    def append(self, message: dict[str, Any]) -> None:
        """Persist one OpenAI-format message and add it to :attr:`messages`."""
        ...


@dataclass
class _Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float | None = None

    def add(self, event: UsageEvent) -> None:
        self.input_tokens += event.prompt_tokens
        self.output_tokens += event.completion_tokens
        self.cached_tokens += event.cached_tokens
        if event.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + event.cost_usd

    def as_dict(self) -> dict[str, Any]:
        return {
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "cachedReadTokens": self.cached_tokens,
            "totalTokens": self.input_tokens + self.output_tokens,
            "costUsd": self.cost_usd,
        }


_END = object()


@dataclass
class _CallState:
    """Bookkeeping for the tool calls of the current assistant message."""

    calls: list[ToolCallEvent] = field(default_factory=list)
    results: dict[str, tuple[str, bool]] = field(default_factory=dict)
    recorded: set[str] = field(default_factory=set)
    diffs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    timings: dict[str, tuple[float, float | None]] = field(default_factory=dict)
    """By call id: milliseconds the tool ran, and those spent waiting for the person (or None)."""
    rejected: set[str] = field(default_factory=set)
    """Ids of the calls the person turned down."""


class Turn:
    """One running turn: an async iterator of ACP update dicts.

    Attributes:
        stop_reason: Set when the iteration ends normally: ``end_turn``, ``max_tokens``,
            ``max_turn_requests``, ``refusal`` or ``cancelled``.
        usage: ``{inputTokens, outputTokens, cachedReadTokens, totalTokens, costUsd}`` of every
            model call of the turn (``costUsd`` None when litellm does not know the prices).
        error: The :class:`~pygent.errors.PygentError` that ended the turn, if any (also raised
            out of the iteration).
    """

    def __init__(
        self, agent: Agent, session: SessionLike, blocks: Sequence[dict[str, Any]]
    ) -> None:
        self._agent = agent
        self._session = session
        self._blocks = list(blocks)
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._cancel_requested = False
        self._usage = _Usage()
        self.stop_reason: StopReason | None = None
        self.error: errors.PygentError | None = None
        # What is in flight, so a cancel or an error can make the history consistent.
        self._partial_text: list[str] = []
        self._calls: _CallState | None = None
        self._user_appended = False
        self._tool_calls = 0
        from pygent.telemetry import TurnRecorder

        self.telemetry = TurnRecorder(agent.settings)

    # -- public -----------------------------------------------------------------------------

    @property
    def usage(self) -> dict[str, Any]:
        """Token usage of the turn so far."""
        return self._usage.as_dict()

    @property
    def done(self) -> bool:
        """True once the turn has finished (normally, cancelled, or with an error)."""
        return self._task is not None and self._task.done()

    def cancel(self) -> None:
        """Stop the turn at once: the stream, a running tool, a pending permission request.

        Safe to call from the event loop's thread at any time (signal handlers should schedule it
        with ``loop.call_soon_threadsafe``). The iteration then ends with ``stop_reason ==
        "cancelled"`` after the history was made consistent.
        """
        self._cancel_requested = True
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def __aiter__(self) -> Turn:
        return self

    async def __anext__(self) -> dict[str, Any]:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())
        try:
            item = await self._queue.get()
        except asyncio.CancelledError:
            # The consumer was cancelled: cancel the turn and let it clean up before leaving.
            self.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.shield(self._task)
            raise
        if item is _END:
            self._queue.put_nowait(_END)  # later calls end too
            if self.error is not None:
                raise self.error
            raise StopAsyncIteration
        update: dict[str, Any] = item
        return update

    async def aclose(self) -> None:
        """Cancel the turn (if running) and wait until it has cleaned up."""
        if self._task is None:
            self._cancel_requested = True
            return
        self.cancel()
        with contextlib.suppress(BaseException):
            await self._task

    async def collect(self) -> list[dict[str, Any]]:
        """Run the turn to the end and return every update (convenience for scripts and tests)."""
        return [update async for update in self]

    # -- internals --------------------------------------------------------------------------

    def emit(self, update: dict[str, Any]) -> None:
        """Queue an update for the consumer (also used as the tools' ``emit``)."""
        calls = self._calls
        if (
            calls is not None
            and update.get("sessionUpdate") == "tool_call_update"
            and update.get("content")
        ):
            diffs = [
                c for c in update["content"] if isinstance(c, dict) and c.get("type") == "diff"
            ]
            if diffs:
                calls.diffs[str(update.get("toolCallId", ""))] = diffs
        self._queue.put_nowait(update)

    def add_usage(self, event: UsageEvent) -> None:
        self._usage.add(event)
        self.emit(updates.usage_update(self.usage))

    async def _run(self) -> None:
        from loguru import logger

        session_id = str(getattr(self._session, "id", "")) or "-"
        settings = self._agent.settings
        started = time.perf_counter()
        logger.info(
            "turn start: session={} model={} mode={} history={} messages",
            session_id,
            settings.llm.model,
            settings.permissions.mode,
            len(self._session.messages),
        )
        try:
            if self._cancel_requested:
                raise asyncio.CancelledError
            self.stop_reason = await self._agent._run_turn(self, self._session, self._blocks)
        except asyncio.CancelledError:
            self._settle(INTERRUPTED_NOTE, CANCELLED_RESULT)
            self.stop_reason = "cancelled"
        except errors.PygentError as exc:
            self._settle(
                f"[interrupted: {exc.message}]", f"Not run: the turn stopped ({exc.message})"
            )
            self.error = exc
            logger.error("turn failed: session={} code={}: {}", session_id, exc.code, exc.message)
        except Exception as exc:
            logger.opt(exception=exc).error("agent turn crashed")
            self._settle(
                "[interrupted: internal error]", "Not run: the turn stopped (internal error)."
            )
            self.error = errors.PygentError(
                "internal",
                f"The agent failed unexpectedly: {type(exc).__name__}: {exc}.",
                "This is a bug in pygent; `pygent report` bundles the logs for a report.",
            )
        finally:
            self._record_usage()
            self.telemetry.finish(self.stop_reason, self.error.code if self.error else None)
            self._queue.put_nowait(_END)  # first: nothing below may keep the iteration waiting
            usage = self._usage.as_dict()
            logger.info(
                "turn end: session={} stop={} requests={} tools={} duration={:.0f} ms "
                "tokens_in={} tokens_out={}",
                session_id,
                self.stop_reason or (self.error.code if self.error else "error"),
                self.telemetry.requests,
                self._tool_calls,
                (time.perf_counter() - started) * 1000,
                usage.get("inputTokens", 0),
                usage.get("outputTokens", 0),
            )

    def _record_usage(self) -> None:
        """Store the turn's usage in the session (replay shows it); never raises."""
        record = getattr(self._session, "record_usage", None)
        usage = self._usage
        if not callable(record) or not (usage.input_tokens or usage.output_tokens):
            return
        try:
            record(self.usage)
        except Exception as exc:  # e.g. the disk is full: the turn must still end
            from loguru import logger

            logger.opt(exception=exc).warning("could not record the turn's usage in the session")

    def _settle(self, text_note: str, result_text: str) -> None:
        """Make the history valid after an interruption (never raises: it runs in handlers)."""
        try:
            self._settle_history(text_note, result_text)
        except Exception as exc:  # e.g. the disk is full: the turn must still end
            from loguru import logger

            logger.opt(exception=exc).error("could not record the interruption in the session")

    def _settle_history(self, text_note: str, result_text: str) -> None:
        session = self._session
        if self._partial_text:
            text = "".join(self._partial_text).rstrip()
            self._partial_text = []
            _append(session, {"role": "assistant", "content": f"{text}\n\n{text_note}"})
        elif (
            self._user_appended
            and self._calls is None
            and session.messages
            and session.messages[-1].get("role") == "user"
        ):
            _append(session, {"role": "assistant", "content": text_note})
        calls = self._calls
        if calls is not None:
            for call in calls.calls:
                if call.id in calls.recorded:
                    continue
                text, failed = calls.results.get(call.id, (result_text, True))
                _append(
                    session,
                    {"role": "tool", "tool_call_id": call.id, "content": text},
                    failed=failed,
                )
                calls.recorded.add(call.id)
                if call.id not in calls.results:
                    self.emit(
                        updates.tool_call_update(
                            call.id, "failed", [updates.text_content(result_text)]
                        )
                    )
            self._calls = None


class _StartNotice:
    """Wraps the permission gate: once a call is allowed, its status becomes ``in_progress``.

    Dispatch asks the gate after validating the arguments and right before running the tool, so
    this is exactly when the tool starts (a frontend shows the call as running from then on).
    """

    def __init__(
        self, inner: PermissionGate | None, emit: Callable[[dict[str, Any]], None]
    ) -> None:
        self.inner = inner
        self.emit = emit

    async def check(
        self, spec: ToolSpec, args: dict[str, Any], ctx: ToolContext
    ) -> PermissionDecision:
        from pygent.tools.base import PermissionDecision

        decision = (
            await self.inner.check(spec, args, ctx)
            if self.inner is not None
            else PermissionDecision(True)
        )
        if decision.allowed:
            self.emit(updates.tool_call_update(ctx.tool_call_id, "in_progress"))
        return decision


class _TimedPort:
    """The frontend port as one tool call sees it, timing the waits for the person.

    Time spent in a permission question, or in an edit the frontend reviews, is the person's,
    not the tool's: the card shows it apart ("0.4s (waited 12.0s for approval)").
    """

    def __init__(self, inner: FrontendPort) -> None:
        self._inner = inner
        self.waited_ms: float | None = None
        """Milliseconds spent waiting for the person; None while nobody was asked."""
        self.rejected = False
        """The person turned the call down (a "Reject" answer, an edit rejected in review)."""

    @property
    def reviews_edits(self) -> bool:
        return self._inner.reviews_edits

    def emit(self, update: dict[str, Any]) -> None:
        self._inner.emit(update)

    async def request_permission(self, request: PermissionRequest) -> PermissionOutcome:
        started = time.perf_counter()
        try:
            outcome = await self._inner.request_permission(request)
        finally:
            self._waited(started)
        if is_rejection(request, outcome):
            self.rejected = True
        return outcome

    async def apply_edit(self, change_set: ChangeSet) -> ApplyResult:
        if not self._inner.reviews_edits:  # written to disk at once: the tool's own time
            result = await self._inner.apply_edit(change_set)
        else:
            started = time.perf_counter()
            try:
                result = await self._inner.apply_edit(change_set)
            finally:
                self._waited(started)
        if result.rejected:
            self.rejected = True
        return result

    def __getattr__(self, name: str) -> Any:
        # Optional capabilities (``run_command``, ...) and attributes of the real port.
        return getattr(self._inner, name)

    def _waited(self, started: float) -> None:
        self.waited_ms = (self.waited_ms or 0.0) + (time.perf_counter() - started) * 1000.0


def _append(
    session: SessionLike,
    message: dict[str, Any],
    *,
    failed: bool = False,
    timing: tuple[float, float | None] | None = None,
    rejected: bool = False,
) -> None:
    """Append ``message`` with its status, timings and outcome, as far as ``session.append``
    takes them."""
    full: dict[str, Any] = {"status": "failed"} if failed else {}
    if timing is not None:
        full["duration_ms"] = timing[0]
        if timing[1] is not None:
            full["approval_wait_ms"] = timing[1]
    if rejected:
        full["outcome"] = "rejected"
    # A SessionLike may not take these keywords: then without the timings, then plain.
    attempts = [full] if full else []
    if failed and len(full) > 1:
        attempts.append({"status": "failed"})
    for keywords in attempts:
        try:
            session.append(message, **keywords)  # type: ignore[call-arg]
            return
        except TypeError:
            continue
    session.append(message)


class Agent:
    """Runs turns of a conversation: the model, the tools, the permission gate and the port.

    Args:
        settings: Effective settings (model, limits, ...).
        workspace: Workspace roots and the editor buffer overlay.
        port: The frontend port (permission requests and edits go through it; updates do not).
        registry: Tools the model may call (default: every built-in tool).
        gate: Permission gate (default: none, every call runs; the server and ``pygent run``
            pass a :class:`pygent.permissions.engine.PermissionEngine`).
        system_prompt: A fixed system prompt (default: built from the settings every turn).
        context_window: Override the model's context window in tokens (default: litellm's model
            map, else 128k).
    """

    def __init__(
        self,
        settings: Settings,
        workspace: Workspace,
        port: FrontendPort,
        *,
        registry: ToolRegistry | None = None,
        gate: PermissionGate | None = None,
        system_prompt: str | None = None,
        context_window: int | None = None,
    ) -> None:
        self.settings = settings
        self.workspace = workspace
        self.port = port
        self.registry = registry if registry is not None else _default_registry(settings)
        self._base_registry: ToolRegistry | None = None  # the registry before MCP tools joined
        self.mcp_servers: list[ServerConfig] = []
        """MCP servers the editor gave for this session (set by the server that owns the agent)."""
        self.mcp_trust: TrustAsk | None = None
        """Asks the person to trust the project's MCP servers (None: skip them with a notice)."""
        self.gate = gate
        self.system_prompt = system_prompt
        self._context_window = context_window
        self._model_windows: dict[str, int] = {}

    # -- public -----------------------------------------------------------------------------

    def prompt(self, session: SessionLike, blocks: Sequence[dict[str, Any]]) -> Turn:
        """Start a turn with the user's content blocks (ACP ``ContentBlock`` dicts).

        Nothing runs until the returned :class:`Turn` is iterated.
        """
        return Turn(self, session, blocks)

    @property
    def context_window(self) -> int:
        """The model's context window in tokens."""
        if self._context_window is not None:
            return self._context_window
        model = self.settings.llm.model  # settings may be replaced between turns (setModel)
        if model not in self._model_windows:
            from pygent.agent.context import context_window

            self._model_windows[model] = context_window(model)
        return self._model_windows[model]

    async def compact(self, session: SessionLike) -> bool:
        """Summarise older turns of ``session`` now; False when there was nothing to compact."""
        from pygent.agent.llm import check_api_key, prepare_backend

        key = check_api_key(self.settings)
        await prepare_backend(self.settings)
        return await self._compact(session, key, None)

    def build_system_prompt(self) -> str:
        """The system prompt for the next request (rebuilt every turn: settings may change)."""
        if self.system_prompt is not None:
            return self.system_prompt
        try:
            from pygent.prompts import build_system_prompt
        except ImportError:  # pragma: no cover - prompts ship with pygent
            return _FALLBACK_SYSTEM_PROMPT.format(root=self.workspace.root)
        return build_system_prompt(self.settings, self.workspace.root)

    def user_message(self, blocks: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """The OpenAI user message for ACP content blocks (files and selections inlined)."""
        texts: list[str] = []
        images: list[dict[str, Any]] = []
        for block in blocks:
            kind = block.get("type")
            if kind == "text":
                texts.append(str(block.get("text", "")))
            elif kind == "resource_link":
                texts.append(self._attached_file(block))
            elif kind == "resource":
                texts.append(_embedded_resource(block))
            elif kind == "image" and block.get("data"):
                mime = block.get("mimeType", "image/png")
                images.append(
                    {
                        "type": "image_url",
                        "image_url": {"url": f"data:{mime};base64,{block['data']}"},
                    }
                )
            else:
                raise errors.invalid_params(
                    f"Unsupported content block type {kind!r}: use text, resource_link, resource or image."
                )
        text = "\n\n".join(t for t in texts if t)
        if not text.strip() and not images:
            raise errors.invalid_params("The prompt is empty: send some text or an attachment.")
        if images:
            parts: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
            return {"role": "user", "content": parts + images}
        return {"role": "user", "content": text}

    # -- the turn ---------------------------------------------------------------------------

    async def _run_turn(
        self, turn: Turn, session: SessionLike, blocks: Sequence[dict[str, Any]]
    ) -> StopReason:
        from pygent.agent.llm import check_api_key, prepare_backend

        key = check_api_key(self.settings)  # no_api_key before anything is sent or saved
        await prepare_backend(self.settings)  # litellm is imported only when it serves the model
        user = self.user_message(blocks)
        from pygent import plugins

        for text in plugins.take_failure_notices():  # once per process, in the first turn
            turn.emit(updates.notice(text, "warning"))
        await self._attach_mcp_tools(turn)
        system = self.build_system_prompt()
        session.append(user)
        turn._user_appended = True
        tools = self.registry.schemas()
        limit = self.settings.llm.max_turn_requests
        requests = 0
        while True:
            if requests >= limit:
                turn.emit(
                    updates.notice(
                        f"Stopped after {limit} model requests in one turn "
                        "(llm.max_turn_requests); send a message to continue.",
                        "warning",
                    )
                )
                return "max_turn_requests"
            requests += 1
            turn.telemetry.requests = requests
            finish, calls = await self._model_call(turn, session, system, tools, key)
            calls, refused = screen_calls(calls)
            if finish == "content_filter":
                self._record_assistant(turn, session, calls)
                if calls:
                    await self._skip_calls(turn, session, calls, "Not run: the provider refused.")
                return "refusal"
            if finish == "length":
                self._record_assistant(turn, session, calls)
                if calls:
                    await self._skip_calls(
                        turn, session, calls, "Not run: the answer was cut off (max_tokens)."
                    )
                return "max_tokens"
            self._record_assistant(turn, session, calls)
            if not calls:
                return "end_turn"
            await self._run_tools(turn, session, calls, refused)

    async def _model_call(
        self,
        turn: Turn,
        session: SessionLike,
        system: str,
        tools: list[dict[str, Any]],
        key: str | None,
    ) -> tuple[str, list[ToolCallEvent]]:
        """Stream one model request; returns (finish reason, tool calls). Text stays in the turn."""
        from pygent.agent.llm import stream_completion

        await self._maybe_compact(turn, session, system, tools, key)
        compacted = False
        while True:
            messages = [{"role": "system", "content": system}, *valid_history(session.messages)]
            calls: list[ToolCallEvent] = []
            finish = "stop"
            turn._partial_text = []
            try:
                async with contextlib.aclosing(
                    stream_completion(self.settings, messages, tools or None, api_key=key)
                ) as stream:
                    async for event in stream:
                        if isinstance(event, TextDelta):
                            turn.telemetry.first_token()
                            turn._partial_text.append(event.text)
                            turn.emit(updates.agent_message_chunk(event.text))
                        elif isinstance(event, ReasoningDelta):
                            turn.telemetry.first_token()
                            turn.emit(updates.agent_thought_chunk(event.text))
                        elif isinstance(event, ToolCallEvent):
                            calls.append(event)
                        elif isinstance(event, UsageEvent):
                            turn.add_usage(event)
                        elif isinstance(event, FinishEvent):
                            finish = event.reason
                        elif isinstance(event, RetryNotice):
                            turn.emit(updates.notice(event.message, "warning"))
            except errors.PygentError as exc:
                if exc.code != "context_overflow" or compacted or turn._partial_text:
                    raise
                compacted = True
                notice = "The context window is full: compacting the conversation."
                if not await self._compact(session, key, turn, notice):
                    raise
                continue
            return finish, calls

    def _record_assistant(
        self, turn: Turn, session: SessionLike, calls: list[ToolCallEvent]
    ) -> None:
        text = "".join(turn._partial_text)
        turn._partial_text = []
        message: dict[str, Any] = {"role": "assistant", "content": text or None}
        if calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments or "{}"},
                }
                for call in calls
            ]
            turn._calls = _CallState(calls=list(calls))
        elif not text:
            message["content"] = ""
        session.append(message)

    async def _skip_calls(
        self, turn: Turn, session: SessionLike, calls: list[ToolCallEvent], reason: str
    ) -> None:
        for call in calls:
            turn.emit(self._tool_call_update(call))
            turn.emit(updates.tool_call_update(call.id, "failed", [updates.text_content(reason)]))
        state = turn._calls
        if state is not None:
            for call in calls:
                state.results[call.id] = (reason, True)
        turn._settle("", reason)

    # -- tools ------------------------------------------------------------------------------

    async def _attach_mcp_tools(self, turn: Turn) -> None:
        """Add the configured MCP servers' tools (servers start on the first turn that needs them)."""
        from pygent import mcp

        if self._base_registry is None:
            if not self.mcp_servers and not mcp.has_servers(self.settings):
                return
            self._base_registry = self.registry
        try:
            self.registry, notices = await mcp.session_tools(
                self.settings,
                self.workspace.root,
                self._base_registry,
                self.mcp_servers,
                self.mcp_trust,
            )
        except Exception as exc:  # a bug there must not cost the turn: go on without MCP tools
            from loguru import logger

            logger.opt(exception=exc).error("MCP tools could not be attached")
            self.registry = self._base_registry
            notices = [f"MCP servers are unavailable in this turn: {type(exc).__name__}: {exc}."]
        for text in notices:  # each failure once per process
            turn.emit(updates.notice(text, "warning"))

    async def _run_tools(
        self,
        turn: Turn,
        session: SessionLike,
        calls: list[ToolCallEvent],
        refused: dict[str, str] | None = None,
    ) -> None:
        state = turn._calls
        assert state is not None
        refused = refused or {}
        for call in calls:
            turn.emit(self._tool_call_update(call))
        for call in calls:
            if call.id in refused:
                state.results[call.id] = (refused[call.id], True)
                turn.emit(
                    updates.tool_call_update(
                        call.id, "failed", [updates.text_content(refused[call.id])]
                    )
                )
        runnable = [call for call in calls if call.id not in refused]
        for group in self._groups(runnable):
            if len(group) == 1:
                await self._run_one(turn, group[0])
            else:
                await asyncio.gather(*(self._run_one(turn, call) for call in group))
            for call in group:
                text, failed = state.results[call.id]
                _append(
                    session,
                    {"role": "tool", "tool_call_id": call.id, "content": text},
                    failed=failed,
                    timing=state.timings.get(call.id),
                    rejected=call.id in state.rejected,
                )
                state.recorded.add(call.id)
        for call in calls:
            if call.id in refused:
                _append(
                    session,
                    {"role": "tool", "tool_call_id": call.id, "content": refused[call.id]},
                    failed=True,
                )
                state.recorded.add(call.id)
        turn._calls = None

    def _groups(self, calls: list[ToolCallEvent]) -> list[list[ToolCallEvent]]:
        """Consecutive READ calls run together; everything else runs alone, in order."""
        from pygent.tools.base import ToolRisk

        groups: list[list[ToolCallEvent]] = []
        previous_read = False
        for call in calls:
            spec = self.registry.get(call.name)
            # Unknown tools fail in dispatch without side effects: they may join a READ group.
            is_read = spec is None or spec.risk is ToolRisk.READ
            if is_read and previous_read:
                groups[-1].append(call)
            else:
                groups.append([call])
            previous_read = is_read
        return groups

    def _tool_call_update(self, call: ToolCallEvent) -> dict[str, Any]:
        from pygent.tools.base import locations_for

        spec = self.registry.get(call.name)
        args = _lenient_args(call.arguments)
        if spec is None:
            return updates.tool_call(call.id, call.name or "unknown tool", "other", args)
        title = spec.make_title(args)
        try:
            locations = locations_for(spec, args, self.workspace)
        except Exception:
            locations = []
        return updates.tool_call(call.id, title, spec.kind, args, locations)

    async def _run_one(self, turn: Turn, call: ToolCallEvent) -> None:
        from pygent.tools.base import ToolContext, cap_output, dispatch

        state = turn._calls
        assert state is not None
        port = _TimedPort(self.port)
        ctx = ToolContext(
            workspace=self.workspace,
            settings=self.settings,
            port=port,
            session_id=str(getattr(turn._session, "id", "")),
            tool_call_id=call.id,
            emit=turn.emit,
        )
        gate = _StartNotice(self.gate, turn.emit)
        from loguru import logger

        turn._tool_calls += 1
        # Arguments can hold anything the model saw: DEBUG only, capped (and redacted at the sink).
        # Lazy: the excerpt is built only when DEBUG is written (arguments may be megabytes).
        logger.opt(lazy=True).debug(
            "tool call {} {}: arguments {}",
            lambda: call.name,
            lambda: call.id,
            lambda: _log_excerpt(call.arguments),
        )
        started = time.perf_counter()
        result: ToolResult = await dispatch(self.registry, call.name, call.arguments, ctx, gate)
        # The person's time (a permission question, an edit review) is not the tool's.
        waited = port.waited_ms
        ran = max(0.0, (time.perf_counter() - started) * 1000.0 - (waited or 0.0))
        logger.info(
            "tool call {}: {} in {:.1f} ms{}",
            call.name,
            "ok" if not result.is_error else "failed",
            ran,
            f" (waited {waited:.0f} ms for approval)" if waited is not None else "",
        )
        if result.is_error:
            logger.opt(lazy=True).debug(
                "tool call {} {} failed: {}",
                lambda: call.name,
                lambda: call.id,
                lambda: _log_excerpt(result.text),
            )
        turn.telemetry.tool(call.name, "error" if result.is_error else "ok", ran / 1000)
        state.results[call.id] = (result.text, result.is_error)
        state.timings[call.id] = (ran, waited)
        if port.rejected:
            state.rejected.add(call.id)
        content: list[dict[str, Any]] = list(state.diffs.get(call.id, []))
        content += [c for c in result.content or [] if c not in content]
        if result.text:
            content.append(updates.text_content(cap_output(result.text, UI_OUTPUT_CHARS)))
        turn.emit(
            updates.tool_call_update(
                call.id,
                result.status,
                content or None,
                result.raw_output,
                duration_ms=ran,
                approval_wait_ms=waited,
            )
        )

    # -- context ----------------------------------------------------------------------------

    async def _maybe_compact(
        self,
        turn: Turn,
        session: SessionLike,
        system: str,
        tools: list[dict[str, Any]],
        key: str | None,
    ) -> None:
        from pygent.agent.context import estimate_tokens

        window = self.context_window
        threshold = int(window * self.settings.llm.compact_threshold)
        messages = [{"role": "system", "content": system}, *session.messages]
        # The exact count only runs when the rough estimate is within reach of the threshold.
        used = estimate_tokens(
            self.settings.llm.model, messages, tools, exact_above=int(threshold * 0.6)
        )
        if used <= threshold:
            return
        notice = f"The conversation uses about {used} of {window} tokens: compacting older turns."
        await self._compact(session, key, turn, notice)

    async def _compact(
        self, session: SessionLike, key: str | None, turn: Turn | None, notice: str = ""
    ) -> bool:
        from pygent.agent.context import compact_history
        from pygent.agent.llm import stream_completion

        async def summarize(request: list[dict[str, Any]]) -> str:
            # Called only when there is something to compact: announce it now.
            if turn is not None and notice:
                turn.emit(updates.notice(notice))
            parts: list[str] = []
            async with contextlib.aclosing(
                stream_completion(self.settings, request, None, api_key=key)
            ) as stream:
                async for event in stream:
                    if isinstance(event, TextDelta):
                        parts.append(event.text)
                    elif isinstance(event, UsageEvent) and turn is not None:
                        turn.add_usage(event)
                    elif isinstance(event, RetryNotice) and turn is not None:
                        turn.emit(updates.notice(event.message, "warning"))
            return "".join(parts)

        from loguru import logger

        before = len(session.messages)
        session_id = str(getattr(session, "id", "")) or "-"
        logger.info(
            "compaction start: session={} messages={} window={}",
            session_id,
            before,
            self.context_window,
        )
        compacted = await compact_history(
            self.settings, list(session.messages), self.context_window, summarize
        )
        if compacted is None:
            logger.info("compaction: session={} had nothing to compact", session_id)
            return False
        logger.info(
            "compaction done: session={} messages {} -> {}", session_id, before, len(compacted)
        )
        replace = getattr(session, "replace_history", None)
        if callable(replace):
            replace(compacted)
        else:
            session.messages[:] = compacted
        if turn is not None:
            turn.emit(updates.notice("Older turns were summarised to fit the context window."))
        return True

    # -- attachments ------------------------------------------------------------------------

    def _attached_file(self, block: dict[str, Any]) -> str:
        uri = str(block.get("uri", ""))
        name = str(block.get("name") or uri)
        path = _uri_to_path(uri)
        try:
            resolved = self.workspace.resolve(path, must_exist=True, kind="file")
            text, _version = self.workspace.read_text(resolved)
        except Exception as exc:  # ToolError and OS errors: tell the model, keep the turn going
            return f"[Attached file {name} could not be read: {exc}]"
        shown = self.workspace.display(resolved)
        if "\x00" in text[:8192]:
            return f"[Attached file {shown} is binary; not included.]"
        from pygent.tools.base import cap_output

        text = cap_output(text, ATTACHMENT_CHARS, f"read {shown} with read_file to see the rest")
        return f"Attached file `{shown}`:\n{_fence(text)}"


#: Characters of tool arguments or results a DEBUG log line shows.
LOG_EXCERPT_CHARS = 2_000


def _log_excerpt(value: Any) -> str:
    """``value`` as one log line: JSON for structures, capped at :data:`LOG_EXCERPT_CHARS`."""
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    shown = text[:LOG_EXCERPT_CHARS].replace("\n", "\\n")
    return shown if len(text) <= LOG_EXCERPT_CHARS else f"{shown}... ({len(text)} characters)"


def valid_history(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``messages`` as a valid request: every tool call answered right after it, no orphan results.

    Histories written by pygent are already valid; this repairs sessions cut short by a crash
    (e.g. a process killed while a tool ran) without changing the stored history.
    """
    out: list[dict[str, Any]] = []
    index = 0
    while index < len(messages):
        message = messages[index]
        index += 1
        if message.get("role") == "tool":
            continue  # an orphan: results are consumed right after their assistant message
        if (
            message.get("role") == "assistant"
            and not message.get("content")
            and not message.get("tool_calls")
        ):
            continue  # an empty answer: some providers reject empty text
        out.append(message)
        calls = message.get("tool_calls") or []
        if message.get("role") != "assistant" or not calls:
            continue
        wanted = [str(c.get("id", "")) for c in calls if isinstance(c, dict)]
        results: dict[str, dict[str, Any]] = {}
        while index < len(messages) and messages[index].get("role") == "tool":
            result = messages[index]
            results.setdefault(str(result.get("tool_call_id", "")), result)
            index += 1
        for call_id in wanted:
            out.append(
                results.get(call_id)
                or {"role": "tool", "tool_call_id": call_id, "content": "Not run (interrupted)."}
            )
    return out


def _fence(text: str, lang: str = "") -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{lang}\n{text}{'' if text.endswith(chr(10)) else chr(10)}{fence}"


def _uri_to_path(uri: str) -> str:
    if uri.startswith("file:"):
        parsed = urlparse(uri)
        path = unquote(parsed.path)
        # file:///C:/x on Windows parses to /C:/x
        if len(path) > 2 and path[0] == "/" and path[2] == ":":
            path = path[1:]
        return path
    return uri


def _embedded_resource(block: dict[str, Any]) -> str:
    resource = block.get("resource") or {}
    uri = str(resource.get("uri", ""))
    text = resource.get("text")
    location = _uri_to_path(uri.split("#", 1)[0]) if uri else "(unnamed)"
    fragment = uri.split("#", 1)[1] if "#" in uri else ""
    meta = block.get("_meta") or resource.get("_meta") or {}
    rng = resource.get("range") or (meta.get("range") if isinstance(meta, dict) else None)
    where = ""
    if isinstance(rng, dict) and isinstance(rng.get("start"), dict):
        start, end = rng["start"], rng.get("end") or rng["start"]
        where = f" lines {int(start.get('line', 0)) + 1}-{int(end.get('line', 0)) + 1}"
    elif fragment:
        where = f" ({fragment})"
    if text is None:
        return f"[Attached resource {location}{where}: binary content not included.]"
    return f"Selection from `{location}`{where}:\n{_fence(str(text))}"


def _lenient_args(raw: str) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {"_raw": raw[:2000]}
    return value if isinstance(value, dict) else {"_raw": raw[:2000]}


def _default_registry(settings: Settings) -> ToolRegistry:
    """The built-in tools plus those of the installed plugins (loaded once per process)."""
    from pygent import plugins

    registry = _builtin_registry()
    plugins.load_plugins(settings, registry)
    return registry


def _builtin_registry() -> ToolRegistry:
    from pygent.tools import base

    try:
        return base.default_registry()
    except ModuleNotFoundError as exc:
        # A built-in tool module is missing (a partial install): use the tools that load.
        import importlib

        from loguru import logger

        logger.warning("built-in tools incomplete: {}", exc)
        for module in base.BUILTIN_MODULES:
            with contextlib.suppress(ModuleNotFoundError):
                importlib.import_module(module)
        return base._DEFAULT_REGISTRY
