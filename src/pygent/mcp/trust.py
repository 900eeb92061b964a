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

from pygent.mcp.config import ServerConfig, configured_servers, fingerprint, mask_secrets

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from pygent.protocol.port import FrontendPort, PermissionOption, PermissionRequest
    from pygent.settings.models import Settings

__all__ = [
    "DONT_START",
    "TRUST_AND_START",
    "TRUST_COMMAND",
    "port_asker",
    "project_servers",
    "record_trust",
    "trust_file",
    "trust_question",
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


#: The options of the trust question (ACP permission options; editors render them as buttons).
TRUST_AND_START: PermissionOption = {
    "optionId": "mcp_trust",
    "name": "Trust and start",
    "kind": "allow_always",
}
DONT_START: PermissionOption = {
    "optionId": "mcp_dont_start",
    "name": "Don't start",
    "kind": "reject_once",
}


def _server_line(config: ServerConfig, workspace: Path) -> tuple[str, dict[str, Any]]:
    """One server as the question shows it: the exact command, arguments and cwd, or the URL."""
    s = config.settings
    masked = mask_secrets({"env": dict(s.env), "headers": dict(s.headers)})
    if s.command is not None:
        cwd = s.cwd if s.cwd is not None else str(workspace)
        raw: dict[str, Any] = {"name": config.name, "command": s.command, "args": list(s.args)}
        raw["cwd"] = cwd
        line = f"- {config.name}: runs `{config.describe()}` in {cwd}"
        if s.env:
            raw["env"] = masked["env"]
            line += " with " + ", ".join(f"{k}={v}" for k, v in masked["env"].items())
    else:
        raw = {"name": config.name, "url": s.url}
        line = f"- {config.name}: connects to {s.url}"
        if s.headers:
            raw["headers"] = masked["headers"]
            line += " with headers " + ", ".join(masked["headers"])
    raw["risk"] = s.risk
    return line + f" (tools run as risk `{s.risk}`)", raw


def trust_question(servers: list[ServerConfig], workspace: Path) -> PermissionRequest:
    """The permission request asking to trust ``servers`` of ``workspace``'s project config.

    A ``session/request_permission`` editors already render: kind ``execute``, a title naming the
    workspace, one line per server with exactly what would run, and the options
    "Trust and start" / "Don't start".
    """
    described = [_server_line(c, workspace) for c in servers]
    lines = [line for line, _ in described]
    raws = [raw for _, raw in described]
    text = (
        f"The project config {workspace / '.pygent' / 'config.toml'} defines MCP servers that "
        "run with your permissions:\n"
        + "\n".join(lines)
        + f"\n\nTrust and start records this exact list for this workspace (as `{TRUST_COMMAND}` "
        "does); a changed list asks again."
    )
    return {
        "toolCall": {
            "toolCallId": "mcp-trust-" + fingerprint(servers)[:16],
            "title": f"Start the MCP servers of the project {workspace}?",
            "kind": "execute",
            "status": "pending",
            "content": [{"type": "content", "content": {"type": "text", "text": text}}],
            "rawInput": {"workspace": str(workspace), "servers": raws},
        },
        "options": [TRUST_AND_START, DONT_START],
        "_meta": {
            "reason": "the project's .pygent/config.toml starts MCP servers this workspace has "
            "not trusted",
            "pygent": {
                "mcpTrust": True,
                # Clients without permission requests get this as window/showMessageRequest.
                "message": f"pygent wants to start the MCP servers of the project {workspace}:\n"
                + "\n".join(lines)
                + "\nThey run as you, outside pygent's sandbox.",
            },
        },
    }


def port_asker(
    port: FrontendPort,
) -> Callable[[list[ServerConfig], Path], Awaitable[bool | None]]:
    """A trust asker (:data:`pygent.mcp.manager.TrustAsk`) that asks the person through ``port``.

    The question goes straight to the frontend: no permission mode or rule answers it (a
    project's config could set ``auto`` mode), only the person.
    """

    async def ask(servers: list[ServerConfig], workspace: Path) -> bool | None:
        outcome = await port.request_permission(trust_question(servers, workspace))
        if outcome.get("outcome") != "selected":
            return None
        return outcome.get("optionId") == TRUST_AND_START["optionId"]

    return ask
