"""Layered settings: defaults < user < project < env < flags, sources, keys, and clear errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pygent.errors import ConfigError
from pygent.settings import paths
from pygent.settings.loader import (
    all_keys,
    load_layers,
    load_settings,
    provider_env_vars,
    provider_of,
    resolve_api_key,
)
from pygent.settings.model_names import check_model
from pygent.settings.models import Settings


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def user_file() -> Path:
    return paths.user_config_file()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    return root


def test_defaults_without_any_file(project: Path) -> None:
    loaded = load_layers(project)
    assert loaded.settings.model_dump() == Settings().model_dump()
    assert set(loaded.sources.values()) == {"default"}
    assert loaded.project_file is None


def test_user_file_is_under_the_isolated_home(isolated_home: Path) -> None:
    user_file = paths.user_config_file()
    assert user_file.is_relative_to(isolated_home)
    if sys.platform.startswith("linux"):
        assert user_file == isolated_home / ".config" / "pygent" / "config.toml"


def test_layers_override_in_order_with_sources(
    project: Path, user_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        user_file,
        '[llm]\nmodel = "openai/gpt-4o"\nmax_tokens = 100\ntimeout = 30\n[ui]\ntheme = "nord"\n',
    )
    write(project / ".pygent" / "config.toml", "[llm]\nmax_tokens = 200\nnum_retries = 5\n")
    monkeypatch.setenv("PYGENT_MAX_TOKENS", "300")
    monkeypatch.setenv("PYGENT_PERMISSION_MODE", "Plan")
    loaded = load_layers(project, {"llm": {"num_retries": 7, "model": None}})
    s = loaded.settings
    assert s.llm.model == "openai/gpt-4o"
    assert s.llm.timeout == 30
    assert s.llm.max_tokens == 300
    assert s.llm.num_retries == 7
    assert s.permissions.mode == "plan"
    assert s.ui.theme == "nord"
    assert loaded.sources["llm.model"] == "user"
    assert loaded.sources["llm.max_tokens"] == "env (PYGENT_MAX_TOKENS)"
    assert loaded.sources["llm.num_retries"] == "flag"
    assert loaded.sources["permissions.mode"] == "env (PYGENT_PERMISSION_MODE)"
    assert loaded.sources["llm.temperature"] == "default"
    assert loaded.project_file == project / ".pygent" / "config.toml"


def test_all_env_vars(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYGENT_MODEL", "gemini/gemini-2.5-pro")
    monkeypatch.setenv("PYGENT_API_KEY", "k-123456")
    monkeypatch.setenv("PYGENT_API_BASE", "http://localhost:1234/v1")
    monkeypatch.setenv("PYGENT_MAX_TOKENS", "64")
    monkeypatch.setenv("PYGENT_LOG_LEVEL", "debug")
    monkeypatch.setenv("PYGENT_PERMISSION_MODE", "auto-edit")
    s = load_settings(project)
    assert s.llm.model == "gemini/gemini-2.5-pro"
    assert s.llm.api_key is not None and s.llm.api_key.get_secret_value() == "k-123456"
    assert s.llm.api_base == "http://localhost:1234/v1"
    assert s.llm.max_tokens == 64
    assert s.logging.level == "DEBUG"
    assert s.permissions.mode == "auto-edit"


def test_bad_env_values_name_the_variable(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYGENT_MAX_TOKENS", "lots")
    with pytest.raises(ConfigError, match=r"PYGENT_MAX_TOKENS.*'lots'"):
        load_settings(project)
    monkeypatch.setenv("PYGENT_MAX_TOKENS", "10")
    monkeypatch.setenv("PYGENT_PERMISSION_MODE", "yolo")
    with pytest.raises(ConfigError) as info:
        load_settings(project)
    assert "PYGENT_PERMISSION_MODE" in str(info.value)
    assert "'ask', 'auto-edit', 'plan', 'auto'" in str(info.value)


def test_project_config_found_from_subdirectory_up_to_git_root(
    project: Path, tmp_path: Path
) -> None:
    write(project / ".pygent" / "config.toml", '[ui]\ntheme = "proj"\n')
    sub = project / "src" / "pkg"
    sub.mkdir(parents=True)
    assert load_settings(sub).ui.theme == "proj"
    # Above the git root nothing is looked at.
    write(tmp_path / ".pygent" / "config.toml", '[ui]\ntheme = "outside"\n')
    other = tmp_path / "other"
    (other / ".git").mkdir(parents=True)
    assert load_settings(other).ui.theme == "textual-dark"


def test_rule_lists_add_up_across_layers(project: Path, user_file: Path) -> None:
    write(user_file, '[permissions]\nallow = ["shell(ls*)"]\ndeny = ["shell(rm -rf*)"]\n')
    write(
        project / ".pygent" / "config.toml",
        '[permissions]\nallow = ["shell(pytest*)", "shell(ls*)"]\n',
    )
    loaded = load_layers(project)
    assert loaded.settings.permissions.allow == ["shell(ls*)", "shell(pytest*)"]
    assert loaded.settings.permissions.deny == ["shell(rm -rf*)"]
    assert loaded.sources["permissions.allow"] == "user+project"


def test_broken_toml_names_file_line_and_column(project: Path, user_file: Path) -> None:
    write(user_file, '[llm]\nmodel = "a"\nmax_tokens = = 3\n')
    with pytest.raises(ConfigError) as info:
        load_settings(project)
    message = str(info.value)
    assert str(user_file) in message
    assert "line 3" in message and "column" in message
    assert info.value.data["line"] == 3
    assert info.value.code == "invalid_config"


def test_unterminated_string_at_end_of_file(project: Path, user_file: Path) -> None:
    write(user_file, '[llm]\nmodel = "abc')
    with pytest.raises(ConfigError, match=r"line 2"):
        load_settings(project)


def test_wrong_type_names_file_key_expected_and_found(project: Path) -> None:
    config = write(project / ".pygent" / "config.toml", '[llm]\nmax_tokens = "many"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(project)
    message = str(info.value)
    assert f"{config}, line 2: llm.max_tokens" in message
    assert "an integer" in message
    assert "'many'" in message and "string" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[logging]\nenabled = 1\n", "true or false"),
        ('[permissions]\nallow = "shell(*)"\n', "a list of strings"),
        ("[llm]\ntemperature = true\n", "a number"),
        ('llm = "x"\n', "a table"),
        ('[permissions]\nmode = "yolo"\n', "one of 'ask'"),
        ("[llm]\nmax_tokens = -5\n", "greater than 0"),
    ],
)
def test_wrong_types_and_values(project: Path, user_file: Path, text: str, expected: str) -> None:
    write(user_file, text)
    with pytest.raises(ConfigError, match=expected):
        load_settings(project)


def test_unknown_key_suggests_closest(project: Path, user_file: Path) -> None:
    write(user_file, '[llm]\nmodle = "x"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(project)
    assert f"{paths.user_config_file()}, line 2: unknown key 'llm.modle'" in str(info.value)
    assert "Did you mean 'llm.model'?" in str(info.value)


def test_unknown_section_suggests_closest(project: Path, user_file: Path) -> None:
    write(user_file, '[permission]\nmode = "ask"\n')
    with pytest.raises(ConfigError, match="Did you mean 'permissions'"):
        load_settings(project)
    write(user_file, 'model = "x"\n')
    with pytest.raises(ConfigError, match=r"llm\.model"):
        load_settings(project)


_NO_DAC = "--bounding-set=-dac_override,-dac_read_search"


def _without_dac_override() -> list[str] | None:
    """A command prefix that runs a program as root without the power to ignore file modes."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    probe = subprocess.run([setpriv, _NO_DAC, "true"], capture_output=True, timeout=30)
    return [setpriv, _NO_DAC] if probe.returncode == 0 else None


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_unreadable_config_is_a_clear_error(project: Path, user_file: Path) -> None:
    write(user_file, '[llm]\nmodel = "x"\n')
    user_file.chmod(0)
    try:
        if os.geteuid() != 0:
            with pytest.raises(ConfigError, match="permission denied"):
                load_settings(project)
            return
        # Root reads any file; run `pygent config show` without that capability instead.
        prefix = _without_dac_override()
        if prefix is None:
            pytest.skip("running as root, and setpriv cannot drop CAP_DAC_OVERRIDE here")
        out = subprocess.run(
            [*prefix, sys.executable, "-m", "pygent", "config", "show"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 1, out.stdout + out.stderr
        assert f"Cannot read the config file {user_file}: permission denied" in out.stderr
        assert "Traceback" not in out.stderr and out.stdout == ""
    finally:
        user_file.chmod(0o600)


def test_unreadable_config_as_root_via_oserror(
    project: Path, user_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root can read anything, so simulate the permission error the OS would raise."""
    write(user_file, '[llm]\nmodel = "x"\n')
    real = Path.read_text

    def deny(self: Path, *args: object, **kwargs: object) -> str:
        if self == user_file:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", deny)
    with pytest.raises(ConfigError) as info:
        load_settings(project)
    assert str(user_file) in str(info.value) and "permission denied" in str(info.value)


def test_config_path_that_is_a_directory(project: Path, user_file: Path) -> None:
    user_file.mkdir(parents=True)
    with pytest.raises(ConfigError, match="is a directory"):
        load_settings(project)


def test_project_config_that_is_a_directory(project: Path) -> None:
    (project / ".pygent" / "config.toml").mkdir(parents=True)
    with pytest.raises(ConfigError, match=r"\.pygent.*is a directory"):
        load_settings(project)


def test_invalid_utf8(project: Path, user_file: Path) -> None:
    user_file.parent.mkdir(parents=True)
    user_file.write_bytes(b'[llm]\nmodel = "\xff"\n')
    with pytest.raises(ConfigError, match="UTF-8"):
        load_settings(project)


def test_bad_flag_override(project: Path) -> None:
    with pytest.raises(ConfigError, match="command-line flags"):
        load_settings(project, {"permissions": {"mode": "nope"}})


@pytest.mark.parametrize(
    ("model", "env"),
    [
        ("anthropic/claude-sonnet-4-5", ["ANTHROPIC_API_KEY"]),
        ("openai/gpt-4o", ["OPENAI_API_KEY"]),
        ("gemini/gemini-2.5-pro", ["GEMINI_API_KEY", "GOOGLE_API_KEY"]),
        ("openrouter/anthropic/claude-sonnet-4.5", ["OPENROUTER_API_KEY"]),
        ("groq/llama-3.3-70b", ["GROQ_API_KEY"]),
        ("gpt-4o", ["OPENAI_API_KEY"]),
        ("my-local-model", ["OPENAI_API_KEY"]),
        ("claude-3-5-sonnet", ["ANTHROPIC_API_KEY"]),
        ("ollama/llama3.1", []),
        ("newprov/x", ["NEWPROV_API_KEY"]),
    ],
)
def test_provider_env_vars(model: str, env: list[str]) -> None:
    assert provider_env_vars(model) == env


def test_provider_of() -> None:
    assert provider_of("openrouter/openai/gpt-4o") == "openrouter"
    assert provider_of("gpt-4o") == "openai"


def test_resolve_api_key_prefers_setting_then_provider_var(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = Settings.model_validate({"llm": {"model": "anthropic/claude-sonnet-4-5"}})
    assert resolve_api_key(s) is None
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-wrong-provider")
    assert resolve_api_key(s) is None
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")
    assert resolve_api_key(s) == "sk-ant-from-env"
    s2 = Settings.model_validate({"llm": {"model": "anthropic/x", "api_key": "sk-explicit"}})
    assert resolve_api_key(s2) == "sk-explicit"


def test_pygent_api_key_env_wins_over_provider_var(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-provider")
    monkeypatch.setenv("PYGENT_API_KEY", "sk-pygent")
    assert resolve_api_key(load_settings(project)) == "sk-pygent"


def test_all_keys_cover_schema() -> None:
    keys = all_keys()
    assert "llm.model" in keys and "permissions.allow" in keys and "ui.theme" in keys
    assert len(keys) == len(set(keys))


def test_unknown_model_is_a_warning_with_close_matches() -> None:
    warning = check_model("anthropic/claude-sonet-4-5")
    assert warning is not None
    assert "claude-sonnet-4-5" in warning
    assert check_model("anthropic/claude-sonnet-4-5") is None
    assert check_model("openai/gpt-4o") is None
    assert check_model("gpt-4o") is None
    # Local and custom endpoints are never warned about.
    assert check_model("ollama/whatever") is None
    assert check_model("openai/my-finetune", api_base="http://localhost:8000/v1") is None


def test_loading_settings_does_not_import_litellm() -> None:
    code = (
        "import sys; from pygent.settings.loader import load_settings; load_settings();"
        "from pygent.settings.model_names import check_model; check_model('x/y');"
        "print('litellm' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"


def test_configuration_docs_list_every_setting() -> None:
    docs = Path(__file__).parents[2] / "docs" / "configuration.md"
    text = docs.read_text(encoding="utf-8")
    for key in all_keys():
        section, leaf = key.split(".")
        assert f"[{section}]" in text, section
        assert f"| `{leaf}` |" in text, key
