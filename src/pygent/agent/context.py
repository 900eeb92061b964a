"""Context management: how big the next request is, and compaction of older turns into a summary.

The estimate uses litellm's token counter when litellm is already loaded (the litellm backend),
else a characters/4 estimate (the native backend never imports litellm for it), against the
model's window from litellm's model table, read without importing litellm
(:mod:`pygent.agent.model_table`; :data:`DEFAULT_CONTEXT_WINDOW` when the model is unknown). Past
``llm.compact_threshold`` of the window, older turns are replaced by a summary the model writes.

What compaction keeps verbatim: the system prompt (with the project instructions; it is not part
of the history and is rebuilt every turn), the first user message (the task's goal) and the most
recent messages (everything from a cut point on, chosen at a message boundary where every tool
call before it has its result). Everything between the goal and the cut becomes one summary
message.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pygent.settings.models import Settings

__all__ = [
    "DEFAULT_CONTEXT_WINDOW",
    "SUMMARY_PREFIX",
    "SUMMARY_REQUEST",
    "CompactionPlan",
    "context_window",
    "estimate_tokens",
    "plan_compaction",
    "render_transcript",
]

#: Window assumed for models litellm does not know (e.g. local models behind ``llm.api_base``).
DEFAULT_CONTEXT_WINDOW = 128_000

#: First line of the request that asks the model for a summary (the fake server's rules match it).
SUMMARY_REQUEST = "Summarize the conversation below"

#: How the summary message starts in the compacted history.
SUMMARY_PREFIX = "[Summary of the earlier conversation]"

_SUMMARY_SYSTEM = (
    "You compress a coding agent's conversation so the work can continue in a smaller context. "
    "Write a concise but complete summary: the user's goals and constraints, decisions made, "
    "files read or changed (with paths), commands run and their outcomes, errors found, and what "
    "remains to do. Keep exact identifiers, paths and numbers. Do not invent anything."
)

#: Share of the window the verbatim recent messages may take after compaction.
RECENT_SHARE = 0.35
#: Characters of a single tool result kept in the transcript sent for summarising.
TRANSCRIPT_TOOL_CHARS = 2_000


def context_window(model: str) -> int:
    """The model's input window in tokens (:data:`DEFAULT_CONTEXT_WINDOW` when unknown).

    Read from litellm's model table without importing litellm; litellm's own lookup (which knows
    a few more aliases) is asked only when litellm is loaded anyway.
    """
    from pygent.agent import model_table
    from pygent.agent.llm import loaded_litellm

    window = model_table.context_window(model)
    if window is not None:
        return window
    litellm = loaded_litellm()
    if litellm is None:
        return DEFAULT_CONTEXT_WINDOW
    try:
        info = litellm.get_model_info(model)
    except Exception:
        return DEFAULT_CONTEXT_WINDOW
    for key in ("max_input_tokens", "max_tokens"):
        value = info.get(key) if isinstance(info, dict) else getattr(info, key, None)
        if isinstance(value, int) and value > 0:
            return value
    return DEFAULT_CONTEXT_WINDOW


def _rough_tokens(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> int:
    size = len(json.dumps(messages, ensure_ascii=False, default=str))
    if tools:
        size += len(json.dumps(tools, default=str))
    return size // 4 + 1


def estimate_tokens(
    model: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None = None,
    *,
    exact_above: int = 0,
) -> int:
    """Tokens of a request: litellm's counter, or a characters/4 estimate.

    The exact count needs litellm; it is used only when litellm is already loaded (the litellm
    backend served a call), so the native backend never pays the litellm import for it.

    Args:
        model: litellm model string.
        messages: The request's messages.
        tools: Tool schemas (counted too).
        exact_above: Skip the (slower) exact count when the rough estimate is below this.
    """
    rough = _rough_tokens(messages, tools)
    if rough < exact_above:
        return rough
    from pygent.agent.llm import loaded_litellm

    litellm = loaded_litellm()
    if litellm is None:
        return rough
    try:
        count = int(litellm.token_counter(model=model, messages=messages, tools=tools))
    except Exception:
        try:
            count = int(litellm.token_counter(model=model, messages=messages))
        except Exception:
            return rough
        if tools:
            count += len(json.dumps(tools, default=str)) // 4
    return count


@dataclass
class CompactionPlan:
    """Where to cut a history: ``messages[keep_head:cut]`` is summarised."""

    keep_head: int
    cut: int


def _answered_prefix(messages: list[dict[str, Any]], index: int) -> bool:
    """True when every tool call in ``messages[:index]`` has its result in ``messages[:index]``."""
    open_calls: set[str] = set()
    for message in messages[:index]:
        for call in message.get("tool_calls") or []:
            call_id = call.get("id") if isinstance(call, dict) else None
            if call_id:
                open_calls.add(str(call_id))
        if message.get("role") == "tool":
            open_calls.discard(str(message.get("tool_call_id", "")))
    return not open_calls


def plan_compaction(
    model: str,
    messages: list[dict[str, Any]],
    recent_budget: int,
) -> CompactionPlan | None:
    """Choose what to summarise, or None when there is nothing worth compacting.

    The head (up to and including the first user message) stays; the tail from the cut on stays;
    the tail is as long as fits ``recent_budget`` tokens but always starts at a user or assistant
    message with no unanswered tool call before it.
    """
    first_user = next((i for i, m in enumerate(messages) if m.get("role") == "user"), None)
    if first_user is None:
        return None
    keep_head = first_user + 1
    candidates = [
        i
        for i in range(keep_head + 1, len(messages))
        if messages[i].get("role") in ("user", "assistant") and _answered_prefix(messages, i)
    ]
    if not candidates:
        return None
    # Rough per-message sizes (characters / 4) are enough to place the cut.
    suffix = [0] * (len(messages) + 1)
    for i in range(len(messages) - 1, -1, -1):
        suffix[i] = suffix[i + 1] + _rough_tokens([messages[i]], None)
    chosen = candidates[-1]
    for index in candidates:  # the longest tail that fits the budget
        if suffix[index] <= recent_budget:
            chosen = index
            break
    if chosen <= keep_head:
        return None
    return CompactionPlan(keep_head, chosen)


def render_transcript(messages: list[dict[str, Any]], max_chars: int) -> str:
    """The messages as a plain-text transcript (tool results shortened), capped at ``max_chars``."""
    from pygent.tools.base import cap_output

    lines: list[str] = []
    for message in messages:
        role = message.get("role", "?")
        content = message.get("content")
        if isinstance(content, list):
            content = "\n".join(
                str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("text")
            )
        text = str(content or "")
        if role == "tool":
            text = cap_output(text, TRANSCRIPT_TOOL_CHARS)
            lines.append(f"TOOL RESULT ({message.get('tool_call_id', '')}):\n{text}")
            continue
        if text:
            lines.append(f"{str(role).upper()}:\n{text}")
        for call in message.get("tool_calls") or []:
            function = call.get("function", {}) if isinstance(call, dict) else {}
            arguments = str(function.get("arguments", ""))[:TRANSCRIPT_TOOL_CHARS]
            lines.append(f"TOOL CALL {function.get('name', '?')}({arguments})")
    return cap_output("\n\n".join(lines), max(1_000, max_chars))


def summary_messages(transcript: str) -> list[dict[str, Any]]:
    """The request that asks the model for a summary of ``transcript``."""
    return [
        {"role": "system", "content": _SUMMARY_SYSTEM},
        {
            "role": "user",
            "content": f"{SUMMARY_REQUEST}.\n\n<conversation>\n{transcript}\n</conversation>",
        },
    ]


async def compact_history(
    settings: Settings,
    messages: list[dict[str, Any]],
    window: int,
    summarize: Callable[[list[dict[str, Any]]], Awaitable[str]],
) -> list[dict[str, Any]] | None:
    """The compacted history, or None when there is nothing to compact.

    Args:
        settings: Effective settings (the model).
        messages: The history (without the system prompt).
        window: The model's context window in tokens.
        summarize: Sends a request (messages) to the model and returns its text.
    """
    model = settings.llm.model
    # The verbatim tail gets at most a share of the window and at most a share of what there is
    # now, so a compaction always frees a real part of the context (also when the provider's
    # window turned out smaller than litellm's map says).
    budget = min(int(window * RECENT_SHARE), int(_rough_tokens(messages, None) * RECENT_SHARE))
    plan = plan_compaction(model, messages, budget)
    if plan is None:
        return None
    middle = messages[plan.keep_head : plan.cut]
    transcript = render_transcript(middle, max_chars=int(window * 2))
    summary = (await summarize(summary_messages(transcript))).strip()
    if not summary:
        summary = "(the model returned an empty summary)"
    tail = messages[plan.cut :]
    role = "assistant" if tail and tail[0].get("role") == "user" else "user"
    summary_message = {
        "role": role,
        "content": f"{SUMMARY_PREFIX}\n{summary}",
    }
    return [*messages[: plan.keep_head], summary_message, *tail]
