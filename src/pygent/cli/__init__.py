"""The ``pygent`` command line: a click group whose commands load lazily.

Each command group lives in its own module under ``pygent.cli``; nothing is imported until the
command runs, so ``pygent --version`` stays fast.
"""

from __future__ import annotations

import sys

from pygent import __version__

#: What ``pygent --version`` prints, with or without click.
VERSION_TEXT = f"pygent {__version__}"


def _answer_version_without_click() -> None:
    """``pygent --version`` / ``-V`` as the whole command line: answer before importing click.

    Importing click costs about half of the command's start-up; the answer is the same text click
    would print. Only the real program (console script or ``python -m pygent``) takes this path.
    """
    argv = sys.argv
    if len(argv) != 2 or argv[1] not in ("--version", "-V"):
        return
    program = argv[0].replace("\\", "/").rsplit("/", 1)[-1].lower()
    if program in ("pygent", "pygent.exe", "pygent-script.py", "__main__.py"):
        sys.stdout.write(VERSION_TEXT + "\n")
        sys.stdout.flush()
        raise SystemExit(0)


_answer_version_without_click()

from pygent import _startup  # noqa: E402

_startup.skip_pydantic_plugin_discovery()

import importlib  # noqa: E402
import os  # noqa: E402
from typing import Any  # noqa: E402

import click  # noqa: E402

#: command name -> (module, attribute, short help). Short help is here so ``--help`` imports nothing.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "chat": (
        "pygent.cli.chat",
        "chat",
        "Open the terminal chat (the default when no command is given).",
    ),
    "run": ("pygent.cli.run", "run", "Run one prompt without a UI (scripts, CI)."),
    "serve": ("pygent.cli.serve", "serve", "Start the JSON-RPC server editors talk to (stdio)."),
    "acp": (
        "pygent.cli.acp",
        "acp",
        "Run as an ACP agent for Zed, JetBrains, Neovim, Emacs (stdio).",
    ),
    "sessions": ("pygent.cli.sessions", "sessions", "List, show and delete saved sessions."),
    "config": ("pygent.cli.config", "config", "Show, set and edit settings."),
    "prompt": ("pygent.cli.prompt", "prompt", "Show and customise the system prompt."),
    "setup": ("pygent.cli.setup", "setup", "First-run wizard: choose a provider, model and key."),
    "report": ("pygent.cli.report", "report", "Bundle recent logs (redacted) for a bug report."),
    "plugins": ("pygent.cli.plugins", "plugins", "Installed plugins: loaded, failed or disabled."),
    "mcp": ("pygent.cli.mcp", "mcp", "MCP servers as tool sources: list, add, remove, trust."),
    "telemetry": (
        "pygent.cli.telemetry",
        "telemetry",
        "Opt-in usage statistics: enable, disable, status, show.",
    ),
    "help": ("pygent.cli.help", "help_command", "Help on a topic: tools, config, permissions, ..."),
}


#: Commands that finish in moments: they run start to end with the garbage collector paused.
SHORT_LIVED = frozenset({"config", "prompt", "help", "report", "sessions", "telemetry", "plugins"})
#: Long-running commands that resume the collector themselves once they are up (``chat``: after
#: its first frame); the others get it back as soon as they are chosen.
RESUME_GC_THEMSELVES = frozenset({"chat"})


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command is used.

    Run as the program (``pygent`` or ``python -m pygent``), it keeps the cyclic garbage
    collector out of start-up (see :mod:`pygent._startup`): a short-lived command finishes
    without it, a long-running one gets it back when chosen or once it is up.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        _startup.pause_gc()
        try:
            return self.main(*args, **kwargs)
        finally:
            _startup.freeze_heap()
            _startup.resume_gc()

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        if cmd_name not in SHORT_LIVED and cmd_name not in RESUME_GC_THEMSELVES:
            _startup.resume_gc()
        module_name, attr, _ = entry
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            return None
        command: click.Command = getattr(module, attr)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            # Safety net: a PygentError no command caught is still a message, not a traceback.
            from pygent.errors import PygentError

            if not isinstance(exc, PygentError):
                raise
            click.echo(click.style("Error: ", fg="red", bold=True) + exc.message, err=True)
            if exc.hint:
                click.echo(exc.hint, err=True)
            ctx.exit(1)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, entry[2]) for name, entry in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _color_default() -> bool | None:
    return False if os.environ.get("NO_COLOR") else None


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, "-V", "--version", prog_name="pygent", message=VERSION_TEXT)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """pygent: an AI coding agent for your editor and terminal.

    Run `pygent chat` for the terminal UI, `pygent serve` for editors, `pygent run "PROMPT"` for
    scripts. `pygent help TOPIC` explains tools, config, permissions, prompts, sessions, shortcuts.

    Shell completion: eval "$(_PYGENT_COMPLETE=bash_source pygent)" (zsh_source, fish_source).
    """
    ctx.color = _color_default()
    if ctx.invoked_subcommand is None:
        chat = cli.get_command(ctx, "chat")
        if chat is None:
            click.echo(ctx.get_help())
            return
        ctx.invoke(chat)


def main(args: list[str] | None = None) -> Any:
    """Entry point for embedding: run the CLI with ``args``."""
    return cli.main(args=args, prog_name="pygent")
