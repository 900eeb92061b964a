"""The one event vocabulary: ACP ``sessionUpdate`` dicts, with their wire field names.

The agent yields these; the server sends them unchanged as ``pygent/session/update``; the TUI
renders them; the log records them. Constructors keep the shapes in one place.
"""

from __future__ import annotations

from typing import Any, Literal

ToolCallStatus = Literal["pending", "in_progress", "completed", "failed"]
ToolKind = Literal["read", "edit", "delete", "move", "search", "execute", "think", "fetch", "other"]


#: ``_meta.pygent.outcome`` of a tool call the person turned down.
OUTCOME_REJECTED = "rejected"


def text_block(text: str) -> dict[str, Any]:
    """An ACP text content block."""
    return {"type": "text", "text": text}


def agent_message_chunk(text: str) -> dict[str, Any]:
    """A piece of the assistant's answer."""
    return {"sessionUpdate": "agent_message_chunk", "content": text_block(text)}


def agent_thought_chunk(text: str) -> dict[str, Any]:
    """A piece of the model's visible reasoning."""
    return {"sessionUpdate": "agent_thought_chunk", "content": text_block(text)}


def user_message_chunk(text: str) -> dict[str, Any]:
    """A user message (used when replaying a session's history)."""
    return {"sessionUpdate": "user_message_chunk", "content": text_block(text)}


def tool_call(
    tool_call_id: str,
    title: str,
    kind: ToolKind,
    raw_input: dict[str, Any] | None = None,
    locations: list[dict[str, Any]] | None = None,
    status: ToolCallStatus = "pending",
) -> dict[str, Any]:
    """A new tool call."""
    update: dict[str, Any] = {
        "sessionUpdate": "tool_call",
        "toolCallId": tool_call_id,
        "title": title,
        "kind": kind,
        "status": status,
    }
    if raw_input is not None:
        update["rawInput"] = raw_input
    if locations:
        update["locations"] = locations
    return update


def tool_call_update(
    tool_call_id: str,
    status: ToolCallStatus | None = None,
    content: list[dict[str, Any]] | None = None,
    raw_output: dict[str, Any] | None = None,
    title: str | None = None,
    *,
    duration_ms: float | None = None,
    approval_wait_ms: float | None = None,
    rejected: bool = False,
) -> dict[str, Any]:
    """A change to a tool call: status, content (text, diffs), raw output.

    The final update of a call that reached the tool also says how long it took, in
    ``_meta.pygent``: ``durationMs`` (the tool's own run time) and, when the person was asked
    (a permission question or an edit review), ``approvalWaitMs`` (the time the answer took).
    ``rejected`` marks a call the person turned down (``_meta.pygent.outcome = "rejected"``).
    Replaying a session sends the same fields from the stored history.
    """
    update: dict[str, Any] = {"sessionUpdate": "tool_call_update", "toolCallId": tool_call_id}
    if status is not None:
        update["status"] = status
    if content is not None:
        update["content"] = content
    if raw_output is not None:
        update["rawOutput"] = raw_output
    if title is not None:
        update["title"] = title
    timing: dict[str, Any] = {}
    if duration_ms is not None:
        timing["durationMs"] = round(duration_ms, 1)
    if approval_wait_ms is not None:
        timing["approvalWaitMs"] = round(approval_wait_ms, 1)
    if rejected:
        timing["outcome"] = OUTCOME_REJECTED
    if timing:
        update["_meta"] = {"pygent": timing}
    return update


def diff_content(path: str, old_text: str | None, new_text: str) -> dict[str, Any]:
    """ACP diff content for a tool call (``oldText`` None for a new file)."""
    return {"type": "diff", "path": path, "oldText": old_text, "newText": new_text}


def text_content(text: str) -> dict[str, Any]:
    """ACP tool-call content wrapping a text block."""
    return {"type": "content", "content": text_block(text)}


def plan(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The agent's plan: entries ``{content, priority, status}``."""
    return {"sessionUpdate": "plan", "entries": entries}


def current_mode_update(mode_id: str) -> dict[str, Any]:
    """The session's permission mode changed."""
    return {"sessionUpdate": "current_mode_update", "currentModeId": mode_id}


def usage_update(usage: dict[str, Any]) -> dict[str, Any]:
    """Token usage (and cost) so far. ACP has no usage kind, so it travels in ``_meta``.

    ``usage`` keys: ``inputTokens``, ``outputTokens``, ``cachedReadTokens``, ``totalTokens``, ``costUsd``.
    """
    return {"sessionUpdate": "usage_update", "_meta": {"pygent": {"usage": usage}}}


def notice(text: str, level: Literal["info", "warning", "error"] = "info") -> dict[str, Any]:
    """A status line for the person (e.g. "rate limited, retrying in 4 s"), as an ACP extension."""
    return {"sessionUpdate": "pygent_notice", "level": level, "message": text}
