"""``pygent acp``: the Agent Client Protocol agent editors such as Zed and JetBrains start."""

from __future__ import annotations

import sys

import click


@click.command("acp")
@click.option("--model", default=None, help="Model for this agent (overrides llm.model).")
@click.option(
    "--mode",
    "--permission-mode",
    "permission_mode",
    type=click.Choice(["ask", "auto-edit", "plan", "auto"]),
    default=None,
    help="Permission mode for new sessions (overrides permissions.mode).",
)
def acp(model: str | None, permission_mode: str | None) -> None:
    """Run pygent as an ACP agent (Agent Client Protocol v1) on stdin/stdout.

    Zed, JetBrains IDEs, CodeCompanion and avante (Neovim) and Emacs agent-shell start this
    command and talk newline-delimited JSON-RPC to it. Stdout carries protocol messages only;
    logs go to the log file. Setup per editor: docs/editors/acp.md.
    """
    overrides: dict[str, dict[str, str]] = {}
    if model:
        overrides["llm"] = {"model": model}
    if permission_mode:
        overrides["permissions"] = {"mode": permission_mode}
    if sys.stdin.isatty():
        click.echo(
            "pygent acp speaks the Agent Client Protocol on stdin/stdout; start it from an editor "
            "(see `pygent help acp`), or run `pygent chat` for the terminal UI.",
            err=True,
        )
    from pygent.acp.main import run_stdio

    sys.exit(run_stdio(overrides))
