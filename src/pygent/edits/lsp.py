"""Change sets as LSP ``WorkspaceEdit`` JSON (``documentChanges``), and text edits applied back.

:func:`to_workspace_edit` is what the server sends with ``workspace/applyEdit``: one
``TextDocumentEdit`` per changed file with a minimal range (common prefix and suffix trimmed, measured
in the negotiated position encoding), and ``CreateFile`` / ``RenameFile`` / ``DeleteFile`` resource
operations. With ``annotations=True`` every change points at the annotation ``pygent-<tool_call_id>``
(``needsConfirmation: true``) so editors show their refactoring preview.

:func:`apply_lsp_text_edits` is the reverse, used by tests and the TUI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pygent.edits.changes import ChangeSet, CreateFile, DeleteFile, RenameFile, TextChange
from pygent.edits.positions import (
    check_encoding,
    line_starts,
    offset_to_position,
    position_to_offset,
)

__all__ = ["annotation_id", "apply_lsp_text_edits", "minimal_text_edit", "to_workspace_edit"]

_CHUNK = 4096


def annotation_id(change_set: ChangeSet) -> str:
    """The change annotation id of a change set: ``pygent-<tool_call_id>``."""
    return f"pygent-{change_set.tool_call_id or 'edit'}"


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    # Compare big slices first: C-speed equality, then narrow down inside the first differing chunk.
    while i + _CHUNK <= n and a[i : i + _CHUNK] == b[i : i + _CHUNK]:
        i += _CHUNK
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _common_suffix(a: str, b: str, limit: int) -> int:
    n = min(len(a), len(b)) - limit
    i = 0
    la, lb = len(a), len(b)
    while i + _CHUNK <= n and a[la - i - _CHUNK : la - i] == b[lb - i - _CHUNK : lb - i]:
        i += _CHUNK
    while i < n and a[la - i - 1] == b[lb - i - 1]:
        i += 1
    return i


def minimal_text_edit(old: str, new: str, encoding: str = "utf-16") -> dict[str, Any] | None:
    """The smallest single LSP ``TextEdit`` turning ``old`` into ``new`` (None when equal).

    The range never splits a ``\\r\\n`` pair.
    """
    if old == new:
        return None
    prefix = _common_prefix(old, new)
    # Never end the prefix between \r and \n (editors treat \r\n as one line break).
    if prefix > 0 and old[prefix - 1] == "\r" and (prefix < len(old) and old[prefix] == "\n"):
        prefix -= 1
    suffix = _common_suffix(old, new, prefix)
    if (
        suffix
        and old[len(old) - suffix] == "\n"
        and len(old) - suffix > 0
        and old[len(old) - suffix - 1] == "\r"
    ):
        suffix -= 1
    start = offset_to_position(old, prefix, encoding)
    end = offset_to_position(old, len(old) - suffix, encoding)
    return {"range": {"start": start, "end": end}, "newText": new[prefix : len(new) - suffix]}


def _with_annotation(obj: dict[str, Any], ann: str | None) -> dict[str, Any]:
    if ann is not None:
        obj["annotationId"] = ann
    return obj


def _text_document_edit(
    path: Path, version: int | None, edit: dict[str, Any], ann: str | None
) -> dict[str, Any]:
    """An LSP TextDocumentEdit: one (annotated) edit of ``path`` at ``version``."""
    return {
        "textDocument": {"uri": path.as_uri(), "version": version},
        "edits": [_with_annotation(edit, ann)],
    }


def to_workspace_edit(
    change_set: ChangeSet,
    *,
    annotations: bool,
    position_encoding: str = "utf-16",
    versions: Mapping[Path, int | None] | None = None,
) -> dict[str, Any]:
    """The LSP ``WorkspaceEdit`` (as JSON) for ``change_set``.

    Args:
        change_set: What the tool wants to change.
        annotations: The client supports change annotations: reference ``pygent-<tool_call_id>`` from
            every change and describe it in ``changeAnnotations`` with ``needsConfirmation: true``.
        position_encoding: ``utf-16`` (LSP's default), ``utf-8`` or ``utf-32``.
        versions: Document versions known to the caller (e.g. the server's open documents); they win
            over ``TextChange.version``. None means "not open" (the client then checks nothing).

    Returns:
        ``{"documentChanges": [...]}`` plus ``changeAnnotations`` when ``annotations`` is set.
    """
    encoding = check_encoding(position_encoding)
    ann = annotation_id(change_set) if annotations else None
    changes: list[dict[str, Any]] = []
    for change in change_set.changes:
        if isinstance(change, TextChange):
            edit = minimal_text_edit(change.old_text, change.new_text, encoding)
            if edit is None:
                continue
            version = change.version
            if versions is not None and change.path in versions:
                version = versions[change.path]
            changes.append(_text_document_edit(change.path, version, edit, ann))
        elif isinstance(change, CreateFile):
            changes.append(
                _with_annotation(
                    {
                        "kind": "create",
                        "uri": change.path.as_uri(),
                        "options": {"overwrite": change.overwrite, "ignoreIfExists": False},
                    },
                    ann,
                )
            )
            if change.content:
                edit = {
                    "range": {
                        "start": {"line": 0, "character": 0},
                        "end": {"line": 0, "character": 0},
                    },
                    "newText": change.content,
                }
                changes.append(_text_document_edit(change.path, None, edit, ann))
        elif isinstance(change, RenameFile):
            changes.append(
                _with_annotation(
                    {
                        "kind": "rename",
                        "oldUri": change.source.as_uri(),
                        "newUri": change.destination.as_uri(),
                        "options": {"overwrite": change.overwrite, "ignoreIfExists": False},
                    },
                    ann,
                )
            )
        elif isinstance(change, DeleteFile):
            changes.append(
                _with_annotation(
                    {
                        "kind": "delete",
                        "uri": change.path.as_uri(),
                        "options": {"recursive": False, "ignoreIfNotExists": False},
                    },
                    ann,
                )
            )
    result: dict[str, Any] = {"documentChanges": changes}
    if ann is not None:
        result["changeAnnotations"] = {
            ann: {
                "label": change_set.label,
                "needsConfirmation": True,
                "description": change_set.description or f"pygent: {change_set.label}",
            }
        }
    return result


def apply_lsp_text_edits(
    text: str, edits: Sequence[Mapping[str, Any]], encoding: str = "utf-16"
) -> str:
    """Apply LSP ``TextEdit`` s (non-overlapping, ranges against the original ``text``).

    Raises:
        ValueError: when two edits overlap.
    """
    check_encoding(encoding)
    starts = line_starts(text)
    spans: list[tuple[int, int, int, str]] = []
    for index, edit in enumerate(edits):
        rng = edit["range"]
        begin = position_to_offset(text, rng["start"], encoding, starts=starts)
        end = position_to_offset(text, rng["end"], encoding, starts=starts)
        if end < begin:
            raise ValueError(f"text edit {index} has its end before its start")
        spans.append((begin, end, index, str(edit["newText"])))
    spans.sort()
    out: list[str] = []
    cursor = 0
    for begin, end, index, new_text in spans:
        if begin < cursor:
            raise ValueError(f"text edit {index} overlaps another edit")
        out.append(text[cursor:begin])
        out.append(new_text)
        cursor = end
    out.append(text[cursor:])
    return "".join(out)
