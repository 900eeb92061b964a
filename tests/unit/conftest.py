"""Fixtures shared by the unit tests (a test module may override one with its own)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty project directory (the workspace root) inside ``tmp_path``."""
    path = tmp_path / "project"
    path.mkdir()
    return path
