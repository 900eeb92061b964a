"""``pygent help [TOPIC]``: explanations of tools, config, permissions, prompts, sessions, shortcuts."""

from __future__ import annotations

import difflib

import click

__all__ = ["help_command"]


@click.command("help")
@click.argument("topic", required=False)
@click.pass_context
def help_command(ctx: click.Context, topic: str | None) -> None:
    """Help on a topic: tools, config, permissions, prompts, sessions, shortcuts.

    Without a topic, lists the topics.
    """
    from pygent.help_topics import TOPICS

    if topic is None:
        click.echo("Help topics (pygent help TOPIC):")
        for name, text in TOPICS.items():
            click.echo(f"  {name:<12} {text.splitlines()[0]}")
        click.echo("\nCommands: pygent --help, or pygent COMMAND --help.")
        return
    key = topic.strip().lower()
    if key not in TOPICS:
        close = difflib.get_close_matches(key, list(TOPICS), n=1, cutoff=0.5)
        message = f"Unknown help topic {topic!r}."
        if close:
            message += f" Did you mean {close[0]!r}?"
        click.echo(click.style("Error: ", fg="red", bold=True) + message, err=True)
        click.echo("Topics: " + ", ".join(TOPICS), err=True)
        ctx.exit(2)
    click.echo(TOPICS[key].rstrip("\n"))
