"""Position conversion between text offsets, LSP positions and ACP lines (the one adapter).

LSP positions are 0-based ``(line, character)`` where ``character`` counts code units of the
negotiated encoding (``utf-16`` by default, ``utf-8`` or ``utf-32``). ACP locations use 1-based lines.
Line breaks are ``\\n``, ``\\r\\n`` and ``\\r``, as the LSP specification says.
"""

from __future__ import annotations

import re
from typing import Literal

PositionEncoding = Literal["utf-8", "utf-16", "utf-32"]

__all__ = [
    "PositionEncoding",
    "acp_line",
    "check_encoding",
    "code_units",
    "line_starts",
    "lsp_line",
    "offset_to_position",
    "position_to_offset",
]

_ENCODINGS = ("utf-8", "utf-16", "utf-32")


def check_encoding(encoding: str) -> PositionEncoding:
    """Validate a position encoding name (``utf-8``, ``utf-16``, ``utf-32``).

    Raises:
        ValueError: for any other name.
    """
    if encoding not in _ENCODINGS:
        raise ValueError(
            f"unknown position encoding {encoding!r}; expected one of {', '.join(_ENCODINGS)}"
        )
    return encoding  # type: ignore[return-value]


def code_units(text: str, encoding: str = "utf-16") -> int:
    """The length of ``text`` in code units of ``encoding``."""
    if encoding == "utf-32":
        return len(text)
    if text.isascii():
        return len(text)
    if encoding == "utf-8":
        return len(text.encode("utf-8", errors="surrogatepass"))
    # UTF-16: code points above the BMP take two units.
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _line_start(text: str, offset: int) -> tuple[int, int]:
    """(line number, offset of that line's start) for ``offset``."""
    head = text[:offset]
    line = head.count("\n") + head.count("\r") - head.count("\r\n")
    start = max(head.rfind("\n"), head.rfind("\r")) + 1
    return line, start


def offset_to_position(text: str, offset: int, encoding: str = "utf-16") -> dict[str, int]:
    """The LSP position (``{"line", "character"}``) of code-point ``offset`` in ``text``."""
    offset = max(0, min(offset, len(text)))
    line, start = _line_start(text, offset)
    return {"line": line, "character": code_units(text[start:offset], encoding)}


_BREAK = re.compile(r"\r\n|\r|\n")


def line_starts(text: str) -> list[int]:
    """Offsets where each line of ``text`` starts (line 0 starts at 0)."""
    return [0, *(m.end() for m in _BREAK.finditer(text))]


def position_to_offset(
    text: str,
    position: dict[str, int],
    encoding: str = "utf-16",
    *,
    starts: list[int] | None = None,
) -> int:
    """The code-point offset of an LSP ``position`` in ``text`` (clamped to the line's end).

    Args:
        text: The document.
        position: ``{"line", "character"}``.
        encoding: The position encoding.
        starts: :func:`line_starts` of ``text``, when converting many positions.
    """
    if starts is None:
        starts = line_starts(text)
    line = position["line"]
    if line >= len(starts):
        return len(text)
    start = starts[line]
    end = starts[line + 1] if line + 1 < len(starts) else len(text)
    # Exclude the line break from the line's content.
    content_end = end
    if content_end > start and text[content_end - 1] == "\n":
        content_end -= 1
    if content_end > start and text[content_end - 1] == "\r":
        content_end -= 1
    want = position["character"]
    if encoding == "utf-32":
        return min(start + want, content_end)
    units = 0
    i = start
    while i < content_end and units < want:
        units += code_units(text[i], encoding)
        i += 1
    return i


def acp_line(lsp_line_number: int) -> int:
    """ACP's 1-based line for an LSP 0-based line."""
    return lsp_line_number + 1


def lsp_line(acp_line_number: int) -> int:
    """LSP's 0-based line for an ACP 1-based line."""
    return max(0, acp_line_number - 1)
