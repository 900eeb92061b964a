"""``pygent mcp``: list, add, remove and trust the MCP servers whose tools the agent may use."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pygent.cli._common import fail, friendly_errors

if TYPE_CHECKING:
    from pygent.mcp.config import ServerConfig

__all__ = ["mcp"]

_RISKS = ("read", "write", "execute", "network")


@click.group("mcp")
def mcp() -> None:
    """MCP servers as tool sources ([mcp.servers.NAME] in config.toml).

    User-level servers start when a session needs them. Servers from a project's
    .pygent/config.toml start only after `pygent mcp trust` in that workspace.
    """


def _config_file(project: bool) -> Path:
    from pygent.settings import paths
    from pygent.settings.loader import find_project_config_path

    if not project:
        return paths.user_config_file()
    cwd = Path.cwd().resolve()
    return (
        find_project_config_path(cwd)
        or paths.find_project_root(cwd) / paths.PROJECT_DIR_NAME / paths.CONFIG_FILE_NAME
    )


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            fail(f"{option} {item!r} is not KEY=VALUE.", f"Write it as {option} NAME=value.")
        out[key.strip()] = value
    return out


@mcp.command("add", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option("--url", help="Streamable-HTTP endpoint instead of a command.")
@click.option("--header", "headers", multiple=True, help="HTTP header KEY=VALUE (with --url).")
@click.option("--env", "env", multiple=True, help="Environment variable KEY=VALUE of the server.")
@click.option("--cwd", help="Working directory of the server (default: the workspace root).")
@click.option(
    "--risk",
    type=click.Choice(_RISKS),
    default=None,
    help="Risk tier of its tools (default: execute, i.e. asks in ask and auto-edit modes).",
)
@click.option("--timeout", type=float, default=None, help="Seconds one tool call may take.")
@click.option(
    "--project", is_flag=True, help="Write .pygent/config.toml instead of the user config."
)
@click.option("--replace", is_flag=True, help="Replace a server of the same name.")
@friendly_errors
def add(
    name: str,
    command: tuple[str, ...],
    url: str | None,
    headers: tuple[str, ...],
    env: tuple[str, ...],
    cwd: str | None,
    risk: str | None,
    timeout: float | None,
    project: bool,
    replace: bool,
) -> None:
    """Add a server: `pygent mcp add NAME -- COMMAND ARGS...` or `pygent mcp add NAME --url URL`.

    Use ${VAR} in values to take secrets from the environment when the server starts, e.g.
    `--env GITHUB_TOKEN='${GITHUB_TOKEN}'` (single quotes keep your shell from expanding it).
    """
    from pygent.settings.editing import set_table
    from pygent.settings.loader import read_toml_file

    if bool(command) == bool(url):
        fail(
            "Give either a command (after --) or --url, not both and not neither.",
            "Examples: `pygent mcp add github -- npx -y @modelcontextprotocol/server-github` "
            "or `pygent mcp add docs --url http://127.0.0.1:8000/mcp`.",
        )
    if headers and not url:
        fail("--header applies to --url servers only.")
    path = _config_file(project)
    existing: dict[str, Any] = {}
    if path.exists():
        existing = (read_toml_file(path).get("mcp") or {}).get("servers") or {}
    if name in existing and not replace:
        fail(
            f"An MCP server named {name!r} is already in {path}.",
            f"Use --replace to overwrite it, or `pygent mcp remove {name}` first.",
        )
    table: dict[str, Any] = {}
    if command:
        table["command"] = command[0]
        if command[1:]:
            table["args"] = list(command[1:])
    else:
        table["url"] = url
        if headers:
            table["headers"] = _pairs(headers, "--header")
    if env:
        table["env"] = _pairs(env, "--env")
    table.update({"cwd": cwd, "risk": risk, "timeout": timeout})
    set_table(path, ("mcp", "servers", name), table)
    click.echo(f"Added the MCP server {name!r} to {path}.")
    if project:
        click.echo("Project servers start only after `pygent mcp trust` in this workspace.")
    click.echo(
        f"Its tools appear as mcp__{name}__TOOL; `pygent mcp list` starts it and lists them."
    )


@mcp.command("remove")
@click.argument("name")
@click.option("--project", is_flag=True, help="Remove it from .pygent/config.toml.")
@friendly_errors
def remove(name: str, project: bool) -> None:
    """Remove the server NAME from the user config (or with --project, the project config)."""
    from pygent.settings.editing import remove_table

    path = _config_file(project)
    if remove_table(path, ("mcp", "servers", name)):
        click.echo(f"Removed the MCP server {name!r} from {path}.")
        return
    other = _config_file(not project)
    hint = "`pygent mcp list` shows the configured servers."
    if other.exists():
        from pygent.settings.loader import read_toml_file

        if name in ((read_toml_file(other).get("mcp") or {}).get("servers") or {}):
            flag = "without --project" if project else "with --project"
            hint = f"It is defined in {other}: run the command {flag}."
    fail(f"No MCP server named {name!r} in {path}; nothing was changed.", hint)


def _describe(config: ServerConfig) -> list[str]:
    s = config.settings
    lines = [f"  {config.name}: " + (f"{config.describe()}" if s.command else f"url {s.url}")]
    if s.env:
        lines.append(f"      env: {', '.join(sorted(s.env))}")
    if s.headers:
        lines.append(f"      headers: {', '.join(sorted(s.headers))}")
    if s.cwd:
        lines.append(f"      cwd: {s.cwd}")
    lines.append(f"      risk: {s.risk}")
    return lines


@mcp.command("trust")
@click.option("--yes", "-y", is_flag=True, help="Trust without asking.")
@friendly_errors
def trust(yes: bool) -> None:
    """Allow this workspace's project MCP servers (.pygent/config.toml) to start.

    Shows each server's command or URL and asks. Trust covers exactly this list: any change to
    a command, argument, environment, URL, header or risk needs `pygent mcp trust` again.
    """
    from pygent.mcp.trust import project_servers, record_trust, untrusted_servers, workspace_of
    from pygent.settings.loader import load_settings

    settings = load_settings(Path.cwd())
    servers = project_servers(settings)
    if not servers:
        click.echo("This workspace's config defines no enabled MCP servers: nothing to trust.")
        return
    workspace = workspace_of(settings)
    if not untrusted_servers(settings):
        click.echo(f"The {len(servers)} project MCP server(s) of {workspace} are already trusted.")
        return
    click.echo(f"The project config of {workspace} starts these MCP servers:")
    for config in servers:
        for line in _describe(config):
            click.echo(line)
    click.echo("They run as you, outside pygent's sandbox, with the access of your account.")
    if not yes and not click.confirm("Trust them for this workspace?", default=False):
        click.echo("Not trusted; they stay off.")
        raise SystemExit(1)
    record_trust(settings)
    click.echo(f"Trusted {len(servers)} MCP server(s) for {workspace}.")


@mcp.command("list")
@click.option("--no-start", is_flag=True, help="Do not start servers to list their tools.")
@friendly_errors
def list_servers(no_start: bool) -> None:
    """Each configured server: layer, trust, state and tools (starting it to list them)."""
    import asyncio

    from pygent.mcp.config import configured_servers
    from pygent.mcp.trust import TRUST_COMMAND, untrusted_servers
    from pygent.settings.loader import load_settings
    from pygent.settings.paths import find_project_root

    cwd = Path.cwd()
    settings = load_settings(cwd)
    configs = configured_servers(settings)
    if not configs:
        click.echo("No MCP servers are configured.")
        click.echo("Add one with `pygent mcp add NAME -- COMMAND ARGS...` or `--url URL`.")
        return
    untrusted = {c.name for c in untrusted_servers(settings)}
    found: dict[
        str, tuple[str, str, list[str], list[str]]
    ] = {}  # name -> state, error, tools, skipped
    if not no_start:
        root = find_project_root(cwd)

        async def start() -> None:
            from pygent import mcp as mcp_api
            from pygent.mcp.manager import manager
            from pygent.mcp.tools import build_specs

            try:
                _, started, _ = await manager().connect(settings, root)
                for conn in started:
                    specs, problems = (
                        build_specs(conn, set()) if conn.state == "running" else ([], [])
                    )
                    found[conn.name] = (conn.state, conn.error, [x.name for x in specs], problems)
            finally:
                await mcp_api.shutdown()

        asyncio.run(start())
    for config in configs:
        s = config.settings
        where = f"{config.transport}: {config.describe()}"
        if not s.enabled:
            state = "disabled"
        elif config.name in untrusted:
            state = f"not trusted (run `{TRUST_COMMAND}`)"
        elif config.name in found:
            state = "running" if found[config.name][0] == "running" else "FAILED"
        else:
            state = "not started"
        click.echo(f"{config.name}  [{config.layer}]  {state}  risk={s.risk}  {where}")
        if config.name not in found:
            continue
        _state, error, tools, problems = found[config.name]
        if error:
            click.echo(f"    error: {error}")
            continue
        click.echo(f"    tools: {', '.join(tools) if tools else '(none)'}")
        for problem in problems:
            click.echo(f"    skipped: {problem}")
