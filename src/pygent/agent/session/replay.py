"""Replay: a stored history as the session updates a frontend shows (``session/load``, the TUI).

One update per stored message (text or thought), plus one per tool call and one per tool result;
never one per original streamed chunk. Stored timings and usage come back in the fields the live
turn used: a tool result's ``_meta.pygent.durationMs`` / ``approvalWaitMs``, and a
``usage_update`` after each turn's last message.
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any

from pygent.agent.session.text import message_text

if TYPE_CHECKING:
    from pygent.agent.session.store import Session
    from pygent.tools.base import ToolRegistry

__all__ = ["replay_updates"]


def replay_updates(session: Session, registry: ToolRegistry | None = None) -> list[dict[str, Any]]:
    """The history as ACP session updates, for ``session/load`` and the TUI.

    User text becomes ``user_message_chunk``, assistant text ``agent_message_chunk`` (and
    ``reasoning_content`` ``agent_thought_chunk``), each tool call a ``tool_call`` and its result
    a ``tool_call_update`` (``completed`` or ``failed``, with the result text as content and,
    when stored, the call's timings in ``_meta.pygent``). A turn's stored usage follows its last
    message as a ``usage_update`` (the turn's total, as the live turn's last one).

    Args:
        session: The session to replay.
        registry: Tools for titles and kinds (default: the built-in registry when it loads).
    """
    from pygent.agent.session.store import APPROVAL_WAIT_KEY, DURATION_KEY, OUTCOME_KEY, USAGE_KEY
    from pygent.protocol import updates

    specs = registry if registry is not None else _registry_or_none()
    out: list[dict[str, Any]] = []
    pending: dict[str, dict[str, Any]] = {}
    extras_of = session.message_extras
    for index, message in enumerate(session.messages):
        extras = extras_of(index)
        role = message.get("role")
        if role == "user":
            text = message_text(message)
            if text:
                out.append(updates.user_message_chunk(text))
        elif role == "assistant":
            thought = message.get("reasoning_content")
            if isinstance(thought, str) and thought:
                out.append(updates.agent_thought_chunk(thought))
            text = message_text(message)
            if text:
                out.append(updates.agent_message_chunk(text))
            for call in message.get("tool_calls") or []:
                update = _tool_call_update_for(call, specs)
                if update is not None:
                    pending[update["toolCallId"]] = update
                    out.append(update)
        elif role == "tool":
            call_id = str(message.get("tool_call_id") or "")
            status = extras.get("status") or message.get("status")
            failed = status == "failed" or bool(message.get("is_error"))
            out.append(
                updates.tool_call_update(
                    call_id,
                    status="failed" if failed else "completed",
                    content=[updates.text_content(message_text(message))],
                    duration_ms=extras.get(DURATION_KEY),
                    approval_wait_ms=extras.get(APPROVAL_WAIT_KEY),
                    rejected=extras.get(OUTCOME_KEY) == updates.OUTCOME_REJECTED,
                )
            )
            pending.pop(call_id, None)
        usage = extras.get(USAGE_KEY)
        if usage is not None:
            out.append(updates.usage_update(usage))
    for call_id in pending:
        # The process stopped before the tool answered (a kill): show it as failed.
        out.append(
            updates.tool_call_update(
                call_id,
                status="failed",
                content=[updates.text_content("No result: the turn was interrupted.")],
            )
        )
    return out


def _registry_or_none() -> ToolRegistry | None:
    try:
        from pygent.tools.base import default_registry

        return default_registry()
    except Exception:  # a tool module failing to import must not break replay
        return None


def _tool_call_update_for(call: Any, registry: ToolRegistry | None) -> dict[str, Any] | None:
    from pygent.protocol import updates

    if not isinstance(call, dict):
        return None
    function = call.get("function") or {}
    name = str(function.get("name") or "tool")
    raw = function.get("arguments")
    args: dict[str, Any] = {}
    if isinstance(raw, dict):
        args = raw
    elif isinstance(raw, str) and raw:
        with contextlib.suppress(ValueError):
            decoded = json.loads(raw)
            if isinstance(decoded, dict):
                args = decoded
    spec = registry.get(name) if registry is not None else None
    title = spec.make_title(args) if spec is not None else name
    kind = spec.kind if spec is not None else "other"
    return updates.tool_call(
        str(call.get("id") or ""), title, kind, raw_input=args, status="in_progress"
    )
