"""Build the sdist and wheel, and install a wheel into a fresh virtual environment.

The venv has no access to the source tree, no editable install and no system site-packages, so a
package-data file missing from the wheel, or an import of a dev-only dependency, fails here.
Dependencies come from the package index through pip's cache in the system temp dir (never the
real home), so only the first run on a machine downloads them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PIP_CACHE = Path(tempfile.gettempdir()) / "pygent-pip-cache"


@dataclass(frozen=True)
class Dist:
    """The built distributions."""

    sdist: Path
    wheel: Path

    def wheel_files(self) -> list[str]:
        """Names inside the wheel, sorted."""
        with zipfile.ZipFile(self.wheel) as archive:
            return sorted(archive.namelist())


@dataclass(frozen=True)
class Venv:
    """A fresh venv with the built wheel installed."""

    root: Path
    python: Path
    pygent: Path
    install_seconds: float

    def env(self, **extra: str) -> dict[str, str]:
        """The environment for a command of the venv: no PYTHONPATH, no source tree."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
        }
        env["PATH"] = str(self.pygent.parent) + os.pathsep + env.get("PATH", "")
        env.update(extra)
        return env


def _run(args: list[str], cwd: Path, timeout: float = 900, **kw: Any) -> str:
    result = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False, **kw
    )
    assert result.returncode == 0, (
        f"{args} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result.stdout


def build(source: Path, outdir: Path, *targets: str) -> list[Path]:
    """``python -m build`` (isolated, as a user or the publish workflow builds)."""
    outdir.mkdir(parents=True, exist_ok=True)
    flags = [f"--{t}" for t in targets]
    env = {**os.environ, "PIP_CACHE_DIR": str(PIP_CACHE)}
    _run(
        [sys.executable, "-m", "build", *flags, "--outdir", str(outdir), str(source)],
        source,
        env=env,
    )
    return sorted(outdir.iterdir())


def install_fresh(wheel: Path, where: Path) -> Venv:
    """A new venv at ``where`` with ``wheel`` (and its dependencies) installed."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=300)
    bindir = where / ("Scripts" if sys.platform == "win32" else "bin")
    python = bindir / ("python.exe" if sys.platform == "win32" else "python")
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PIP_USER")
    }
    env.update(PIP_CACHE_DIR=str(PIP_CACHE), PIP_DISABLE_PIP_VERSION_CHECK="1")
    start = time.perf_counter()
    _run([str(python), "-m", "pip", "install", "-q", str(wheel)], where, env=env)
    seconds = time.perf_counter() - start
    return Venv(
        where, python, bindir / ("pygent.exe" if sys.platform == "win32" else "pygent"), seconds
    )
