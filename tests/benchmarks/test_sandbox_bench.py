"""The sandbox's cost: one ``shell`` call of ``true`` with and without confinement (budget:
< 15 ms added), and the two ways of applying Landlock in the child (trampoline vs ``preexec_fn``)
that :mod:`pygent.sandbox.landlock` chose between.

Run with ``pytest tests/benchmarks/test_sandbox_bench.py --benchmark-only -s``.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _budget import report_budget

from pygent.sandbox import landlock
from pygent.sandbox.policy import build_policy
from pygent.sandbox.runtime import wrap_argv
from pygent.settings.models import Settings
from pygent.tools import shell as shell_mod
from pygent.tools.base import ToolContext, ToolRegistry, dispatch
from pygent.tools.workspace import Workspace

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or landlock.abi_version() < 1,
    reason="needs Linux with Landlock",
)
BUDGET_S = 0.015
ROUNDS = 40


class _Port:
    reviews_edits = False

    def emit(self, update: dict[str, Any]) -> None:
        pass

    async def request_permission(self, request: Any) -> Any:
        raise AssertionError

    async def apply_edit(self, change_set: Any) -> Any:
        raise AssertionError


def _shell_true(root: Path, mode: str) -> dict[str, Any]:
    reg = ToolRegistry()
    reg.register(shell_mod.shell.__pygent_tool__)  # type: ignore[attr-defined]
    settings = Settings.model_validate({"sandbox": {"mode": mode}})
    ctx = ToolContext(Workspace([root]), settings, _Port())  # type: ignore[arg-type]
    result = asyncio.run(dispatch(reg, "shell", {"command": "true"}, ctx))
    assert result.text.startswith("Exit code: 0"), result.text
    assert result.raw_output is not None
    return result.raw_output


def _median(func: Callable[[], Any], rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def test_bench_sandbox_overhead_per_shell_call(benchmark: Any, tmp_path: Path) -> None:
    raw = benchmark.pedantic(
        _shell_true, args=(tmp_path, "workspace-write"), rounds=ROUNDS, iterations=1
    )
    assert raw["sandboxed"] is True
    unconfined = _median(lambda: _shell_true(tmp_path, "off"))
    confined = benchmark.stats.stats.median
    benchmark.extra_info["unconfined_ms"] = round(unconfined * 1000, 3)
    benchmark.extra_info["confined_ms"] = round(confined * 1000, 3)
    print(
        f"\nshell `true`: {unconfined * 1000:.1f} ms unconfined, {confined * 1000:.1f} ms confined"
    )
    report_budget(benchmark, "sandbox overhead per shell call", confined - unconfined, BUDGET_S)


def test_bench_trampoline_vs_preexec_fn_spawn(benchmark: Any, tmp_path: Path) -> None:
    policy = build_policy("workspace-write", [tmp_path])
    assert policy is not None
    argv = wrap_argv(["true"], policy)

    def trampoline() -> None:
        subprocess.run(argv, check=True)

    def preexec() -> None:
        subprocess.run(
            ["true"],
            check=True,
            preexec_fn=lambda: landlock.apply_policy(list(policy.writable), policy.network),
        )

    benchmark.pedantic(trampoline, rounds=ROUNDS, iterations=1)
    bare = _median(lambda: subprocess.run(["true"], check=True))
    via_preexec = _median(preexec)
    via_trampoline = benchmark.stats.stats.median
    for name, value in (
        ("bare_ms", bare),
        ("preexec_fn_ms", via_preexec),
        ("trampoline_ms", via_trampoline),
    ):
        benchmark.extra_info[name] = round(value * 1000, 3)
    print(
        f"\nspawn `true`: bare {bare * 1000:.1f} ms, preexec_fn {via_preexec * 1000:.1f} ms, "
        f"trampoline {via_trampoline * 1000:.1f} ms"
    )
    report_budget(benchmark, "trampoline spawn overhead", via_trampoline - bare, BUDGET_S)
