"""Plugins: installed Python packages that add tools, settings and slash commands to pygent.

A plugin is a package with an entry point in the group ``pygent.plugins`` naming a subclass of
:class:`PluginBase`::

    # pyproject.toml of the plugin package
    [project.entry-points."pygent.plugins"]
    wordcount = "pygent_wordcount:WordCountPlugin"

pygent instantiates the class with no arguments and calls :meth:`PluginBase.register` once per
process with a :class:`PluginApp`::

    import pygent
    from pygent.plugins import PluginApp, PluginBase

    @pygent.tool(risk=pygent.ToolRisk.READ, kind="read")
    async def word_count(ctx, path: str) -> str:
        \"\"\"Count the words of a file.

        Args:
            path: File to count, relative to the workspace.
        \"\"\"
        ...

    class WordCountPlugin(PluginBase):
        def register(self, app: PluginApp) -> None:
            app.add_tool(word_count)

A plugin that fails to import, or whose ``register`` raises, is reported (``pygent plugins list``
shows the last line of the error; the first turn of a session gets one notice) and skipped:
starting pygent never fails because of a plugin. ``[plugins] disabled = ["wordcount"]`` (the
entry-point name) turns one off.
"""

from __future__ import annotations

import inspect
import threading
import traceback
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from pydantic import BaseModel

    from pygent.settings.models import Settings
    from pygent.tools.base import ToolRegistry, ToolSpec

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginApp",
    "PluginBase",
    "PluginError",
    "PluginInfo",
    "SlashCommand",
    "SlashContext",
    "SlashHandler",
    "describe_failure",
    "load_plugins",
    "loaded_plugins",
    "plugin_settings",
    "slash_commands",
    "take_failure_notices",
]

ENTRY_POINT_GROUP = "pygent.plugins"

SlashHandler = Callable[..., Awaitable[str]]
"""A slash command's handler: ``async def handler(args: str, ctx: SlashContext) -> str``
(Markdown to show); ``async def handler(args: str) -> str`` works too."""


@dataclass(frozen=True)
class SlashContext:
    """What a slash command's handler gets besides its argument text.

    Attributes:
        session_id: The session the command was typed in.
        cwd: The session's working directory (inside the workspace).
        settings: The effective settings of that workspace (``plugin_settings(ctx.settings,
            NAME)`` gives the plugin's table).
        command: The command's name, without the slash.
        plugin: The entry-point name of the plugin that added it.
    """

    session_id: str
    cwd: Path
    settings: Settings
    command: str
    plugin: str


class PluginError(Exception):
    """A plugin asked for something pygent cannot give (a name clash, a bad tool)."""


@dataclass(frozen=True)
class SlashCommand:
    """A slash command added by a plugin.

    Attributes:
        name: Without the slash (``wc`` for ``/wc``).
        handler: ``async def handler(args: str, ctx: SlashContext) -> str`` (or without ``ctx``);
            the text is Markdown shown to the person.
        help: One line for ``/help`` and command palettes.
        plugin: The entry-point name of the plugin that added it.
    """

    name: str
    handler: SlashHandler
    help: str
    plugin: str

    async def run(self, args: str, ctx: SlashContext) -> str:
        """Call the handler (with ``ctx`` when it takes a second parameter); returns its text.

        Raises:
            PluginError: The handler returned something other than text.
            Exception: Whatever the handler raised.
        """
        result = await (
            self.handler(args, ctx) if _takes_context(self.handler) else self.handler(args)
        )
        if not isinstance(result, str):
            raise PluginError(
                f"plugin {self.plugin}: /{self.name} returned {type(result).__name__}, not text"
            )
        return result

    async def run_for_frontend(self, args: str, ctx: SlashContext) -> str:
        """:meth:`run`, with any failure logged (traceback included) and raised as a clear error.

        Raises:
            PygentError: ``internal``, naming the command and its plugin; pygent keeps running.
        """
        import asyncio

        from pygent.errors import PygentError

        try:
            return await self.run(args, ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            from loguru import logger

            logger.opt(exception=exc).error(
                "the command /{} of the plugin {} failed", self.name, self.plugin
            )
            raise PygentError(
                "internal",
                f"The command /{self.name} of the plugin {self.plugin!r} failed: "
                f"{describe_failure(exc)}.",
                "The plugin has a bug: report it to its author (the traceback is in the log "
                "file, `pygent report`). pygent keeps running.",
                {"command": self.name, "plugin": self.plugin},
            ) from None


def _takes_context(handler: SlashHandler) -> bool:
    try:
        params = list(inspect.signature(handler).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [
        p
        for p in params
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
    ]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in positional)


@dataclass
class PluginInfo:
    """What ``pygent plugins list`` shows about one installed plugin.

    Attributes:
        name: The entry-point name (what ``[plugins] disabled`` takes).
        target: ``module:Class`` the entry point names.
        distribution: The package that installed it, with its version (when known).
        state: ``loaded``, ``failed`` or ``disabled``.
        error: The last line of the error, when it failed.
        tools: Names of the tools it added.
        slash_commands: Names of the slash commands it added.
    """

    name: str
    target: str
    distribution: str = ""
    state: str = "loaded"
    error: str = ""
    tools: list[str] = field(default_factory=list)
    slash_commands: list[str] = field(default_factory=list)


class PluginBase:
    """Base class of a plugin. Subclass it and override :meth:`register`.

    pygent creates the instance with no arguments; keep ``__init__`` free of work that can fail.
    """

    def register(self, app: PluginApp) -> None:
        """Add tools, settings and slash commands through ``app`` (called once per process)."""
        raise NotImplementedError(f"{type(self).__name__} does not override register()")


class PluginApp:
    """What a plugin may add to pygent. Nothing takes effect unless ``register`` returns normally.

    Args:
        plugin: The entry-point name of the plugin being registered.
        registry: The registry the plugin's tools join (every session's tools).
        settings: The effective settings (for the plugin's ``[plugins.NAME]`` table).
    """

    def __init__(self, plugin: str, registry: ToolRegistry, settings: Settings) -> None:
        self.plugin = plugin
        self._registry = registry
        self._settings = settings
        self._tools: list[ToolSpec] = []
        self._settings_models: dict[str, type[BaseModel]] = {}
        self._slash: list[SlashCommand] = []

    def add_tool(self, fn: Callable[..., Awaitable[Any]]) -> None:
        """Make a tool available to every session, with the permissions of its risk tier.

        Args:
            fn: A coroutine function decorated with ``@pygent.tool(risk=..., kind=...)``.

        Raises:
            PluginError: ``fn`` is not a decorated tool, or its name is taken (the message
                names both tools).
        """
        spec: ToolSpec | None = getattr(fn, "__pygent_tool__", None)
        if spec is None:
            raise PluginError(
                f"plugin {self.plugin}: {getattr(fn, '__name__', fn)!r} is not a tool; "
                "decorate it with @pygent.tool(risk=..., kind=...)"
            )
        existing = self._registry.get(spec.name)
        if existing is not None:
            owner = _owner(existing)
            raise PluginError(
                f"plugin {self.plugin}: its tool {spec.name!r} ({spec.func.__module__}) "
                f"clashes with the {owner} tool {existing.name!r} ({existing.func.__module__}); "
                "rename it with @pygent.tool(name=...)"
            )
        if any(t.name == spec.name for t in self._tools):
            raise PluginError(f"plugin {self.plugin}: tool {spec.name!r} added twice")
        self._tools.append(spec)

    def add_settings(self, name: str, model: type[BaseModel]) -> BaseModel:
        """Declare the plugin's ``[plugins.NAME]`` table and validate it now.

        Returns:
            The validated settings (defaults when the table is absent).

        Raises:
            ConfigError: The table does not fit ``model`` (the message names the key, the
                expected type and the value found, like core settings).
        """
        self._settings_models[name] = model
        return _validate_table(self._settings, name, model)

    def add_slash_command(self, name: str, handler: SlashHandler, help: str) -> None:
        """Add ``/name`` to the terminal chat (and to any frontend that lists slash commands).

        Frontends list it with ``pygent/commands/list`` and run it with ``pygent/commands/run``:
        the handler is awaited as ``handler(args, ctx)`` (``ctx`` a :class:`SlashContext`) when
        it takes two parameters, else as ``handler(args)``. It returns Markdown for the person; an
        exception it raises is shown as an error and logged, and pygent goes on.

        Args:
            name: The command without the slash (``wc`` for ``/wc``).
            handler: An ``async`` function of the argument text (and the context).
            help: One line for ``/help`` and completion.

        Raises:
            PluginError: The name is empty, has spaces, or is taken.
        """
        clean = name.lstrip("/")
        if not clean or any(c.isspace() for c in clean):
            raise PluginError(f"plugin {self.plugin}: slash command {name!r} is not a word")
        if clean in _slash or any(c.name == clean for c in self._slash):
            raise PluginError(f"plugin {self.plugin}: slash command /{clean} is taken")
        self._slash.append(SlashCommand(clean, handler, help, self.plugin))

    @property
    def settings(self) -> Settings:
        """The effective settings of this process."""
        return self._settings


def _owner(spec: ToolSpec) -> str:
    return "built-in" if spec.func.__module__.startswith("pygent.") else "plugin"


def _validate_table(settings: Settings, name: str, model: type[BaseModel]) -> BaseModel:
    from pydantic import ValidationError

    from pygent.errors import ConfigError

    table = (settings.plugins.model_extra or {}).get(name, {})
    try:
        return model.model_validate(table)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(["plugins", name, *(str(p) for p in error["loc"])])
        detail = error["msg"]
        raise ConfigError(
            f"{key} is invalid: {detail[0].lower() + detail[1:]}, but found {error.get('input')!r}.",
            f"Fix [plugins.{name}] in your config file (`pygent config path`).",
            {"key": key},
        ) from None


# -- the process-wide state ------------------------------------------------------------------

_lock = threading.Lock()
_loaded: list[PluginInfo] | None = None
_slash: dict[str, SlashCommand] = {}
_models: dict[str, type[BaseModel]] = {}
_notices: list[str] = []


def _entry_points() -> list[EntryPoint]:
    from importlib.metadata import entry_points

    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def describe_failure(exc: BaseException) -> str:
    """One line about a plugin's exception: its own sentence, or ``Type: message``."""
    return _last_line(exc)


def _last_line(exc: BaseException) -> str:
    from pygent.errors import PygentError

    if isinstance(exc, (PygentError, PluginError)):
        return str(exc)  # already a sentence for a person
    lines = traceback.format_exception_only(type(exc), exc)
    return lines[-1].strip() if lines else type(exc).__name__


def load_plugins(
    settings: Settings,
    registry: ToolRegistry | None = None,
    *,
    entry_points: Iterable[EntryPoint] | None = None,
    reload: bool = False,
) -> list[PluginInfo]:
    """Load every installed plugin once per process (later calls return the first result).

    Args:
        settings: Effective settings (``[plugins] disabled`` and the plugins' tables).
        registry: Where plugin tools go (default: the process-wide registry of built-in tools).
        entry_points: The entry points to load (default: the ``pygent.plugins`` group).
        reload: Forget earlier loads (tests).

    Returns:
        One :class:`PluginInfo` per entry point, in name order. Never raises because of a plugin.
    """
    global _loaded
    with _lock:
        if _loaded is not None and not reload:
            return _loaded
        if reload:
            _slash.clear()
            _models.clear()
            _notices.clear()
        if registry is None:
            from pygent.tools.base import default_registry

            registry = default_registry()
        points = list(entry_points) if entry_points is not None else _entry_points()
        disabled = set(settings.plugins.disabled)
        infos = [_load_one(ep, registry, settings, disabled) for ep in points]
        _loaded = infos
        return infos


def _load_one(
    ep: EntryPoint, registry: ToolRegistry, settings: Settings, disabled: set[str]
) -> PluginInfo:
    dist = getattr(ep, "dist", None)
    info = PluginInfo(ep.name, ep.value, f"{dist.name} {dist.version}" if dist is not None else "")
    if ep.name in disabled:
        info.state = "disabled"
        return info
    app = PluginApp(ep.name, registry, settings)
    try:
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, PluginBase)):
            raise PluginError(f"{ep.value} is not a subclass of pygent.plugins.PluginBase")
        cls().register(app)
        taken = [s.name for s in app._tools if registry.get(s.name) is not None]
        if taken:  # another plugin took the name while this one registered
            raise PluginError(f"plugin {ep.name}: tool {taken[0]!r} is already registered")
    except Exception as exc:
        from loguru import logger

        logger.opt(exception=exc).warning("plugin {} failed to load", ep.name)
        info.state = "failed"
        info.error = _last_line(exc)
        _notices.append(
            f"The plugin {ep.name!r} was not loaded: {info.error} "
            "(`pygent plugins list` shows every plugin)."
        )
        return info
    for spec in app._tools:
        registry.register(spec)
    for command in app._slash:
        _slash[command.name] = command
    _models.update(app._settings_models)
    info.tools = [s.name for s in app._tools]
    info.slash_commands = [c.name for c in app._slash]
    return info


def loaded_plugins() -> list[PluginInfo]:
    """What :func:`load_plugins` found (empty before it ran)."""
    return list(_loaded or [])


def slash_commands() -> dict[str, SlashCommand]:
    """Slash commands added by loaded plugins, by name."""
    return dict(_slash)


def take_failure_notices() -> list[str]:
    """The failure notices not shown yet (each plugin failure is announced once per process)."""
    with _lock:
        out = list(_notices)
        _notices.clear()
        return out


def plugin_settings(settings: Settings, name: str) -> Any:
    """A plugin's validated ``[plugins.NAME]`` settings, from a tool's ``ctx.settings``.

    Raises:
        KeyError: No loaded plugin declared ``name`` with :meth:`PluginApp.add_settings`.
        ConfigError: The table does not fit the plugin's model.
    """
    model = _models.get(name)
    if model is None:
        raise KeyError(f"no plugin declared settings [plugins.{name}]")
    return _validate_table(settings, name, model)
