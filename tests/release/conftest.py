"""Fixtures: the sdist and wheel built once per run, and a fresh venv with the wheel installed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .dist_helpers import ROOT, Dist, Venv, build, install_fresh


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """The sdist and the wheel built from this checkout."""
    out = tmp_path_factory.mktemp("dist")
    files = build(ROOT, out, "sdist", "wheel")
    sdists = [f for f in files if f.name.endswith(".tar.gz")]
    wheels = [f for f in files if f.suffix == ".whl"]
    assert len(sdists) == 1 and len(wheels) == 1, files
    return Dist(sdists[0], wheels[0])


@pytest.fixture(scope="session")
def venv(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venv]:
    """A fresh venv with the built wheel installed."""
    yield install_fresh(dist.wheel, tmp_path_factory.mktemp("fresh") / "venv")
