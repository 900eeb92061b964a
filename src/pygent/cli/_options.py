"""The options shared by ``chat``, ``run``, ``serve`` and ``acp``: one spelling per concept.

| concept | spelling | old spellings (hidden, still accepted) |
|---|---|---|
| resume a session by id | ``--resume/-r ID`` | ``run --session ID`` |
| continue the newest session | ``--continue/-c`` | |
| model | ``--model/-m MODEL`` | |
| permission mode | ``--mode MODE`` | ``serve/acp --permission-mode`` |
| OS sandbox | ``--sandbox MODE`` | |
| working directory | ``--cwd DIR`` | |

Each command takes its options from here, so a new command cannot spell them differently
(``tests/unit/test_cli_vocabulary.py`` checks every command's options against this table).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from pygent.protocol.modes import PERMISSION_MODES

__all__ = [
    "SANDBOX_MODES",
    "AliasedOption",
    "continue_option",
    "cwd_option",
    "mode_option",
    "model_option",
    "resume_option",
    "sandbox_option",
    "settings_overrides",
]

F = TypeVar("F", bound=Callable[..., Any])

#: The values of ``--sandbox`` (``sandbox.mode``).
SANDBOX_MODES = ("workspace-write", "read-only", "off")


class AliasedOption(click.Option):
    """An option with old spellings that still work but are not shown in ``--help``.

    Args:
        param_decls: The option's names, as for :class:`click.Option`.
        hidden_aliases: Old spellings accepted on the command line, never shown.
    """

    def __init__(
        self,
        param_decls: Sequence[str] | None = None,
        *,
        hidden_aliases: Sequence[str] = (),
        **attrs: Any,
    ) -> None:
        super().__init__([*(param_decls or ()), *hidden_aliases], **attrs)
        self.hidden_aliases: tuple[str, ...] = tuple(hidden_aliases)

    @property
    def shown_opts(self) -> list[str]:
        """The spellings ``--help`` and the reference show (the aliases left out)."""
        return [opt for opt in self.opts if opt not in self.hidden_aliases]

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        """The help row, naming only the current spellings."""
        opts = self.opts
        self.opts = self.shown_opts
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = opts


def shown_opts(param: click.Parameter) -> list[str]:
    """An option's visible spellings (hidden aliases left out), secondary ones included."""
    opts = param.shown_opts if isinstance(param, AliasedOption) else list(param.opts)
    return [*opts, *param.secondary_opts]


def resume_option(*, pick: bool, help: str) -> Callable[[F], F]:
    """``--resume/-r ID``; with ``pick``, ``--resume`` alone asks which session (``chat``)."""
    if pick:
        return click.option(
            "--resume",
            "-r",
            "resume",
            cls=AliasedOption,
            is_flag=False,
            flag_value="",
            default=None,
            metavar="[ID]",
            help=help,
        )
    return click.option(
        "--resume",
        "-r",
        "resume",
        cls=AliasedOption,
        hidden_aliases=("--session",),
        default=None,
        metavar="ID",
        help=help,
    )


def continue_option(help: str) -> Callable[[F], F]:
    """``--continue/-c``: the workspace's newest session."""
    return click.option("--continue", "-c", "continue_last", is_flag=True, help=help)


def model_option(help: str) -> Callable[[F], F]:
    """``--model/-m MODEL`` (overrides ``llm.model``)."""
    return click.option("--model", "-m", "model", default=None, metavar="MODEL", help=help)


def mode_option(help: str) -> Callable[[F], F]:
    """``--mode MODE`` (overrides ``permissions.mode``); ``--permission-mode`` is an old alias."""
    return click.option(
        "--mode",
        "mode",
        cls=AliasedOption,
        hidden_aliases=("--permission-mode",),
        type=click.Choice(PERMISSION_MODES),
        default=None,
        help=help,
    )


def sandbox_option() -> Callable[[F], F]:
    """``--sandbox MODE`` (overrides ``sandbox.mode``)."""
    return click.option(
        "--sandbox",
        "sandbox",
        type=click.Choice(SANDBOX_MODES),
        default=None,
        help="OS sandbox for shell and git commands (overrides sandbox.mode).",
    )


def cwd_option(help: str) -> Callable[[F], F]:
    """``--cwd DIR``: work as if started in DIR."""
    return click.option(
        "--cwd",
        "cwd",
        type=click.Path(exists=True, file_okay=False, resolve_path=True),
        default=None,
        metavar="DIR",
        help=help,
    )


def settings_overrides(
    model: str | None = None, mode: str | None = None, sandbox: str | None = None
) -> dict[str, dict[str, str]]:
    """The settings layer of the command-line flags ``--model``, ``--mode`` and ``--sandbox``."""
    overrides: dict[str, dict[str, str]] = {}
    if model:
        overrides["llm"] = {"model": model}
    if mode:
        overrides["permissions"] = {"mode": mode}
    if sandbox:
        overrides["sandbox"] = {"mode": sandbox}
    return overrides
