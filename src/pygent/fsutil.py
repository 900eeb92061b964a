"""Filesystem helpers shared by settings, edits and sessions: atomic writes that never lose data."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same directory, fsync, rename).

    The existing file's permission bits are kept unless ``mode`` is given; a crash mid-write leaves
    the old file intact. Parent directories are created.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    keep_mode: int | None = mode
    if keep_mode is None:
        try:
            keep_mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            keep_mode = None
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if keep_mode is not None:
            with contextlib.suppress(OSError):  # chmod is partial on Windows
                os.chmod(tmp, keep_mode)
        else:
            # mkstemp creates 0600; give new files the usual umask-derived mode.
            umask = os.umask(0)
            os.umask(umask)
            with contextlib.suppress(OSError):
                os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write_text(
    path: Path, text: str, *, mode: int | None = None, encoding: str = "utf-8"
) -> None:
    """Write ``text`` atomically; newlines are written exactly as given (no translation)."""
    atomic_write_bytes(path, text.encode(encoding), mode=mode)
