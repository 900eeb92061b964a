"""Editing config files with tomlkit: comments survive, bad input changes nothing, keys are 0600."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from pygent.errors import ConfigError
from pygent.settings.editing import (
    append_to_list,
    default_config_text,
    parse_value,
    set_value,
    unset_value,
)
from pygent.settings.loader import parse_toml_text, validate_layer

ORIGINAL = """\
# My pygent settings
[llm]
model = "openai/gpt-4o"   # the one I like

# tools below
[tools]
shell_timeout = 60
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(ORIGINAL, encoding="utf-8")
    return path


def test_set_value_keeps_comments_order_and_formatting(config: Path) -> None:
    set_value(config, "llm.max_tokens", 4096)
    set_value(config, "permissions.mode", "auto-edit")
    text = config.read_text(encoding="utf-8")
    assert text.startswith(
        '# My pygent settings\n[llm]\nmodel = "openai/gpt-4o"   # the one I like\n'
    )
    assert 'model = "openai/gpt-4o"   # the one I like' in text
    assert "# tools below" in text
    assert "max_tokens = 4096" in text
    assert text.index("[llm]") < text.index("[tools]") < text.index("[permissions]")
    data = parse_toml_text(text, config)
    assert data["llm"]["max_tokens"] == 4096
    assert data["permissions"]["mode"] == "auto-edit"


def test_set_value_creates_missing_file_and_dirs(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "config.toml"
    set_value(path, "ui.theme", "nord")
    assert parse_toml_text(path.read_text(), path) == {"ui": {"theme": "nord"}}


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("llm.modle", "x", "Did you mean 'llm.model'"),
        ("nosuch.key", "x", "Unknown setting"),
        ("llm.max_tokens", "lots", "an integer"),
        ("permissions.mode", "yolo", "one of"),
        ("llm.temperature", 9.0, "must be at most 2.0, but found 9.0"),
        ("logging.enabled", "maybe", "true or false"),
    ],
)
def test_bad_set_leaves_file_unchanged(config: Path, key: str, value: object, match: str) -> None:
    before = config.read_bytes()
    with pytest.raises(ConfigError, match=match):
        set_value(config, key, parse_value(key, value) if isinstance(value, str) else value)
    assert config.read_bytes() == before


def test_set_on_broken_file_names_line_and_keeps_it(config: Path) -> None:
    config.write_text("[llm\nmodel = 1\n", encoding="utf-8")
    before = config.read_bytes()
    with pytest.raises(ConfigError, match=r"line 1"):
        set_value(config, "llm.model", "x")
    assert config.read_bytes() == before


def test_set_on_file_with_other_invalid_value_is_refused(config: Path) -> None:
    config.write_text('[llm]\nmax_tokens = "x"\n', encoding="utf-8")
    before = config.read_bytes()
    with pytest.raises(ConfigError, match=r"llm.max_tokens.*Nothing was changed"):
        set_value(config, "llm.model", "openai/gpt-4o")
    assert config.read_bytes() == before


def test_set_on_directory_is_clear(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        set_value(path, "llm.model", "x")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_api_key_file_gets_mode_0600(config: Path) -> None:
    config.chmod(0o644)
    set_value(config, "llm.api_key", "sk-secret-value-123")
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    new = config.parent / "new.toml"
    set_value(new, "llm.api_key", "sk-secret-value-123")
    assert stat.S_IMODE(new.stat().st_mode) == 0o600


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_mode_of_plain_file_is_kept(config: Path) -> None:
    config.chmod(0o640)
    set_value(config, "ui.theme", "nord")
    assert stat.S_IMODE(config.stat().st_mode) == 0o640


def test_no_temp_files_left_behind(config: Path) -> None:
    set_value(config, "ui.theme", "nord")
    with pytest.raises(ConfigError):
        set_value(config, "llm.max_tokens", "bad")
    assert sorted(p.name for p in config.parent.iterdir()) == ["config.toml"]


def test_append_to_list_adds_once_and_keeps_comments(config: Path) -> None:
    append_to_list(config, "permissions.allow", "shell(pytest*)")
    append_to_list(config, "permissions.allow", "shell(ls*)")
    append_to_list(config, "permissions.allow", "shell(pytest*)")
    text = config.read_text()
    assert "# the one I like" in text
    assert parse_toml_text(text, config)["permissions"]["allow"] == ["shell(pytest*)", "shell(ls*)"]


def test_append_to_non_list_is_refused(config: Path) -> None:
    before = config.read_bytes()
    with pytest.raises(ConfigError, match="not a list"):
        append_to_list(config, "llm.model", "x")
    assert config.read_bytes() == before


def test_unset_value(config: Path) -> None:
    assert unset_value(config, "tools.shell_timeout") is True
    assert unset_value(config, "tools.shell_timeout") is False
    assert "shell_timeout" not in config.read_text()
    assert unset_value(config.parent / "missing.toml", "llm.model") is False


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("llm.model", "openai/gpt-4o", "openai/gpt-4o"),
        ("llm.model", "123", "123"),
        ("llm.max_tokens", "4_096", 4096),
        ("llm.temperature", "0.2", 0.2),
        ("llm.timeout", "30", 30.0),
        ("logging.enabled", "off", False),
        ("ui.show_thoughts", "YES", True),
        ("permissions.allow", '["shell(a*)", "edit(src/**)"]', ["shell(a*)", "edit(src/**)"]),
        ("permissions.allow", "shell(a*), shell(b*)", ["shell(a*)", "shell(b*)"]),
        ("permissions.mode", "plan", "plan"),
    ],
)
def test_parse_value(key: str, raw: str, expected: object) -> None:
    assert parse_value(key, raw) == expected


def test_default_config_text_is_valid_and_documents_every_key() -> None:
    for project in (False, True):
        text = default_config_text(project=project)
        data = parse_toml_text(text, "<default>")
        validate_layer(data, "<default>")
        assert '# model = "anthropic/claude-sonnet-4-5"' in text
        assert "[permissions]" in text
        assert "A litellm model string" in text


def test_atomic_write_survives_failure(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the rename fails, the old file is intact and no temp file stays."""
    before = config.read_bytes()

    def boom(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(ConfigError, match="No space left"):
        set_value(config, "ui.theme", "nord")
    assert config.read_bytes() == before
    assert sorted(p.name for p in config.parent.iterdir()) == ["config.toml"]


def test_set_values_is_all_or_nothing(config: Path) -> None:
    from pygent.settings.editing import set_values

    set_values(config, {"llm.model": "openai/x", "llm.api_base": "http://h/v1", "ui.theme": None})
    data = parse_toml_text(config.read_text(), config)
    assert data["llm"] == {"model": "openai/x", "api_base": "http://h/v1"}
    assert "# the one I like" in config.read_text()
    before = config.read_bytes()
    with pytest.raises(ConfigError, match="max_tokens"):
        set_values(config, {"llm.model": "openai/y", "llm.max_tokens": "bad"})
    assert config.read_bytes() == before
    set_values(config, {"llm.api_base": None, "tools.shell_timeout": None})
    assert parse_toml_text(config.read_text(), config) == {
        "llm": {"model": "openai/x"},
        "tools": {},
    }
