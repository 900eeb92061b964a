"""``pygent sessions``: list, show and delete the saved sessions of the current workspace."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from pygent.agent.session import Session, SessionStore
    from pygent.errors import PygentError
    from pygent.settings.models import Settings


def fail(error: PygentError | str) -> NoReturn:
    """Print a friendly error on stderr (no traceback) and exit with status 1."""
    click.echo(f"Error: {error}", err=True)
    sys.exit(1)


def setup_cli_logging(settings: Settings | None = None) -> None:
    """Log to the log file; never let loguru's default handler write over our stderr."""
    import contextlib

    from loguru import logger

    try:
        from pygent.logs import setup_logging
    except ImportError:  # pragma: no cover - foundation module missing
        pass
    else:
        setup_logging(settings)
    with contextlib.suppress(ValueError):
        logger.remove(0)  # gone already unless logging is disabled


def store_for(cwd: Path | None = None) -> SessionStore:
    """The session store of the workspace (project root) containing ``cwd``."""
    from pygent.agent.session import SessionStore
    from pygent.settings.paths import find_project_root

    return SessionStore(find_project_root(cwd))


def _load(store: SessionStore, session_id: str) -> Session:
    from pygent.errors import PygentError

    try:
        return store.load(session_id)
    except PygentError as exc:
        fail(exc)


def _local_time(iso: str) -> str:
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


@click.group()
@click.pass_context
def sessions(ctx: click.Context) -> None:
    """List, show and delete the saved sessions of this workspace.

    Sessions belong to the workspace (the git root above the current directory), so the TUI,
    editors and `pygent run` share them. Continue one with `pygent run --resume ID "..."`.
    """
    if ctx.invoked_subcommand != "list":  # listing reads the index and logs nothing: no loguru
        setup_cli_logging(None)


@sessions.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per session.")
def list_command(as_json: bool) -> None:
    """List sessions, newest first: id, last update, message count, title."""
    store = store_for()
    infos = store.list()
    if as_json:
        for info in infos:
            click.echo(json.dumps(info))
        return
    if not infos:
        click.echo(f"No sessions yet for {store.workspace_root}.", err=True)
        return
    click.echo(f"{'ID':26}  {'UPDATED':16}  {'MSGS':>5}  TITLE")
    for info in infos:
        title = info["title"] or "(untitled)"
        click.echo(
            f"{info['sessionId']:26}  {_local_time(info['updatedAt']):16}  "
            f"{info['messageCount']:>5}  {title}"
        )


def _format_arguments(raw: Any) -> str:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return str(raw)
    if isinstance(raw, dict):
        return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)[:80]}" for k, v in raw.items())
    return str(raw)


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line for line in text.splitlines()) if text else prefix.rstrip()


def render_conversation(session: Session, *, full: bool = False) -> str:
    """The session as readable text: who said what, tool calls and (shortened) results."""
    from pygent.agent.session import message_text

    out = [
        f"Session {session.id}: {session.title or '(untitled)'}",
        f"Model {session.model or '?'} · created {_local_time(session.created)} · "
        f"updated {_local_time(session.updated)} · {len(session.messages)} messages",
        f"Directory {session.cwd}",
        "",
    ]
    limit = None if full else 20
    for index, message in enumerate(session.messages):
        role = message.get("role")
        text = message_text(message)
        if role == "system":
            out += ["System:", _indent(_shorten(text, limit)), ""]
        elif role == "user":
            out += ["You:", _indent(text), ""]
        elif role == "assistant":
            if text:
                out += ["Assistant:", _indent(text), ""]
            for call in message.get("tool_calls") or []:
                function = call.get("function") or {}
                out.append(
                    f"  → {function.get('name', '?')}({_format_arguments(function.get('arguments'))})"
                )
            if message.get("tool_calls"):
                out.append("")
        elif role == "tool":
            failed = session.message_status(index) == "failed"
            label = "Tool result (failed):" if failed else "Tool result:"
            out += [label, _indent(_shorten(text, limit), "  │ "), ""]
    for warning in session.warnings:
        out.append(f"Warning: {warning}")
    return "\n".join(out).rstrip() + "\n"


def _shorten(text: str, max_lines: int | None) -> str:
    lines = text.splitlines()
    if max_lines is None or len(lines) <= max_lines:
        return text
    return "\n".join([*lines[:max_lines], f"... ({len(lines) - max_lines} more lines)"])


@sessions.command("show")
@click.argument("session_id", metavar="ID")
@click.option("--full", is_flag=True, help="Do not shorten long tool results.")
@click.option("--json", "as_json", is_flag=True, help="Print the messages as JSON lines.")
def show_command(session_id: str, full: bool, as_json: bool) -> None:
    """Print a session's conversation."""
    session = _load(store_for(), session_id)
    if as_json:
        for message in session.messages:
            click.echo(json.dumps(message, ensure_ascii=False))
    else:
        click.echo(render_conversation(session, full=full), nl=False)
    for warning in session.warnings:
        click.echo(f"Warning: {warning}", err=True)


@sessions.command("delete")
@click.argument("session_id", metavar="ID")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def delete_command(session_id: str, yes: bool) -> None:
    """Delete a session (asks first unless --yes)."""
    from pygent.errors import PygentError

    store = store_for()
    session = _load(store, session_id)
    if not yes:
        prompt = (
            f"Delete session {session.id} "
            f"({session.title or 'untitled'}, {len(session.messages)} messages)?"
        )
        if not click.confirm(prompt, default=False, err=True):
            click.echo("Nothing deleted.", err=True)
            return
    try:
        store.delete(session.id)
    except PygentError as exc:
        fail(exc)
    click.echo(f"Deleted session {session.id}.", err=True)
