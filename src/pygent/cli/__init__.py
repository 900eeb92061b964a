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

from typing import TYPE_CHECKING, Any, cast  # noqa: E402

if TYPE_CHECKING:
    from importlib.abc import Loader

_PYDANTIC_PLUGIN_LOADER = "pydantic.plugin._loader"


class _NoPydanticPlugins:
    """An import hook that gives pydantic a plugin loader reporting no plugins.

    The first pydantic model a process builds makes pydantic import ``importlib.metadata`` and
    read the entry points of every installed distribution, looking for ``pydantic`` plugins:
    about a tenth of ``config show``. pygent uses none, so its own process answers the import of
    pydantic's loader with a module whose ``get_plugins()`` is empty. (``PYDANTIC_DISABLE_PLUGINS``
    would still import ``importlib.metadata``, and the shell commands the agent runs would
    inherit it.) Anything else asked of that module is served by pydantic's real one, so a
    pydantic release that needs more keeps working.
    """

    def find_spec(self, name: str, path: object = None, target: object = None) -> Any:
        if name != _PYDANTIC_PLUGIN_LOADER:
            return None
        from importlib.machinery import ModuleSpec

        return ModuleSpec(name, cast("Loader", self))

    def create_module(self, spec: object) -> None:
        return None  # the default module object

    def exec_module(self, module: Any) -> None:
        module.get_plugins = _no_pydantic_plugins
        module.__getattr__ = lambda name: self.real_attribute(module, name)

    def real_attribute(self, stub: object, name: str) -> object:
        if name.startswith("__"):  # the import system probing (`__path__`, ...)
            raise AttributeError(name)
        import importlib

        if self in sys.meta_path:
            sys.meta_path.remove(self)
        if sys.modules.get(_PYDANTIC_PLUGIN_LOADER) is stub:
            del sys.modules[_PYDANTIC_PLUGIN_LOADER]
        return getattr(importlib.import_module(_PYDANTIC_PLUGIN_LOADER), name)


def _no_pydantic_plugins() -> tuple[()]:
    return ()


def _skip_pydantic_plugin_discovery() -> None:
    """Install :class:`_NoPydanticPlugins` unless pydantic's loader is already imported."""
    if _PYDANTIC_PLUGIN_LOADER not in sys.modules and not any(
        isinstance(finder, _NoPydanticPlugins) for finder in sys.meta_path
    ):
        sys.meta_path.insert(0, _NoPydanticPlugins())


_skip_pydantic_plugin_discovery()

import gc  # noqa: E402
import importlib  # noqa: E402
import os  # noqa: E402

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
    "sessions": ("pygent.cli.sessions", "sessions", "List, show and delete saved sessions."),
    "config": ("pygent.cli.config", "config", "Show, set and edit settings."),
    "prompt": ("pygent.cli.prompt", "prompt", "Show and customise the system prompt."),
    "setup": ("pygent.cli.setup", "setup", "First-run wizard: choose a provider, model and key."),
    "report": ("pygent.cli.report", "report", "Bundle recent logs (redacted) for a bug report."),
    "help": ("pygent.cli.help", "help_command", "Help on a topic: tools, config, permissions, ..."),
}


#: Commands that finish in moments; the rest (chat, serve, run, setup) run for long.
SHORT_LIVED = frozenset({"config", "prompt", "help", "report", "sessions"})


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command is used.

    Run as the program (``pygent`` or ``python -m pygent``), it also keeps the cyclic garbage
    collector out of start-up: importing pydantic and building the settings models allocates
    tens of thousands of long-lived objects, which the collector would scan over and over (about
    a tenth of ``config show``). A long-running command turns the collector back on when it is
    chosen; a short-lived one finishes without it. Either way, everything alive at exit is
    frozen first, so the interpreter does not walk it once more on the way out.
    """

    _gc_paused = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if gc.isenabled():
            gc.disable()
            LazyGroup._gc_paused = True
        try:
            return self.main(*args, **kwargs)
        finally:
            gc.freeze()
            _resume_gc()

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        if cmd_name not in SHORT_LIVED:
            _resume_gc()
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


def _resume_gc() -> None:
    """Turn the garbage collector back on if :meth:`LazyGroup.__call__` paused it."""
    if LazyGroup._gc_paused:
        LazyGroup._gc_paused = False
        gc.enable()


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
