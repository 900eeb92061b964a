"""Stdio transport of ``pygent serve``: the fd-level stdout guard and Content-Length framing.

Stdout belongs to the protocol. :func:`guard_stdio` keeps private duplicates of fd 0 and fd 1 for
the protocol, then points fd 1 (and ``sys.stdout``) at stderr and fd 0 at the null device, so a
stray ``print``, a C library or a child process can neither corrupt the outgoing stream nor eat
incoming frames.

The reader is a thread (portable: pipes cannot be polled by asyncio on Windows) that turns the
byte stream into message bodies; the writer writes whole frames under a lock and never raises
when the client has gone away.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

#: Largest message body accepted. A larger one is drained, discarded and answered with an error.
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024

_CONTENT_LENGTH = re.compile(rb"^content-length:\s*(\d+)\s*$", re.IGNORECASE)


@dataclass
class StdioFds:
    """The private file descriptors the protocol uses after :func:`guard_stdio`."""

    read_fd: int
    write_fd: int


def guard_stdio() -> StdioFds:
    """Take fd 0 and fd 1 for the protocol and redirect the process's stdio away from them.

    After this, fd 1 and ``sys.stdout`` are stderr, fd 0 is the null device, and only the
    returned private descriptors talk to the client.

    Returns:
        The private read and write descriptors (not inherited by child processes).
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    read_fd = os.dup(0)
    write_fd = os.dup(1)
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows CI only
        import msvcrt

        msvcrt.setmode(read_fd, os.O_BINARY)
        msvcrt.setmode(write_fd, os.O_BINARY)
    os.dup2(2, 1)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(null_fd, 0)
    finally:
        os.close(null_fd)
    sys.stdout = sys.stderr
    return StdioFds(read_fd, write_fd)


class FrameWriter:
    """Writes Content-Length frames to a file descriptor, whole frames at a time.

    Thread-safe. A broken pipe marks the writer closed and calls ``on_closed`` once; later writes
    are dropped silently (the client is gone, nobody can read them).

    Args:
        fd: Where frames go.
        on_closed: Called (from the writing thread) when the client stops reading.
    """

    def __init__(self, fd: int, on_closed: Callable[[], None] | None = None) -> None:
        self._fd = fd
        self._lock = threading.Lock()
        self._on_closed = on_closed
        self.closed = False

    def write_body(self, body: bytes) -> None:
        """Frame and write one JSON body."""
        self.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def write(self, data: bytes) -> None:
        """Write already framed bytes (pygls' writer interface)."""
        with self._lock:
            if self.closed:
                return
            view = memoryview(data)
            try:
                while view:
                    written = os.write(self._fd, view)
                    view = view[written:]
            except OSError:
                self.closed = True
                callback = self._on_closed
                self._on_closed = None
                if callback is not None:
                    callback()

    def close(self) -> None:
        """Stop writing (the descriptor is closed at process exit)."""
        with self._lock:
            self.closed = True


@dataclass
class Frame:
    """What the reader found: a message body, or a framing problem to report."""

    body: bytes | None = None
    error: str | None = None


class FrameReader:
    """Splits a byte stream into Content-Length framed bodies.

    Header blocks without a usable ``Content-Length`` and bodies above ``max_bytes`` become
    :class:`Frame` errors (the body is drained so the stream stays in sync).

    Args:
        stream: A binary stream (buffered).
        max_bytes: The largest body accepted.
    """

    def __init__(self, stream: io.BufferedIOBase, max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES):
        self._stream = stream
        self.max_bytes = max_bytes

    def read_frame(self) -> Frame | None:
        """Block until the next frame; None at end of stream."""
        length: int | None = None
        bad_header: bytes | None = None
        saw_header = False
        while True:
            line = self._stream.readline(65536)
            if not line:
                return None
            stripped = line.strip()
            if not stripped:
                if not saw_header:
                    continue  # stray blank line between frames
                break
            saw_header = True
            match = _CONTENT_LENGTH.match(stripped)
            if match:
                length = int(match.group(1))
            elif b":" not in stripped:
                bad_header = stripped[:80]
        if length is None:
            what = f"header line {bad_header!r}" if bad_header else "a header block"
            return Frame(error=f"Received {what} without a Content-Length header; skipped it.")
        if length > self.max_bytes:
            remaining = length
            while remaining > 0:
                chunk = self._stream.read(min(remaining, 1 << 20))
                if not chunk:
                    return None
                remaining -= len(chunk)
            return Frame(
                error=(
                    f"Message of {length} bytes exceeds the limit of {self.max_bytes} bytes; "
                    "it was discarded. Send smaller messages (attach files by resource_link)."
                )
            )
        body = self._stream.read(length)
        if body is None or len(body) < length:
            return None
        return Frame(body=body)


def open_reader(fd: int) -> io.BufferedReader:
    """A buffered binary stream over ``fd`` that does not close it."""
    stream: io.BufferedReader = io.open(fd, "rb", buffering=65536, closefd=False)  # type: ignore[assignment]  # noqa: UP020, SIM115
    return stream
