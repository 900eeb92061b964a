"""``pygent chat``: the terminal UI (Textual), a client of ``pygent serve``."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pygent.cli._common import friendly_errors
from pygent.cli._options import (
    continue_option,
    cwd_option,
    mode_option,
    model_option,
    resume_option,
    sandbox_option,
)

if TYPE_CHECKING:
    from pygent.settings.models import Settings


def needs_first_run(settings: Settings) -> bool:
    """True when no usable API key is configured (a local ``llm.api_base`` needs none)."""
    from pygent.agent.llm import KEYLESS_PROVIDERS
    from pygent.settings.loader import provider_of, resolve_api_key

    if settings.llm.api_base:
        return False
    if provider_of(settings.llm.model) in KEYLESS_PROVIDERS:
        return False
    return resolve_api_key(settings) is None


def resume_hint(session_id: str) -> str:
    """What ``pygent chat`` prints on the terminal after the app closes: how to come back.

    Args:
        session_id: The session the chat showed last (it has at least one message).
    """
    return (
        f"Session {session_id} is saved.\n"
        f"Resume it with: pygent chat --resume {session_id}\n"
        "(or `pygent chat --continue` for this workspace's newest session)"
    )


@click.command("chat")
@resume_option(pick=True, help="Resume session ID; without an ID, pick one from a list.")
@continue_option("Resume this workspace's newest session.")
@model_option("Model for this chat (overrides llm.model).")
@mode_option("Permission mode for this chat (overrides permissions.mode).")
@sandbox_option()
@cwd_option("Work in DIR (its project) instead of the current directory.")
@friendly_errors
def chat(
    resume: str | None,
    continue_last: bool,
    model: str | None,
    mode: str | None,
    sandbox: str | None,
    cwd: str | None,
) -> None:
    """Open the terminal chat: conversation on the left, diffs and files on the right.

    Keys: Enter sends, Shift+Enter or Ctrl+J adds a line, Ctrl+C cancels (twice quits), Ctrl+N new
    session, Ctrl+R resume, Ctrl+P commands, Ctrl+Q quit. `pygent help shortcuts` lists them all.
    """
    if resume is not None and continue_last:
        raise click.UsageError("Use either --resume or --continue, not both.")
    if not sys.stdin.isatty() or not sys.stdout.isatty():
        raise click.UsageError(
            'pygent chat needs an interactive terminal. For scripts use `pygent run "PROMPT"`.'
        )
    if cwd is not None:
        os.chdir(cwd)  # the chat's server is started here too, so it works in DIR
    from pygent.settings.paths import find_project_root

    here = Path.cwd()
    root = find_project_root(here)
    from loguru import logger

    from pygent.logs import setup_logging
    from pygent.settings.loader import load_settings

    overrides = {"sandbox": {"mode": sandbox}} if sandbox else None
    settings = load_settings(here, overrides)  # a broken config is reported before the UI starts
    first_run = needs_first_run(settings) and model is None
    logger.remove()  # nothing is printed outside the UI ...
    setup_logging(settings)  # ... logs go to the file
    from pygent.tui.app import PygentApp

    app = PygentApp(
        root,
        model=model,
        mode=mode,
        resume=resume or None,
        continue_last=continue_last,
        pick_session=resume == "",
        first_run=first_run,
        ui=settings.ui,
        # The server the chat talks to applies the sandbox, so the flag goes to it.
        server_command=(
            [sys.executable, "-m", "pygent", "serve", "--sandbox", sandbox] if sandbox else None
        ),
    )
    session_id = app.run()
    if session_id:  # printed on the normal screen, after the app has given it back
        click.echo(resume_hint(session_id))
