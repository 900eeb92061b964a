"""``pygent setup``: a plain-terminal first-run wizard (provider, model, key) writing the user config."""

from __future__ import annotations

import os

import click

from pygent.cli._common import friendly_errors, warn
from pygent.settings.providers import PROVIDERS, Provider, model_string, write_llm_config

__all__ = ["setup"]


def _choose_provider() -> Provider:
    click.echo("Which model provider do you want to use?")
    for index, provider in enumerate(PROVIDERS, 1):
        click.echo(f"  {index}) {provider.label}")
    number = click.prompt(
        "Provider", type=click.IntRange(1, len(PROVIDERS)), default=1, show_default=True
    )
    return PROVIDERS[number - 1]


@click.command()
@friendly_errors
def setup() -> None:
    """First-run wizard: choose a provider, a model and how to supply the API key.

    Writes your user config file (comments and other settings in it are kept).
    """
    from pygent.settings import paths
    from pygent.settings.editing import read_config_text, validate_config_text
    from pygent.settings.model_names import check_model

    config_file = paths.user_config_file()
    existing = read_config_text(config_file)  # a directory or unreadable file fails here
    if existing is not None:
        validate_config_text(existing, config_file)  # ... and so does a broken one
    from pygent.settings.writable import config_dir_problem

    unwritable = config_dir_problem(config_file)  # before any question, not after the last
    if unwritable is not None:
        raise unwritable
    click.echo(f"pygent setup: this writes {config_file}\n")
    provider = _choose_provider()

    api_base: str | None = None
    if provider.local:
        api_base = click.prompt(
            "Base URL of the server's OpenAI-compatible API",
            default="http://localhost:11434/v1",
            show_default=True,
        ).strip()
        if not api_base.startswith(("http://", "https://")):
            raise click.BadParameter("the base URL must start with http:// or https://")

    name = click.prompt("Model", default=provider.default_model, show_default=True)
    model = model_string(provider, name)

    api_key: str | None = None
    key_note = ""
    if provider.local:
        entered = click.prompt(
            "API key (leave empty if the server needs none)",
            default="",
            show_default=False,
            hide_input=True,
        ).strip()
        api_key = entered or None
        key_note = "stored in the config file" if api_key else "none"
    else:
        assert provider.env_var is not None
        present = bool(os.environ.get(provider.env_var, "").strip())
        click.echo("\nHow should pygent get your API key?")
        click.echo(
            f"  1) use the environment variable {provider.env_var}"
            + (" (it is set now)" if present else " (not set in this shell)")
        )
        click.echo("  2) enter the key now (stored in the config file, readable only by you)")
        choice = click.prompt(
            "Choice", type=click.IntRange(1, 2), default=1 if present else 2, show_default=True
        )
        if choice == 2:
            while not api_key:
                api_key = click.prompt("API key", hide_input=True).strip() or None
            key_note = "stored in the config file (mode 0600)"
        else:
            key_note = f"from ${provider.env_var}"
            if not present:
                key_note += f" (set it before starting: export {provider.env_var}=...)"

    write_llm_config(config_file, model, api_base, api_key)

    click.echo(f"\nSaved {config_file}")
    click.echo(f"  model:   {model}")
    if api_base:
        click.echo(f"  server:  {api_base}")
    click.echo(f"  API key: {key_note}")
    warning = check_model(model, api_base)
    if warning:
        warn(warning)
    click.echo("\nNext: `pygent chat` (terminal UI), or `pygent config show` to check everything.")
