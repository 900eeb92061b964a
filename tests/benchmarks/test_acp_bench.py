"""Benchmarks of ``pygent acp``: spawn -> ``initialize`` answered, next to ``pygent serve``'s.

Budget (issue #15): ``initialize`` answered <= 400 ms median from spawn (Gemini CLI's ACP agent
measured 5-9 s here). Also: agent time per streamed text chunk through the adapter and the
line writer. These report numbers and never fail on speed. Run with::

    python -m pytest tests/benchmarks/test_acp_bench.py --benchmark-only -s
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path
from typing import Any

import pytest
from _budget import report_budget
from _wire import spawn_to_initialize

ROUNDS = 7
BUDGET_INIT_S = 0.4
BUDGET_CHUNK_MS = 1.0


@pytest.fixture
def env(isolated_home: Path) -> dict[str, str]:
    environment = dict(os.environ)
    environment["PYGENT_LOG_DISABLED"] = "1"
    return environment


def test_acp_spawn_to_initialize_answered_next_to_serve(
    benchmark: Any, tmp_path: Path, env: dict[str, str]
) -> None:
    acp_times: list[float] = []
    serve_times: list[float] = []

    def once() -> None:
        acp_times.append(spawn_to_initialize(tmp_path, env, ndjson=True))

    benchmark.pedantic(once, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    for _ in range(ROUNDS):
        serve_times.append(spawn_to_initialize(tmp_path, env))
    acp_median = statistics.median(acp_times[-ROUNDS:])
    serve_median = statistics.median(serve_times)
    benchmark.extra_info["serve_median_ms"] = round(serve_median * 1000, 1)
    benchmark.extra_info["acp_min_ms"] = round(min(acp_times) * 1000, 1)
    report_budget(benchmark, "pygent acp: spawn -> initialize answered", acp_median, BUDGET_INIT_S)
    print(
        f"pygent acp min {min(acp_times) * 1000:.0f} ms; pygent serve median "
        f"{serve_median * 1000:.0f} ms, min {min(serve_times) * 1000:.0f} ms "
        f"({ROUNDS} spawns each)"
    )


def test_acp_agent_time_per_streamed_chunk(benchmark: Any) -> None:
    """One text delta: adapter conversion, JSON encoding and the line write (no coalescing)."""
    from pygent.acp.adapter import UpdateAdapter
    from pygent.acp.stdio import LineWriter
    from pygent.server.stdio import FrameWriter

    devnull = os.open(os.devnull, os.O_WRONLY)
    writer = LineWriter(FrameWriter(devnull))
    adapter = UpdateAdapter()
    update = {"sessionUpdate": "agent_message_chunk", "content": {"type": "text", "text": "word "}}
    chunks = 2000

    def stream() -> None:
        for _ in range(chunks):
            converted = adapter.convert(update)
            assert converted is not None
            writer.send(
                {"method": "session/update", "params": {"sessionId": "s", "update": converted}}
            )

    try:
        benchmark.pedantic(stream, rounds=5, iterations=1)
    finally:
        os.close(devnull)
    per_chunk_s = benchmark.stats.stats.median / chunks
    report_budget(
        benchmark, "pygent acp: agent time per streamed chunk", per_chunk_s, BUDGET_CHUNK_MS / 1000
    )
