"""Benchmarks: a 2,000-line window of a 10 MB file (< 150 ms) and an exact edit of it (< 250 ms).

The budgets are reported in ``extra_info`` and printed, never asserted.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from _budget import report_budget

from pygent.agent.headless import HeadlessPort
from pygent.settings.models import Settings
from pygent.tools import files
from pygent.tools.base import ToolContext, ToolRegistry, dispatch
from pygent.tools.workspace import Workspace

LINE = "the quick brown fox jumps over the lazy dog 0123456789\n"
LINES = 10 * 1024 * 1024 // len(LINE)

REGISTRY = ToolRegistry()
REGISTRY.register(files.read_file.__pygent_tool__)  # type: ignore[attr-defined]
REGISTRY.register(files.edit_file.__pygent_tool__)  # type: ignore[attr-defined]


@pytest.fixture
def loop() -> Any:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def make_ctx(root: Path) -> ToolContext:
    return ToolContext(Workspace([root]), Settings(), HeadlessPort(stderr=None), tool_call_id="b")


def test_read_last_2000_line_window_of_10mb_file(benchmark: Any, tmp_path: Path, loop: Any) -> None:
    (tmp_path / "big.txt").write_text(LINE * LINES)
    ctx = make_ctx(tmp_path)
    offset = LINES - 2000 + 1

    def run() -> Any:
        return loop.run_until_complete(
            dispatch(REGISTRY, "read_file", {"path": "big.txt", "offset": offset}, ctx)
        )

    result = benchmark(run)
    assert not result.is_error
    assert result.raw_output["lastLine"] == LINES
    report_budget(benchmark, "read_file 2,000-line window", benchmark.stats.stats.median, 0.150)


def test_exact_edit_of_10mb_file(benchmark: Any, tmp_path: Path, loop: Any) -> None:
    path = tmp_path / "big.txt"
    lines = [LINE] * LINES
    lines[LINES // 2] = "UNIQUE_MARKER = 1\n"
    original = "".join(lines)
    ctx = make_ctx(tmp_path)

    def setup() -> None:
        path.write_text(original)

    def run() -> Any:
        return loop.run_until_complete(
            dispatch(
                REGISTRY,
                "edit_file",
                {"path": "big.txt", "old_string": "UNIQUE_MARKER = 1", "new_string": "DONE = 2"},
                ctx,
            )
        )

    result = benchmark.pedantic(run, setup=setup, rounds=10, iterations=1)
    assert not result.is_error, result.text
    assert "DONE = 2" in path.read_text()
    report_budget(benchmark, "edit_file in 10 MB", benchmark.stats.stats.median, 0.250)
