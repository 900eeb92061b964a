"""Benchmarks of ``pygent acp``: spawn -> ``initialize`` answered, next to ``pygent serve``'s.

Budget (issue #15): ``initialize`` answered <= 400 ms median from spawn (Gemini CLI's ACP agent
measured 5-9 s here). Also: agent time per streamed text chunk through the adapter and the
line writer. These report numbers and never fail on speed. Run with::

    python -m pytest tests/benchmarks/test_acp_bench.py --benchmark-only -s
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from _budget import report_budget

ACP_CMD = [sys.executable, "-m", "pygent", "acp"]
SERVE_CMD = [sys.executable, "-m", "pygent", "serve"]
ROUNDS = 7
BUDGET_INIT_S = 0.4
BUDGET_CHUNK_MS = 1.0


@pytest.fixture
def env(isolated_home: Path) -> dict[str, str]:
    environment = dict(os.environ)
    environment["PYGENT_LOG_DISABLED"] = "1"
    return environment


def _acp_initialize(root: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        ACP_CMD,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=root,
        env=env,
    )
    assert process.stdin is not None and process.stdout is not None
    request = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": 1}}
    process.stdin.write(json.dumps(request).encode() + b"\n")
    process.stdin.flush()
    answer = json.loads(process.stdout.readline())
    elapsed = time.perf_counter() - started
    assert answer["result"]["agentInfo"]["name"] == "pygent"
    process.stdin.close()
    process.wait(timeout=60)
    return elapsed


def _serve_initialize(root: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        SERVE_CMD,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=root,
        env=env,
    )
    assert process.stdin is not None and process.stdout is not None
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {}},
        }
    ).encode()
    process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    process.stdin.flush()
    length = 0
    while True:
        line = process.stdout.readline()
        if not line.strip():
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    answer = json.loads(process.stdout.read(length))
    elapsed = time.perf_counter() - started
    assert answer["result"]["serverInfo"]["name"] == "pygent"
    process.stdin.close()
    process.wait(timeout=60)
    return elapsed


def test_acp_spawn_to_initialize_answered_next_to_serve(
    benchmark: Any, tmp_path: Path, env: dict[str, str]
) -> None:
    acp_times: list[float] = []
    serve_times: list[float] = []

    def once() -> None:
        acp_times.append(_acp_initialize(tmp_path, env))

    benchmark.pedantic(once, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    for _ in range(ROUNDS):
        serve_times.append(_serve_initialize(tmp_path, env))
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
