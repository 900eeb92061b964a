"""The agent factory: one place that turns settings, a workspace and a frontend port into an agent.

``pygent serve`` (one agent per session), ``pygent run`` (one per process) and ``pygent acp`` build
their agents here, so a change to how an agent is put together (its permission engine, its model
override) reaches every frontend at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pygent.agent.loop import Agent
    from pygent.permissions.engine import PermissionEngine
    from pygent.protocol.port import FrontendPort
    from pygent.settings.models import Settings
    from pygent.tools.workspace import Workspace


def build_agent(
    settings: Settings,
    workspace: Workspace,
    port: FrontendPort,
    *,
    mode: str | None = None,
    model: str | None = None,
) -> tuple[Agent, PermissionEngine]:
    """Build an agent and the permission engine that guards its tools.

    Args:
        settings: The loaded settings (not modified).
        workspace: The roots the tools may touch (and the editor's open-document overlay).
        port: Where updates, permission questions and edits go.
        mode: Permission mode (default ``settings.permissions.mode``).
        model: Model for this agent (default ``settings.llm.model``).

    Returns:
        ``(agent, engine)``; change ``engine.mode`` to switch the mode of a running agent.

    Raises:
        PygentError: when a permission rule (``invalid_config``) or the mode (``invalid_params``)
            is invalid.
    """
    from pygent.agent.loop import Agent
    from pygent.permissions.engine import PermissionEngine

    if model and model != settings.llm.model:
        settings = settings.model_copy(deep=True)
        settings.llm.model = model
    engine = PermissionEngine(settings, workspace.root, mode=mode)
    return Agent(settings, workspace, port, gate=engine), engine
