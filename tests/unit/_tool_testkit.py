"""Shared pieces for tests that dispatch tools directly (files, search, shell, web, git)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pygent.settings.models import Settings
from pygent.tools.base import ToolContext, ToolRegistry
from pygent.tools.workspace import Workspace


class UnusedPort:
    """A frontend port for tools that never ask or edit through it: any such call fails the test."""

    reviews_edits = False

    def emit(self, update: dict[str, Any]) -> None:
        pass

    async def request_permission(self, request: Any) -> Any:
        raise AssertionError("this tool must not ask the frontend for permission")

    async def apply_edit(self, change_set: Any) -> Any:
        raise AssertionError("this tool must not edit through the frontend port")


def registry_of(*funcs: Callable[..., Any]) -> ToolRegistry:
    """A registry holding only the given ``@tool`` functions."""
    registry = ToolRegistry()
    for func in funcs:
        registry.register(func.__pygent_tool__)  # type: ignore[attr-defined]
    return registry


def make_ctx(root: Path, settings: Settings | None = None) -> ToolContext:
    """A tool context on a one-root workspace at ``root`` with an :class:`UnusedPort`."""
    return ToolContext(Workspace([root]), settings or Settings(), UnusedPort())  # type: ignore[arg-type]
