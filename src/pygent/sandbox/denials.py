"""Recognising a command that failed because the sandbox denied it, from its output.

The kernel answers a denied write with ``EACCES``/``EPERM`` (``Permission denied``,
``Operation not permitted``; Seatbelt also ``Read-only file system``) and a denied connection
with ``EACCES``. Programs print those with the path they tried, so a failed command's output is
searched for such lines and for paths outside the writable roots. What is found becomes one
line the model and the person read: ``blocked by the sandbox: write to /etc/hosts``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from pygent.sandbox.policy import SandboxPolicy

__all__ = ["SandboxDenial", "find_denial"]

_DENIED = re.compile(
    r"permission denied|operation not permitted|read-only file system|"
    r"invalid cross-device link|\[errno (?:1|13|18|30)\]|\be(?:acces|perm|rofs|xdev)\b",
    re.IGNORECASE,
)
# 'quoted', ‘quoted’, "quoted", `quoted`, or a bare absolute/home/relative path token.
_QUOTED = re.compile(r"'([^'\n]+)'|‘([^’\n]+)’|\"([^\"\n]+)\"|`([^`\n]+)`")
_BARE = re.compile(r"(?:(?<=\s)|(?<=^)|(?<=:))((?:~|\.{1,2})?/[^\s:'\"`,;()]*)")
# "bash: line 1: out.txt: Permission denied": the word right before the error text.
_BEFORE_ERROR = re.compile(
    r"([^\s:'\"`]+): (?:permission denied|operation not permitted|read-only file system)",
    re.IGNORECASE,
)
_NETWORK_HINTS = re.compile(r"connect|socket|bind|network|http|curl|wget", re.IGNORECASE)
_KILL = re.compile(r"\bkill\b|\bsignal\b", re.IGNORECASE)
_MAX_LINES = 4000
_STREAM_PATHS = ("/proc/", "/dev/fd/")


@dataclass(frozen=True)
class SandboxDenial:
    """What the sandbox blocked.

    Attributes:
        kind: ``write``, ``network`` or ``signal``.
        target: The path written to (``write``), or ``""``.
        certain: False when the path was relative and the command may have changed directory
            (``cd / && touch x``): the denial is likely, not proven.
    """

    kind: str
    target: str = ""
    certain: bool = True

    def describe(self) -> str:
        """``blocked by the sandbox: write to /x`` or ``... network connection (network = false)``."""
        if self.kind == "signal":
            return "blocked by the sandbox: signal to a process outside the sandbox"
        if self.kind == "network":
            return "blocked by the sandbox: network connection ([sandbox] network = false)"
        if not self.certain:
            return (
                f"probably blocked by the sandbox: write to {self.target} "
                "(relative to a directory outside the writable roots)"
            )
        return f"blocked by the sandbox: write to {self.target}"


def _candidates(line: str) -> list[str]:
    found = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(line)]
    # "/usr/bin/bash: line 1: /x: Permission denied": the first word is the program speaking.
    speaker = line.split(":", 1)[0] if ":" in line else ""
    found += [m.group(1) for m in _BARE.finditer(line) if m.group(1) != speaker]
    found += [m.group(1) for m in _BEFORE_ERROR.finditer(line) if m.group(1) not in found]
    return [f for f in found if f.strip() and not f.isdigit()]


def _absolute(candidate: str, cwd: Path) -> str:
    if candidate.startswith(_STREAM_PATHS):
        return candidate  # /proc/self/fd/3 means the command's fd, not ours: keep it as named
    path = Path(os.path.expanduser(candidate))
    if not path.is_absolute():
        path = cwd / path
    try:
        return str(path.resolve(strict=False))
    except (OSError, RuntimeError):
        return os.path.abspath(path)


def find_denial(output: str, policy: SandboxPolicy, cwd: Path) -> SandboxDenial | None:
    """The first sandbox denial the output of a failed command shows, or None.

    A ``Permission denied``-like line naming a path outside the writable roots is a denied write;
    a ``kill`` refused without a path is a signal the sandbox scoped out; with ``network`` off,
    such a line without a path (or naming a connection) in output that
    mentions connecting is a denied connection. Paths inside the writable roots are ordinary
    permission problems and are not blamed on the sandbox.

    Args:
        output: The command's merged stdout and stderr.
        policy: The policy the command ran under.
        cwd: The command's working directory (relative paths in messages are relative to it).
    """
    lines = output.splitlines()[-_MAX_LINES:]
    unexplained = False
    likely: str | None = None
    for line in lines:
        if not _DENIED.search(line):
            continue
        paths = _candidates(line)
        absolute = [_absolute(c, cwd) for c in paths]
        outside = [p for p in absolute if p.startswith(_STREAM_PATHS) or not policy.allows_write(p)]
        if outside:
            return SandboxDenial("write", outside[-1])
        if not paths:
            if _KILL.search(line):
                return SandboxDenial("signal")
            unexplained = True
        elif likely is None:
            # Inside the roots but missing: the command probably wrote relative to another
            # directory it changed to.
            missing = [
                raw
                for raw, full in zip(paths, absolute, strict=True)
                if not os.path.isabs(os.path.expanduser(raw)) and not os.path.lexists(full)
            ]
            likely = missing[-1] if missing else None
    if unexplained and not policy.network and _NETWORK_HINTS.search(output):
        return SandboxDenial("network")
    if likely is not None:
        return SandboxDenial("write", likely, certain=False)
    return None
