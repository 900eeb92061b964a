"""System prompts: the built-in default, user and project layers, AGENTS.md, template variables.

Layering, in order:

1. Base: the built-in ``default.md``, or the user's ``[system_prompt] content`` / ``file``
   (replace). ``file`` wins when both are set.
2. The user's ``[system_prompt] append``.
3. The project's prompt from ``.pygent/config.toml`` (``file`` relative to ``.pygent/``, or
   ``content``): ``mode = "append"`` (default) adds it after the above; ``mode = "replace"``
   replaces everything above, user layers included. A project ``append`` follows it.
4. ``AGENTS.md`` at the project root, appended as project instructions in every mode (unless
   ``system_prompt.agents_md = false``).

Template variables are then expanded (see :mod:`pygent.prompts.variables`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pygent.errors import ConfigError
from pygent.prompts.variables import expand, template_values
from pygent.settings import paths

if TYPE_CHECKING:
    from pygent.settings.models import Settings

__all__ = [
    "PromptLayer",
    "build_system_prompt",
    "default_prompt_path",
    "default_prompt_text",
    "prompt_layers",
]

AGENTS_MD = "AGENTS.md"


@dataclass(frozen=True)
class PromptLayer:
    """One piece of the system prompt and where it came from.

    Attributes:
        role: ``default``, ``user``, ``user-append``, ``project``, ``project-append`` or
            ``agents-md``.
        source: A person's description of the origin (a file path or config key).
        text: The raw text (variables not yet expanded).
    """

    role: str
    source: str
    text: str


def default_prompt_text() -> str:
    """The built-in system prompt (``pygent/prompts/default.md``, shipped as package data)."""
    from importlib.resources import files

    return files("pygent.prompts").joinpath("default.md").read_text(encoding="utf-8")


def default_prompt_path() -> str:
    """Where the built-in prompt lives (for headers and messages)."""
    from importlib.resources import files

    return str(files("pygent.prompts").joinpath("default.md"))


def _read_prompt_file(path: Path, key: str, config: str, flag: str = "") -> str:
    path = Path(os.path.normpath(path))
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"The system prompt file {path} does not exist ({key} in {config}).",
            f"Create the file, or change {key} (`pygent prompt set PATH{flag}`) "
            f"or remove it (`pygent prompt reset{flag}`).",
            {"path": str(path), "key": key},
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            f"The system prompt file {path} is a directory ({key} in {config}).",
            f"Point {key} at a Markdown or text file.",
            {"path": str(path), "key": key},
        ) from None
    except PermissionError:
        raise ConfigError(
            f"Cannot read the system prompt file {path}: permission denied ({key} in {config}).",
            "Make the file readable for your user.",
            {"path": str(path), "key": key},
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"The system prompt file {path} is not valid UTF-8 ({key} in {config}).",
            "Save it as UTF-8 text.",
            {"path": str(path), "key": key},
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"Cannot read the system prompt file {path}: {exc.strerror or exc} ({key} in {config}).",
            "Check the path.",
            {"path": str(path), "key": key},
        ) from None


def _user_level(settings: Settings) -> dict[str, Any]:
    layers = settings._layers
    if layers is None:
        return settings.system_prompt.model_dump()
    merged: dict[str, Any] = {}
    for name in ("user", "env", "flag"):
        section = layers.get(name, {}).get("system_prompt")
        if isinstance(section, dict):
            merged.update(section)
    return merged


def _project_level(settings: Settings) -> dict[str, Any]:
    layers = settings._layers
    if layers is None:
        return {}
    section = layers.get("project", {}).get("system_prompt")
    return dict(section) if isinstance(section, dict) else {}


def _expand_user(path_text: str) -> Path:
    return Path(path_text).expanduser()


def prompt_layers(settings: Settings, cwd: Path) -> list[PromptLayer]:
    """The layers of the effective system prompt, in order (variables not yet expanded).

    Raises:
        ConfigError: A configured prompt file is missing or unreadable (naming the path and the
            config key that points to it).
    """
    user_file = str(paths.user_config_file())
    user = _user_level(settings)
    layers: list[PromptLayer] = []

    if user.get("file"):
        path = _expand_user(str(user["file"]))
        if not path.is_absolute():
            path = paths.user_config_dir() / path
        text = _read_prompt_file(path, "system_prompt.file", user_file)
        layers.append(PromptLayer("user", f"{path} (system_prompt.file, user config)", text))
    elif user.get("content"):
        layers.append(
            PromptLayer("user", "system_prompt.content (user config)", str(user["content"]))
        )
    else:
        layers.append(
            PromptLayer(
                "default", f"built-in default ({default_prompt_path()})", default_prompt_text()
            )
        )
    if user.get("append"):
        layers.append(
            PromptLayer("user-append", "system_prompt.append (user config)", str(user["append"]))
        )

    project = _project_level(settings)
    project_config = settings._project_config
    if project and (project.get("file") or project.get("content")):
        config_path = Path(project_config) if project_config is not None else None
        if project.get("file"):
            base = config_path.parent if config_path is not None else cwd
            path = _expand_user(str(project["file"]))
            if not path.is_absolute():
                path = base / path
            text = _read_prompt_file(
                path, "system_prompt.file", str(config_path or "project config"), " --project"
            )
            source = f"{os.path.normpath(path)} (system_prompt.file, project config)"
        else:
            text = str(project["content"])
            source = "system_prompt.content (project config)"
        if project.get("mode", "append") == "replace":
            layers = []
            source += ", mode = replace"
        layers.append(PromptLayer("project", source, text))
    if project.get("append"):
        layers.append(
            PromptLayer(
                "project-append", "system_prompt.append (project config)", str(project["append"])
            )
        )

    agents_md = settings.system_prompt.agents_md
    if agents_md:
        root = paths.find_project_root(cwd)
        agents = root / AGENTS_MD
        if agents.is_file():
            try:
                text = agents.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = ""
            if text.strip():
                layers.append(
                    PromptLayer(
                        "agents-md",
                        f"{agents} (project instructions)",
                        "# Project instructions (AGENTS.md)\n\n" + text,
                    )
                )
    return layers


def build_system_prompt(settings: Settings, cwd: Path) -> str:
    """The effective system prompt for a session in ``cwd``, variables expanded.

    Raises:
        ConfigError: A configured prompt file is missing or unreadable.
    """
    layers = prompt_layers(settings, cwd)
    values = template_values(cwd.resolve())
    return "\n\n".join(expand(layer.text.strip("\n"), values) for layer in layers) + "\n"
