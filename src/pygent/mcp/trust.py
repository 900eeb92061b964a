"""Trust of a workspace's project-layer MCP servers, remembered per workspace and per exact list.

A project's ``.pygent/config.toml`` comes with the repository: its ``[mcp.servers.NAME]`` tables
run commands the user never wrote. They start only after ``pygent mcp trust`` recorded the
fingerprint (:func:`pygent.mcp.config.fingerprint`) of exactly those servers for that workspace.
The record lives in the user's data directory, never in the project, so a project cannot trust
itself, and any change to its server list needs a new ``pygent mcp trust``.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pygent.mcp.config import ServerConfig, configured_servers, fingerprint

if TYPE_CHECKING:
    from pygent.settings.models import Settings

__all__ = [
    "TRUST_COMMAND",
    "project_servers",
    "record_trust",
    "trust_file",
    "untrusted_servers",
    "workspace_of",
]

#: What a person runs to trust a workspace's servers (named in every notice).
TRUST_COMMAND = "pygent mcp trust"


def trust_file() -> Path:
    """Where trust decisions are kept: ``mcp-trust.json`` in the user data directory."""
    from pygent.settings.paths import user_data_dir

    return user_data_dir() / "mcp-trust.json"


def workspace_of(settings: Settings) -> Path | None:
    """The workspace whose ``.pygent/config.toml`` is the settings' project layer, or None."""
    project_file = settings._project_config
    if project_file is None:
        return None
    return Path(project_file).resolve().parent.parent


def project_servers(settings: Settings) -> list[ServerConfig]:
    """The enabled servers defined by the project layer (those that need trust)."""
    return [c for c in configured_servers(settings) if c.layer == "project" and c.settings.enabled]


def _read() -> dict[str, Any]:
    path = trust_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        from loguru import logger

        logger.warning("ignoring unreadable MCP trust file {}: {}", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def trusted_fingerprint(workspace: Path) -> str | None:
    """The fingerprint last trusted for ``workspace``, or None."""
    entry = (_read().get("workspaces") or {}).get(str(workspace))
    value = entry.get("fingerprint") if isinstance(entry, dict) else None
    return value if isinstance(value, str) else None


def untrusted_servers(settings: Settings) -> list[ServerConfig]:
    """The project servers that may not start: all of them unless this exact list was trusted."""
    servers = project_servers(settings)
    workspace = workspace_of(settings)
    if not servers or workspace is None:
        return []
    if trusted_fingerprint(workspace) == fingerprint(servers):
        return []
    return servers


def record_trust(settings: Settings) -> list[ServerConfig]:
    """Trust the workspace's current project servers (written atomically); returns them."""
    from pygent.fsutil import atomic_write_text

    servers = project_servers(settings)
    workspace = workspace_of(settings)
    if workspace is None:
        return []
    data = _read()
    workspaces = data.setdefault("workspaces", {})
    if not isinstance(workspaces, dict):
        workspaces = data["workspaces"] = {}
    workspaces[str(workspace)] = {
        "fingerprint": fingerprint(servers),
        "servers": [c.name for c in servers],
        "trusted_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    data["version"] = 1
    path = trust_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
    return servers
