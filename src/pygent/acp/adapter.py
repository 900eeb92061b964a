"""Converts pygent's update vocabulary (:mod:`pygent.protocol.updates`) into schema-valid ACP.

pygent's internal updates already use ACP's shapes, except for two kinds ACP's closed
``sessionUpdate`` set does not have: ``usage_update`` with the usage only in ``_meta`` (ACP's
requires ``used``/``size``) and ``pygent_notice``. Everything pygent-specific travels in
``_meta.pygent``. Locations carry ACP's 1-based ``line`` (pygent's vocabulary is already 1-based,
so lines pass through; a missing or invalid line is dropped rather than guessed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["UpdateAdapter", "notice_update", "prompt_result"]

#: The ``sessionUpdate`` kinds the ACP v1 schema accepts from an agent.
ACP_UPDATE_KINDS = frozenset(
    {
        "user_message_chunk",
        "agent_message_chunk",
        "agent_thought_chunk",
        "tool_call",
        "tool_call_update",
        "plan",
        "available_commands_update",
        "current_mode_update",
        "config_option_update",
        "session_info_update",
        "usage_update",
    }
)

_TOOL_CALL_FIELDS = (
    "toolCallId",
    "title",
    "kind",
    "status",
    "content",
    "locations",
    "rawInput",
    "rawOutput",
    "_meta",
)
_CONTENT_TYPES = frozenset({"content", "diff", "terminal"})


def notice_update(message: str, level: str = "info") -> dict[str, Any]:
    """A pygent notice as a schema-valid ``session_info_update`` carrying it in ``_meta``."""
    return {
        "sessionUpdate": "session_info_update",
        "_meta": {"pygent": {"notice": {"level": level, "message": message}}},
    }


def prompt_result(stop_reason: str, usage: dict[str, Any] | None) -> dict[str, Any]:
    """``session/prompt``'s result: ``stopReason``, pygent's usage in ``_meta``."""
    result: dict[str, Any] = {"stopReason": stop_reason}
    if usage:
        result["_meta"] = {"pygent": {"usage": usage}}
    return result


def _location(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("path"), str):
        return None
    out: dict[str, Any] = {"path": raw["path"]}
    line = raw.get("line")
    if isinstance(line, int) and not isinstance(line, bool) and line >= 0:
        out["line"] = line
    return out


def _content(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict) or raw.get("type") not in _CONTENT_TYPES:
        return None
    if raw["type"] == "diff":
        if not isinstance(raw.get("path"), str) or not isinstance(raw.get("newText"), str):
            return None
        old = raw.get("oldText")
        return {
            "type": "diff",
            "path": raw["path"],
            "oldText": old if isinstance(old, str) else None,
            "newText": raw["newText"],
        }
    return dict(raw)


@dataclass
class _Usage:
    input_tokens: int = 0
    output_tokens: int = 0


class UpdateAdapter:
    """Turns one session's pygent updates into ACP ``sessionUpdate`` dicts (None: not sent).

    Args:
        context_window: The model's context window in tokens (``usage_update.size``).
    """

    def __init__(self, context_window: int = 0) -> None:
        self.context_window = context_window
        self._last = _Usage()
        self.session_cost_usd: float | None = None
        self._turn_cost_base: float | None = None

    def begin_turn(self) -> None:
        """Start counting a new turn's cumulative usage (pygent's usage is per turn)."""
        self._last = _Usage()
        self._turn_cost_base = self.session_cost_usd

    def convert(self, update: dict[str, Any]) -> dict[str, Any] | None:
        """The ACP form of ``update``."""
        kind = update.get("sessionUpdate")
        if kind == "usage_update":
            return self._usage(update)
        if kind == "pygent_notice":
            return notice_update(str(update.get("message", "")), str(update.get("level", "info")))
        if kind not in ACP_UPDATE_KINDS:
            return {"sessionUpdate": "session_info_update", "_meta": {"pygent": {"update": update}}}
        if kind in ("tool_call", "tool_call_update"):
            return self._tool_call(update)
        return update

    def _tool_call(self, update: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"sessionUpdate": update["sessionUpdate"]}
        for key in _TOOL_CALL_FIELDS:
            if key in update and update[key] is not None:
                out[key] = update[key]
        if "locations" in out:
            locations = [_location(item) for item in out["locations"] or []]
            out["locations"] = [loc for loc in locations if loc is not None]
        if "content" in out:
            content = [_content(item) for item in out["content"] or []]
            out["content"] = [item for item in content if item is not None]
        if "rawInput" in out and not isinstance(out["rawInput"], dict):
            out["rawInput"] = {"value": out["rawInput"]}
        return out

    def _usage(self, update: dict[str, Any]) -> dict[str, Any]:
        meta = update.get("_meta") or {}
        usage = meta.get("pygent", {}).get("usage", {}) if isinstance(meta, dict) else {}
        if not isinstance(usage, dict):
            usage = {}
        total_in = _int(usage.get("inputTokens"))
        total_out = _int(usage.get("outputTokens"))
        # pygent reports the turn's running totals; the newest model call's prompt plus answer
        # is what occupies the context window now.
        used = max(0, total_in - self._last.input_tokens) + max(
            0, total_out - self._last.output_tokens
        )
        self._last = _Usage(total_in, total_out)
        out: dict[str, Any] = {
            "sessionUpdate": "usage_update",
            "used": used,
            "size": max(self.context_window, used),
            "_meta": {"pygent": {"usage": usage}},
        }
        cost = usage.get("costUsd")
        if isinstance(cost, (int, float)) and not isinstance(cost, bool):
            self.session_cost_usd = (self._turn_cost_base or 0.0) + float(cost)
        if self.session_cost_usd is not None:
            out["cost"] = {"amount": self.session_cost_usd, "currency": "USD"}
        return out


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
