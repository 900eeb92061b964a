"""pygent: an AI coding agent with one JSON-RPC backend and editor/terminal frontends.

The public API is imported lazily so that ``import pygent`` (and ``pygent --version``)
stays cheap::

    from pygent import Agent, tool, ToolRisk, Session, Settings
"""

from __future__ import annotations

import importlib

# Not `from typing import TYPE_CHECKING`: importing typing costs start-up time (mypy treats any
# name TYPE_CHECKING as true).
TYPE_CHECKING = False

__version__ = "0.1.0"

__all__ = ["Agent", "Session", "Settings", "ToolRisk", "__version__", "tool"]

_LAZY = {
    "Agent": ("pygent.agent.loop", "Agent"),
    "Session": ("pygent.agent.session", "Session"),
    "Settings": ("pygent.settings.models", "Settings"),
    "ToolRisk": ("pygent.tools.base", "ToolRisk"),
    "tool": ("pygent.tools.base", "tool"),
}

if TYPE_CHECKING:
    from typing import Any

    from pygent.agent.loop import Agent
    from pygent.agent.session import Session
    from pygent.settings.models import Settings
    from pygent.tools.base import ToolRisk, tool


def __getattr__(name: str) -> Any:
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'pygent' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value
