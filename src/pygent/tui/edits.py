"""Review support: an LSP ``WorkspaceEdit`` from the server back into a change set, diffs, apply.

The server sends every proposed edit as ``workspace/applyEdit``; the TUI shows its diff and, when
accepted, applies it to disk atomically with :func:`pygent.edits.apply.apply_change_set` (all or
nothing; create, rename and delete included).
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
    "change_set_from_workspace_edit",
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


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise EditError(f"cannot read {path}: {exc}") from None


class _Builder:
    """Replays document changes on a virtual view of the files, producing a change set."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.texts: dict[Path, str | None] = {}
        self.changes: list[Change] = []

    def text(self, path: Path) -> str | None:
        if path not in self.texts:
            self.texts[path] = _read(path)
        return self.texts[path]

    def _last_index(self, path: Path) -> int | None:
        for index in range(len(self.changes) - 1, -1, -1):
            change = self.changes[index]
            if isinstance(change, (TextChange, CreateFile)) and change.path == path:
                return index
            if isinstance(change, RenameFile) and path in (change.source, change.destination):
                return None
            if isinstance(change, DeleteFile) and change.path == path:
                return None
        return None

    def text_edit(self, uri: Any, edits: Any) -> None:
        from pygent.edits.lsp import apply_lsp_text_edits

        path = uri_to_path(uri)
        if not isinstance(edits, list):
            raise EditError(f"the edit of {path} has no list of text edits")
        old = self.text(path)
        base = old if old is not None else ""
        try:
            new = apply_lsp_text_edits(base, edits, self.encoding)
        except (KeyError, TypeError, ValueError) as exc:
            raise EditError(f"the edit of {path} is malformed: {exc}") from None
        index = self._last_index(path)
        previous = self.changes[index] if index is not None else None
        if isinstance(previous, CreateFile):
            assert index is not None
            self.changes[index] = CreateFile(path, new, previous.overwrite)
        elif isinstance(previous, TextChange):
            assert index is not None
            self.changes[index] = TextChange(path, previous.old_text, new)
        elif old is None:
            raise EditError(f"{path} does not exist, so it cannot be edited")
        else:
            self.changes.append(TextChange(path, old, new))
        self.texts[path] = new

    def resource(self, op: Mapping[str, Any]) -> None:
        kind = op.get("kind")
        options = op.get("options") or {}
        if kind == "create":
            path = uri_to_path(op.get("uri"))
            if self.text(path) is not None and options.get("ignoreIfExists"):
                return
            self.changes.append(CreateFile(path, "", bool(options.get("overwrite"))))
            self.texts[path] = ""
        elif kind == "rename":
            source = uri_to_path(op.get("oldUri"))
            destination = uri_to_path(op.get("newUri"))
            self.changes.append(RenameFile(source, destination, bool(options.get("overwrite"))))
            self.texts[destination] = self.text(source)
            self.texts[source] = None
        elif kind == "delete":
            path = uri_to_path(op.get("uri"))
            old = self.text(path)
            if old is None and options.get("ignoreIfNotExists"):
                return
            self.changes.append(DeleteFile(path, old))
            self.texts[path] = None
        else:
            raise EditError(f"unknown resource operation {kind!r}")


def change_set_from_workspace_edit(
    params: Mapping[str, Any], encoding: str = "utf-16"
) -> ChangeSet:
    """The :class:`ChangeSet` for ``workspace/applyEdit`` params (``{label?, edit}``).

    Text edits are applied (in memory) to the files' current text on disk, so the change set's
    ``old_text`` is what the disk holds now and applying it refuses a file changed meanwhile.

    Raises:
        EditError: A malformed edit, or one naming a missing file.
    """
    edit = params.get("edit")
    if not isinstance(edit, Mapping):
        raise EditError("the request has no edit")
    builder = _Builder(encoding)
    document_changes = edit.get("documentChanges")
    if isinstance(document_changes, list):
        for item in document_changes:
            if not isinstance(item, Mapping):
                raise EditError("a document change is not an object")
            if "textDocument" in item:
                doc = item.get("textDocument") or {}
                builder.text_edit(doc.get("uri"), item.get("edits"))
            else:
                builder.resource(item)
    changes = edit.get("changes")
    if isinstance(changes, Mapping):
        for uri, edits in changes.items():
            builder.text_edit(uri, edits)
    label = str(params.get("label") or "")
    description = ""
    annotations = edit.get("changeAnnotations")
    if isinstance(annotations, Mapping):
        for annotation in annotations.values():
            if isinstance(annotation, Mapping):
                label = label or str(annotation.get("label") or "")
                description = str(annotation.get("description") or "")
                break
    return ChangeSet(label or "Edit", builder.changes, description)


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
