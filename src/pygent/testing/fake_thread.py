"""The fake LLM server on its own event loop in a daemon thread, for sync code, fixtures and subprocesses."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from pygent.testing.fake_server import FakeLLM


class FakeLLMThread:
    """The same server on its own event loop in a daemon thread, for sync code and fixtures.

    ``with FakeLLMThread(script) as fake:`` — the attributes and scripting methods of
    :class:`FakeLLM` (``base_url``, ``port``, ``requests``, ``script()``, ``add()``) work from any thread.
    """

    def __init__(self, script: Iterable[dict[str, Any]] | None = None, **options: Any) -> None:
        self.server = FakeLLM(script, **options)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stop = asyncio.Event()

    def start(self) -> None:
        """Start the thread and wait until the server listens."""
        self._thread = threading.Thread(target=self._run, name="fake-llm", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise RuntimeError(f"fake LLM server failed to start: {self._error}")

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        try:
            await self.server.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        await self._stop.wait()
        await self.server.stop()
        current = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def stop(self) -> None:
        """Stop the server and join the thread."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._stop.set)
            thread.join(10)

    def __enter__(self) -> FakeLLMThread:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``."""
        return self.server.base_url

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` (for ``anthropic/`` models)."""
        return self.server.root_url

    @property
    def port(self) -> int:
        """The listening port."""
        return self.server.port

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every chat request body received, in order."""
        return self.server.requests

    @property
    def request_log(self) -> list[dict[str, Any]]:
        """Every HTTP request (method, path, headers)."""
        return self.server.request_log

    @property
    def remaining(self) -> int:
        """Unconsumed list items."""
        return self.server.remaining

    def script(self, items: Iterable[dict[str, Any]]) -> None:
        """Replace the script."""
        self.server.script(items)

    def add(self, *items: dict[str, Any]) -> None:
        """Append items or rules."""
        self.server.add(*items)
