"""``pygent acp``: the Agent Client Protocol agent editors such as Zed and JetBrains start."""

from __future__ import annotations

import os
import sys

import click

from pygent.cli._options import (
    cwd_option,
    mode_option,
    model_option,
    sandbox_option,
    settings_overrides,
)


@click.command("acp")
@model_option("Model for this agent (overrides llm.model).")
@mode_option("Permission mode for new sessions (overrides permissions.mode).")
@sandbox_option()
@cwd_option("Work in DIR when the editor names no directory (default: here).")
def acp(model: str | None, mode: str | None, sandbox: str | None, cwd: str | None) -> None:
    """Run pygent as an ACP agent (Agent Client Protocol v1) on stdin/stdout.

    Zed, JetBrains IDEs, CodeCompanion and avante (Neovim) and Emacs agent-shell start this
    command and talk newline-delimited JSON-RPC to it. Stdout carries protocol messages only;
    logs go to the log file. Setup per editor: docs/editors/acp.md.
    """
    overrides = settings_overrides(model, mode, sandbox)
    if cwd is not None:
        os.chdir(cwd)
    if sys.stdin.isatty():
        click.echo(
            "pygent acp speaks the Agent Client Protocol on stdin/stdout; start it from an editor "
            "(see `pygent help acp`), or run `pygent chat` for the terminal UI.",
            err=True,
        )
    from pygent.acp.main import run_stdio

    sys.exit(run_stdio(overrides))
