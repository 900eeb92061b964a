"""Benchmark: the grep tool against bare ripgrep on the same large tree (budget: within 1.5x).

The ratio is reported in ``extra_info`` and printed, never asserted.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from _budget import report_ratio

from pygent.agent.headless import HeadlessPort
from pygent.settings.models import Settings
from pygent.tools import search
from pygent.tools.base import ToolContext, ToolRegistry, dispatch
from pygent.tools.workspace import Workspace

REGISTRY = ToolRegistry()
REGISTRY.register(search.grep.__pygent_tool__)  # type: ignore[attr-defined]
REGISTRY.register(search.find_files.__pygent_tool__)  # type: ignore[attr-defined]

WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "omicron",
]


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~2,000 files, ~40 MB, in nested directories, a handful of needles."""
    root = tmp_path_factory.mktemp("tree")
    rnd = random.Random(7)
    (root / ".gitignore").write_text("ignored/\n")
    pool = [" ".join(rnd.choice(WORDS) for _ in range(12)) for _ in range(997)]
    for d in range(40):
        directory = root / f"pkg{d:02}" / f"sub{d % 7}"
        directory.mkdir(parents=True)
        for f in range(50):
            start = rnd.randrange(len(pool))
            lines = [f"{pool[(start + i) % len(pool)]} # {d}-{f}-{i}" for i in range(400)]
            if (d * 50 + f) % 97 == 0:
                lines[rnd.randrange(400)] = f"def needle_function_{d}_{f}(arg):"
            (directory / f"mod{f:02}.py").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture
def loop() -> Any:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def bare_rg_median(root: Path, pattern: str, runs: int = 10) -> float:
    rg = search.rg_executable()
    args = [rg, *search._COMMON_FLAGS, "--null", "--line-number", "--with-filename", "--no-heading"]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [*args, "--regexp", pattern], cwd=root, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def test_grep_few_matches_vs_bare_rg(benchmark: Any, big_tree: Path, loop: Any) -> None:
    ctx = ToolContext(
        Workspace([big_tree]), Settings(), HeadlessPort(stderr=None), tool_call_id="b"
    )
    pattern = r"def needle_function_\d+"

    def run() -> Any:
        return loop.run_until_complete(dispatch(REGISTRY, "grep", {"pattern": pattern}, ctx))

    result = benchmark(run)
    assert not result.is_error and result.raw_output["matches"] > 10
    bare = bare_rg_median(big_tree, pattern)
    report_ratio(
        benchmark, "grep (few matches) vs bare rg", benchmark.stats.stats.median, bare, 1.5
    )


def test_grep_many_matches_stops_early(benchmark: Any, big_tree: Path, loop: Any) -> None:
    ctx = ToolContext(
        Workspace([big_tree]), Settings(), HeadlessPort(stderr=None), tool_call_id="b"
    )

    def run() -> Any:
        return loop.run_until_complete(dispatch(REGISTRY, "grep", {"pattern": "gamma"}, ctx))

    result = benchmark(run)
    assert result.raw_output["capped"] is True
    bare = bare_rg_median(big_tree, "gamma", runs=5)
    report_ratio(benchmark, "grep (capped) vs bare rg", benchmark.stats.stats.median, bare, 1.5)


def test_find_files_large_tree(benchmark: Any, big_tree: Path, loop: Any) -> None:
    ctx = ToolContext(
        Workspace([big_tree]), Settings(), HeadlessPort(stderr=None), tool_call_id="b"
    )

    def run() -> Any:
        return loop.run_until_complete(dispatch(REGISTRY, "find_files", {"pattern": "*.py"}, ctx))

    result = benchmark(run)
    assert result.raw_output["count"] == 2000
