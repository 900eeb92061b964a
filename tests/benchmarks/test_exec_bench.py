"""Exec tools: the cost of one ``shell`` call, 100 MB of shell output, and ``git_status``.

No budget in the issue; these numbers are reported so regressions show. Run with
``pytest tests/benchmarks/test_exec_bench.py --benchmark-only``.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pygent.settings.models import Settings
from pygent.tools import git as git_tools
from pygent.tools import shell as shell_mod
from pygent.tools.base import ToolContext, ToolRegistry, dispatch
from pygent.tools.workspace import Workspace

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell commands")


class _Port:
    reviews_edits = False

    def emit(self, update: dict[str, Any]) -> None:
        pass

    async def request_permission(self, request: Any) -> Any:
        raise AssertionError

    async def apply_edit(self, change_set: Any) -> Any:
        raise AssertionError


def _registry() -> ToolRegistry:
    reg = ToolRegistry()
    reg.register(shell_mod.shell.__pygent_tool__)  # type: ignore[attr-defined]
    reg.register(git_tools.git_status.__pygent_tool__)  # type: ignore[attr-defined]
    return reg


def _call(root: Path, name: str, args: dict[str, Any]) -> str:
    ctx = ToolContext(Workspace([root]), Settings(), _Port())  # type: ignore[arg-type]
    result = asyncio.run(dispatch(_registry(), name, args, ctx))
    assert not result.is_error, result.text
    return result.text


def test_bench_shell_true(benchmark: Any, tmp_path: Path) -> None:
    text = benchmark(_call, tmp_path, "shell", {"command": "true"})
    assert text.startswith("Exit code: 0")


def test_bench_shell_100_mb_output(benchmark: Any, tmp_path: Path) -> None:
    command = "head -c 100000000 /dev/zero | tr '\\0' 'y'"
    text = benchmark.pedantic(
        _call, args=(tmp_path, "shell", {"command": command}), rounds=3, iterations=1
    )
    assert "bytes of output omitted" in text


def test_bench_git_status_1000_files(benchmark: Any, tmp_path: Path, isolated_home: Path) -> None:
    config = isolated_home / ".gitconfig"
    config.write_text("[user]\n\tname = B\n\temail = b@example.com\n", encoding="utf-8")
    for i in range(1000):
        (tmp_path / f"f{i:04d}.txt").write_text(f"{i}\n", encoding="utf-8")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "init"]):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, env=None)
    for i in range(0, 1000, 10):
        (tmp_path / f"f{i:04d}.txt").write_text("changed\n", encoding="utf-8")
    text = benchmark(_call, tmp_path, "git_status", {})
    assert "Not staged (100):" in text
