"""pytest fixtures shared by every test suite of the project (loaded from ``tests/conftest.py``)."""

from __future__ import annotations
