"""``pygent chat``: the terminal UI (Textual), a client of ``pygent serve``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pygent.cli._common import friendly_errors

if TYPE_CHECKING:
    from pygent.settings.models import Settings

MODES = ("ask", "auto-edit", "plan", "auto")


def needs_first_run(settings: Settings) -> bool:
    """True when no usable API key is configured (a local ``llm.api_base`` needs none)."""
    from pygent.agent.llm import KEYLESS_PROVIDERS
    from pygent.settings.loader import provider_of, resolve_api_key

    if settings.llm.api_base:
        return False
    if provider_of(settings.llm.model) in KEYLESS_PROVIDERS:
        return False
    return resolve_api_key(settings) is None


@click.command("chat")
@click.option(
    "--resume",
    "resume",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[ID]",
    help="Resume session ID; without an ID, pick one from a list.",
)
@click.option(
    "--continue", "continue_last", is_flag=True, help="Resume this workspace's newest session."
)
@click.option("--model", default=None, help="Model for this chat (overrides llm.model).")
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default=None,
    help="Permission mode for this chat (overrides permissions.mode).",
)
@click.option(
    "--sandbox",
    type=click.Choice(["workspace-write", "read-only", "off"]),
    default=None,
    help="OS sandbox for shell and git commands (overrides sandbox.mode).",
)
@friendly_errors
def chat(
    resume: str | None,
    continue_last: bool,
    model: str | None,
    mode: str | None,
    sandbox: str | None,
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
    from pygent.settings.paths import find_project_root

    cwd = Path.cwd()
    root = find_project_root(cwd)
    from loguru import logger

    from pygent.logs import setup_logging
    from pygent.settings.loader import load_settings

    overrides = {"sandbox": {"mode": sandbox}} if sandbox else None
    settings = load_settings(
        cwd, overrides
    )  # a broken config is reported here, before the UI starts
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
    app.run()
