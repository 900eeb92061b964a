"""``pygent run`` with a home it cannot write: warnings that name the directory and the fix, and
the turn still runs (logging off, the session in a temporary directory)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from run_helpers import make_repo, pygent_env, run_pygent

from pygent.settings import paths
from pygent.settings.writable import dir_variable
from pygent.testing.fake_llm import FakeLLMThread
from unwritable_dirs import METHODS, unwritable


@pytest.mark.parametrize("method", METHODS)
def test_run_with_unwritable_data_and_log_directories_warns_and_still_answers(
    tmp_path: Path, fake_llm: FakeLLMThread, method: str
) -> None:
    repo = make_repo(tmp_path / "repo")
    env = pygent_env(fake_llm.base_url)
    env.pop("PYGENT_LOG_DISABLED")  # file logging on, as for a person
    fake_llm.script([{"text": "the answer"}])
    with unwritable(paths.user_data_dir(), method), unwritable(paths.user_log_dir(), method):
        proc = run_pygent("hello", cwd=repo, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "the answer\n"
    assert "Traceback" not in proc.stderr and "Errno" not in proc.stderr
    assert f"pygent: warning: Cannot write the log file {paths.log_file()} (" in proc.stderr
    assert f"point {dir_variable('log')} at a writable directory" in proc.stderr
    assert "PYGENT_LOG_DISABLED=1" in proc.stderr
    assert f"pygent: warning: Cannot save sessions in {paths.sessions_dir()} (" in proc.stderr
    assert "cannot be resumed later" in proc.stderr
    assert f"Point {dir_variable('data')} at a writable directory" in proc.stderr
    # The prompt reached the model: nothing the person typed was lost.
    assert fake_llm.requests[0]["messages"][-1] == {"role": "user", "content": "hello"}


def test_run_with_a_writable_home_prints_no_storage_warning(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> None:
    repo = make_repo(tmp_path / "repo")
    env = pygent_env(fake_llm.base_url)
    env.pop("PYGENT_LOG_DISABLED")
    fake_llm.script([{"text": "ok"}])
    proc = run_pygent("hello", cwd=repo, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr
    assert any(paths.sessions_dir().rglob("*.jsonl"))
    assert os.path.isfile(paths.log_file())
