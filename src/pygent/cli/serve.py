"""``pygent serve``: the JSON-RPC server editors talk to (LSP base protocol on stdio)."""

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


@click.command("serve")
@click.option(
    "--stdio", is_flag=True, default=True, hidden=True, help="Serve on stdin/stdout (the default)."
)
@model_option("Model for this server (overrides llm.model).")
@mode_option("Permission mode for this server (overrides permissions.mode).")
@sandbox_option()
@cwd_option("Serve the workspace DIR when the editor names no root (default: here).")
@click.option(
    "--max-message-bytes",
    type=click.IntRange(min=1024),
    default=None,
    help="Largest JSON-RPC message accepted (default 64 MiB, or PYGENT_MAX_MESSAGE_BYTES).",
)
def serve(
    stdio: bool,
    model: str | None,
    mode: str | None,
    sandbox: str | None,
    cwd: str | None,
    max_message_bytes: int | None,
) -> None:
    """Start the JSON-RPC server editors talk to, on stdin/stdout.

    Frames are LSP base protocol (Content-Length headers). Stdout carries protocol frames only;
    logs go to the log file. The protocol is documented in docs/protocol.md.
    """
    overrides = settings_overrides(model, mode, sandbox)
    if cwd is not None:
        os.chdir(cwd)
    if sys.stdin.isatty():
        click.echo(
            "pygent serve speaks JSON-RPC on stdin/stdout for editors; start it from an editor "
            "plugin, or run `pygent chat` for the terminal UI.",
            err=True,
        )
    from pygent import telemetry
    from pygent.server.main import run_stdio

    telemetry.set_frontend("serve")

    sys.exit(run_stdio(overrides, max_message_bytes))
