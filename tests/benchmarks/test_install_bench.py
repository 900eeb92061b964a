"""Benchmark: installing the built wheel into a fresh venv with a warm package cache (seed: < 30 s).

Also reports what a user pays for: how many distributions land in the venv and their size.
Run: ``python3 -m pytest tests/benchmarks/test_install_bench.py --benchmark-only -s``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _budget import report_budget

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "release"))
from dist_helpers import ROOT, build, install_fresh


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


@pytest.mark.timeout(1800)
def test_install_wheel_into_fresh_venv(benchmark: Any, tmp_path: Path) -> None:
    (wheel,) = [p for p in build(ROOT, tmp_path / "dist", "wheel") if p.suffix == ".whl"]
    install_fresh(wheel, tmp_path / "warm")  # fills the package cache
    runs: list[float] = []
    counter = iter(range(100))

    def install() -> None:
        venv = install_fresh(wheel, tmp_path / f"venv{next(counter)}")
        runs.append(venv.install_seconds)

    benchmark.pedantic(install, rounds=3, iterations=1)
    last = tmp_path / f"venv{len(runs) - 1}"
    python = last / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    listed = json.loads(
        subprocess.run(
            [str(python), "-m", "pip", "list", "--format", "json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    names = {d["name"].lower() for d in listed} - {"pip", "setuptools", "wheel"}
    assert "pygent-agent" in names
    size_mb = _size(last) / 1e6
    benchmark.extra_info["distributions"] = len(names)
    benchmark.extra_info["venv_mb"] = round(size_mb, 1)
    print(f"\n{len(names)} distributions installed, venv {size_mb:.0f} MB")
    report_budget(benchmark, "install into a fresh venv (warm cache)", sorted(runs)[1], 30.0)
