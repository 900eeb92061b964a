"""Chunk coalescing: at most ~60 message-chunk notifications per second per session, no text lost.

Consecutive ``agent_message_chunk`` (or ``agent_thought_chunk``) texts are joined while a frame
interval has not passed. Any other update first flushes the pending text, so the order the agent
produced is the order the client sees.

Two paths send pending text, so a stream neither stalls nor floods:

* ``push()`` itself flushes once the interval has passed since the last notification. A fast
  model stream may hand over thousands of chunks without the event loop ever running a timer
  (each ``await`` on an already-buffered socket returns at once), so a timer alone would hold the
  text back until the backlog was drained: the client saw a frozen answer, then a jump.
* A ``call_later`` timer sends the tail when the stream pauses (no further ``push()`` comes).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

CHUNK_KINDS = frozenset({"agent_message_chunk", "agent_thought_chunk"})

DEFAULT_INTERVAL = 1.0 / 60.0


def _chunk_text(update: dict[str, Any]) -> str | None:
    """The text of a plain text chunk update, or None when it cannot be merged."""
    if update.get("sessionUpdate") not in CHUNK_KINDS or len(update) != 2:
        return None
    content = update.get("content")
    if not isinstance(content, dict) or content.get("type") != "text" or len(content) != 2:
        return None
    text = content.get("text")
    return text if isinstance(text, str) else None


class ChunkCoalescer:
    """Batches text chunks for one session.

    Args:
        send: Delivers one update (called on the event loop thread).
        interval: Minimum seconds between two chunk notifications.
        clock: Monotonic seconds (injectable so tests can simulate time).
    """

    def __init__(
        self,
        send: Callable[[dict[str, Any]], None],
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self._interval = interval
        self._clock = clock
        self._kind: str | None = None
        self._parts: list[str] = []
        self._last_sent: float | None = None
        self._timer: asyncio.TimerHandle | None = None

    @property
    def interval(self) -> float:
        """Minimum seconds between two chunk notifications."""
        return self._interval

    def push(self, update: dict[str, Any]) -> None:
        """Accept one update from the agent."""
        text = _chunk_text(update)
        if text is None:
            self.flush()
            self._send(update)
            return
        kind = update["sessionUpdate"]
        if self._kind is not None and self._kind != kind:
            self.flush()
        self._kind = kind
        self._parts.append(text)
        now = self._clock()
        if self._last_sent is None or now - self._last_sent >= self._interval:
            self.flush()  # the interval has passed: send now, whether or not a timer is pending
            return
        if self._timer is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._timer = loop.call_later(self._interval - (now - self._last_sent), self.flush)

    def flush(self) -> None:
        """Send the pending text now (no-op when there is none)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._parts or self._kind is None:
            return
        text = "".join(self._parts)
        kind = self._kind
        self._parts = []
        self._kind = None
        self._last_sent = self._clock()
        self._send({"sessionUpdate": kind, "content": {"type": "text", "text": text}})
