"""Apply a change set to disk: validated first, atomic per file, all or nothing.

Used by the headless port (``pygent run``, tests) and by the server for clients without
``workspace/applyEdit``. Every file is written through :mod:`pygent.fsutil` (temp file + rename,
mode kept); text is written exactly as given (UTF-8, newlines untouched). When a step fails, the
steps already done are rolled back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from pygent.edits.changes import (
    ApplyResult,
    Change,
    ChangeSet,
    CreateFile,
    DeleteFile,
    RenameFile,
    TextChange,
)
from pygent.fsutil import atomic_write_bytes

__all__ = ["ApplyError", "apply_change_set"]


class ApplyError(Exception):
    """A change cannot be applied; the message is the user-facing reason."""


_ABSENT = None


@dataclass
class _Backup:
    path: Path
    data: bytes | None
    mode: int | None


def _read_disk(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ApplyError(f"{path} is a directory, not a file.") from None
    except PermissionError:
        raise ApplyError(f"{path} is not readable (permission denied).") from None
    except OSError as exc:
        raise ApplyError(f"Cannot read {path}: {exc.strerror or exc}.") from None


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ApplyError(f"{path} is not valid UTF-8 text; it cannot be edited as text.") from None


class _State:
    """The virtual disk: what each touched path will hold after the changes validated so far."""

    def __init__(self) -> None:
        self._files: dict[Path, bytes | None] = {}
        self.original: dict[Path, bytes | None] = {}
        """What each touched path held on disk before (reused for rollback backups)."""
        self.encoded: dict[int, bytes] = {}
        """Encoded new content per change index (encoded once, written later)."""

    def get(self, path: Path) -> bytes | None:
        if path not in self._files:
            if path.is_dir():
                raise ApplyError(f"{path} is a directory, not a file.")
            data = _read_disk(path)
            self._files[path] = data
            self.original[path] = data
        return self._files[path]

    def set(self, path: Path, data: bytes | None) -> None:
        self._files[path] = data


def _validate(index: int, change: Change, state: _State) -> None:
    if isinstance(change, TextChange):
        current = state.get(change.path)
        if current is None:
            raise ApplyError(f"{change.path} no longer exists; read it again before editing.")
        # Comparing bytes is cheaper than decoding; decode only to explain a mismatch.
        if current != change.old_text.encode("utf-8", errors="surrogatepass"):
            _decode(change.path, current)
            raise ApplyError(
                f"{change.path} changed on disk since it was read; read it again and redo the edit."
            )
        data = change.new_text.encode("utf-8")
        state.encoded[index] = data
        state.set(change.path, data)
    elif isinstance(change, CreateFile):
        if state.get(change.path) is not None and not change.overwrite:
            raise ApplyError(f"{change.path} already exists.")
        data = change.content.encode("utf-8")
        state.encoded[index] = data
        state.set(change.path, data)
    elif isinstance(change, RenameFile):
        moved = state.get(change.source)
        if moved is None:
            raise ApplyError(f"{change.source} does not exist.")
        if change.source == change.destination:
            raise ApplyError(f"{change.source} is already at that path.")
        if state.get(change.destination) is not None and not change.overwrite:
            raise ApplyError(f"{change.destination} already exists.")
        state.set(change.destination, moved)
        state.set(change.source, _ABSENT)
    elif isinstance(change, DeleteFile):
        existing = state.get(change.path)
        if existing is None:
            raise ApplyError(f"{change.path} does not exist.")
        if (
            change.old_text is not None
            and existing.decode("utf-8", errors="replace") != change.old_text
        ):
            raise ApplyError(
                f"{change.path} changed on disk since it was read; read it again before deleting."
            )
        state.set(change.path, _ABSENT)


def _backup(path: Path, backups: list[_Backup], seen: set[Path], state: _State) -> None:
    if path in seen:
        return
    seen.add(path)
    data = state.original[path] if path in state.original else _read_disk(path)
    mode = None
    if data is not None:
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(path.stat().st_mode)
    backups.append(_Backup(path, data, mode))


def _created_dirs(path: Path) -> list[Path]:
    """Missing parent directories of ``path``, outermost first."""
    missing: list[Path] = []
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    return list(reversed(missing))


def _perform(change: Change, encoded: bytes | None) -> None:
    if isinstance(change, TextChange):
        atomic_write_bytes(
            change.path, encoded if encoded is not None else change.new_text.encode()
        )
    elif isinstance(change, CreateFile):
        atomic_write_bytes(change.path, encoded if encoded is not None else change.content.encode())
    elif isinstance(change, RenameFile):
        change.destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(change.source, change.destination)
        except OSError:
            # Across file systems os.replace fails; copy (with mode) then remove.
            shutil.copy2(change.source, change.destination)
            change.source.unlink()
    elif isinstance(change, DeleteFile):
        change.path.unlink()


def _rollback(backups: list[_Backup], new_dirs: list[Path]) -> None:
    for backup in reversed(backups):
        with contextlib.suppress(OSError):
            if backup.data is None:
                if backup.path.is_file() or backup.path.is_symlink():
                    backup.path.unlink()
            else:
                atomic_write_bytes(backup.path, backup.data, mode=backup.mode)
    for directory in reversed(new_dirs):
        with contextlib.suppress(OSError):
            directory.rmdir()


def apply_change_set(change_set: ChangeSet) -> ApplyResult:
    """Apply every change of ``change_set`` to disk, or none of them.

    Validation comes first: a text change whose file no longer holds ``old_text`` (stale), a create
    over an existing file without ``overwrite``, a move or delete of a missing file are refused
    before anything is written. If writing fails midway, what was written is restored.

    Returns:
        ``ApplyResult(applied=True)``, or ``applied=False`` with the reason.
    """
    state = _State()
    try:
        for index, change in enumerate(change_set.changes):
            _validate(index, change, state)
    except ApplyError as exc:
        return ApplyResult(False, str(exc))

    backups: list[_Backup] = []
    seen: set[Path] = set()
    new_dirs: list[Path] = []
    try:
        for index, change in enumerate(change_set.changes):
            targets = (
                [change.source, change.destination]
                if isinstance(change, RenameFile)
                else [change.path]
            )
            for target in targets:
                _backup(target, backups, seen, state)
                for directory in _created_dirs(target):
                    if directory not in new_dirs:
                        new_dirs.append(directory)
            _perform(change, state.encoded.get(index))
    except (OSError, ApplyError) as exc:
        _rollback(backups, new_dirs)
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        where = f" ({exc.filename})" if isinstance(exc, OSError) and exc.filename else ""
        return ApplyResult(
            False, f"Writing the change failed{where}: {detail}. Nothing was changed."
        )
    return ApplyResult(True)
