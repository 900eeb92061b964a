"""The example plugin's own tests: counting, and registration through pygent's plugin API."""

from __future__ import annotations

import asyncio

from pygent_wordcount import WordCountPlugin, count_words, wc_command

from pygent.plugins import PluginApp
from pygent.settings.models import Settings
from pygent.tools.base import ToolRegistry


def test_count_words_honours_min_length() -> None:
    assert count_words("a bb ccc dddd") == 4
    assert count_words("a bb ccc dddd", min_length=3) == 2


def test_register_adds_the_tool_settings_and_slash_command() -> None:
    registry = ToolRegistry()
    app = PluginApp("wordcount", registry, Settings())
    WordCountPlugin().register(app)
    assert [spec.name for spec in app._tools] == ["word_count"]
    assert [command.name for command in app._slash] == ["wc"]
    assert asyncio.run(wc_command("one two three")) == "3 words"
