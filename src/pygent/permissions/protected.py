"""Workspace directories whose contents change what pygent may do or make code run later.

``.pygent/`` holds the project's settings (allow rules, MCP servers, prompts); ``.git/`` holds
hooks and a config that git runs from. A write there asks even in ``auto`` mode, in every
frontend. Names are compared the way case-insensitive file systems (macOS, Windows) and Windows'
name rules see them: ``.GIT/hooks`` and ``.git./hooks`` open ``.git/hooks`` there.
"""

from __future__ import annotations

__all__ = ["PROTECTED_DIRS", "is_protected"]

#: The protected directory names, in their folded form.
PROTECTED_DIRS = frozenset({".git", ".pygent"})


def is_protected(path: str) -> bool:
    """Whether a workspace-relative path (``/`` or ``\\`` separated) lies in a protected directory."""
    return any(
        part.rstrip(". ").casefold() in PROTECTED_DIRS
        for part in path.replace("\\", "/").split("/")
    )
