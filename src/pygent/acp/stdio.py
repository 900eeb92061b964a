"""Newline-delimited JSON-RPC framing for ``pygent acp``: one JSON object per line, no headers.

The stdout guard, the writer (whole messages under a lock, silent once the client has gone) and
the reader thread are ``pygent serve``'s (:mod:`pygent.server.stdio`); only the framing differs.
"""

from __future__ import annotations

import io
import json
from typing import Any

from pygent.server.stdio import DEFAULT_MAX_MESSAGE_BYTES, Frame, FrameWriter

__all__ = ["LineReader", "LineWriter"]


class LineReader:
    """Splits a byte stream into lines, each one message body.

    Blank lines are skipped. A line longer than ``max_bytes`` is drained to its end and becomes a
    :class:`~pygent.server.stdio.Frame` error, so the stream stays in sync.

    Args:
        stream: A binary stream (buffered).
        max_bytes: The longest line accepted.
    """

    def __init__(self, stream: io.BufferedIOBase, max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES):
        self._stream = stream
        self.max_bytes = max_bytes

    def read_frame(self) -> Frame | None:
        """Block until the next line; None at end of stream."""
        while True:
            line = self._stream.readline(self.max_bytes + 1)
            if not line:
                return None
            if len(line) > self.max_bytes and not line.endswith(b"\n"):
                size = len(line)
                while True:
                    rest = self._stream.readline(1 << 20)
                    size += len(rest)
                    if not rest or rest.endswith(b"\n"):
                        break
                return Frame(
                    error=(
                        f"A message of more than {self.max_bytes} bytes ({size} bytes) was "
                        "discarded. Send smaller messages (attach files by resource_link)."
                    )
                )
            body = line.strip()
            if body:
                return Frame(body=body)


class LineWriter:
    """Writes JSON-RPC messages as single lines through a :class:`FrameWriter`.

    Args:
        writer: The guarded stdout writer.
    """

    def __init__(self, writer: FrameWriter) -> None:
        self._writer = writer

    @property
    def closed(self) -> bool:
        """True once the client stopped reading."""
        return self._writer.closed

    def send(self, payload: dict[str, Any]) -> None:
        """Write one message (``jsonrpc`` added); never raises once the client has gone."""
        payload.setdefault("jsonrpc", "2.0")
        # ensure_ascii keeps every line free of raw newlines and of encoding surprises.
        self._writer.write(json.dumps(payload, separators=(",", ":")).encode("ascii") + b"\n")
