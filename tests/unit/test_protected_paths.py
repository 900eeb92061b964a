"""Protected workspace directories, as every file system that could open them spells them."""

from __future__ import annotations

import pytest

from pygent.permissions.protected import is_protected


@pytest.mark.parametrize(
    "path",
    [
        ".git/hooks/pre-commit",
        ".pygent/config.toml",
        "sub/.git/config",
        ".GIT/hooks/pre-commit",  # macOS and Windows file systems ignore case
        ".PyGent/config.toml",
        ".git./hooks/x",  # Windows drops trailing dots and spaces
        ".git . /hooks/x",
        "sub\\.git\\hooks\\x",  # Windows separators
        ".pygent",
    ],
)
def test_every_spelling_of_a_protected_directory_is_protected(path: str) -> None:
    assert is_protected(path)


@pytest.mark.parametrize(
    "path",
    ["src/git/x.py", ".gitignore", ".github/workflows/ci.yml", "a.git/x", "pygent/x", ".", ""],
)
def test_look_alikes_are_not_protected(path: str) -> None:
    assert not is_protected(path)
