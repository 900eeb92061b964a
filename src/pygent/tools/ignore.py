"""Gitignore matching for the file tools (``.gitignore`` at every level, ``.git/info/exclude``).

ripgrep applies the same rules for ``grep`` and ``find_files``; this module serves the tools that
walk directories in Python (``list_directory``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathspec

__all__ = ["ALWAYS_SKIPPED", "GitIgnore"]

ALWAYS_SKIPPED = frozenset({".git", ".hg", ".svn"})
"""Directory names never listed, ignore files or not."""


class GitIgnore:
    """Answers "is this path ignored?" for paths under ``root``.

    Args:
        root: The top directory whose ``.gitignore`` files count (the workspace root).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._specs: dict[Path, pathspec.GitIgnoreSpec | None] = {}

    def _spec(self, directory: Path) -> pathspec.GitIgnoreSpec | None:
        if directory in self._specs:
            return self._specs[directory]
        lines: list[str] = []
        sources = [directory / ".gitignore"]
        if directory == self.root:
            sources.insert(0, directory / ".git" / "info" / "exclude")
        for source in sources:
            try:
                lines += source.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
        spec = None
        if any(line.strip() and not line.lstrip().startswith("#") for line in lines):
            import pathspec

            spec = pathspec.GitIgnoreSpec.from_lines(lines)
        self._specs[directory] = spec
        return spec

    def is_ignored(self, path: Path, *, is_dir: bool) -> bool:
        """True when ``path`` is ignored by a ``.gitignore`` between ``root`` and it.

        Deeper files win over shallower ones and later lines over earlier ones, as in git. Paths
        outside ``root`` are never ignored. ``.git`` (and other VCS directories) always are.
        """
        if path.name in ALWAYS_SKIPPED:
            return True
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            return False
        parts = rel.parts
        # Walk from the deepest directory up: the first file with a matching rule decides.
        for depth in range(len(parts) - 1, -1, -1):
            directory = self.root.joinpath(*parts[:depth])
            spec = self._spec(directory)
            if spec is None:
                continue
            sub = "/".join(parts[depth:]) + ("/" if is_dir else "")
            result = spec.check_file(sub)
            if result.include is not None:
                return bool(result.include)
        return False
