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


TEST_PLUGIN = '''
"""A test plugin with slash commands (found through its entry point)."""

from pygent.plugins import PluginApp, PluginBase, SlashContext


async def shout(args: str, ctx: SlashContext) -> str:
    return f"**{args.upper()}** (session {ctx.session_id}, cwd {ctx.cwd}, /{ctx.command} of {ctx.plugin}, model {ctx.settings.llm.model})"


async def legacy(args: str) -> str:
    return f"legacy got {args!r}"


async def boom(args: str) -> str:
    raise ValueError("kaboom " + args)


async def number(args: str) -> str:
    return 42  # type: ignore[return-value]


class Plugin(PluginBase):
    def register(self, app: PluginApp) -> None:
        app.add_slash_command("shout", shout, "Shout the text back.")
        app.add_slash_command("legacy", legacy, "A handler without context.")
        app.add_slash_command("boom", boom, "Always fails.")
        app.add_slash_command("number", number, "Returns a number, not text.")
'''


def install_test_plugin(site: Path) -> Path:
    """Install the ``testcmds`` plugin into ``site`` (a real distribution with an entry point).

    Put ``site`` on ``PYTHONPATH`` and ``importlib.metadata`` finds it like a pip-installed one.
    """
    site.mkdir(parents=True, exist_ok=True)
    (site / "pygent_testcmds.py").write_text(TEST_PLUGIN, encoding="utf-8")
    info = site / "pygent_testcmds-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: pygent-testcmds\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[pygent.plugins]\ntestcmds = pygent_testcmds:Plugin\n", encoding="utf-8"
    )
    return site
