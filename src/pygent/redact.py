"""Redaction of secrets: the one choke point every error, notice, session record and log line passes.

Two strengths:

* :func:`redact` (errors, notices, log lines, JSON-RPC error responses): known secrets, key-shaped
  tokens, ``Authorization`` headers, ``api_key=``/``password:``-style pairs, URL credentials and
  ``?key=`` query parameters.
* :func:`redact_keys` (session records, which hold code the model reads and edits): only known
  secrets and key-shaped tokens, so a line such as ``password = get_password()`` in a file the
  model read survives intact while a real key in it does not.

Known secrets are every value registered with :func:`add_secret` (the configured key is registered
when it is resolved) and the value of every ``*_API_KEY`` environment variable (read at each call,
so a key set after start-up is covered too). Values shorter than 6 characters are ignored: they
would redact ordinary words.

This module is a leaf (standard library only) so that ``pygent.errors`` can use it.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from typing import Any

__all__ = [
    "REDACTED",
    "add_secret",
    "known_secrets",
    "redact",
    "redact_keys",
    "redact_value",
]

REDACTED = "[REDACTED]"
#: Shorter values are not treated as secrets (they would match ordinary text).
MIN_SECRET_LENGTH = 6

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
_KEYS_SOURCE = r"(?<![A-Za-z0-9])(?:" + "|".join(_KEY_PATTERNS) + ")"

# "Authorization: Bearer xyz", "'authorization': 'Basic xyz'", "x-api-key: xyz", ...
_HEADERS_SOURCE = r"""(?ix)
    (["']?(?:proxy-)?authorization["']?\s*[:=]\s*["']?)
    ((?:bearer|basic|token)\s+)?
    ([^"'\s,}\]]+)
    """
_BEARER_SOURCE = r"(?i)\b(bearer\s+)([A-Za-z0-9._~+/=\-]{8,})"

# api_key=xyz, "api_key": "xyz", x-api-key: xyz, access_token=..., password=..., secret: ...
_PAIRS_SOURCE = r"""(?ix)
    (?<![A-Za-z0-9])
    (["']?(?:[a-z0-9]+[_-])?(?:api[_-]?key|apikey|x-api-key|x-goog-api-key|access[_-]?token|
        auth[_-]?token|api[_-]?token|secret[_-]?key|client[_-]?secret|secret|password|passwd)
     ["']?\s*[:=]\s*(?:SecretStr\()?["']?)
    ([^"'\s,&)}\]]+)
    """

# https://user:password@host and ?key=... / &token=... query parameters
_URL_CREDENTIALS_SOURCE = r"(?<=://)([^/\s:@]+):([^/\s@]+)@"
_QUERY_KEYS_SOURCE = r"(?i)([?&](?:key|token|access_token|api_key|apikey|sig)=)([^&#\s\"']+)"


class _Patterns:
    """The compiled expressions (compiling them costs ~35 ms: done on first use, not at import)."""

    def __init__(self) -> None:
        self.keys = re.compile(_KEYS_SOURCE)
        self.headers = re.compile(_HEADERS_SOURCE)
        self.bearer = re.compile(_BEARER_SOURCE)
        self.pairs = re.compile(_PAIRS_SOURCE)
        self.url_credentials = re.compile(_URL_CREDENTIALS_SOURCE)
        self.query_keys = re.compile(_QUERY_KEYS_SOURCE)


@functools.lru_cache(maxsize=1)
def _patterns() -> _Patterns:
    return _Patterns()


_extra_secrets: set[str] = set()
_lock = threading.Lock()


def add_secret(value: str | None) -> None:
    """Redact this exact value everywhere from now on (e.g. the configured key, any format)."""
    if value and len(value.strip()) >= MIN_SECRET_LENGTH:
        with _lock:
            _extra_secrets.add(value.strip())


def known_secrets() -> list[str]:
    """Registered secrets and ``*_API_KEY`` environment values, longest first."""
    with _lock:
        found = set(_extra_secrets)
    for name, value in os.environ.items():
        if name.upper().endswith("_API_KEY"):
            value = value.strip()
            if len(value) >= MIN_SECRET_LENGTH:
                found.add(value)
    return sorted(found, key=len, reverse=True)


def _replace_known(text: str, secrets: list[str] | None = None) -> str:
    for secret in known_secrets() if secrets is None else secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_keys(text: str, secrets: list[str] | None = None) -> str:
    """``text`` with known secrets and key-shaped tokens (``sk-...``, ``AIza...``) replaced.

    Args:
        text: Any text.
        secrets: The known secrets to use (default: :func:`known_secrets`, read now).
    """
    if not text:
        return text
    return _patterns().keys.sub(REDACTED, _replace_known(text, secrets))


def redact(text: str, secrets: list[str] | None = None) -> str:
    """``text`` with API keys, Authorization headers and ``api_key=``-style pairs replaced.

    Args:
        text: Any text.
        secrets: The known secrets to use (default: :func:`known_secrets`, read now).
    """
    if not text:
        return text
    text = _replace_known(text, secrets)
    p = _patterns()
    text = p.headers.sub(
        lambda m: (
            m.group(1) + (m.group(2) or "") + REDACTED if m.group(3) != REDACTED else m.group(0)
        ),
        text,
    )
    text = p.bearer.sub(lambda m: m.group(1) + REDACTED, text)
    text = p.url_credentials.sub(lambda m: f"{m.group(1)}:{REDACTED}@", text)
    text = p.query_keys.sub(lambda m: m.group(1) + REDACTED, text)
    text = p.pairs.sub(
        lambda m: (
            m.group(1) + REDACTED
            if not m.group(2).startswith(("[REDACTED", "***", "*****"))
            else m.group(0)
        ),
        text,
    )
    return p.keys.sub(REDACTED, text)


def redact_value(value: Any, *, keys_only: bool = False) -> Any:
    """A copy of a JSON-like value with every string (keys of dicts too) redacted.

    Args:
        value: Strings, numbers, lists and dicts, nested.
        keys_only: Use :func:`redact_keys` instead of :func:`redact` (session records).

    Returns:
        The same object when nothing needed redacting (no copy), else a redacted copy.
    """
    scrub = redact_keys if keys_only else redact
    secrets = known_secrets()  # once per value, not once per string

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            new = scrub(item, secrets)
            return item if new == item else new
        if isinstance(item, dict):
            out = {walk(k): walk(v) for k, v in item.items()}
            same = len(out) == len(item) and all(k in item and out[k] is item[k] for k in out)
            return item if same else out
        if isinstance(item, (list, tuple)):
            items = [walk(v) for v in item]
            if all(a is b for a, b in zip(items, item, strict=False)):
                return item
            return tuple(items) if isinstance(item, tuple) else items
        return item

    return walk(value)
