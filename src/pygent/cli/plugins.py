"""``pygent plugins``: the installed plugins, whether each loaded, and what it added."""

from __future__ import annotations

from pathlib import Path

import click

from pygent.cli._common import friendly_errors

__all__ = ["plugins"]


@click.group("plugins")
def plugins() -> None:
    """Plugins installed as Python packages (entry-point group `pygent.plugins`)."""


@plugins.command("list")
@friendly_errors
def list_plugins() -> None:
    """Each installed plugin: loaded, failed (with the error) or disabled, and what it added."""
    from pygent import plugins as plugin_api
    from pygent.settings.loader import load_settings

    settings = load_settings(Path.cwd())
    infos = plugin_api.load_plugins(settings)
    if not infos:
        click.echo("No plugins are installed (entry-point group `pygent.plugins`).")
        click.echo("See https://github.com/pygent-dev/pygent/blob/main/docs/advanced/plugins.md")
        return
    for info in infos:
        state = {"loaded": "loaded", "failed": "FAILED", "disabled": "disabled"}[info.state]
        origin = f" ({info.distribution})" if info.distribution else ""
        click.echo(f"{info.name}  {state}  {info.target}{origin}")
        if info.tools:
            click.echo(f"    tools: {', '.join(info.tools)}")
        if info.slash_commands:
            click.echo(f"    slash commands: {', '.join('/' + c for c in info.slash_commands)}")
        if info.error:
            click.echo(f"    error: {info.error}")
    if any(i.state == "disabled" for i in infos):
        click.echo("\nTurn a plugin back on by removing it from [plugins] disabled.")
