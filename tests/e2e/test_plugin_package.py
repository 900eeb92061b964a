"""The example plugin package, really installed (pip --target), found by its entry point.

`pygent plugins list` shows it, a real `pygent run` turn calls its tool with its settings table,
and the example's own tests pass against it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from run_helpers import pygent_env, run_pygent

from pygent.testing.fake_llm import FakeLLMThread

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "plugin-wordcount"

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    env = {
        **os.environ,
        "PIP_CACHE_DIR": str(Path(tempfile.gettempdir()) / "pygent-pip-cache"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(EXAMPLE),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert list(target.glob("pygent_wordcount-*.dist-info/entry_points.txt"))
    return target


def _env(site: Path, base_url: str | None = None) -> dict[str, str]:
    env = pygent_env(base_url)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH")) if p)
    return env


def _plugins_list(site: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``pygent plugins list`` in ``cwd`` with the example plugin installed (must exit 0)."""
    result = subprocess.run(
        [sys.executable, "-m", "pygent", "plugins", "list"],
        cwd=cwd,
        env=_env(site),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_plugins_list_shows_the_installed_plugin(site: Path, tmp_path: Path) -> None:
    result = _plugins_list(site, tmp_path)
    assert (
        "wordcount  loaded  pygent_wordcount:WordCountPlugin (pygent-wordcount 0.1.0)"
        in result.stdout
    )
    assert "tools: word_count" in result.stdout
    assert "slash commands: /wc" in result.stdout


def test_disabled_in_config_it_is_listed_as_disabled(site: Path, tmp_path: Path) -> None:
    (tmp_path / ".pygent").mkdir()
    (tmp_path / ".pygent" / "config.toml").write_text('[plugins]\ndisabled = ["wordcount"]\n')
    result = _plugins_list(site, tmp_path)
    assert "wordcount  disabled" in result.stdout


def test_a_turn_calls_the_plugin_tool_with_its_settings(site: Path, tmp_path: Path) -> None:
    (tmp_path / "essay.txt").write_text("a bb ccc dddd eeeee\n", encoding="utf-8")
    (tmp_path / ".pygent").mkdir()
    (tmp_path / ".pygent" / "config.toml").write_text("[plugins.wordcount]\nmin_length = 3\n")
    script: list[dict[str, Any]] = [
        {
            "text": "Counting.",
            "tool_calls": [{"name": "word_count", "arguments": {"path": "essay.txt"}}],
        },
        {"text": "Counted."},
    ]
    with FakeLLMThread(script) as fake:
        result = run_pygent("count the words", cwd=tmp_path, env=_env(site, fake.base_url))
        requests = list(fake.requests)
    assert result.returncode == 0, result.stderr
    tool_names = {t["function"]["name"] for t in requests[0]["tools"]}
    assert "word_count" in tool_names and "read_file" in tool_names
    tool_results = [m for m in requests[1]["messages"] if m["role"] == "tool"]
    assert tool_results[0]["content"].startswith("3 words in essay.txt")


def test_a_bad_settings_table_skips_the_plugin_with_a_clear_message(
    site: Path, tmp_path: Path
) -> None:
    (tmp_path / ".pygent").mkdir()
    (tmp_path / ".pygent" / "config.toml").write_text('[plugins.wordcount]\nmin_length = "many"\n')
    result = _plugins_list(site, tmp_path)
    assert "wordcount  FAILED" in result.stdout
    assert "plugins.wordcount.min_length is invalid" in result.stdout


def test_the_example_package_own_tests_pass(site: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
        cwd=EXAMPLE,
        env=_env(site),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
