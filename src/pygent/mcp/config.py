"""MCP server configuration: each configured server with its layer, ``${VAR}`` expansion, fingerprints.

Nothing here imports the MCP SDK: ``pygent config show`` and the trust check use it on fast paths.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pygent.settings.models import McpServerSettings, Settings

__all__ = [
    "TOOL_PREFIX",
    "ExpandedServer",
    "McpConfigError",
    "ServerConfig",
    "configured_servers",
    "expand",
    "fingerprint",
    "mask_secrets",
    "tool_name",
]

#: Every MCP tool name starts with this, then the server name, ``__`` and the tool's name.
TOOL_PREFIX = "mcp__"
#: OpenAI-compatible providers accept tool names of 1-64 of these characters.
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]")
_MAX_NAME = 64
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ONLY_VAR = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")

Layer = Literal["user", "project", "editor"]


class McpConfigError(Exception):
    """A server's configuration cannot be used as written (e.g. an unset ``${VAR}``)."""


@dataclass(frozen=True)
class ServerConfig:
    """One ``[mcp.servers.NAME]`` table and the layer it came from.

    Attributes:
        name: The table name (tools appear as ``mcp__NAME__TOOL``).
        layer: ``user`` (the user's config file), ``project`` (the workspace's
            ``.pygent/config.toml``, which needs ``pygent mcp trust``) or ``editor`` (given by
            the editor in ``session/new``; one session only, values taken literally).
        settings: The validated table, ``${VAR}`` references not expanded.
        sse: The ``url`` speaks the legacy HTTP+SSE transport (editor-given servers only).
    """

    name: str
    layer: Layer
    settings: McpServerSettings
    sse: bool = False

    @property
    def transport(self) -> Literal["stdio", "http", "sse"]:
        """``stdio`` for a ``command``, ``http`` (streamable) or ``sse`` for a ``url``."""
        if self.settings.command is not None:
            return "stdio"
        return "sse" if self.sse else "http"

    def describe(self) -> str:
        """The command line or URL as written (references unexpanded, so no secret is shown)."""
        if self.settings.command is not None:
            return " ".join([self.settings.command, *self.settings.args])
        return str(self.settings.url)

    def identity(self) -> dict[str, Any]:
        """What trust covers: everything that decides what runs, where it connects and its risk."""
        s = self.settings
        return {
            "name": self.name,
            "command": s.command,
            "args": list(s.args),
            "env": dict(sorted(s.env.items())),
            "cwd": s.cwd,
            "url": s.url,
            "headers": dict(sorted(s.headers.items())),
            "risk": s.risk,
            **({"sse": True} if self.sse else {}),
        }


@dataclass(frozen=True)
class ExpandedServer:
    """A server's values with ``${VAR}`` references replaced (never logged)."""

    command: str | None
    args: list[str]
    env: dict[str, str]
    cwd: str | None
    url: str | None
    headers: dict[str, str]


def configured_servers(settings: Settings) -> list[ServerConfig]:
    """Every ``[mcp.servers.NAME]`` of the effective settings, enabled or not, sorted by name.

    A server is from the project layer when the project file defines a table of that name (it
    then replaces a user table of the same name).
    """
    layers = settings._layers or {}
    project = layers.get("project") or {}
    project_tables = (project.get("mcp") or {}).get("servers") or {}
    return [
        ServerConfig(name, "project" if name in project_tables else "user", table)
        for name, table in sorted(settings.mcp.servers.items())
    ]


def expand(value: str, key: str, server: str, environ: Mapping[str, str] | None = None) -> str:
    """``value`` with each ``${VAR}`` replaced from the environment.

    Raises:
        McpConfigError: A variable is not set (the message names it and the key, not the value).
    """
    env = os.environ if environ is None else environ

    def replace(match: re.Match[str]) -> str:
        var = match.group(1)
        if var not in env:
            raise McpConfigError(
                f"mcp.servers.{server}.{key} uses ${{{var}}}, but the environment variable "
                f"{var} is not set; set it before starting pygent"
            )
        return env[var]

    return _VAR.sub(replace, value)


def expand_server(
    config: ServerConfig, root: Path, environ: Mapping[str, str] | None = None
) -> ExpandedServer:
    """The server's values ready to use: references expanded, ``cwd`` resolved against ``root``.

    An editor-given server's values are used as given (the editor already resolved them).

    Raises:
        McpConfigError: A referenced variable is not set.
    """
    s, name = config.settings, config.name
    if config.layer == "editor":
        return ExpandedServer(
            command=s.command,
            args=list(s.args),
            env=dict(s.env),
            cwd=str(root),
            url=s.url,
            headers=dict(s.headers),
        )
    cwd = expand(s.cwd, "cwd", name, environ) if s.cwd is not None else None
    if cwd is not None and not Path(cwd).expanduser().is_absolute():
        cwd = str(root / cwd)
    return ExpandedServer(
        command=expand(s.command, "command", name, environ) if s.command is not None else None,
        args=[expand(a, "args", name, environ) for a in s.args],
        env={k: expand(v, f"env.{k}", name, environ) for k, v in s.env.items()},
        cwd=str(Path(cwd).expanduser()) if cwd is not None else str(root),
        url=expand(s.url, "url", name, environ) if s.url is not None else None,
        headers={k: expand(v, f"headers.{k}", name, environ) for k, v in s.headers.items()},
    )


def fingerprint(servers: list[ServerConfig]) -> str:
    """A hash of the servers' commands, arguments, environment, URLs, headers and risks.

    Any change to what would run (or to its risk tier) changes the fingerprint, so trust given
    to one server list does not carry over to a changed one.
    """
    payload = json.dumps(
        [c.identity() for c in sorted(servers, key=lambda c: c.name)],
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def mask_secrets(table: Mapping[str, Any]) -> dict[str, Any]:
    """A server table for display: ``env`` and ``headers`` values hidden unless a bare ``${VAR}``."""
    out = dict(table)
    for key in ("env", "headers"):
        values = out.get(key)
        if isinstance(values, Mapping):
            out[key] = {
                k: v if isinstance(v, str) and _ONLY_VAR.match(v) else "***"
                for k, v in values.items()
            }
    return out


def tool_name(server: str, tool: str) -> str:
    """The name the model sees: ``mcp__SERVER__TOOL``, cut to the 64 characters providers allow.

    Characters providers reject become ``_``; a name that is too long keeps its start and gets a
    short hash of the full name, so two long names stay distinct.
    """
    name = _NAME_CHARS.sub("_", f"{TOOL_PREFIX}{server}__{tool}")
    if len(name) <= _MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return f"{name[: _MAX_NAME - 9]}_{digest}"
