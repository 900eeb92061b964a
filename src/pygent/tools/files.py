"""File tools: read, list, create, edit, delete, move, copy.

Every path goes through :meth:`Workspace.resolve` (confinement) and reads see the editor's unsaved
buffer when one is open. Tools that change files never write: they build a
:class:`~pygent.edits.changes.ChangeSet` and hand it to ``ctx.apply_edit`` (the frontend reviews and
applies it, or the headless port applies it to disk); the result tells the model whether it was
applied or rejected and why.
"""

from __future__ import annotations

import asyncio
import difflib
import heapq
import mimetypes
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from pygent.edits.changes import (
    ApplyResult,
    ChangeSet,
    CreateFile,
    DeleteFile,
    RenameFile,
    TextChange,
)
from pygent.tools.base import ToolContext, ToolOutput, ToolRisk, tool
from pygent.tools.errors import ToolError
from pygent.tools.ignore import GitIgnore

__all__ = [
    "copy_file",
    "create_file",
    "delete_file",
    "edit_file",
    "list_directory",
    "move_file",
    "read_file",
]

MAX_LINE_CHARS = 2000
"""Longer lines are cut in ``read_file`` output (with a note)."""
MAX_LINE_BYTES = 256 * 1024
"""Lines longer than this are not read whole by ``read_file`` (a prefix is shown)."""
MAX_LIST_ENTRIES = 1000
#: Bytes after a read_file window that are still counted for an exact total; past this the total
#: is estimated, so the first page of a huge file costs the same as of a small one.
COUNT_REST_BYTES = 1 << 20
"""``list_directory`` stops after this many entries (with a note)."""
MAX_LIST_DEPTH = 10
EDIT_MAX_BYTES = 64 * 1024 * 1024
"""Files larger than this are not edited as text."""
SNIFF_BYTES = 8192
DELETE_DIFF_MAX_BYTES = 1024 * 1024
"""Deleted files up to this size carry their text, so the review shows what goes away."""

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x7fELF", "ELF executable"),
    (b"MZ", "Windows executable"),
    (b"\x1f\x8b", "gzip archive"),
    (b"BZh", "bzip2 archive"),
    (b"\xfd7zXZ\x00", "xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"\xca\xfe\xba\xbe", "Java class / Mach-O file"),
    (b"\xcf\xfa\xed\xfe", "Mach-O executable"),
    (b"\x00asm", "WebAssembly module"),
    (b"\xff\xfe", "UTF-16 (LE) text"),
    (b"\xfe\xff", "UTF-16 (BE) text"),
)


# -- helpers --------------------------------------------------------------------------------


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover


def _detect_type(path: Path, head: bytes) -> str:
    for magic, name in _SIGNATURES:
        if head.startswith(magic):
            return name
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "binary data"


def _is_binary(head: bytes) -> bool:
    return b"\x00" in head


def _binary_error(ctx: ToolContext, path: Path, head: bytes, action: str) -> ToolError:
    size = _file_size(path)
    return ToolError(
        f"{ctx.workspace.display(path)} is a binary file ({_detect_type(path, head)}, "
        f"{_human_size(size)}); {action}"
    )


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _read_head(ctx: ToolContext, path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(SNIFF_BYTES)
    except FileNotFoundError:
        raise ToolError(f"{ctx.workspace.display(path)} does not exist.") from None
    except IsADirectoryError:
        raise ToolError(f"{ctx.workspace.display(path)} is a directory, not a file.") from None
    except PermissionError:
        raise ToolError(
            f"{ctx.workspace.display(path)} is not readable (permission denied)."
        ) from None


def _resolve_file(ctx: ToolContext, path: str, what: str = "file") -> Path:
    """Resolve an existing file (or open buffer); clear errors for missing paths and directories."""
    resolved = ctx.workspace.resolve(path, must_exist=False)
    if ctx.workspace.document(resolved) is not None:
        return resolved
    if not resolved.exists():
        hint = _missing_hint(ctx, resolved)
        raise ToolError(f"{ctx.workspace.display(resolved)} does not exist.{hint}")
    if resolved.is_dir():
        raise ToolError(
            f"{ctx.workspace.display(resolved)} is a directory, not a {what}. "
            "Use list_directory to see what it contains."
        )
    return ctx.workspace.resolve(resolved, must_exist=True, kind="file")


def _missing_hint(ctx: ToolContext, path: Path) -> str:
    parent = path.parent
    if not parent.is_dir():
        return " Its directory does not exist either; use find_files to locate the file."
    try:
        names = [entry.name for entry in os.scandir(parent)]
    except OSError:
        return ""
    close = difflib.get_close_matches(path.name, names, n=3, cutoff=0.6)
    if close:
        shown = ", ".join(ctx.workspace.display(parent / name) for name in close)
        return f" Did you mean: {shown}?"
    return " Use find_files or list_directory to locate it."


def _load_text(ctx: ToolContext, path: Path, action: str) -> tuple[str, int | None]:
    """The text to edit (buffer if open, else strict UTF-8 from disk) and the buffer's version."""
    doc = ctx.workspace.document(path)
    if doc is not None:
        return doc.text, doc.version
    size = _file_size(path)
    display = ctx.workspace.display(path)
    if size > EDIT_MAX_BYTES:
        raise ToolError(
            f"{display} is {_human_size(size)}, larger than the {_human_size(EDIT_MAX_BYTES)} "
            f"{action} handles. Use the shell tool (e.g. sed) for files this big."
        )
    head = _read_head(ctx, path)
    if _is_binary(head):
        raise _binary_error(ctx, path, head, f"{action} only works on text files.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ToolError(f"Cannot read {display}: {exc.strerror or exc}.") from None
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        raise ToolError(
            f"{display} is not valid UTF-8 (invalid byte at offset {exc.start}); {action} only "
            "changes UTF-8 text, so the file was left untouched. Use the shell tool for other encodings."
        ) from None


def _outcome_text(ctx: ToolContext, result: ApplyResult, done: str) -> ToolOutput:
    if result.applied:
        return ToolOutput(done, raw_output={"applied": True})
    reason = (result.failure_reason or "").strip()
    if ctx.port.reviews_edits:
        text = (
            f"The user rejected this edit: {reason}" if reason else "The user rejected this edit."
        )
        text += " Do not retry the same change; adjust it to their feedback or ask what they want."
    else:
        text = "The edit could not be applied" + (f": {reason}" if reason else ".")
    return ToolOutput(text, raw_output={"applied": False, "reason": reason}, is_error=True)


def _check_parent(ctx: ToolContext, path: Path) -> None:
    """Refuse a destination whose parent chain runs into an existing file."""
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ToolError(
            f"Cannot create {ctx.workspace.display(path)}: {ctx.workspace.display(parent)} is a file, "
            "not a directory."
        )


# -- read_file ------------------------------------------------------------------------------


@dataclass
class _Window:
    lines: list[str]
    first: int
    total: int | None
    more: bool
    non_utf8: bool
    huge_lines: dict[int, int] = field(default_factory=dict)
    """Line number -> size in bytes of lines too long to read whole (only a prefix is kept)."""
    estimate: int | None = None
    """When ``total`` is None (the rest of a big file was not counted): about how many lines."""
    size_bytes: int = 0


def _decode_line(raw: bytes) -> tuple[str, bool]:
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace"), True


def _count_rest(handle: BinaryIO) -> int:
    """Lines left in an open binary file from its current position."""
    count = 0
    last = b""
    while True:
        chunk = handle.read(1 << 20)
        if not chunk:
            break
        count += chunk.count(b"\n")
        last = chunk
    if last and not last.endswith(b"\n"):
        count += 1
    return count


def _skip_lines(handle: BinaryIO, count: int) -> tuple[int, bool]:
    """Move past ``count`` line breaks; returns (breaks skipped, file ended in a partial line)."""
    skipped = 0
    last = b""
    while skipped < count:
        chunk = handle.read(1 << 20)
        if not chunk:
            return skipped, bool(last) and not last.endswith(b"\n")
        last = chunk
        found = chunk.count(b"\n")
        if skipped + found < count:
            skipped += found
            continue
        index = -1
        for _ in range(count - skipped):
            index = chunk.find(b"\n", index + 1)
        handle.seek(index + 1 - len(chunk), os.SEEK_CUR)
        skipped = count
    return skipped, False


def _window_from_disk(path: Path, first: int, limit: int) -> _Window:
    """Lines ``first``..``first+limit-1`` of a file, reading only what it takes.

    The lines after the window are counted only when at most :data:`COUNT_REST_BYTES` remain;
    otherwise ``total`` is None and ``estimate`` is projected from the bytes per line read so
    far, so the cost does not grow with the file.
    """
    lines: list[str] = []
    non_utf8 = False
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        skipped, partial = _skip_lines(handle, first - 1)
        if skipped < first - 1:
            return _Window([], first, skipped + (1 if partial else 0), False, False)
        huge: dict[int, int] = {}
        start = handle.tell()
        for number in range(first, first + limit):
            raw = handle.readline(MAX_LINE_BYTES)
            if not raw:
                break
            if len(raw) == MAX_LINE_BYTES and not raw.endswith(b"\n"):
                # A giant line (minified code, data): keep a prefix, skip the rest unread.
                huge[number] = len(raw) + _skip_rest_of_line(handle)
                raw = _cut_at_char_boundary(raw[: MAX_LINE_CHARS * 4])
            text, bad = _decode_line(raw)
            non_utf8 = non_utf8 or bad
            lines.append(text)
        position = handle.tell()
        remaining = max(0, size - position)
        if len(lines) == limit and remaining > COUNT_REST_BYTES:
            per_line = max(1.0, (position - start) / max(1, len(lines)))
            estimate = first - 1 + len(lines) + max(1, round(remaining / per_line))
            return _Window(lines, first, None, True, non_utf8, huge, estimate, size)
        rest = _count_rest(handle) if len(lines) == limit else 0
    total = first - 1 + len(lines) + rest
    return _Window(lines, first, total, rest > 0, non_utf8, huge, None, size)


def _cut_at_char_boundary(raw: bytes) -> bytes:
    """Drop a UTF-8 sequence cut in half at the end of ``raw``."""
    end = len(raw)
    back = 0
    while back < 3 and end - back > 0 and (raw[end - back - 1] & 0xC0) == 0x80:
        back += 1
    if end - back > 0 and raw[end - back - 1] >= 0xC0:
        return raw[: end - back - 1]
    return raw


def _skip_rest_of_line(handle: BinaryIO) -> int:
    """Advance past the current line's break; returns the bytes skipped (break excluded)."""
    skipped = 0
    while True:
        chunk = handle.read(1 << 16)
        if not chunk:
            return skipped
        index = chunk.find(b"\n")
        if index != -1:
            handle.seek(index + 1 - len(chunk), os.SEEK_CUR)
            return skipped + index
        skipped += len(chunk)


def _window_from_text(text: str, first: int, limit: int) -> _Window:
    all_lines = text.split("\n")
    if all_lines and all_lines[-1] == "":
        all_lines.pop()
    chosen = [
        line[:-1] if line.endswith("\r") else line
        for line in all_lines[first - 1 : first - 1 + limit]
    ]
    return _Window(chosen, first, len(all_lines), first - 1 + limit < len(all_lines), False)


def _format_window(window: _Window) -> tuple[str, int]:
    out: list[str] = []
    truncated = 0
    for number, line in enumerate(window.lines, start=window.first):
        if number in window.huge_lines:
            truncated += 1
            size = _human_size(window.huge_lines[number])
            line = line[:MAX_LINE_CHARS] + f"... [line truncated: {size}]"
        elif len(line) > MAX_LINE_CHARS:
            truncated += 1
            line = line[:MAX_LINE_CHARS] + f"... [line truncated: {len(line)} characters]"
        out.append(f"{number:>6}\t{line}")
    return "\n".join(out), truncated


@tool(
    risk=ToolRisk.READ,
    kind="read",
    title=lambda a: f"Read {a['path']}",
    rule_arg="path",
    path_args=("path",),
)
async def read_file(
    ctx: ToolContext, path: str, offset: int | None = None, limit: int | None = None
) -> ToolOutput:
    """Read a text file, with line numbers (like `cat -n`).

    Returns at most `limit` lines (default 2000) starting at line `offset`; the result says when more
    remains and which offset continues. Binary files are refused; lines longer than 2000 characters
    are cut. Shows the editor's unsaved text when the file is open there.

    Args:
        path: File to read, relative to the workspace root (or absolute inside it).
        offset: 1-based line number to start from (default 1).
        limit: Maximum number of lines to return (default 2000).
    """
    if offset is not None and offset < 0:
        raise ToolError(f"offset must be a line number >= 1, got {offset}.")
    if limit is not None and limit < 1:
        raise ToolError(f"limit must be at least 1, got {limit}.")
    first = max(1, offset or 1)
    count = limit or ctx.settings.tools.read_limit_lines
    resolved = _resolve_file(ctx, path)
    display = ctx.workspace.display(resolved)
    doc = ctx.workspace.document(resolved)
    if doc is not None:
        window = _window_from_text(doc.text, first, count)
        source = "editor buffer"
    else:
        head = _read_head(ctx, resolved)
        if _is_binary(head):
            raise _binary_error(
                ctx,
                resolved,
                head,
                "read_file only shows text. Use the shell tool (e.g. `file`, `xxd | head`) to inspect it.",
            )
        try:
            window = await asyncio.to_thread(_window_from_disk, resolved, first, count)
        except OSError as exc:
            raise ToolError(f"Cannot read {display}: {exc.strerror or exc}.") from None
        source = "disk"
    total = window.total
    if total == 0:
        return ToolOutput(f"{display} is empty.", raw_output={"lines": 0})
    of_total = (
        f"{total}"
        if total is not None
        else (
            f"about {window.estimate:,} ({_human_size(window.size_bytes)}; the rest was not counted)"
        )
    )
    if total is not None and first > total:
        raise ToolError(
            f"offset {first} is past the end of {display}, which has {total} lines. "
            f"Use an offset between 1 and {total}."
        )
    body, truncated = _format_window(window)
    last = first + len(window.lines) - 1
    notes: list[str] = []
    if window.more:
        notes.append(
            f"Showing lines {first}-{last} of {of_total}. More remains: call read_file with "
            f"offset={last + 1} to continue."
        )
    elif first > 1:
        notes.append(f"Showing lines {first}-{last} of {total} (end of file).")
    if window.non_utf8:
        notes.append("The file is not valid UTF-8: undecodable bytes are shown as U+FFFD (\ufffd).")
    if truncated:
        notes.append(f"{truncated} line(s) longer than {MAX_LINE_CHARS} characters were truncated.")
    text = body + ("\n\n[" + " ".join(notes) + "]" if notes else "")
    return ToolOutput(
        text,
        raw_output={
            "path": str(resolved),
            "firstLine": first,
            "lastLine": last,
            "totalLines": total,
            "totalLinesEstimate": window.estimate,
            "more": window.more,
            "source": source,
        },
    )


# -- list_directory ------------------------------------------------------------------------


def _root_of(ctx: ToolContext, path: Path) -> Path:
    for root in ctx.workspace.roots:
        if path == root or path.is_relative_to(root):
            return root
    return ctx.workspace.root


def _entry_key(entry: os.DirEntry[str]) -> tuple[str, str]:
    return (entry.name.lower(), entry.name)


def _sorted_prefix(found: list[os.DirEntry[str]], wanted: int) -> Iterator[os.DirEntry[str]]:
    """``found`` in listing order, sorting only as far as it is read (a partial sort).

    A huge directory of which only ``wanted`` entries can be shown is not sorted whole: the
    smallest ``wanted`` (plus a margin for ignored entries) are picked with a heap, and the full
    sort happens only if the caller reads past them (many entries were ignored).
    """
    head = wanted + 64
    if len(found) <= 4 * head:
        yield from sorted(found, key=_entry_key)
        return
    first = heapq.nsmallest(head, found, key=_entry_key)
    yield from first
    yield from sorted(found, key=_entry_key)[len(first) :]


def _walk(directory: Path, ignore: GitIgnore, depth: int) -> tuple[list[str], int, bool]:
    entries: list[str] = []
    hidden = 0
    capped = False

    def visit(current: Path, prefix: str, level: int) -> None:
        nonlocal hidden, capped
        try:
            with os.scandir(current) as scan:
                found = list(scan)
        except OSError:
            entries.append(f"{prefix}[unreadable]")
            return
        for item in _sorted_prefix(found, MAX_LIST_ENTRIES - len(entries) + 1):
            if capped:
                return
            try:
                is_dir = item.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            entry_path = Path(item.path)
            if ignore.is_ignored(entry_path, is_dir=is_dir):
                hidden += 1
                continue
            if len(entries) >= MAX_LIST_ENTRIES:
                capped = True
                return
            if is_dir:
                entries.append(f"{prefix}{item.name}/")
                if level < depth:
                    visit(entry_path, f"{prefix}{item.name}/", level + 1)
            elif item.is_symlink():
                entries.append(f"{prefix}{item.name}@")
            else:
                entries.append(f"{prefix}{item.name}")

    visit(directory, "", 1)
    return entries, hidden, capped


@tool(
    risk=ToolRisk.READ,
    kind="read",
    title=lambda a: f"List {a.get('path') or '.'}",
    rule_arg="path",
    path_args=("path",),
)
async def list_directory(ctx: ToolContext, path: str = ".", depth: int = 1) -> ToolOutput:
    """List a directory's files and subdirectories (directories end with `/`, symlinks with `@`).

    Entries ignored by `.gitignore` (and `.git` itself) are left out; at most 1000 entries are shown.

    Args:
        path: Directory to list, relative to the workspace root.
        depth: How many levels to descend (1 = only the directory's own entries, at most 10).
    """
    if depth < 1 or depth > MAX_LIST_DEPTH:
        raise ToolError(f"depth must be between 1 and {MAX_LIST_DEPTH}, got {depth}.")
    resolved = ctx.workspace.resolve(path, must_exist=False)
    display = ctx.workspace.display(resolved)
    if not resolved.exists():
        raise ToolError(f"{display} does not exist.{_missing_hint(ctx, resolved)}")
    if not resolved.is_dir():
        raise ToolError(f"{display} is a file, not a directory. Use read_file to read it.")
    ignore = GitIgnore(_root_of(ctx, resolved))
    entries, hidden, capped = await asyncio.to_thread(_walk, resolved, ignore, depth)
    lines = entries or ["(empty directory)"]
    notes = []
    if capped:
        notes.append(
            f"Listing stopped at {MAX_LIST_ENTRIES} entries; more are not shown. "
            "List a subdirectory or use a smaller depth."
        )
    if hidden:
        notes.append(f"{hidden} entries ignored by .gitignore (or VCS directories) are not shown.")
    header = f"{display}/" if display != "." else "./"
    text = header + "\n" + "\n".join(lines) + ("\n\n[" + " ".join(notes) + "]" if notes else "")
    return ToolOutput(
        text, raw_output={"entries": len(entries), "capped": capped, "ignored": hidden}
    )


# -- create / edit / delete / move / copy ---------------------------------------------------


@tool(
    risk=ToolRisk.WRITE,
    kind="edit",
    title=lambda a: f"Create {a['path']}",
    rule_arg="path",
    path_args=("path",),
    reviewed_edit=True,
)
async def create_file(
    ctx: ToolContext, path: str, content: str, overwrite: bool = False
) -> ToolOutput:
    """Create a new file with the given content (missing parent directories are created).

    Refuses to replace an existing file unless `overwrite` is true; prefer edit_file for changes.

    Args:
        path: File to create, relative to the workspace root.
        content: The complete text of the file.
        overwrite: Replace the file if it already exists.
    """
    resolved = ctx.workspace.resolve(path)
    display = ctx.workspace.display(resolved)
    doc = ctx.workspace.document(resolved)
    exists = resolved.exists() or doc is not None
    if resolved.is_dir():
        raise ToolError(f"{display} is a directory; give a file path inside it.")
    if exists and not overwrite:
        raise ToolError(
            f"{display} already exists. Use edit_file to change it, or call create_file with "
            "overwrite=true to replace it completely."
        )
    _check_parent(ctx, resolved)
    change: TextChange | CreateFile
    if exists:
        try:
            old_text, version = _load_text(ctx, resolved, "create_file")
            change = TextChange(resolved, old_text, content, version)
        except ToolError:
            # Binary or non-UTF-8 old content: replace the file as a whole.
            change = CreateFile(resolved, content, overwrite=True)
    else:
        change = CreateFile(resolved, content)
    verb = "Overwrite" if exists else "Create"
    change_set = ChangeSet(f"{verb} {display}", [change], f"pygent: {verb.lower()} {display}")
    result = await ctx.apply_edit(change_set)
    lines = content.count("\n") + (1 if content and not content.endswith("\n") else 0)
    done = f"{'Overwrote' if exists else 'Created'} {display} ({lines} lines)."
    return _outcome_text(ctx, result, done)


def _snippet(text: str, pos: int, length: int, line: int, around: int = 2, cap: int = 12) -> str:
    """Numbered lines of ``text`` around ``text[pos:pos+length]`` (without splitting all of it)."""
    start = text.rfind("\n", 0, pos) + 1
    first = line
    for _ in range(around):
        if start == 0:
            break
        start = text.rfind("\n", 0, start - 1) + 1
        first -= 1
    end = pos + length
    for _ in range(around + 1):
        nxt = text.find("\n", end)
        if nxt == -1:
            end = len(text)
            break
        end = nxt + 1
    lines = text[start:end].split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    shown = [f"{n:>6}\t{ln.rstrip(chr(13))}" for n, ln in enumerate(lines[:cap], start=first)]
    if len(lines) > cap:
        shown.append(f"   ... ({len(lines) - cap} more lines)")
    return "\n".join(shown)


def _mostly_crlf(text: str) -> bool:
    crlf = text.count("\r\n")
    return crlf > 0 and crlf * 2 >= text.count("\n")


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _occurrence_lines(text: str, needle: str, limit: int = 20) -> list[int]:
    lines: list[int] = []
    pos = text.find(needle)
    line = 1
    last = 0
    while pos != -1 and len(lines) < limit:
        line += text.count("\n", last, pos)
        last = pos
        lines.append(line)
        pos = text.find(needle, pos + max(1, len(needle)))
    return lines


_TOKEN = re.compile(r"\w{3,}|[^\w\s]{2,}")


def _norm(text: str) -> str:
    return " ".join(text.split())


def _candidate_starts(
    lines: list[str], old_lines: list[str], tokens: list[str], span: int, budget: int
) -> list[int]:
    """Window starts aligning a line containing one of ``tokens`` with its line in ``old_lines``."""
    first_line_of: dict[str, int] = {}
    for token in tokens:
        for index, old_line in enumerate(old_lines):
            if token in old_line:
                first_line_of[token] = index
                break
    starts: list[int] = []
    seen: set[int] = set()
    for index, line in enumerate(lines):
        for token in tokens:
            if token in line:
                start = max(0, min(index - first_line_of.get(token, 0), len(lines) - span))
                if start not in seen:
                    seen.add(start)
                    starts.append(start)
                break
        if len(starts) >= budget:
            break
    return starts


def _closest_match(text: str, old: str) -> tuple[int, float, str] | None:
    """(1-based line, similarity, quoted text) of the region of ``text`` most like ``old``."""
    lines = text.split("\n")
    old_lines = old.replace("\r\n", "\n").split("\n")
    while len(old_lines) > 1 and not old_lines[-1].strip():
        old_lines.pop()
    span = max(1, len(old_lines))
    tokens = sorted(set(_TOKEN.findall(old)), key=len, reverse=True)[:3]
    budget = max(50, 20000 // span)
    windows = max(1, len(lines) - span + 1)
    if windows <= budget:
        starts = list(range(windows))
    else:
        starts = _candidate_starts(lines, old_lines, tokens, span, budget)
        if not starts:
            # No token of old_string occurs verbatim (a typo in it?): try their first letters.
            short = sorted({t[:4] for t in tokens if len(t) >= 4}, key=len, reverse=True)
            starts = _candidate_starts(lines, old_lines, short, span, budget)
    target = "\n".join(old_lines)
    target_norm = _norm(target)
    best: tuple[int, float, str] | None = None
    for start in starts:
        window = "\n".join(line.rstrip("\r") for line in lines[start : start + span])
        if target_norm and _norm(window) == target_norm:
            return start + 1, 1.0, window
        matcher = difflib.SequenceMatcher(None, window, target, autojunk=False)
        floor = best[1] if best else 0.0
        if matcher.real_quick_ratio() <= floor or matcher.quick_ratio() <= floor:
            continue
        ratio = matcher.ratio()
        if ratio > floor:
            best = (start + 1, ratio, window)
    if best is None or best[1] < 0.5:
        return None
    return best


def _quote(window: str, first_line: int, max_lines: int = 12) -> str:
    lines = window.split("\n")
    shown = [f"{n:>6}\t{line}" for n, line in enumerate(lines[:max_lines], start=first_line)]
    if len(lines) > max_lines:
        shown.append(f"   ... ({len(lines) - max_lines} more lines)")
    return "\n".join(shown)


def _no_match_error(display: str, text: str, old: str) -> ToolError:
    found = _closest_match(text, old)
    message = f"old_string was not found in {display}."
    if found is None:
        message += " Nothing similar was found either; read the file again and copy the exact text."
    else:
        line, ratio, window = found
        if ratio >= 1.0:
            message += (
                f" The same text with different whitespace or indentation is at line {line}:\n"
                f"{_quote(window, line)}\n"
                "Copy the exact text, including indentation, from read_file output."
            )
        else:
            message += (
                f" The closest match ({ratio:.0%} similar) is at line {line}:\n"
                f"{_quote(window, line)}\n"
                "Read the file again and copy the exact text, including whitespace."
            )
    return ToolError(message)


@tool(
    risk=ToolRisk.WRITE,
    kind="edit",
    title=lambda a: f"Edit {a['path']}",
    rule_arg="path",
    path_args=("path",),
    reviewed_edit=True,
)
async def edit_file(
    ctx: ToolContext, path: str, old_string: str, new_string: str, replace_all: bool = False
) -> ToolOutput:
    """Replace an exact piece of text in a file.

    `old_string` must match the file exactly (whitespace and indentation included) and, unless
    `replace_all` is true, exactly once: include enough surrounding lines to make it unique. Line
    endings are kept (a CRLF file stays CRLF even when the strings use `\\n`).

    Args:
        path: File to edit, relative to the workspace root.
        old_string: The exact text to replace.
        new_string: The text to put in its place (must differ from old_string).
        replace_all: Replace every occurrence instead of requiring exactly one.
    """
    if old_string == new_string:
        raise ToolError("old_string and new_string are identical; there is nothing to change.")
    if old_string == "":
        raise ToolError(
            "old_string is empty. Give the exact text to replace, or use create_file for a new file."
        )
    resolved = _resolve_file(ctx, path)
    display = ctx.workspace.display(resolved)
    text, version = _load_text(ctx, resolved, "edit_file")

    old, new = old_string, new_string
    count = text.count(old)
    if count == 0 and "\r" not in old and "\n" in old and "\r\n" in text:
        crlf_old = old.replace("\n", "\r\n")
        crlf_count = text.count(crlf_old)
        if crlf_count:
            old, new, count = crlf_old, new.replace("\r\n", "\n").replace("\n", "\r\n"), crlf_count
    if count == 0 and "\r\n" in old and "\r\n" not in text:
        lf_old = old.replace("\r\n", "\n")
        lf_count = text.count(lf_old)
        if lf_count:
            old, new, count = lf_old, new.replace("\r\n", "\n"), lf_count
    if count and "\n" not in old and "\r" not in new and "\n" in new and _mostly_crlf(text):
        # A one-line match in a CRLF file: new lines get the file's line ending too.
        new = new.replace("\n", "\r\n")
    if count == 0:
        raise await asyncio.to_thread(_no_match_error, display, text, old_string)
    if count > 1 and not replace_all:
        lines = _occurrence_lines(text, old)
        shown = ", ".join(str(n) for n in lines) + (", ..." if count > len(lines) else "")
        raise ToolError(
            f"old_string occurs {count} times in {display} (lines {shown}). Include more "
            "surrounding lines to make it unique, or set replace_all=true to replace every occurrence."
        )
    first_pos = text.find(old)
    first_line = _line_of(text, first_pos)
    new_text = text.replace(old, new) if replace_all else text.replace(old, new, 1)
    if new_text == text:
        raise ToolError("The edit would not change the file.")
    change_set = ChangeSet(
        f"Edit {display}",
        [TextChange(resolved, text, new_text, version)],
        f"pygent: replace {count if replace_all else 1} occurrence(s) in {display}",
    )
    result = await ctx.apply_edit(change_set)
    replaced = count if replace_all else 1
    where = f"line {first_line}" if replaced == 1 else f"first at line {first_line}"
    done = (
        f"Edited {display}: replaced {replaced} occurrence{'s' if replaced > 1 else ''} ({where})."
    )
    if result.applied:
        done += "\n" + _snippet(new_text, first_pos, len(new), first_line)
    output = _outcome_text(ctx, result, done)
    if output.raw_output is not None:
        output.raw_output["replacements"] = replaced if result.applied else 0
    return output


@tool(
    risk=ToolRisk.WRITE,
    kind="delete",
    title=lambda a: f"Delete {a['path']}",
    rule_arg="path",
    path_args=("path",),
    reviewed_edit=True,
)
async def delete_file(ctx: ToolContext, path: str) -> ToolOutput:
    """Delete a file (not a directory).

    Args:
        path: File to delete, relative to the workspace root.
    """
    resolved = ctx.workspace.resolve(path)
    display = ctx.workspace.display(resolved)
    if resolved.is_dir():
        raise ToolError(
            f"{display} is a directory; delete_file deletes single files. "
            "Use the shell tool to remove a directory."
        )
    if not resolved.exists():
        raise ToolError(f"{display} does not exist.{_missing_hint(ctx, resolved)}")
    resolved = ctx.workspace.resolve(resolved, must_exist=True, kind="file")
    old_text: str | None = None
    doc = ctx.workspace.document(resolved)
    if doc is not None:
        old_text = doc.text
    elif _file_size(resolved) <= DELETE_DIFF_MAX_BYTES:
        head = _read_head(ctx, resolved)
        if not _is_binary(head):
            try:
                old_text = resolved.read_bytes().decode("utf-8")
            except (OSError, UnicodeDecodeError):
                old_text = None
    change_set = ChangeSet(
        f"Delete {display}", [DeleteFile(resolved, old_text)], f"pygent: delete {display}"
    )
    result = await ctx.apply_edit(change_set)
    return _outcome_text(ctx, result, f"Deleted {display}.")


def _destination(ctx: ToolContext, source: Path, destination: str, verb: str) -> Path:
    dest = ctx.workspace.resolve(destination)
    if dest.is_dir():
        dest = ctx.workspace.resolve(dest / source.name)
    display = ctx.workspace.display(dest)
    if dest == source:
        raise ToolError(f"Source and destination are the same file ({display}).")
    if dest.is_dir():
        raise ToolError(f"{display} is a directory; choose a file name for the {verb}.")
    if dest.exists() or ctx.workspace.document(dest) is not None:
        raise ToolError(
            f"{display} already exists; {verb} does not overwrite. Delete it first or choose another name."
        )
    _check_parent(ctx, dest)
    return dest


def _transfer_source(ctx: ToolContext, source: str, directory_refusal: str) -> Path:
    """The existing file a move or copy starts from; a directory is refused with a hint."""
    src = ctx.workspace.resolve(source)
    if src.is_dir():
        raise ToolError(f"{ctx.workspace.display(src)} is a directory; {directory_refusal}")
    return _resolve_file(ctx, source)


async def _apply_transfer(
    ctx: ToolContext, verb: str, done: str, src: Path, dest: Path, change: RenameFile | CreateFile
) -> ToolOutput:
    """Hand a one-change move/copy to the frontend; ``verb``/``done`` word the label and result."""
    shown_src, shown_dest = ctx.workspace.display(src), ctx.workspace.display(dest)
    label = f"{verb} {shown_src} → {shown_dest}"
    result = await ctx.apply_edit(ChangeSet(label, [change], f"pygent: {label}"))
    return _outcome_text(ctx, result, f"{done} {shown_src} to {shown_dest}.")


@tool(
    risk=ToolRisk.WRITE,
    kind="move",
    title=lambda a: f"Move {a['source']} → {a['destination']}",
    rule_arg="source",
    path_args=("source", "destination"),
    reviewed_edit=True,
)
async def move_file(ctx: ToolContext, source: str, destination: str) -> ToolOutput:
    """Move or rename a file. A destination that is an existing directory receives the file.

    Args:
        source: File to move, relative to the workspace root.
        destination: New path (or an existing directory to move it into).
    """
    src = _transfer_source(
        ctx,
        source,
        "move_file moves single files. Use the shell tool (`git mv` or `mv`) to move a directory.",
    )
    dest = _destination(ctx, src, destination, "move_file")
    return await _apply_transfer(ctx, "Move", "Moved", src, dest, RenameFile(src, dest))


@tool(
    risk=ToolRisk.WRITE,
    kind="edit",
    title=lambda a: f"Copy {a['source']} → {a['destination']}",
    rule_arg="destination",
    path_args=("source", "destination"),
    reviewed_edit=True,
)
async def copy_file(ctx: ToolContext, source: str, destination: str) -> ToolOutput:
    """Copy a text file to a new path (binary files are refused: copy them with the shell tool).

    Args:
        source: File to copy, relative to the workspace root.
        destination: Path of the copy (or an existing directory to copy it into).
    """
    src = _transfer_source(
        ctx,
        source,
        "copy_file copies single files. Use the shell tool (`cp -r`) to copy a directory.",
    )
    dest = _destination(ctx, src, destination, "copy_file")
    try:
        content, _version = _load_text(ctx, src, "copy_file")
    except ToolError as exc:
        raise ToolError(f"{exc} Use the shell tool (`cp`) to copy it.") from None
    return await _apply_transfer(ctx, "Copy", "Copied", src, dest, CreateFile(dest, content))
