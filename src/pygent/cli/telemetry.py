"""``pygent telemetry``: turn the opt-in usage statistics on or off, and see exactly what they hold."""

from __future__ import annotations

import json

import click

from pygent.cli._common import friendly_errors

__all__ = ["telemetry"]


@click.group("telemetry")
def telemetry() -> None:
    """Opt-in anonymous usage statistics: counts and timings, never content.

    Off by default. When on, pygent records tool-call counts by tool and outcome, error codes,
    latencies, the model name, the frontend, and the pygent, OS and Python versions in a local
    spool; it never records prompts or answers, file paths or contents, command lines, URLs,
    keys, usernames or host names. Nothing leaves the machine unless `telemetry.endpoint` is set.
    """


def _user_config_set(enabled: bool) -> None:
    from pygent.settings import paths
    from pygent.settings.editing import set_values

    set_values(paths.user_config_file(), {"telemetry.enabled": enabled})


@telemetry.command("enable")
@friendly_errors
def enable() -> None:
    """Turn telemetry on (writes telemetry.enabled = true to your user config)."""
    from pygent import telemetry as tm
    from pygent.settings import paths

    _user_config_set(True)
    tm.install_id()
    click.echo(f"Telemetry is on (saved in {paths.user_config_file()}).")
    click.echo(f"Events are spooled to {tm.spool_file()}; `pygent telemetry show` prints them.")


@telemetry.command("disable")
@friendly_errors
def disable() -> None:
    """Turn telemetry off and delete the install id and every spooled event."""
    from pygent import telemetry as tm

    _user_config_set(False)
    deleted = tm.delete_local_data()
    click.echo("Telemetry is off." + (f" Deleted {len(deleted)} file(s)." if deleted else ""))


@telemetry.command("status")
@friendly_errors
def status() -> None:
    """Whether telemetry is on, where events go, and how many are waiting."""
    from pathlib import Path

    from pygent import telemetry as tm
    from pygent.settings.loader import load_settings

    settings = load_settings(Path.cwd())
    on = settings.telemetry.enabled
    click.echo(f"telemetry: {'on' if on else 'off'}")
    click.echo(f"endpoint:  {settings.telemetry.endpoint or '(none: nothing leaves this machine)'}")
    click.echo(f"install id: {tm.install_id(create=False) or '(none)'}")
    click.echo(f"spool:     {tm.spool_file()} ({len(tm.spool_events())} events)")


@telemetry.command("show")
@friendly_errors
def show() -> None:
    """Print exactly what is spooled (and would be sent), one JSON event per line."""
    from pygent import telemetry as tm

    events = tm.spool_events()
    if not events:
        click.echo("No telemetry events are spooled.", err=True)
        return
    for event in events:
        click.echo(json.dumps(event, sort_keys=True))
