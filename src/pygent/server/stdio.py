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

#: Largest message body accepted by default (64 MiB: a prompt with several large files inlined is a
#: few MiB). A larger one is answered with an error and skipped; ``PYGENT_MAX_MESSAGE_BYTES`` or
#: ``pygent serve --max-message-bytes`` change it.
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024

#: The header, found anywhere in a line: after a body shorter than its Content-Length said, the
#: next header follows the body's tail on the same line. Inside a JSON body this cannot match
#: (a JSON string holds no raw line break, and the name would be quoted), so resynchronising on it
#: never starts a frame in the middle of a message.
_CONTENT_LENGTH = re.compile(rb"content-length[ \t]*:[ \t]*(\d+)[ \t]*$", re.IGNORECASE)
#: More digits than this is no real length (and ``int()`` of thousands of digits is refused).
_MAX_LENGTH_DIGITS = 18
#: Longest header line read at once; a longer one is read in pieces.
_MAX_LINE = 65536


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
    """Splits a byte stream into Content-Length framed bodies, and recovers from bad framing.

    A header block without a usable ``Content-Length``, or a body above ``max_bytes``, becomes a
    :class:`Frame` error at once (an oversized body is never read into memory, nor waited for).
    The reader then skips bytes up to the next ``Content-Length`` header line, so one bad frame
    costs that frame only, whatever its declared length.

    Args:
        stream: A binary stream (buffered).
        max_bytes: The largest body accepted.
    """

    def __init__(self, stream: io.BufferedIOBase, max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES):
        self._stream = stream
        self.max_bytes = max_bytes
        self._resync = False

    def read_frame(self) -> Frame | None:
        """Block until the next frame; None at end of stream."""
        length_text: bytes | None = None
        bad_header: bytes | None = None
        saw_header = False
        carry = b""
        while True:
            line = self._stream.readline(_MAX_LINE)
            if not line:
                return None
            if self._resync:
                # Skipping a bad message: only a Content-Length header line ends the skip. The
                # carried tail of the previous piece catches a header split by the line limit.
                window = (carry + line).strip()
                carry = line[-64:] if not line.endswith(b"\n") else b""
                match = _CONTENT_LENGTH.search(window) if line.endswith(b"\n") else None
                if match is None:
                    continue
                self._resync = False
                saw_header = True
                length_text = match.group(1)
                continue
            stripped = line.strip()
            if not stripped:
                if not saw_header:
                    continue  # stray blank line between frames
                break
            saw_header = True
            match = _CONTENT_LENGTH.search(stripped)
            if match:
                length_text = match.group(1)
            elif b":" not in stripped:
                bad_header = stripped[:80]
        if length_text is None:
            self._resync = True
            what = f"header line {bad_header!r}" if bad_header else "a header block"
            return Frame(
                error=f"Received {what} without a Content-Length header; skipped to the next frame."
            )
        if len(length_text) > _MAX_LENGTH_DIGITS or int(length_text) > self.max_bytes:
            self._resync = True
            shown = length_text.decode("ascii")
            if len(shown) > 24:
                shown = shown[:21] + "..."
            return Frame(
                error=(
                    f"Message of {shown} bytes exceeds the limit of {self.max_bytes} bytes; "
                    "it was skipped. Send smaller messages (attach files by resource_link), or "
                    "raise the limit with PYGENT_MAX_MESSAGE_BYTES."
                )
            )
        length = int(length_text)
        body = self._stream.read(length)
        if body is None or len(body) < length:
            return None
        return Frame(body=body)


def open_reader(fd: int) -> io.BufferedReader:
    """A buffered binary stream over ``fd`` that does not close it."""
    stream: io.BufferedReader = io.open(fd, "rb", buffering=65536, closefd=False)  # type: ignore[assignment]  # noqa: UP020, SIM115
    return stream
