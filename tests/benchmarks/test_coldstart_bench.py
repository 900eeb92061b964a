"""Cold start to the first words of an answer (issue #16), on both model backends.

Measured against the fake OpenAI-compatible model (answers at once), from a fresh process:

* ``pygent serve``: spawn -> ``initialize`` answered -> ``session/new`` answered -> first
  ``agent_message_chunk`` of the first turn -> prompt answered, and the server's RSS after it.
* ``pygent run "hi"`` end to end.

Budgets (native backend): first streamed text <= 1.0 s from spawn, ``pygent run`` <= 1.5 s,
``session/new`` <= 100 ms, RSS after a turn <= 120 MiB. The litellm rows are for comparison.
Numbers are reported (min/median/max), never asserted; CPU seconds (user + system) are reported
too, as on a busy shared machine they stay close to the idle wall time. Run with::

    python -m pytest tests/benchmarks/test_coldstart_bench.py --benchmark-only -s
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from _budget import report_budget
from _wire import Server, cpu_s, rss_mib

from pygent.testing.fake_llm import FakeLLMThread

RUN_CMD = [sys.executable, "-m", "pygent", "run"]
ROUNDS = {"native": 5, "litellm": 2}
BUDGET_FIRST_TEXT_S = 1.0
BUDGET_RUN_S = 1.5
BUDGET_SESSION_NEW_S = 0.1
BUDGET_RSS_MIB = 120.0


def _env(fake: FakeLLMThread, backend: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYGENT_LOG_DISABLED="1",
        PYGENT_MODEL="openai/fake-model",
        PYGENT_API_BASE=fake.base_url,
        PYGENT_API_KEY="sk-fake-test",
        PYGENT_LLM_BACKEND=backend,
    )
    return env


def _serve_once(root: Path, env: dict[str, str]) -> dict[str, float]:
    """One cold server: the timings (seconds from spawn) and its RSS after the turn."""
    cpu: dict[str, float] = {}
    first_text: list[float] = []
    with Server(root, env) as server:

        def on_message(message: dict[str, Any]) -> None:
            update = (message.get("params") or {}).get("update") or {}
            if not first_text and update.get("sessionUpdate") == "agent_message_chunk":
                first_text.append(time.perf_counter() - server.started)
                cpu["first_text"] = cpu_s(server.process.pid)

        server.initialize()
        initialized = time.perf_counter() - server.started
        before_new = time.perf_counter()
        new = server.call(2, "pygent/session/new", {"cwd": str(root)})
        session_new = time.perf_counter() - before_new
        spawn_to_session = time.perf_counter() - server.started
        cpu["session_new"] = cpu_s(server.process.pid)
        session_id = new["result"]["sessionId"]
        before_prompt = time.perf_counter()
        prompt = {"sessionId": session_id, "prompt": [{"type": "text", "text": "hi"}]}
        done = server.call(3, "pygent/session/prompt", prompt, on_message)
        assert done["result"]["stopReason"] == "end_turn", done
        assert first_text
        answered = time.perf_counter() - before_prompt
        before_again = time.perf_counter()
        server.call(4, "pygent/session/new", {"cwd": str(root)})
        session_new_warm = time.perf_counter() - before_again
        time.sleep(0.5)
        rss = rss_mib(server.process.pid) or 0.0
    return {
        "initialize": initialized,
        "session_new": session_new,
        "spawn_to_session_new": spawn_to_session,
        "session_new_warm": session_new_warm,
        "prompt_answered": answered,
        "first_text": first_text[0],
        "rss_mib": rss,
        "cpu_at_session_new": cpu.get("session_new", 0.0),
        "cpu_at_first_text": cpu.get("first_text", 0.0),
    }


def _children_cpu_s() -> float:
    try:
        import resource
    except ImportError:  # Windows: no CPU figures
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _spread(values: list[float], scale: float = 1000.0, unit: str = "ms") -> str:
    return (
        f"min {min(values) * scale:.0f} / median {statistics.median(values) * scale:.0f}"
        f" / max {max(values) * scale:.0f} {unit}"
    )


@pytest.mark.parametrize("backend", ["native", "litellm"])
def test_spawn_to_first_streamed_text(benchmark: Any, tmp_path: Path, backend: str) -> None:
    runs: list[dict[str, float]] = []
    with FakeLLMThread() as fake:
        env = _env(fake, backend)
        benchmark.pedantic(
            lambda: runs.append(_serve_once(tmp_path, env)), rounds=ROUNDS[backend], iterations=1
        )
    for key in (
        "initialize",
        "session_new",
        "spawn_to_session_new",
        "session_new_warm",
        "first_text",
        "prompt_answered",
        "cpu_at_session_new",
        "cpu_at_first_text",
    ):
        values = [r[key] for r in runs]
        benchmark.extra_info[f"{key}_ms"] = [round(v * 1000, 1) for v in values]
        print(f"\n[{backend}] {key}: {_spread(values)}")
    rss = [r["rss_mib"] for r in runs]
    benchmark.extra_info["rss_mib"] = rss
    print(f"\n[{backend}] RSS after the turn: {_spread(rss, 1.0, 'MiB')}")
    first = statistics.median(r["first_text"] for r in runs)
    report_budget(benchmark, f"[{backend}] spawn -> first text", first, BUDGET_FIRST_TEXT_S)
    new = statistics.median(r["session_new"] for r in runs)
    report_budget(benchmark, f"[{backend}] session/new", new, BUDGET_SESSION_NEW_S)
    warm = statistics.median(r["session_new_warm"] for r in runs)
    report_budget(benchmark, f"[{backend}] a later session/new", warm, BUDGET_SESSION_NEW_S)
    benchmark.extra_info["rss_within_budget"] = statistics.median(rss) <= BUDGET_RSS_MIB


@pytest.mark.parametrize("backend", ["native", "litellm"])
def test_pygent_run_end_to_end(benchmark: Any, tmp_path: Path, backend: str) -> None:
    times: list[float] = []
    cpu: list[float] = []
    with FakeLLMThread() as fake:
        env = _env(fake, backend)

        def run() -> None:
            before = _children_cpu_s()
            started = time.perf_counter()
            proc = subprocess.run(
                [*RUN_CMD, "hi"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
            )
            times.append(time.perf_counter() - started)
            cpu.append(_children_cpu_s() - before)
            assert proc.returncode == 0, proc.stderr
            assert proc.stdout.strip() == "(fake) done"

        benchmark.pedantic(run, rounds=ROUNDS[backend], iterations=1)
    print(f"\n[{backend}] pygent run 'hi': {_spread(times)}")
    if any(cpu):
        benchmark.extra_info["cpu_ms"] = [round(c * 1000, 1) for c in cpu]
        print(f"\n[{backend}] pygent run 'hi' CPU (user+sys): {_spread(cpu)}")
    report_budget(benchmark, f"[{backend}] pygent run", statistics.median(times), BUDGET_RUN_S)
