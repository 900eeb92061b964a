"""The workspace: roots every path must stay inside, and the buffer overlay of open documents.

One place owns path confinement: :meth:`Workspace.resolve`. Every tool calls it.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pygent.tools.errors import ToolError


@dataclass
class OpenDocument:
    """A document an editor has open, with its unsaved text and LSP version."""

    text: str
    version: int | None


class Workspace:
    """One or more workspace roots plus the overlay of editor buffers.

    Args:
        roots: Workspace root directories; the first is the default for relative paths.
    """

    def __init__(self, roots: Sequence[str | Path]) -> None:
        if not roots:
            raise ValueError("a workspace needs at least one root")
        self.roots: list[Path] = [Path(r).expanduser().resolve() for r in roots]
        self._overlay: dict[Path, OpenDocument] = {}

    @property
    def root(self) -> Path:
        """The primary root (relative paths are resolved against it)."""
        return self.roots[0]

    def contains(self, path: Path) -> bool:
        """True when the already-resolved ``path`` lies inside one of the roots."""
        if sys.platform == "win32":  # case-insensitive file system, mixed separators
            norm = os.path.normcase(str(path))
            for root in self.roots:
                base = os.path.normcase(str(root))
                if norm == base or norm.startswith(base.rstrip("\\") + "\\"):
                    return True
            return False
        return any(path == root or path.is_relative_to(root) for root in self.roots)

    def resolve(
        self,
        path: str | Path,
        *,
        must_exist: bool = False,
        kind: Literal["file", "dir", "any"] = "any",
    ) -> Path:
        """Resolve ``path`` (relative to the root, or absolute) and check it stays inside.

        Symlinks are followed, so a link pointing outside is refused. Device files, FIFOs and
        sockets are refused.

        Args:
            path: What the model or user gave.
            must_exist: Refuse a missing path.
            kind: ``"file"``, ``"dir"`` or ``"any"``: what an existing path must be.

        Raises:
            ToolError: with a message the model can act on.
        """
        raw = str(path).strip()
        if not raw:
            raise ToolError("The path is empty. Give a path relative to the workspace root.")
        if "\x00" in raw:
            raise ToolError("The path contains a NUL byte.")
        candidate = Path(os.path.expanduser(raw))
        if not candidate.is_absolute():
            candidate = self.root / candidate
        try:
            resolved = candidate.resolve(strict=False)
        except RuntimeError:  # symlink loops (Python < 3.13 raises)
            raise ToolError(
                f"Cannot resolve {raw!r}: it is a symbolic link loop. Use a path that is not a loop."
            ) from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ToolError(
                    f"Cannot resolve {raw!r}: it is a symbolic link loop. Use a path that is not a loop."
                ) from None
            raise ToolError(f"Cannot resolve {raw!r}: {exc.strerror or exc}.") from None
        if resolved.is_symlink():  # Python >= 3.13 returns an unresolvable loop unchanged
            raise ToolError(
                f"Cannot resolve {raw!r}: it is a symbolic link loop. Use a path that is not a loop."
            )
        if not self.contains(resolved):
            roots = ", ".join(str(r) for r in self.roots)
            raise ToolError(
                f"{raw!r} resolves to {resolved}, which is outside the workspace ({roots}). "
                "Only paths inside the workspace can be used."
            )
        try:
            mode: int | None = resolved.stat().st_mode
        except FileNotFoundError:
            mode = None
        except OSError as exc:
            raise ToolError(f"Cannot access {self.display(resolved)}: {exc.strerror}.") from None
        if mode is not None:
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise ToolError(
                    f"{self.display(resolved)} is not a regular file or directory (device, FIFO or socket)."
                )
            if kind == "file" and stat.S_ISDIR(mode):
                raise ToolError(f"{self.display(resolved)} is a directory, not a file.")
            if kind == "dir" and not stat.S_ISDIR(mode):
                raise ToolError(f"{self.display(resolved)} is a file, not a directory.")
        elif must_exist and resolved not in self._overlay:
            raise ToolError(f"{self.display(resolved)} does not exist.")
        return resolved

    def display(self, path: Path) -> str:
        """``path`` relative to its root (posix separators), for messages and titles."""
        for root in self.roots:
            if path == root:
                return "."
            if path.is_relative_to(root):
                return path.relative_to(root).as_posix()
        return str(path)

    # -- buffer overlay -------------------------------------------------------------------

    @staticmethod
    def _key(path: Path) -> Path:
        # Overlay keys are resolved paths, the same form :meth:`resolve` returns.
        try:
            return Path(path).resolve(strict=False)
        except (OSError, RuntimeError):
            return Path(path)

    def open_document(self, path: Path, text: str, version: int | None) -> None:
        """Record an editor buffer (LSP ``didOpen``)."""
        self._overlay[self._key(path)] = OpenDocument(text, version)

    def change_document(self, path: Path, text: str, version: int | None) -> None:
        """Replace a buffer's text (LSP ``didChange``, already applied to full text)."""
        self._overlay[self._key(path)] = OpenDocument(text, version)

    def close_document(self, path: Path) -> None:
        """Forget a buffer (LSP ``didClose``): reads go to disk again."""
        self._overlay.pop(self._key(path), None)

    def document(self, path: Path) -> OpenDocument | None:
        """The open buffer for ``path``, if any."""
        doc = self._overlay.get(path)
        return doc if doc is not None else self._overlay.get(self._key(path))

    def read_text(self, path: Path) -> tuple[str, int | None]:
        """The text tools should see (buffer if open, else disk decoded as UTF-8) and its version.

        Raises:
            ToolError: missing file or undecodable content (binary files are refused by callers).
        """
        doc = self.document(path)
        if doc is not None:
            return doc.text, doc.version
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ToolError(f"{self.display(path)} does not exist.") from None
        except IsADirectoryError:
            raise ToolError(f"{self.display(path)} is a directory, not a file.") from None
        except PermissionError:
            raise ToolError(f"{self.display(path)} is not readable (permission denied).") from None
        except OSError as exc:
            raise ToolError(f"Cannot read {self.display(path)}: {exc.strerror or exc}.") from None
        return data.decode("utf-8", errors="replace"), None
