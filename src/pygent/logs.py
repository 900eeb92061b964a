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
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pygent.settings.models import Settings

__all__ = [
    "LOG_FORMAT",
    "REDACTED",
    "add_secret",
    "log_path",
    "redact",
    "setup_logging",
    "shutdown_logging",
]

REDACTED = "[REDACTED]"
LOG_FORMAT = "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <8} | {name}:{function}:{line} | {message}"
ROTATION = "10 MB"
RETENTION = "7 days"
COMPRESSION = "gz"

# Provider key formats. Longest/most specific first; each is replaced whole.
_KEY_PATTERNS: tuple[str, ...] = (
    r"sk-ant-[A-Za-z0-9_\-]{8,}",  # Anthropic
    r"sk-or-v1-[A-Za-z0-9]{8,}",  # OpenRouter
    r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{8,}",  # OpenAI, DeepSeek, and sk- style keys
    r"AIza[0-9A-Za-z_\-]{20,}",  # Google / Gemini
    r"gsk_[A-Za-z0-9]{16,}",  # Groq
    r"xai-[A-Za-z0-9]{16,}",  # xAI
    r"hf_[A-Za-z0-9]{16,}",  # Hugging Face
    r"r8_[A-Za-z0-9]{16,}",  # Replicate
    r"pplx-[A-Za-z0-9]{16,}",  # Perplexity
    r"fw_[A-Za-z0-9]{16,}",  # Fireworks
    r"csk-[A-Za-z0-9]{16,}",  # Cerebras
    r"nvapi-[A-Za-z0-9_\-]{16,}",  # NVIDIA
    r"gh[pousr]_[A-Za-z0-9]{20,}",  # GitHub tokens
    r"github_pat_[A-Za-z0-9_]{20,}",
    r"glpat-[A-Za-z0-9_\-]{16,}",  # GitLab
    r"(?:AKIA|ASIA)[0-9A-Z]{16}",  # AWS access key id
    r"xox[abprs]-[A-Za-z0-9\-]{10,}",  # Slack
    r"eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}",  # JWT
)
_KEYS = re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(_KEY_PATTERNS) + ")")

# "Authorization: Bearer xyz", "'authorization': 'Basic xyz'", "x-api-key: xyz", ...
_HEADERS = re.compile(
    r"""(?ix)
    (["']?(?:proxy-)?authorization["']?\s*[:=]\s*["']?)
    ((?:bearer|basic|token)\s+)?
    ([^"'\s,}\]]+)
    """
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)([A-Za-z0-9._~+/=\-]{8,})")

# api_key=xyz, "api_key": "xyz", x-api-key: xyz, access_token=..., password=..., secret: ...
_PAIRS = re.compile(
    r"""(?ix)
    (?<![A-Za-z0-9])
    (["']?(?:[a-z0-9]+[_-])?(?:api[_-]?key|apikey|x-api-key|x-goog-api-key|access[_-]?token|
        auth[_-]?token|api[_-]?token|secret[_-]?key|client[_-]?secret|secret|password|passwd)
     ["']?\s*[:=]\s*(?:SecretStr\()?["']?)
    ([^"'\s,&)}\]]+)
    """
)

# https://user:password@host and ?key=... / &token=... query parameters
_URL_CREDENTIALS = re.compile(r"(?<=://)([^/\s:@]+):([^/\s@]+)@")
_QUERY_KEYS = re.compile(r"(?i)([?&](?:key|token|access_token|api_key|apikey|sig)=)([^&#\s\"']+)")

_extra_secrets: set[str] = set()
_lock = threading.Lock()
_handler_id: int | None = None


def add_secret(value: str | None) -> None:
    """Redact this exact value everywhere from now on (e.g. the configured key, any format)."""
    if value and len(value) >= 6:
        with _lock:
            _extra_secrets.add(value)


def redact(text: str) -> str:
    """``text`` with API keys, Authorization headers and ``api_key=``-style pairs replaced."""
    if not text:
        return text
    for secret in sorted(_extra_secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _HEADERS.sub(
        lambda m: (
            m.group(1) + (m.group(2) or "") + REDACTED if m.group(3) != REDACTED else m.group(0)
        ),
        text,
    )
    text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}:{REDACTED}@", text)
    text = _QUERY_KEYS.sub(lambda m: m.group(1) + REDACTED, text)
    text = _PAIRS.sub(
        lambda m: (
            m.group(1) + REDACTED
            if not m.group(2).startswith(("[REDACTED", "***", "*****"))
            else m.group(0)
        ),
        text,
    )
    return _KEYS.sub(REDACTED, text)


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


def shutdown_logging() -> None:
    """Flush and close the file handler (waits for the background writer)."""
    global _handler_id
    if _handler_id is None:
        return
    from loguru import logger

    with contextlib.suppress(ValueError):
        logger.remove(_handler_id)
    _handler_id = None
