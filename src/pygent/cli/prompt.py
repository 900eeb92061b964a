"""``pygent prompt``: show and customise the system prompt (user or project level)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from pygent.cli._common import fail, friendly_errors, open_in_editor

__all__ = ["prompt"]

USER_PROMPT_FILE = "system_prompt.md"
PROJECT_PROMPT_FILE = "prompt.md"


def _config_file(project: bool) -> Path:
    from pygent.cli.config import _project_file, _user_file

    return _project_file() if project else _user_file()


@click.group()
def prompt() -> None:
    """Show and customise the system prompt.

    The base is the built-in prompt (or yours: `pygent prompt set FILE`); a project can add to it
    or replace it (`--project`, stored in .pygent/config.toml); AGENTS.md at the project root is
    appended unless `system_prompt.agents_md = false`. See `pygent help prompts`.
    """


@prompt.command("show")
@click.option("--raw", is_flag=True, help="Print the prompt only, without layer headers.")
@friendly_errors
def show(raw: bool) -> None:
    """Print the effective system prompt, variables expanded, with a header per layer."""
    from pygent.prompts import build_system_prompt, prompt_layers
    from pygent.prompts.variables import expand, template_values
    from pygent.settings.loader import load_settings

    cwd = Path.cwd()
    settings = load_settings(cwd)
    if raw:
        click.echo(build_system_prompt(settings, cwd), nl=False)
        return
    layers = prompt_layers(settings, cwd)
    values = template_values(cwd.resolve())
    for index, layer in enumerate(layers, 1):
        header = f"──── [{index}/{len(layers)}] {layer.role}: {layer.source} ────"
        click.echo(click.style(header, fg="cyan", bold=True))
        click.echo(expand(layer.text.strip("\n"), values))
        click.echo()


def _stored_path(path: Path, project: bool, config_file: Path) -> str:
    path = path.resolve()
    if project:
        base = config_file.parent.resolve()
        try:
            return Path(os.path.relpath(path, base)).as_posix()
        except ValueError:  # another drive on Windows
            return str(path)
    return str(path)


@prompt.command("set")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--project", is_flag=True, help="Set the project's prompt (.pygent/config.toml).")
@friendly_errors
def set_command(path: Path, project: bool) -> None:
    """Use the Markdown/text file PATH as the system prompt.

    At user level it replaces the built-in prompt; at project level it is added after the user's
    prompt (or replaces it with `pygent config set system_prompt.mode replace --project`).
    """
    from pygent.settings.editing import set_value, unset_value

    if not path.is_file():
        state = "is a directory" if path.is_dir() else "does not exist"
        fail(f"The prompt file {path} {state}.", "Give the path of an existing text file.")
    try:
        path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"Cannot read the prompt file {path}: {exc}.", "It must be a readable UTF-8 file.")
    config_file = _config_file(project)
    stored = _stored_path(path, project, config_file)
    set_value(config_file, "system_prompt.file", stored)
    if unset_value(config_file, "system_prompt.content"):
        click.echo("Removed system_prompt.content (the file replaces it).")
    click.echo(f"Set system_prompt.file = {stored!r} in {config_file}")


@prompt.command("edit")
@click.option("--project", is_flag=True, help="Edit the project's prompt instead.")
@friendly_errors
def edit(project: bool) -> None:
    """Edit the user (or project) prompt file in $VISUAL/$EDITOR.

    Without a prompt file yet, one is created (user: a copy of the current base prompt next to
    your config; project: .pygent/prompt.md) and system_prompt.file is pointed at it.
    """
    from pygent.prompts import default_prompt_text
    from pygent.settings.editing import set_value, unset_value
    from pygent.settings.loader import read_toml_file

    config_file = _config_file(project)
    section: dict[str, object] = {}
    if config_file.exists():
        raw = read_toml_file(config_file).get("system_prompt")
        section = raw if isinstance(raw, dict) else {}
    configured = section.get("file")
    if isinstance(configured, str) and configured:
        target = Path(configured).expanduser()
        if not target.is_absolute():
            target = config_file.parent / target
        created = not target.exists()
        if created:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("", encoding="utf-8")
        open_in_editor(target)
        click.echo(f"Saved {target}")
        return

    target = config_file.parent / (PROJECT_PROMPT_FILE if project else USER_PROMPT_FILE)
    if target.exists():
        fail(
            f"{target} exists but system_prompt.file does not point to it.",
            f"Run `pygent prompt set {target}{' --project' if project else ''}` to use it.",
        )
    content = section.get("content")
    seed = content if isinstance(content, str) else ("" if project else default_prompt_text())
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(seed, encoding="utf-8")
    try:
        open_in_editor(target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if not target.read_text(encoding="utf-8").strip():
        target.unlink(missing_ok=True)
        click.echo("The prompt is empty; nothing was changed.")
        return
    set_value(config_file, "system_prompt.file", target.name)
    unset_value(config_file, "system_prompt.content")
    click.echo(f"Saved {target} and set system_prompt.file in {config_file}")


@prompt.command("reset")
@click.option("--project", is_flag=True, help="Reset the project's prompt instead.")
@friendly_errors
def reset(project: bool) -> None:
    """Go back to the default: remove the prompt settings of the user (or project) config.

    Prompt files themselves are kept on disk.
    """
    from pygent.settings.editing import unset_value

    config_file = _config_file(project)
    keys = ("content", "file", "append", "mode") if project else ("content", "file", "append")
    removed = [key for key in keys if unset_value(config_file, f"system_prompt.{key}")]
    if removed:
        click.echo(
            f"Removed system_prompt.{', system_prompt.'.join(removed)} from {config_file}"
            " (prompt files are kept)."
        )
    else:
        click.echo(f"No prompt settings in {config_file}; nothing to reset.")
