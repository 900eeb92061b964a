"""The tool error: raised inside a tool, returned to the model as a failed tool result."""

from __future__ import annotations


class ToolError(Exception):
    """A failure the model should read and act on (never a crash).

    The message must say what went wrong and, where possible, what to do instead.
    """
