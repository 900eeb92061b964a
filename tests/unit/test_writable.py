"""Unwritable pygent directories: probed up front, named with what moves them, worked around."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pygent.errors import PygentError
from pygent.settings import paths
from pygent.settings.models import Settings
from pygent.settings.writable import (
    config_dir_problem,
    dir_variable,
    log_dir_problem,
    prepare_storage,
    probe_dir,
)
from unwritable_dirs import METHODS, unwritable


@pytest.fixture(autouse=True)
def no_temporary_sessions() -> Iterator[None]:
    yield
    paths.stop_temporary_sessions_dir()


@pytest.fixture(autouse=True)
def file_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYGENT_LOG_DISABLED", raising=False)


@pytest.mark.parametrize("method", METHODS)
def test_probe_names_the_reason_and_leaves_no_file_behind(tmp_path: Path, method: str) -> None:
    good = tmp_path / "good" / "deeper"
    assert probe_dir(good) is None
    assert good.is_dir() and list(good.iterdir()) == []
    bad = tmp_path / "bad"
    with unwritable(bad, method):
        reason = probe_dir(bad / "pygent")
    assert reason  # e.g. "Not a directory" or "Permission denied"


@pytest.mark.parametrize("method", METHODS)
def test_unwritable_log_directory_turns_logging_off_with_a_named_fix(method: str) -> None:
    log_dir = paths.user_log_dir()
    with unwritable(log_dir.parent, method):
        warning = log_dir_problem(Settings())
    assert warning is not None
    assert warning.startswith(f"Cannot write the log file {paths.log_file()} (")
    assert "so logging is off" in warning
    assert f"point {dir_variable('log')} at a writable directory or set logging.file" in warning
    assert "logging.enabled = false (or PYGENT_LOG_DISABLED=1)" in warning
    # Nothing to warn about when file logging is off anyway.
    assert log_dir_problem(Settings.model_validate({"logging": {"enabled": False}})) is None


def test_unwritable_logging_file_setting_names_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    settings = Settings.model_validate({"logging": {"file": str(blocker / "my.log")}})
    warning = log_dir_problem(settings)
    assert warning is not None
    assert f"Cannot write the log file {blocker / 'my.log'}" in warning
    assert "set logging.file to a writable path" in warning


@pytest.mark.parametrize("method", METHODS)
def test_unwritable_data_directory_moves_sessions_to_a_temporary_one(method: str) -> None:
    data = paths.user_data_dir()
    real_sessions = paths.sessions_dir()
    with unwritable(data, method):
        warnings = prepare_storage(Settings())
        temporary = paths.sessions_dir()
        (warning,) = [w for w in warnings if "sessions" in w]
        assert warning.startswith(f"Cannot save sessions in {real_sessions} (")
        assert f"temporary directory ({temporary})" in warning
        assert "cannot be resumed later" in warning
        assert f"Point {dir_variable('data')} at a writable directory" in warning
        assert temporary != real_sessions and probe_dir(temporary) is None
        # A session really works there: created, appended, loaded back.
        from pygent.agent.session import SessionStore

        store = SessionStore(Path.cwd())
        session = store.create("openai/fake-model")
        session.append({"role": "user", "content": "kept"})
        assert store.load(session.id).messages == [{"role": "user", "content": "kept"}]
    paths.stop_temporary_sessions_dir()
    assert not temporary.exists()
    assert paths.sessions_dir() == real_sessions


def test_writable_directories_need_no_warning() -> None:
    assert prepare_storage(Settings()) == []
    assert paths.sessions_dir() == paths.user_data_dir() / "sessions"


@pytest.mark.parametrize("method", METHODS)
def test_unwritable_config_directory_is_an_error_naming_the_file_and_the_fix(method: str) -> None:
    config_file = paths.user_config_file()
    with unwritable(config_file.parent, method):
        error = config_dir_problem(config_file)
    assert isinstance(error, PygentError)
    assert error.code == "invalid_config"
    assert error.message.startswith(f"Cannot write the config file {config_file} (")
    assert f"Point {dir_variable('config')} at a writable directory" in error.hint


def test_writable_config_directory_is_no_problem_and_the_check_leaves_nothing(
    tmp_path: Path,
) -> None:
    assert config_dir_problem(tmp_path / "config" / "pygent" / "config.toml") is None
    assert list(tmp_path.iterdir()) == []  # the directories it had to make are gone again
