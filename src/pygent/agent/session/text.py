"""The text of stored messages, and the session title derived from the first user message."""

from __future__ import annotations

from typing import Any

__all__ = ["TITLE_MAX_CHARS", "message_text", "title_from_text"]

#: Longest title derived from the first user message.
TITLE_MAX_CHARS = 60


def message_text(message: dict[str, Any]) -> str:
    """The plain text of an OpenAI-format message's ``content`` (a string or a list of parts)."""
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if isinstance(part, dict):
                if part.get("type") == "text" and isinstance(part.get("text"), str):
                    parts.append(part["text"])
                elif part.get("type") in ("image_url", "image"):
                    parts.append("[image]")
            elif isinstance(part, str):
                parts.append(part)
        return "\n".join(parts)
    return str(content)


def title_from_text(text: str) -> str:
    """A session title: the first non-empty line of ``text``, at most 60 characters."""
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            if len(line) > TITLE_MAX_CHARS:
                return line[: TITLE_MAX_CHARS - 1].rstrip() + "…"
            return line
    return ""
