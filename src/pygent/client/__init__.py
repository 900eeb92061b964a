"""A Python client of ``pygent serve`` (used by the TUI and the tests)."""

from pygent.client.client import PygentClient, PygentClientError, UpdateStream

__all__ = ["PygentClient", "PygentClientError", "UpdateStream"]
