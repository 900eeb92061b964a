"""File logging with loguru, and the redaction of secrets before anything reaches the file.

``setup_logging`` writes ``pygent.log`` in the platform's log directory (rotated at 10 MB, kept
7 days, gzip-compressed, written from a background thread). Loguru's default stderr handler is
removed and nothing is ever logged to stdout. Every line passes :func:`redact` at the sink, so
API keys, ``Authorization`` headers and ``api_key=`` pairs never reach the file.

Tests set ``PYGENT_LOG_DISABLED=1``, which turns ``setup_logging`` into a no-op.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pygent.redact import REDACTED, add_secret, redact

if TYPE_CHECKING:
    from pygent.settings.models import Settings

__all__ = [
    "LOG_FORMAT",
    "REDACTED",
    "add_secret",
    "file_logging_active",
    "log_path",
    "redact",
    "setup_logging",
    "shutdown_logging",
]

LOG_FORMAT = "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <8} | {name}:{function}:{line} | {message}"
ROTATION = "10 MB"
RETENTION = "7 days"
COMPRESSION = "gz"

_handler_id: int | None = None


def log_path(settings: Settings | None = None) -> Path:
    """The log file in use: ``logging.file`` when set, else ``pygent.log`` in the log dir."""
    if settings is not None and settings.logging.file:
        return Path(settings.logging.file).expanduser()
    from pygent.settings.paths import log_file

    return log_file()


def _format(record: dict[str, Any]) -> str:
    """Loguru format function: the whole line (message and traceback) is redacted here."""
    line = (
        f"{record['time']:%Y-%m-%d %H:%M:%S}.{record['time'].microsecond // 1000:03d} | "
        f"{record['level'].name: <8} | {record['name']}:{record['function']}:{record['line']} | "
        f"{record['message']}"
    )
    extra = {k: v for k, v in record["extra"].items() if not k.startswith("_pygent")}
    if extra:
        line += " | " + " ".join(f"{k}={v!r}" for k, v in extra.items())
    exception = record["exception"]
    if exception is not None and exception.type is not None:
        import traceback

        line += "\n" + "".join(
            traceback.format_exception(exception.type, exception.value, exception.traceback)
        ).rstrip("\n")
    record["extra"]["_pygent_line"] = redact(line)
    return "{extra[_pygent_line]}\n"


def _level(settings: Settings | None) -> str:
    env = os.environ.get("PYGENT_LOG_LEVEL", "").strip().upper()
    if env in {"TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        return env
    return settings.logging.level if settings is not None else "INFO"


def setup_logging(settings: Settings | None = None) -> None:
    """Send loguru's output to the log file, redacted; remove the default stderr handler.

    Safe to call more than once (the previous file handler is replaced). A no-op when the
    environment sets ``PYGENT_LOG_DISABLED=1``; with ``logging.enabled = false`` nothing is
    logged at all. A log directory that cannot be created disables file logging silently
    (logging must never stop pygent from working).
    """
    global _handler_id
    if os.environ.get("PYGENT_LOG_DISABLED", "").strip() not in ("", "0"):
        return
    from loguru import logger

    with contextlib.suppress(ValueError):
        logger.remove(0)  # loguru's default stderr handler: stdout/stderr are not for logs
    if _handler_id is not None:
        with contextlib.suppress(ValueError):
            logger.remove(_handler_id)
        _handler_id = None
    if settings is not None:
        if settings.llm.api_key is not None:
            add_secret(settings.llm.api_key.get_secret_value())
        from pygent.settings.loader import resolve_api_key

        add_secret(resolve_api_key(settings))
        if not settings.logging.enabled:
            return
    path = log_path(settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _handler_id = logger.add(
            str(path),
            level=_level(settings),
            format=_format,  # type: ignore[arg-type]
            rotation=ROTATION,
            retention=RETENTION,
            compression=COMPRESSION,
            enqueue=True,
            encoding="utf-8",
            backtrace=False,
            diagnose=False,  # diagnose would print local variables, keys included
            catch=True,
        )
    except (OSError, ValueError):
        _handler_id = None


def file_logging_active() -> bool:
    """True while log lines reach a file (False when logging is off or the file failed)."""
    return _handler_id is not None


def shutdown_logging() -> None:
    """Flush and close the file handler (waits for the background writer)."""
    global _handler_id
    if _handler_id is None:
        return
    from loguru import logger

    with contextlib.suppress(ValueError):
        logger.remove(_handler_id)
    _handler_id = None
