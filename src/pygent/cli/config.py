"""``pygent config``: show, locate, create, set and edit the settings files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from pygent.cli._common import fail, friendly_errors, open_in_editor, warn

__all__ = ["config", "render_settings_toml"]


def _user_file() -> Path:
    from pygent.settings import paths

    return paths.user_config_file()


def _project_file(cwd: Path | None = None) -> Path:
    from pygent.settings import paths
    from pygent.settings.loader import find_project_config_path

    cwd = (cwd or Path.cwd()).resolve()
    return (
        find_project_config_path(cwd)
        or paths.find_project_root(cwd) / paths.PROJECT_DIR_NAME / paths.CONFIG_FILE_NAME
    )


def _target(project: bool) -> Path:
    return _project_file() if project else _user_file()


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    return json.dumps(str(value), ensure_ascii=False)


def _toml_key(key: Any) -> str:
    text = str(key)
    return text if text and all(c.isalnum() or c in "-_" for c in text) else json.dumps(text)


def _masked_servers(servers: dict[str, Any]) -> dict[str, Any]:
    """MCP server tables with env and header values hidden, except ``${VAR}`` references."""
    from pygent.mcp.config import mask_secrets

    return {name: mask_secrets(table) for name, table in servers.items()}


def render_settings_toml(
    loaded: Any,
    *,
    environ: dict[str, str] | None = None,
    describe: bool = False,
    sandbox_probe: Callable[[], int] | None = None,
) -> str:
    """The effective settings of a :class:`~pygent.settings.loader.LoadedSettings` as TOML.

    Each value carries its source as a trailing comment; secrets are shown as ``***``. With
    ``describe``, each section and key is preceded by its description from the schema. The
    header says whether the OS sandbox is in effect (``sandbox_probe``: a Landlock ABI probe to
    use instead of asking the kernel, for tests).
    """
    from pygent.sandbox.runtime import sandbox_status
    from pygent.settings.loader import _sections, api_key_source, provider_env_vars

    settings = loaded.settings
    user_file: Path = loaded.user_file
    project_file: Path | None = loaded.project_file
    lines = [
        "# pygent: effective settings (source of each value after the #: default, user,",
        "# project, env, flag)",
        f"# user config:    {user_file} ({'exists' if user_file.exists() else 'not created'})",
        f"# project config: {project_file if project_file else '(none found)'}",
        f"# sandbox: {sandbox_status(settings, sandbox_probe).describe()}",
    ]
    dumped = settings.model_dump()
    for section, model in _sections().items():
        lines.append("")
        if describe and model.__doc__:
            lines.append(f"# {model.__doc__.strip().splitlines()[0]}")
        lines.append(f"[{section}]")
        for leaf, value in dumped[section].items():
            dotted = f"{section}.{leaf}"
            if describe:
                description = model.model_fields[leaf].description or ""
                lines += [f"# {line.strip()}".rstrip() for line in description.splitlines()]
            source = loaded.sources.get(dotted, "default")
            if dotted == "llm.api_key":
                key_source = api_key_source(settings, environ)
                if value is not None:
                    lines.append(f'api_key = "***"  # {source}')
                elif key_source is not None:
                    lines.append(f'# api_key = "***"  # unset; the key comes from {key_source}')
                else:
                    names = " or ".join(provider_env_vars(settings.llm.model)) or "none needed"
                    lines.append(f"# api_key: unset, and no provider variable set ({names})")
                continue
            if dotted == "mcp.servers":
                value = _masked_servers(value)
            if value is None:
                lines.append(f"# {leaf} = (unset)  # {source}")
            else:
                lines.append(f"{leaf} = {_toml_value(value)}  # {source}")
    return "\n".join(lines) + "\n"


@click.group()
def config() -> None:
    """Show, set and edit settings.

    Settings come in layers, lowest first: built-in defaults, the user file, the project file
    (.pygent/config.toml), environment variables (PYGENT_MODEL, PYGENT_API_KEY, ...), flags.
    """


@config.command("show")
@click.option("--brief", is_flag=True, help="Values and sources only, without descriptions.")
@friendly_errors
def show(brief: bool) -> None:
    """Print the effective settings as TOML, with each value's source and description."""
    from pygent.settings.loader import load_layers
    from pygent.settings.model_names import check_model

    loaded = load_layers()
    click.echo(render_settings_toml(loaded, describe=not brief), nl=False)
    warning = check_model(loaded.settings.llm.model, loaded.settings.llm.api_base)
    if warning:
        warn(warning)


@config.command("path")
def path_command() -> None:
    """Print the user and project config paths and whether each exists."""
    for label, path in (("user", _user_file()), ("project", _project_file())):
        if path.is_dir():
            state = "is a directory (invalid)"
        elif path.exists():
            state = "exists"
        else:
            state = "does not exist"
        click.echo(f"{label + ':':<9}{path}  ({state})")


@config.command("init")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--project", is_flag=True, help="Create .pygent/config.toml in this project instead.")
@friendly_errors
def init(force: bool, project: bool) -> None:
    """Create a commented config file listing every setting with its default."""
    from pygent.settings.editing import default_config_text, write_config_text

    path = _target(project)
    if path.is_dir():
        fail(
            f"The config path {path} is a directory, not a file.",
            "Remove or rename that directory and try again.",
        )
    if path.exists() and not force:
        fail(
            f"{path} already exists; nothing was changed.",
            "Use `pygent config init --force` to replace it (your settings in it will be lost), "
            "or `pygent config edit`.",
        )
    write_config_text(path, default_config_text(project=project))
    click.echo(f"Wrote {path}")


# A negative number (`config set llm.temperature -1`) is a value, not an unknown option.
@config.command("set", context_settings={"ignore_unknown_options": True})
@click.argument("key")
@click.argument("value")
@click.option("--project", is_flag=True, help="Write to the project's .pygent/config.toml.")
@friendly_errors
def set_command(key: str, value: str, project: bool) -> None:
    """Set KEY (e.g. llm.model) to VALUE in the user config file.

    The value is checked against the schema; comments and formatting of the file survive.
    Examples: `pygent config set llm.model openai/gpt-4o`,
    `pygent config set permissions.mode auto-edit --project`.
    """
    from pygent.settings.editing import SECRET_KEYS, parse_value, set_value

    path = _target(project)
    parsed = parse_value(key, value)
    if key in SECRET_KEYS and project:
        warn(
            f"{path} is a project file, often committed to git: keep API keys in your user "
            "config or an environment variable instead."
        )
    set_value(path, key, parsed)
    shown = "***" if key in SECRET_KEYS else _toml_value(parsed)
    click.echo(f"Set {key} = {shown} in {path}")
    if key == "llm.model":
        from pygent.settings.loader import load_settings
        from pygent.settings.model_names import check_model

        try:
            api_base = load_settings().llm.api_base
        except Exception:
            api_base = None
        warning = check_model(str(parsed), api_base)
        if warning:
            warn(warning)


@config.command("unset")
@click.argument("key")
@click.option("--project", is_flag=True, help="Change the project's .pygent/config.toml.")
@friendly_errors
def unset_command(key: str, project: bool) -> None:
    """Remove KEY from the config file, so the layer below applies again."""
    from pygent.settings.editing import unset_value

    path = _target(project)
    if unset_value(path, key):
        click.echo(f"Removed {key} from {path}")
    else:
        click.echo(f"{key} is not set in {path}; nothing to do.")


@config.command("edit")
@click.option("--project", is_flag=True, help="Edit the project's .pygent/config.toml.")
@friendly_errors
def edit(project: bool) -> None:
    """Open the config file in $VISUAL/$EDITOR and check it after you save.

    You edit a copy; the real file changes only when the copy is valid. When it is not, you
    can edit again or keep the previous file.
    """
    from pygent.settings.editing import (
        default_config_text,
        read_config_text,
        validate_config_text,
        write_config_text,
    )

    path = _target(project)
    original = read_config_text(path)
    text = original if original is not None else default_config_text(project=project)
    _edit_until_valid(path, text, original, validate_config_text, write_config_text)


def _edit_until_valid(
    path: Path,
    text: str,
    original: str | None,
    validate: Any,
    write: Any,
) -> None:
    import contextlib
    import os
    import tempfile

    from pygent.errors import PygentError

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.stem}.edit-", suffix=path.suffix, dir=path.parent
    )
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        while True:
            open_in_editor(tmp, path)
            edited = tmp.read_text(encoding="utf-8")
            if edited == (original if original is not None else text) and original is not None:
                click.echo(f"No changes; {path} is unchanged.")
                return
            try:
                validate(edited, path)
            except PygentError as exc:
                click.echo(click.style("Invalid: ", fg="red", bold=True) + exc.message, err=True)
                if exc.hint:
                    click.echo(exc.hint, err=True)
                try:
                    again = click.confirm("Edit again?", default=True, err=True)
                except click.Abort:
                    again = False
                if again:
                    continue
                kept = "kept unchanged" if original is not None else "not created"
                click.echo(f"Discarded your edit; {path} was {kept}.", err=True)
                raise SystemExit(1) from None
            write(path, edited)
            click.echo(f"Saved {path}")
            return
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
