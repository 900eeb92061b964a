"""The prompt editor: multi-line, Enter sends, Shift+Enter / Ctrl+J new line, Up/Down history, @path."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from textual import events
from textual.widgets import TextArea

from pygent.tui.messages import PromptSubmitted

#: Directories never offered by ``@path`` completion.
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".mypy_cache"}
#: Files listed for completion at most (large trees stay fast).
MAX_FILES = 5000
#: Shown while the editor is empty.
PLACEHOLDER = "Ask pygent… (Enter sends, @file attaches, /help)"
_AT = re.compile(r"(?:^|(?<=\s))@([^\s@]+)")


def workspace_files(root: Path, limit: int = MAX_FILES) -> list[str]:
    """Relative POSIX paths of the files under ``root`` (skipping VCS and cache directories)."""
    out: list[str] = []
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        rel = Path(current).relative_to(root)
        for name in sorted(files):
            out.append((rel / name).as_posix())
            if len(out) >= limit:
                return out
    return out


def attachments(text: str, root: Path) -> list[Path]:
    """The existing files named with ``@path`` in ``text`` (relative to ``root``), in order."""
    found: list[Path] = []
    for match in _AT.finditer(text):
        candidate = (root / match.group(1)).resolve()
        if candidate.is_file() and candidate not in found:
            found.append(candidate)
    return found


def prompt_blocks(text: str, root: Path) -> list[dict[str, Any]]:
    """ACP prompt blocks: the text, then a ``resource_link`` per attached file."""
    blocks: list[dict[str, Any]] = [{"type": "text", "text": text}]
    for path in attachments(text, root):
        try:
            name = path.relative_to(root.resolve()).as_posix()
        except ValueError:
            name = path.name
        blocks.append({"type": "resource_link", "uri": path.as_uri(), "name": name})
    return blocks


class InputBox(TextArea):
    """The prompt editor.

    Args:
        root: Workspace root for ``@path`` completion.
    """

    def __init__(self, root: Path | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("placeholder", PLACEHOLDER)
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)
        self.root = root or Path.cwd()
        self.prompt_history: list[str] = []
        self._history_index: int | None = None
        self._draft = ""
        self._files: list[str] | None = None
        self.last_matches: list[str] = []
        self.builtin_commands: list[str] = []
        """The app's own ``/commands`` (set by the app)."""
        self.slash_commands: list[str] = []
        """Every ``/command`` Tab completes: the app's and the plugins' (set by the app)."""

    def remember(self, text: str) -> None:
        """Add a sent prompt to the history."""
        if text and (not self.prompt_history or self.prompt_history[-1] != text):
            self.prompt_history.append(text)
        self._history_index = None

    async def _on_key(self, event: events.Key) -> None:
        key = event.key
        if key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text.strip()
            if text:
                self.remember(text)
                self.text = ""
                self.post_message(PromptSubmitted(text))
            return
        if key in ("shift+enter", "ctrl+j"):
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        if key == "tab" and self._complete():
            event.stop()
            event.prevent_default()
            return
        if key == "up" and self.cursor_location[0] == 0 and self.prompt_history:
            event.stop()
            event.prevent_default()
            self._history_move(-1)
            return
        if (
            key == "down"
            and self._history_index is not None
            and self.cursor_location[0] == self.document.line_count - 1
        ):
            event.stop()
            event.prevent_default()
            self._history_move(1)
            return
        await super()._on_key(event)

    def _history_move(self, step: int) -> None:
        if self._history_index is None:
            if step > 0:
                return
            self._draft = self.text
            index = len(self.prompt_history) - 1
        else:
            index = self._history_index + step
        if index >= len(self.prompt_history):
            self._history_index = None
            self.text = self._draft
        else:
            self._history_index = max(0, index)
            self.text = self.prompt_history[self._history_index]
        self.move_cursor(self.document.end)

    def _complete_command(self) -> bool:
        """Complete a ``/command`` typed alone at the start; False when there is none."""
        row, col = self.cursor_location
        line = self.document.get_line(row)[:col]
        if row != 0 or not re.fullmatch(r"/\S*", line) or not self.slash_commands:
            return False
        matches = [c for c in self.slash_commands if c.startswith(line)]
        self.last_matches = matches[:20]
        if not matches:
            self.app.notify(f"No command starts with {line}", severity="warning", timeout=3)
            return True
        if len(matches) == 1:
            completion = matches[0] + " "
        else:
            completion = os.path.commonprefix(matches)  # noqa: RUF071 - string prefix wanted
            self.app.notify("  ".join(matches[:12]), title=f"{len(matches)} commands", timeout=4)
        self.replace(completion, (row, 0), (row, col))
        return True

    def _complete(self) -> bool:
        """Complete the ``/command`` or ``@path`` word before the cursor; False when none."""
        if self._complete_command():
            return True
        row, col = self.cursor_location
        line = self.document.get_line(row)[:col]
        match = re.search(r"@([^\s@]*)$", line)
        if match is None:
            return False
        prefix = match.group(1)
        if self._files is None:
            self._files = workspace_files(self.root)
        matches = [f for f in self._files if f.startswith(prefix)]
        if not matches:
            low = prefix.lower()
            matches = [f for f in self._files if low in f.lower()]
        self.last_matches = matches[:20]
        if not matches:
            self.app.notify(f"No file matches @{prefix}", severity="warning", timeout=3)
            return True
        if len(matches) == 1:
            completion = matches[0] + " "
        else:
            completion = os.path.commonprefix(matches)  # noqa: RUF071 - string prefix wanted
            if len(completion) <= len(prefix) and not matches[0].startswith(prefix):
                completion = prefix
            shown = "\n".join(matches[:10]) + ("\n…" if len(matches) > 10 else "")
            self.app.notify(shown, title=f"{len(matches)} files match @{prefix}", timeout=4)
        start = (row, col - len(prefix))
        self.replace(completion, start, (row, col))
        return True
