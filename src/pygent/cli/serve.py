"""``pygent serve``: the JSON-RPC server editors talk to (LSP base protocol on stdio)."""

from __future__ import annotations

import sys

import click


@click.command("serve")
@click.option(
    "--stdio", is_flag=True, default=True, hidden=True, help="Serve on stdin/stdout (the default)."
)
@click.option("--model", default=None, help="Model for this server (overrides llm.model).")
@click.option(
    "--mode",
    "--permission-mode",
    "permission_mode",
    type=click.Choice(["ask", "auto-edit", "plan", "auto"]),
    default=None,
    help="Permission mode for this server (overrides permissions.mode).",
)
@click.option(
    "--sandbox",
    "sandbox_mode",
    type=click.Choice(["workspace-write", "read-only", "off"]),
    default=None,
    help="OS sandbox for shell and git commands (overrides sandbox.mode).",
)
@click.option(
    "--max-message-bytes",
    type=click.IntRange(min=1024),
    default=None,
    help="Largest JSON-RPC message accepted (default 64 MiB, or PYGENT_MAX_MESSAGE_BYTES).",
)
def serve(
    stdio: bool,
    model: str | None,
    permission_mode: str | None,
    sandbox_mode: str | None,
    max_message_bytes: int | None,
) -> None:
    """Start the JSON-RPC server editors talk to, on stdin/stdout.

    Frames are LSP base protocol (Content-Length headers). Stdout carries protocol frames only;
    logs go to the log file. The protocol is documented in docs/protocol.md.
    """
    overrides: dict[str, dict[str, str]] = {}
    if model:
        overrides["llm"] = {"model": model}
    if permission_mode:
        overrides["permissions"] = {"mode": permission_mode}
    if sandbox_mode:
        overrides["sandbox"] = {"mode": sandbox_mode}
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
