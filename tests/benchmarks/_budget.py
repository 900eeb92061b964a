"""Budgets are reported, not asserted (issue #2: a benchmark never fails on speed).

A benchmark checks that the work gave the right result; its timing against the issue's budget
goes into ``benchmark.extra_info`` (``budget_ms``, ``measured_ms``, ``within_budget``) and a
printed line, so ``pytest --benchmark-only -s`` and ``--benchmark-json`` both show it.
"""

from __future__ import annotations

from typing import Any


def report_budget(
    benchmark: Any,
    name: str,
    measured_s: float,
    budget_s: float,
    *,
    what: str = "median",
) -> bool:
    """Record ``measured_s`` against ``budget_s`` on the benchmark and print a one-line verdict.

    Args:
        benchmark: The pytest-benchmark fixture (after it has run).
        name: What was measured, for the printed line.
        measured_s: The measured time in seconds.
        budget_s: The budget in seconds.
        what: Which statistic ``measured_s`` is (``median``, ``min``, ...).

    Returns:
        True when the measurement is within the budget.
    """
    within = measured_s <= budget_s
    benchmark.extra_info["budget_ms"] = round(budget_s * 1000, 3)
    benchmark.extra_info["measured_ms"] = round(measured_s * 1000, 3)
    benchmark.extra_info["measured_stat"] = what
    benchmark.extra_info["within_budget"] = within
    verdict = "within" if within else "OVER"
    print(f"\n{name}: {what} {_ms(measured_s)} ({verdict} the {budget_s * 1000:g} ms budget)")
    return within


def report_ratio(
    benchmark: Any, name: str, ours_s: float, reference_s: float, limit: float
) -> bool:
    """Record ``ours_s / reference_s`` against ``limit`` (e.g. "within 1.5x of bare ripgrep").

    Args:
        benchmark: The pytest-benchmark fixture (after it has run).
        name: What was compared, for the printed line.
        ours_s: Our time in seconds.
        reference_s: The reference time in seconds.
        limit: The largest acceptable ratio.

    Returns:
        True when the ratio is within the limit.
    """
    ratio = ours_s / reference_s
    within = ratio <= limit
    benchmark.extra_info["measured_ms"] = round(ours_s * 1000, 3)
    benchmark.extra_info["reference_ms"] = round(reference_s * 1000, 3)
    benchmark.extra_info["ratio"] = round(ratio, 3)
    benchmark.extra_info["ratio_budget"] = limit
    benchmark.extra_info["within_budget"] = within
    verdict = "within" if within else "OVER"
    print(
        f"\n{name}: {_ms(ours_s)} vs {_ms(reference_s)} = {ratio:.2f}x "
        f"({verdict} the {limit:g}x budget)"
    )
    return within


def _ms(seconds: float) -> str:
    """``159.9 ms``; below a millisecond with three decimals (``0.057 ms``)."""
    ms = seconds * 1000
    return f"{ms:.1f} ms" if ms >= 1 else f"{ms:.3f} ms"
