"""SIGTERM and SIGHUP stop ``pygent serve`` the way end of input does: nothing lost, nothing left.

A service manager, a terminal closing or an editor that shuts its servers down with a signal
rather than ``shutdown``/``exit`` must not lose the reply being written, nor leave the shell
command it was running behind. The handlers here call the server's normal stop: every running
turn is cancelled (its partial reply and the interruption are saved in the session), every
child's process group is stopped, and the process exits with status 0.

SIGINT is not handled here (the server's own dispatch decides what Ctrl+C means). On Windows,
where there is no SIGHUP and SIGTERM cannot come from outside, SIGBREAK (Ctrl+Break, the console
closing) takes the same path; when pygent is killed outright, the kill-on-close job of
:mod:`pygent.tools.parent_death` stops the children.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable
from typing import Any

from loguru import logger

__all__ = ["STOP_SIGNALS", "install"]

#: The signals that stop the server gracefully, by name (those this platform has).
STOP_SIGNALS: tuple[str, ...] = (
    ("SIGBREAK", "SIGTERM") if sys.platform == "win32" else ("SIGTERM", "SIGHUP")
)


def install(loop: asyncio.AbstractEventLoop, stop: Callable[[], None]) -> Callable[[], None]:
    """Run ``stop`` on the loop when a stop signal arrives (once; later ones are logged only).

    Args:
        loop: The running event loop.
        stop: The server's graceful stop (the same as end of input).

    Returns:
        A function that restores the previous handlers.
    """
    stopping = False

    def on_signal(name: str) -> None:
        nonlocal stopping
        if stopping:
            logger.info("{} again while stopping; still waiting for turns to end", name)
            return
        stopping = True
        logger.info("{} received: cancelling turns, stopping children, exiting", name)
        stop()

    restore: list[Callable[[], None]] = []
    for name in STOP_SIGNALS:
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        if sys.platform != "win32":
            try:
                loop.add_signal_handler(sig, on_signal, name)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
                continue
            restore.append(_undo_loop_handler(loop, sig))
            continue
        try:
            previous = signal.signal(
                sig, lambda _s, _f, name=name: loop.call_soon_threadsafe(on_signal, name)
            )
        except (OSError, ValueError):  # not the main thread
            continue
        restore.append(_undo_handler(sig, previous))

    def uninstall() -> None:
        for undo in restore:
            with contextlib.suppress(Exception):
                undo()

    return uninstall


def _undo_loop_handler(loop: asyncio.AbstractEventLoop, sig: int) -> Callable[[], None]:
    def undo() -> None:
        loop.remove_signal_handler(sig)

    return undo


def _undo_handler(sig: int, previous: Any) -> Callable[[], None]:
    def undo() -> None:
        signal.signal(sig, previous)

    return undo
