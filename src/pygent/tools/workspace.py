"""The workspace: roots every path must stay inside, and the buffer overlay of open documents.

One place owns path confinement: :meth:`Workspace.resolve`. Every tool calls it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

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
        return any(path == root or path.is_relative_to(root) for root in self.roots)

    def resolve(
        self,
        path: str | Path,
        *,
        must_exist: bool = False,
        kind: str = "any",
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
        except (OSError, RuntimeError) as exc:  # symlink loops
            raise ToolError(f"Cannot resolve {raw!r}: {exc}.") from exc
        if not self.contains(resolved):
            roots = ", ".join(str(r) for r in self.roots)
            raise ToolError(
                f"{raw!r} resolves to {resolved}, which is outside the workspace ({roots}). "
                "Only paths inside the workspace can be used."
            )
        if must_exist and not resolved.exists() and resolved not in self._overlay:
            raise ToolError(f"{self.display(resolved)} does not exist.")
        if resolved.exists():
            mode = resolved.stat().st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise ToolError(
                    f"{self.display(resolved)} is not a regular file or directory (device, FIFO or socket)."
                )
            if kind == "file" and stat.S_ISDIR(mode):
                raise ToolError(f"{self.display(resolved)} is a directory, not a file.")
            if kind == "dir" and not stat.S_ISDIR(mode):
                raise ToolError(f"{self.display(resolved)} is a file, not a directory.")
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

    def open_document(self, path: Path, text: str, version: int | None) -> None:
        """Record an editor buffer (LSP ``didOpen``)."""
        self._overlay[path] = OpenDocument(text, version)

    def change_document(self, path: Path, text: str, version: int | None) -> None:
        """Replace a buffer's text (LSP ``didChange``, already applied to full text)."""
        self._overlay[path] = OpenDocument(text, version)

    def close_document(self, path: Path) -> None:
        """Forget a buffer (LSP ``didClose``): reads go to disk again."""
        self._overlay.pop(path, None)

    def document(self, path: Path) -> OpenDocument | None:
        """The open buffer for ``path``, if any."""
        return self._overlay.get(path)

    def read_text(self, path: Path) -> tuple[str, int | None]:
        """The text tools should see (buffer if open, else disk decoded as UTF-8) and its version.

        Raises:
            ToolError: missing file or undecodable content (binary files are refused by callers).
        """
        doc = self._overlay.get(path)
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
        return data.decode("utf-8", errors="replace"), None
