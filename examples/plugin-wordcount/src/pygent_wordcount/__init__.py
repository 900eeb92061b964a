"""An example pygent plugin: a ``word_count`` tool, its settings table and a ``/wc`` slash command.

Install it next to pygent (``pip install ./examples/plugin-wordcount``) and every session can call
``word_count``; ``pygent plugins list`` shows it. Settings, in ``config.toml``::

    [plugins.wordcount]
    min_length = 3      # words shorter than this are not counted
"""

from __future__ import annotations

from pydantic import BaseModel, Field

import pygent
from pygent.plugins import PluginApp, PluginBase, plugin_settings
from pygent.tools.base import ToolContext


class WordCountSettings(BaseModel):
    """The ``[plugins.wordcount]`` table."""

    min_length: int = Field(default=1, ge=1, description="Shortest word that counts.")


def count_words(text: str, min_length: int = 1) -> int:
    """How many whitespace-separated words of at least ``min_length`` characters ``text`` has."""
    return sum(1 for word in text.split() if len(word) >= min_length)


@pygent.tool(risk=pygent.ToolRisk.READ, kind="read", title=lambda a: f"Count words in {a['path']}")
async def word_count(ctx: ToolContext, path: str) -> str:
    """Count the words of a text file in the workspace.

    Args:
        path: File to count, relative to the workspace root.
    """
    settings = plugin_settings(ctx.settings, "wordcount")
    resolved = ctx.workspace.resolve(path, must_exist=True, kind="file")
    text, _ = ctx.workspace.read_text(resolved)
    return f"{count_words(text, settings.min_length)} words in {path}"


async def wc_command(args: str) -> str:
    """``/wc TEXT``: count the words of TEXT."""
    return f"{count_words(args)} words"


class WordCountPlugin(PluginBase):
    """Registers the tool, the settings table and the slash command."""

    def register(self, app: PluginApp) -> None:
        """Called once per process by pygent."""
        app.add_settings("wordcount", WordCountSettings)
        app.add_tool(word_count)
        app.add_slash_command("wc", wc_command, "Count the words of the text after /wc.")
