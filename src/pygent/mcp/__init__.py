"""MCP client: tools of configured MCP servers join the agent's tools as ``mcp__NAME__TOOL``.

Servers are configured in ``[mcp.servers.NAME]`` tables (:class:`pygent.settings.models.McpServerSettings`):
a ``command`` started over stdio, or a streamable-HTTP ``url``. Editors add servers of their own
to one session (:mod:`pygent.mcp.editor`). Project-layer servers start only once trusted
(``pygent mcp trust``, or "Trust and start" when a frontend asks; :mod:`pygent.mcp.trust`). The
SDK (``mcp``) is imported only when a server starts: this package's top level is cheap.

Hooks:

* :func:`session_tools` - called by the agent loop before each turn when servers are configured.
* :func:`shutdown` - called when ``pygent run`` or ``pygent serve`` ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from pygent.mcp.config import ServerConfig
    from pygent.mcp.manager import TrustAsk
    from pygent.settings.models import Settings
    from pygent.tools.base import ToolRegistry

__all__ = ["has_servers", "session_tools", "shutdown"]


def has_servers(settings: Settings) -> bool:
    """True when any MCP server is configured and enabled (no SDK import)."""
    return any(s.enabled for s in settings.mcp.servers.values())


async def session_tools(
    settings: Settings,
    root: Path,
    base: ToolRegistry,
    editor: Sequence[ServerConfig] = (),
    ask: TrustAsk | None = None,
) -> tuple[ToolRegistry, list[str]]:
    """``base`` plus the MCP servers' tools, and notices to show once (see :mod:`pygent.mcp.manager`).

    Args:
        settings: The session's settings (configured servers).
        root: The workspace root.
        base: The tools without MCP.
        editor: Servers the editor gave for this session (trusted; they win name clashes).
        ask: Asks the person to trust the project's servers (None: they are skipped with a notice).
    """
    from pygent.mcp.manager import session_tools as tools

    return await tools(settings, root, base, editor, ask)


async def shutdown() -> None:
    """Stop the MCP servers this process started (nothing to do when none was)."""
    import sys

    manager = sys.modules.get("pygent.mcp.manager")
    if manager is not None:
        await manager.shutdown()
