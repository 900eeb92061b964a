"""Review support: a proposed edit's files (from ``_meta.pygent.files``), their diffs, applying them.

The server sends every proposed edit as ``workspace/applyEdit`` with each file's whole text before
and after in ``_meta.pygent.files``; the TUI shows the diffs and, when accepted, applies them to
disk atomically with :func:`pygent.edits.apply.apply_change_set` (all or nothing; create, rename
and delete included; a file changed on disk meanwhile is refused).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from pygent.edits.changes import (
    ApplyResult,
    Change,
    ChangeSet,
    CreateFile,
    DeleteFile,
    RenameFile,
    TextChange,
)

__all__ = [
    "EditError",
    "FileDiff",
    "apply_reviewed",
    "change_set_from_meta",
    "file_diffs",
    "uri_to_path",
]


class EditError(Exception):
    """The server's edit cannot be understood or does not match the files on disk."""


def uri_to_path(uri: Any) -> Path:
    """A ``file://`` URI as a path.

    Raises:
        EditError: For another scheme or a malformed value.
    """
    if not isinstance(uri, str) or not uri:
        raise EditError(f"the edit names no file (uri {uri!r})")
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        raise EditError(f"the edit names {uri}, which is not a local file")
    path = unquote(parsed.path)
    if os.name == "nt" and len(path) >= 3 and path[0] == "/" and path[2] == ":":
        path = path[1:]
    if parsed.netloc and parsed.netloc != "localhost":
        path = f"//{parsed.netloc}{path}"
    return Path(path)


def _text(entry: Mapping[str, Any], key: str, index: int) -> str | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, str):
        raise EditError(f"files[{index}].{key} must be text or null")
    return value


def change_set_from_meta(params: Mapping[str, Any]) -> ChangeSet:
    """The :class:`ChangeSet` of a ``workspace/applyEdit`` from its ``_meta.pygent.files``.

    The server sends each file's whole text before and after (``{uri, oldText, newText}``, and
    ``oldUri`` for a rename), so nothing is recomputed from the WorkspaceEdit's ranges. Applying
    the result refuses a file whose text on disk is no longer ``oldText``.

    Raises:
        EditError: The params carry no such list, or an entry is malformed.
    """
    meta = params.get("_meta")
    pygent = meta.get("pygent") if isinstance(meta, Mapping) else None
    files = pygent.get("files") if isinstance(pygent, Mapping) else None
    if not isinstance(files, list) or not files:
        raise EditError(
            "the edit carries no file contents (_meta.pygent.files); the server may be older "
            "than this TUI: reinstall pygent so both match"
        )
    changes: list[Change] = []
    for index, entry in enumerate(files):
        if not isinstance(entry, Mapping):
            raise EditError(f"files[{index}] is not an object")
        path = uri_to_path(entry.get("uri"))
        old = _text(entry, "oldText", index)
        new = _text(entry, "newText", index)
        if entry.get("oldUri") is not None:
            changes.append(RenameFile(uri_to_path(entry.get("oldUri")), path))
        elif old is None and new is None:
            raise EditError(f"files[{index}] ({path}) has neither oldText nor newText")
        elif new is None:
            changes.append(DeleteFile(path, old))
        elif old is None:
            changes.append(CreateFile(path, new))
        else:
            changes.append(TextChange(path, old, new))
    label = str(params.get("label") or "") or "Edit"
    call_id = pygent.get("toolCallId") if isinstance(pygent, Mapping) else None
    return ChangeSet(label, changes, tool_call_id=str(call_id or ""))


@dataclass(frozen=True)
class FileDiff:
    """One file's part of a change set, for display.

    Attributes:
        title: ``path`` or ``old -> new`` for a rename, with ``(new file)`` / ``(deleted)``.
        old: Text before (empty for a new file).
        new: Text after (empty for a deleted file).
    """

    title: str
    old: str
    new: str

    def unified(self) -> str:
        """A unified diff (``---``/``+++`` headers and hunks)."""
        lines = difflib.unified_diff(
            self.old.splitlines(keepends=True),
            self.new.splitlines(keepends=True),
            fromfile="before",
            tofile="after",
        )
        out = [line if line.endswith("\n") else line + "\n" for line in lines]
        return "".join(out)

    def side_by_side(self) -> list[tuple[str, str, str]]:
        """Rows ``(tag, left, right)``: tag is ``=`` same, ``-`` removed, ``+`` added, ``~`` changed."""
        old_lines = self.old.splitlines()
        new_lines = self.new.splitlines()
        rows: list[tuple[str, str, str]] = []
        matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                rows += [
                    ("=", old_lines[i], new_lines[j])
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                ]
            else:
                left = old_lines[i1:i2]
                right = new_lines[j1:j2]
                for k in range(max(len(left), len(right))):
                    a = left[k] if k < len(left) else ""
                    b = right[k] if k < len(right) else ""
                    mark = (
                        "~" if k < len(left) and k < len(right) else ("-" if k < len(left) else "+")
                    )
                    rows.append((mark, a, b))
        return rows


def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return str(path)


def file_diffs(change_set: ChangeSet, root: Path | None = None) -> list[FileDiff]:
    """One :class:`FileDiff` per change (paths shown relative to ``root``)."""
    out: list[FileDiff] = []
    for change in change_set.changes:
        if isinstance(change, TextChange):
            out.append(FileDiff(_display(change.path, root), change.old_text, change.new_text))
        elif isinstance(change, CreateFile):
            out.append(FileDiff(f"{_display(change.path, root)} (new file)", "", change.content))
        elif isinstance(change, RenameFile):
            title = f"{_display(change.source, root)} -> {_display(change.destination, root)}"
            out.append(FileDiff(f"{title} (renamed)", "", ""))
        else:
            out.append(
                FileDiff(f"{_display(change.path, root)} (deleted)", change.old_text or "", "")
            )
    return out


def apply_reviewed(change_set: ChangeSet) -> ApplyResult:
    """Apply an accepted change set to disk (atomic, all or nothing)."""
    from pygent.edits.apply import apply_change_set

    return apply_change_set(change_set)
