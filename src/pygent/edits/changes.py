"""Change sets: what a file-changing tool wants to do, before anybody applied it.

Tools never write files. They build a :class:`ChangeSet` and hand it to the frontend port's
``apply_edit``; the port turns it into an LSP ``WorkspaceEdit`` for an editor to review, or (headless)
applies it to disk atomically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class TextChange:
    """Replace the whole text of an existing file (the LSP form computes minimal ranges).

    Attributes:
        path: Absolute, resolved path inside the workspace.
        old_text: The text the tool saw (buffer overlay or disk), used for diffs and ranges.
        new_text: The text after the change.
        version: The open document's version when the text came from an editor buffer, else None.
    """

    path: Path
    old_text: str
    new_text: str
    version: int | None = None


@dataclass(frozen=True)
class CreateFile:
    """Create a file with ``content`` (``overwrite`` replaces an existing one)."""

    path: Path
    content: str
    overwrite: bool = False


@dataclass(frozen=True)
class RenameFile:
    """Move ``source`` to ``destination`` (files only)."""

    source: Path
    destination: Path
    overwrite: bool = False


@dataclass(frozen=True)
class DeleteFile:
    """Delete a file. ``old_text`` (when it is text) makes the diff shown to the user."""

    path: Path
    old_text: str | None = None


Change = TextChange | CreateFile | RenameFile | DeleteFile


@dataclass
class ChangeSet:
    """One reviewable edit: a label ("Edit src/app.py") and its changes, applied all or nothing.

    Attributes:
        label: Human title, shown in editors' review UI.
        changes: The changes in order.
        description: Why (shown as the change annotation's description).
        tool_call_id: The tool call that proposed it (used for annotation ids).
    """

    label: str
    changes: list[Change] = field(default_factory=list)
    description: str = ""
    tool_call_id: str = ""

    def paths(self) -> list[Path]:
        """Every path the change set touches."""
        out: list[Path] = []
        for change in self.changes:
            if isinstance(change, RenameFile):
                out += [change.source, change.destination]
            else:
                out.append(change.path)
        return out


@dataclass(frozen=True)
class ApplyResult:
    """The answer to an ``apply_edit``: applied, or not with an optional reason.

    ``rejected`` is True when the person turned the edit down (in review or when asked), as
    opposed to a cancelled turn or an editor that could not apply it; the session remembers it.
    """

    applied: bool
    failure_reason: str | None = None
    rejected: bool = False
