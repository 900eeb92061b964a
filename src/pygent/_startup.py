"""Start-up of the ``pygent`` process: what makes commands answer sooner.

* **No pydantic plugin discovery.** The first pydantic model a process builds makes pydantic
  import ``importlib.metadata`` and read the entry points of every installed distribution,
  looking for ``pydantic`` plugins: about a tenth of ``config show``. pygent uses none, so its own
  process answers the import of pydantic's loader with a module whose ``get_plugins()`` is empty.
  (``PYDANTIC_DISABLE_PLUGINS`` would still import ``importlib.metadata``, and the shell commands
  the agent runs would inherit it.) Anything else asked of that module is served by pydantic's
  real one, so a pydantic release that needs more keeps working.
* **The garbage collector paused during start-up.** Importing pydantic, Textual or litellm and
  building models allocates tens of thousands of long-lived objects, which the cyclic collector
  would scan over and over (about a tenth of ``config show`` and of ``chat``'s first paint).
  Short-lived commands finish without it; long-running ones resume it once they are up.
* **The heap frozen at exit**, so the interpreter does not walk every object once more on the
  way out.

Only the command line (:class:`pygent.cli.LazyGroup`) uses these; importing pygent as a library
changes nothing.
"""

from __future__ import annotations

import gc
import sys
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from importlib.abc import Loader

__all__ = ["freeze_heap", "pause_gc", "resume_gc", "skip_pydantic_plugin_discovery"]

_PYDANTIC_PLUGIN_LOADER = "pydantic.plugin._loader"
_gc_paused = False


class _NoPydanticPlugins:
    """An import hook that gives pydantic a plugin loader reporting no plugins."""

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


def skip_pydantic_plugin_discovery() -> None:
    """Give pydantic a plugin loader with no plugins, unless its real one is already imported."""
    if _PYDANTIC_PLUGIN_LOADER not in sys.modules and not any(
        isinstance(finder, _NoPydanticPlugins) for finder in sys.meta_path
    ):
        sys.meta_path.insert(0, _NoPydanticPlugins())


def pause_gc() -> None:
    """Pause the cyclic garbage collector for start-up (if it runs); :func:`resume_gc` undoes it."""
    global _gc_paused
    if gc.isenabled():
        gc.disable()
        _gc_paused = True


def resume_gc() -> None:
    """Run the garbage collector again if :func:`pause_gc` paused it; otherwise do nothing.

    Long-running commands call this once they are up (``pygent chat`` after its first frame).
    """
    global _gc_paused
    if _gc_paused:
        _gc_paused = False
        gc.enable()


def freeze_heap() -> None:
    """Move every object alive now out of the collector's reach (before the process exits)."""
    gc.freeze()
