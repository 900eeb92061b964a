"""Helpers of the MCP tests: where the test servers are, and config tables that start them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

SERVERS = Path(__file__).resolve().parent / "servers"
STDIO_SERVER = SERVERS / "stdio_server.py"
HTTP_SERVER = SERVERS / "http_server.py"


def stdio_table(*extra_args: str, **values: Any) -> dict[str, Any]:
    """A ``[mcp.servers.NAME]`` table that starts the stdio test server."""
    return {"command": sys.executable, "args": [str(STDIO_SERVER), *extra_args], **values}


def toml_table(name: str, table: dict[str, Any]) -> str:
    """``table`` as a TOML ``[mcp.servers.NAME]`` section (strings, numbers, lists, inline tables)."""
    import json

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        return json.dumps(str(v))

    lines = [f"[mcp.servers.{name}]"] + [f"{k} = {value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def user_config(text: str) -> Path:
    """Write the user config (HOME and XDG are isolated by tests/conftest.py)."""
    from pygent.settings.paths import user_config_file

    path = user_config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
