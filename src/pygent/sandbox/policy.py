"""The sandbox policy: which directories a confined command may write, and whether it may connect.

A policy is plain data, built once per tool call from the settings (``[sandbox]``) and the
workspace roots, then turned into Landlock rules (:mod:`pygent.sandbox.landlock`) or a Seatbelt
profile (:mod:`pygent.sandbox.seatbelt`). Reading is never restricted; writing is allowed only
beneath :attr:`SandboxPolicy.writable`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

__all__ = ["SANDBOX_MODES", "SandboxMode", "SandboxPolicy", "build_policy", "temp_dirs"]

SandboxMode = Literal["workspace-write", "read-only", "off"]
#: The values of ``[sandbox] mode``.
SANDBOX_MODES: tuple[str, ...] = ("workspace-write", "read-only", "off")


@dataclass(frozen=True)
class SandboxPolicy:
    """What a confined command may do besides reading and executing.

    Attributes:
        mode: ``workspace-write`` or ``read-only`` (``off`` never builds a policy).
        writable: Absolute, resolved directories beneath which writing is allowed (device files
            such as ``/dev/null`` are added by the platform backend, not listed here).
        network: TCP connections and listening sockets are allowed.
    """

    mode: Literal["workspace-write", "read-only"]
    writable: tuple[str, ...]
    network: bool = False

    def with_writable(self, paths: Iterable[str | Path]) -> SandboxPolicy:
        """This policy with ``paths`` (resolved) added to the writable directories."""
        extra = [_canonical(Path(p)) for p in paths]
        return replace(self, writable=_unique([*self.writable, *extra]))

    def with_network(self, network: bool = True) -> SandboxPolicy:
        """This policy with network access set to ``network``."""
        return replace(self, network=network)

    def allows_write(self, path: str | Path) -> bool:
        """True when ``path`` (absolute, or resolved here) lies beneath a writable directory."""
        target = _canonical(Path(path))
        for root in self.writable:
            if target == root or target.startswith(root.rstrip(os.sep) + os.sep):
                return True
        return False


def temp_dirs() -> list[str]:
    """The system temporary directories commands expect to write: ``$TMPDIR`` (via
    :func:`tempfile.gettempdir`) and, on Linux and macOS, ``/tmp``."""
    dirs = [tempfile.gettempdir()]
    if sys.platform != "win32":
        dirs.append("/tmp")
    return dirs


def build_policy(
    mode: str,
    roots: Sequence[str | Path],
    *,
    writable_roots: Sequence[str] = (),
    network: bool = False,
) -> SandboxPolicy | None:
    """The policy for ``mode`` over the workspace ``roots``; None when ``mode`` is ``off``.

    ``workspace-write``: the roots, the system temp directories and ``writable_roots`` are
    writable. ``read-only``: nothing is (only the null device and terminals, which the backends
    always allow). Relative ``writable_roots`` are taken relative to the first root; ``~``
    expands to the home directory.

    Raises:
        ValueError: ``mode`` is not one of :data:`SANDBOX_MODES`.
    """
    if mode not in SANDBOX_MODES:
        raise ValueError(f"unknown sandbox mode {mode!r}; expected one of {SANDBOX_MODES}")
    if mode == "off":
        return None
    if mode == "read-only":
        return SandboxPolicy("read-only", (), network)
    base = Path(roots[0]) if roots else Path.cwd()
    paths: list[str] = [_canonical(Path(r)) for r in roots]
    paths += [_canonical(Path(d)) for d in temp_dirs()]
    for extra in writable_roots:
        candidate = Path(os.path.expanduser(extra))
        paths.append(_canonical(candidate if candidate.is_absolute() else base / candidate))
    return SandboxPolicy("workspace-write", _unique(paths), network)


def _canonical(path: Path) -> str:
    # Symlinks resolved: Landlock and Seatbelt both judge the real path (/tmp is /private/tmp
    # on macOS), so a writable root given through a link must name its target.
    try:
        return str(path.expanduser().resolve(strict=False))
    except (OSError, RuntimeError):
        return os.path.abspath(path)


def _unique(paths: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(paths))
