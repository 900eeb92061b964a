"""MCP servers given by the editor in ``session/new`` / ``session/load`` (ACP's ``mcpServers`` shape).

ACP describes three shapes, all with a ``name``::

    {"name": "fs", "command": "npx", "args": ["-y", "server"], "env": [{"name": "K", "value": "v"}]}
    {"type": "http", "name": "api", "url": "https://...", "headers": [{"name": "H", "value": "v"}]}
    {"type": "sse", "name": "old", "url": "https://...", "headers": []}

:func:`parse_editor_servers` checks them (each problem names the entry and the field) and turns
them into :class:`~pygent.mcp.config.ServerConfig` of the ``editor`` layer: they join the
configured servers for that session only, already trusted (the editor's user configured them).
Nothing here imports the MCP SDK.
"""

from __future__ import annotations

import re
from typing import Any

from pygent.errors import PygentError, invalid_params
from pygent.mcp.config import ServerConfig

__all__ = ["parse_editor_servers"]

_URL = re.compile(r"^https?://\S+$")
_TYPES = ("stdio", "http", "sse")


def _fail(where: str, message: str) -> PygentError:
    return invalid_params(f"mcpServers{where}: {message}")


def _pairs(entry: dict[str, Any], key: str, where: str) -> dict[str, str]:
    """ACP's ``[{name, value}]`` list (``env``, ``headers``) as a dict."""
    raw = entry.get(key, [])
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise _fail(
            f"{where}.{key}", f'must be a list of {{"name", "value"}} objects, got {_kind(raw)}'
        )
    out: dict[str, str] = {}
    for j, pair in enumerate(raw):
        at = f"{where}.{key}[{j}]"
        if not isinstance(pair, dict):
            raise _fail(at, f'must be an object {{"name", "value"}}, got {_kind(pair)}')
        name, value = pair.get("name"), pair.get("value")
        if not isinstance(name, str) or not name:
            raise _fail(f"{at}.name", "must be a non-empty string")
        if not isinstance(value, str):
            raise _fail(f"{at}.value", f"must be a string, got {_kind(value)}")
        out[name] = value
    return out


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def parse_editor_servers(raw: Any) -> list[ServerConfig]:
    """The editor's ``mcpServers`` as server configs of the ``editor`` layer.

    Args:
        raw: The ``mcpServers`` param (missing or null: no servers).

    Returns:
        One config per entry, in the editor's order.

    Raises:
        PygentError: ``invalid_params`` naming the entry (index and name) and the field, e.g.
            ``mcpServers[1] ('github').command: must be a non-empty string``.
    """
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _fail("", f"must be a list of servers, got {_kind(raw)}")
    if not raw:
        return []
    from pydantic import ValidationError

    from pygent.settings.models import McpServerSettings

    configs: list[ServerConfig] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        where = f"[{i}]"
        if not isinstance(entry, dict):
            raise _fail(where, f"must be an object with a name, got {_kind(entry)}")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _fail(f"{where}.name", "must be a non-empty string (the server's name)")
        where = f"[{i}] ({name!r})"
        if name in seen:
            raise _fail(f"{where}.name", "is given twice; each server needs its own name")
        seen.add(name)
        kind = entry.get("type", "stdio")
        if kind not in _TYPES:
            raise _fail(f"{where}.type", f"{kind!r} is not one of {', '.join(_TYPES)}")
        table: dict[str, Any]
        if kind == "stdio":
            command = entry.get("command")
            if not isinstance(command, str) or not command.strip():
                raise _fail(f"{where}.command", "must be a non-empty string (the program to start)")
            args = entry.get("args", [])
            if args is None:
                args = []
            if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                raise _fail(f"{where}.args", "must be a list of strings")
            table = {"command": command, "args": args, "env": _pairs(entry, "env", where)}
        else:
            url = entry.get("url")
            if not isinstance(url, str) or not _URL.match(url):
                raise _fail(
                    f"{where}.url", f"must be an http:// or https:// URL, got {url!r}"[:300]
                )
            table = {"url": url, "headers": _pairs(entry, "headers", where)}
        try:
            settings = McpServerSettings.model_validate(table)
        except ValidationError as exc:  # pragma: no cover - the checks above cover the fields
            raise _fail(where, exc.errors()[0]["msg"]) from None
        configs.append(ServerConfig(name, "editor", settings, sse=kind == "sse"))
    return configs
