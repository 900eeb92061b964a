"""Startup time of the command line: spawn ``pygent --version`` and ``pygent config show``.

Budgets (issue #2): ``--version`` median < 80 ms, ``config show`` < 300 ms. These benchmarks
report medians (pytest-benchmark's table) and never fail on speed; a run over budget prints a
note. Run with::

    python -m pytest tests/benchmarks/test_startup.py --benchmark-only
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _budget import report_budget

BUDGETS_S = {"version": 0.080, "config_show": 0.300}
ROUNDS = 20


def _console_script() -> str | None:
    return shutil.which("pygent", path=str(Path(sys.executable).parent))


def _commands() -> list[tuple[str, list[str]]]:
    commands = [("python -m pygent", [sys.executable, "-m", "pygent"])]
    script = _console_script()
    if script is not None:
        commands.insert(0, ("pygent", [script]))
    return commands


@pytest.fixture
def env(isolated_home: Path) -> dict[str, str]:
    environment = dict(os.environ)
    environment["PYGENT_LOG_DISABLED"] = "1"
    # Measure what an installed pygent costs: `pip install` compiles every module to .pyc, so
    # the interpreter must be allowed to read and write bytecode here. (An editable install in
    # an environment with PYTHONDONTWRITEBYTECODE=1 would otherwise compile pygent's own
    # modules from source on every run, about 40 ms of `config show`.)
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    _compile_package()
    return environment


def _compile_package() -> None:
    """Write the .pyc files of pygent's modules, as `pip install` does."""
    import compileall

    import pygent

    compileall.compile_dir(Path(pygent.__file__).parent, quiet=1)


class _Spawner:
    """Runs one command; also records the child's CPU time (POSIX), which a busy machine
    inflates far less than wall time."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.argv = argv
        self.env = env
        self.cpu_ms: list[float] = []

    def __call__(self) -> None:
        before = _children_cpu()
        result = subprocess.run(self.argv, env=self.env, capture_output=True, timeout=60)
        after = _children_cpu()
        assert result.returncode == 0, result.stderr.decode(errors="replace")
        if before is not None and after is not None:
            self.cpu_ms.append((after - before) * 1000)


def _children_cpu() -> float | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _spawn(argv: list[str], env: dict[str, str]) -> _Spawner:
    return _Spawner(argv, env)


def _note(benchmark: Any, name: str, budget_key: str, run: _Spawner) -> None:
    if run.cpu_ms:
        cpu = statistics.median(run.cpu_ms[1:] or run.cpu_ms)
        benchmark.extra_info["median_cpu_ms"] = round(cpu, 1)
        print(f"\n{name}: median CPU time {cpu:.1f} ms", end="")
    stats = getattr(benchmark, "stats", None)
    median = getattr(getattr(stats, "stats", None), "median", None)
    if median is None:
        return
    report_budget(benchmark, name, median, BUDGETS_S[budget_key])


@pytest.mark.parametrize(("label", "prefix"), _commands(), ids=[c[0] for c in _commands()])
def test_version_startup(
    benchmark: Any, env: dict[str, str], label: str, prefix: list[str]
) -> None:
    run = _spawn([*prefix, "--version"], env)
    run()  # warm the OS file cache and .pyc files
    benchmark.pedantic(run, rounds=ROUNDS, iterations=1)
    _note(benchmark, f"{label} --version", "version", run)


@pytest.mark.parametrize(("label", "prefix"), _commands(), ids=[c[0] for c in _commands()])
def test_config_show_startup(
    benchmark: Any, env: dict[str, str], label: str, prefix: list[str]
) -> None:
    run = _spawn([*prefix, "config", "show"], env)
    run()
    benchmark.pedantic(run, rounds=ROUNDS, iterations=1)
    _note(benchmark, f"{label} config show", "config_show", run)


def test_bare_python_startup(benchmark: Any, env: dict[str, str]) -> None:
    """The floor: an interpreter that does nothing (to read the numbers above against)."""
    run = _spawn([sys.executable, "-c", "pass"], env)
    run()
    benchmark.pedantic(run, rounds=ROUNDS, iterations=1)
