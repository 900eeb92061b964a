"""Helpers shared by the CLI commands: friendly error output, warnings, opening ``$EDITOR``."""

from __future__ import annotations

import functools
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, ParamSpec, TypeVar

import click

from pygent.errors import PygentError

__all__ = ["editor_command", "fail", "friendly_errors", "open_in_editor", "warn"]

P = ParamSpec("P")
R = TypeVar("R")


def fail(error: PygentError | str, hint: str = "", *, code: int = 1) -> NoReturn:
    """Print ``error`` to stderr as ``Error: ...`` plus its hint, and exit with ``code``."""
    message = error.message if isinstance(error, PygentError) else error
    hint = error.hint if isinstance(error, PygentError) else hint
    click.echo(click.style("Error: ", fg="red", bold=True) + message, err=True)
    if hint:
        click.echo(hint, err=True)
    sys.exit(code)


def warn(message: str) -> None:
    """Print a warning to stderr."""
    click.echo(click.style("Warning: ", fg="yellow", bold=True) + message, err=True)


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a :class:`PygentError` raised by a command into a clear message and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except PygentError as exc:
            fail(exc)

    return wrapper


def editor_command() -> list[str] | None:
    """The user's editor from ``$VISUAL`` or ``$EDITOR`` as an argv list, or None when unset."""
    for var in ("VISUAL", "EDITOR"):
        value = os.environ.get(var, "").strip()
        if value:
            if os.name != "nt":
                return shlex.split(value)
            # Windows paths contain backslashes: split without POSIX escapes, then unquote.
            return [
                part[1:-1] if len(part) >= 2 and part[0] == part[-1] == '"' else part
                for part in shlex.split(value, posix=False)
            ]
    if os.name == "nt":
        return ["notepad"]
    return None


def open_in_editor(path: Path, shown: Path | None = None) -> None:
    """Open ``path`` in the user's editor and wait until it is closed.

    Args:
        path: The file to open.
        shown: The file to name in messages (when ``path`` is a temporary copy of it).

    Raises:
        PygentError: ``$VISUAL``/``$EDITOR`` is unset, the editor cannot be started, or it
            exits with an error.
    """
    command = editor_command()
    if not command:
        raise PygentError(
            "invalid_config",
            "No editor configured: neither $VISUAL nor $EDITOR is set.",
            f"Set one (e.g. `export EDITOR=nano`) and try again, or edit {shown or path} directly.",
        )
    try:
        result = subprocess.run([*command, str(path)], check=False)
    except OSError as exc:
        raise PygentError(
            "invalid_config",
            f"Could not start the editor {command[0]!r}: {exc.strerror or exc}.",
            "Check $VISUAL/$EDITOR (the program must be on your PATH).",
        ) from None
    if result.returncode != 0:
        raise PygentError(
            "invalid_config",
            f"The editor {command[0]!r} exited with status {result.returncode}; nothing was changed.",
            "Fix the editor setting ($VISUAL/$EDITOR) or edit the file directly.",
        )
