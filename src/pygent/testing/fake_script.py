"""Scripts of the fake LLM server: items answered in order, rules matched on the last message."""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: What the server answers once the script is exhausted.
DEFAULT_TEXT = "(fake) done"


def load_script(path: str | Path) -> list[dict[str, Any]]:
    """Read a script file: a JSON list of items, or ``{"responses": [...]}``."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = list(data.get("responses", [])) + list(data.get("rules", []))
    if not isinstance(data, list):
        raise ValueError(f"{path}: a script is a JSON list of response items")
    return [dict(item) for item in data]


@dataclass
class _Rule:
    pattern: re.Pattern[str]
    on: str  # "user" or "tool"
    respond: dict[str, Any]
    times: int | None = None


@dataclass
class _State:
    queue: deque[dict[str, Any]] = field(default_factory=deque)
    rules: list[_Rule] = field(default_factory=list)


class Script:
    """A thread-safe script: list items answered in order, rules matched on the last message."""

    def __init__(self, items: Iterable[dict[str, Any]] | None = None) -> None:
        self._lock = threading.Lock()
        self._state = _State()
        if items is not None:
            self.replace(items)

    def replace(self, items: Iterable[dict[str, Any]]) -> None:
        """Replace the script (list items and rules) with ``items``."""
        state = _State()
        for item in items:
            self._add_to(state, dict(item))
        with self._lock:
            self._state = state

    def add(self, *items: dict[str, Any]) -> None:
        """Append items (or rules) to the current script."""
        with self._lock:
            for item in items:
                self._add_to(self._state, dict(item))

    @staticmethod
    def _add_to(state: _State, item: dict[str, Any]) -> None:
        if "match" in item or "after_tool" in item:
            on = "user" if "match" in item else "tool"
            pattern = re.compile(str(item.get("match", item.get("after_tool")) or ""), re.S)
            respond = item.get("respond")
            if not isinstance(respond, dict):
                raise ValueError(f"rule {item!r} needs a 'respond' dict")
            times = item.get("times")
            state.rules.append(_Rule(pattern, on, respond, int(times) if times else None))
            return
        repeat = int(item.pop("repeat", 1))
        for _ in range(max(1, repeat)):
            state.queue.append(dict(item))

    @property
    def remaining(self) -> int:
        """How many list items are not consumed yet."""
        with self._lock:
            return len(self._state.queue)

    def next_item(self, body: dict[str, Any]) -> dict[str, Any]:
        """The answer for a request body: a matching rule, else the next item, else the default."""
        messages = body.get("messages") or []
        last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
        role = last.get("role")
        text = content_text(last.get("content"))
        results = anthropic_tool_results(last.get("content"))
        if role == "user" and results is not None:
            role, text = "tool", results
        with self._lock:
            for rule in self._state.rules:
                if rule.times is not None and rule.times <= 0:
                    continue
                if rule.on == role and rule.pattern.search(text):
                    if rule.times is not None:
                        rule.times -= 1
                    return dict(rule.respond)
            if self._state.queue:
                return self._state.queue.popleft()
        return {"text": DEFAULT_TEXT}


def pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _anthropic_tool_results(content: Any) -> str | None:
    """The text of Anthropic ``tool_result`` blocks in a user message, or None if there are none."""
    if not isinstance(content, list):
        return None
    texts = [
        content_text(part.get("content"))
        for part in content
        if isinstance(part, dict) and part.get("type") == "tool_result"
    ]
    return "\n".join(texts) if texts else None


def anthropic_tool_results(content: Any) -> str | None:
    """The text of Anthropic ``tool_result`` blocks in a user message, or None if there are none."""
    if not isinstance(content, list):
        return None
    texts = [
        content_text(part.get("content"))
        for part in content
        if isinstance(part, dict) and part.get("type") == "tool_result"
    ]
    return "\n".join(texts) if texts else None
