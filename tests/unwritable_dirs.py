"""Make pygent's own directories unwritable for a test, in ways that work on every OS and as root.

``file`` puts a regular file where pygent's directory should be, so everything below it is a path
under a file: unwritable on Linux, macOS and Windows, even for root. ``chmod`` makes the parent
directory read-only (0o500), the everyday case of a read-only home; it cannot stop root and
does not exist on Windows, so :data:`METHODS` offers it only where it works.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: The ways a test can make a directory unwritable here.
METHODS = ["file"] + (
    ["chmod"] if os.name == "posix" and hasattr(os, "geteuid") and os.geteuid() != 0 else []
)


@contextmanager
def unwritable(directory: Path, method: str) -> Iterator[None]:
    """Make ``directory`` (pygent's own, e.g. ``user_data_dir()``) impossible to write into.

    ``file``: a file named like the directory takes its place. ``chmod``: the directory exists,
    empty and read-only. Undone on exit so pytest can clean up.
    """
    _refuse_outside_the_test_home(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    if method == "file":
        directory.write_text("a file where pygent's directory should be\n", encoding="utf-8")
        yield
        return
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(stat.S_IRUSR | stat.S_IXUSR)  # 0o500
    try:
        yield
    finally:
        directory.chmod(stat.S_IRWXU)


def _refuse_outside_the_test_home(directory: Path) -> None:
    """Never block a real directory: only the isolated test home or a temp dir may be used."""
    resolved = directory.resolve()
    allowed = [Path(os.environ["HOME"]).resolve(), Path(tempfile.gettempdir()).resolve()]
    assert any(resolved.is_relative_to(root) for root in allowed), (
        f"{directory} is outside the test's home and temp directory: refusing to block it"
    )
