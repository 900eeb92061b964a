"""The file tools through the real dispatch, a real workspace in tmp_path and the headless port."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from _tool_testkit import registry_of

from pygent.agent.headless import HeadlessPort
from pygent.edits.changes import ApplyResult, ChangeSet, CreateFile, TextChange
from pygent.settings.models import Settings
from pygent.tools import files
from pygent.tools.base import ToolContext, ToolResult, dispatch
from pygent.tools.workspace import Workspace

REGISTRY = registry_of(
    files.read_file,
    files.list_directory,
    files.create_file,
    files.edit_file,
    files.delete_file,
    files.move_file,
    files.copy_file,
)


class ReviewingPort:
    """A frontend that reviews edits: records change sets and answers with a fixed result."""

    def __init__(self, result: ApplyResult) -> None:
        self.result = result
        self.change_sets: list[ChangeSet] = []
        self.updates: list[dict[str, Any]] = []

    @property
    def reviews_edits(self) -> bool:
        return True

    def emit(self, update: dict[str, Any]) -> None:
        self.updates.append(update)

    async def request_permission(self, request: Any) -> Any:
        return {"outcome": "cancelled"}

    async def apply_edit(self, change_set: ChangeSet) -> ApplyResult:
        self.change_sets.append(change_set)
        return self.result


@pytest.fixture
def port() -> HeadlessPort:
    return HeadlessPort(stderr=None)


@pytest.fixture
def ctx(root: Path, port: HeadlessPort) -> ToolContext:
    return ToolContext(Workspace([root]), Settings(), port, session_id="s1", tool_call_id="call_1")


async def call(ctx: ToolContext, name: str, **args: Any) -> ToolResult:
    return await dispatch(REGISTRY, name, args, ctx)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root with its bytes (to check that nothing changed)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# -- read_file ------------------------------------------------------------------------------


async def test_read_file_numbers_lines_like_cat_n(ctx: ToolContext, root: Path) -> None:
    (root / "a.py").write_text("one\ntwo\nthree\n")
    result = await call(ctx, "read_file", path="a.py")
    assert not result.is_error
    assert result.text == "     1\tone\n     2\ttwo\n     3\tthree"


async def test_read_file_default_limit_says_more_remains_and_next_offset(root: Path) -> None:
    (root / "long.txt").write_text("".join(f"line {i}\n" for i in range(1, 11)))
    settings = Settings.model_validate({"tools": {"read_limit_lines": 4}})
    ctx = ToolContext(Workspace([root]), settings, HeadlessPort(stderr=None), tool_call_id="c")
    result = await call(ctx, "read_file", path="long.txt")
    assert result.text.splitlines()[:4] == [f"{i:>6}\tline {i}" for i in range(1, 5)]
    assert "Showing lines 1-4 of 10" in result.text
    assert "offset=5" in result.text
    page = await call(ctx, "read_file", path="long.txt", offset=9)
    assert page.text.startswith("     9\tline 9\n    10\tline 10")
    assert "end of file" in page.text
    assert "offset=" not in page.text


async def test_read_file_offset_and_limit_window(ctx: ToolContext, root: Path) -> None:
    (root / "f.txt").write_text("".join(f"{i}\n" for i in range(1, 101)))
    result = await call(ctx, "read_file", path="f.txt", offset=50, limit=3)
    assert result.text.splitlines()[:3] == ["    50\t50", "    51\t51", "    52\t52"]
    assert "Showing lines 50-52 of 100" in result.text
    assert "offset=53" in result.text


async def test_read_file_offset_past_end_is_an_error(ctx: ToolContext, root: Path) -> None:
    (root / "f.txt").write_text("a\nb\n")
    result = await call(ctx, "read_file", path="f.txt", offset=10)
    assert result.is_error
    assert "past the end" in result.text and "2 lines" in result.text


async def test_read_file_rejects_bad_limit(ctx: ToolContext, root: Path) -> None:
    (root / "f.txt").write_text("a\n")
    result = await call(ctx, "read_file", path="f.txt", limit=0)
    assert result.is_error and "limit" in result.text


async def test_read_file_empty_file(ctx: ToolContext, root: Path) -> None:
    (root / "empty.txt").write_bytes(b"")
    result = await call(ctx, "read_file", path="empty.txt")
    assert not result.is_error
    assert "empty" in result.text


async def test_read_file_last_line_without_newline_and_crlf(ctx: ToolContext, root: Path) -> None:
    (root / "w.txt").write_bytes(b"a\r\nb\r\nc")
    result = await call(ctx, "read_file", path="w.txt")
    assert result.text == "     1\ta\n     2\tb\n     3\tc"


async def test_read_file_refuses_binary_with_size_and_type(ctx: ToolContext, root: Path) -> None:
    data = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000
    (root / "logo.png").write_bytes(data)
    result = await call(ctx, "read_file", path="logo.png")
    assert result.is_error
    assert "binary" in result.text
    assert "PNG image" in result.text
    assert "2.0 KB" in result.text


async def test_read_file_refuses_unknown_binary_by_nul_bytes(ctx: ToolContext, root: Path) -> None:
    (root / "blob.dat").write_bytes(b"abc\x00def" * 10)
    result = await call(ctx, "read_file", path="blob.dat")
    assert result.is_error
    assert "binary" in result.text and "70 bytes" in result.text


async def test_read_file_non_utf8_is_replaced_and_said(ctx: ToolContext, root: Path) -> None:
    (root / "latin.txt").write_bytes("café\n".encode("latin-1"))
    result = await call(ctx, "read_file", path="latin.txt")
    assert not result.is_error
    assert "caf\ufffd" in result.text
    assert "not valid UTF-8" in result.text


async def test_read_file_truncates_long_lines(ctx: ToolContext, root: Path) -> None:
    (root / "min.js").write_text("x" * 5000 + "\nshort\n")
    result = await call(ctx, "read_file", path="min.js")
    first = result.text.splitlines()[0]
    assert first.startswith("     1\t" + "x" * files.MAX_LINE_CHARS + "...")
    assert "5000 characters" in first
    assert "1 line(s) longer than 2000 characters were truncated" in result.text


async def test_read_file_prefers_open_editor_buffer(ctx: ToolContext, root: Path) -> None:
    path = root / "open.py"
    path.write_text("on disk\n")
    ctx.workspace.open_document(path, "unsaved\nbuffer\n", 3)
    result = await call(ctx, "read_file", path="open.py")
    assert result.text == "     1\tunsaved\n     2\tbuffer"
    assert result.raw_output is not None and result.raw_output["source"] == "editor buffer"


async def test_read_file_pages_a_10mb_file(ctx: ToolContext, root: Path) -> None:
    line = "x" * 49 + "\n"
    count = 10 * 1024 * 1024 // len(line)
    (root / "big.log").write_text(line * count)
    result = await call(ctx, "read_file", path="big.log", offset=count - 10, limit=5)
    assert not result.is_error
    assert result.text.startswith(f"{count - 10:>6}\t" + "x" * 49)
    assert f"of {count}" in result.text
    assert f"offset={count - 5}" in result.text


async def test_read_file_missing_file_suggests_close_names(ctx: ToolContext, root: Path) -> None:
    (root / "config.py").write_text("x\n")
    result = await call(ctx, "read_file", path="confg.py")
    assert result.is_error
    assert "confg.py does not exist" in result.text
    assert "config.py" in result.text


async def test_read_file_directory_is_a_clear_error(ctx: ToolContext, root: Path) -> None:
    (root / "pkg").mkdir()
    result = await call(ctx, "read_file", path="pkg")
    assert result.is_error
    assert "is a directory" in result.text and "list_directory" in result.text


@pytest.mark.parametrize("escape", ["../outside.txt", "sub/../../outside.txt", "link/outside.txt"])
async def test_read_file_refuses_paths_escaping_the_workspace(
    ctx: ToolContext, root: Path, escape: str
) -> None:
    outside = root.parent / "outside.txt"
    outside.write_text("secret\n")
    (root / "sub").mkdir()
    if escape.startswith("link"):
        try:
            (root / "link").symlink_to(root.parent, target_is_directory=True)
        except OSError:
            pytest.skip("symlinks not available")
    result = await call(ctx, "read_file", path=escape)
    assert result.is_error
    assert "outside the workspace" in result.text
    assert "secret" not in result.text


async def test_read_file_refuses_absolute_path_elsewhere(ctx: ToolContext, root: Path) -> None:
    outside = root.parent / "abs.txt"
    outside.write_text("secret\n")
    result = await call(ctx, "read_file", path=str(outside))
    assert result.is_error and "outside the workspace" in result.text


# -- list_directory ---------------------------------------------------------------------------


def make_tree(root: Path) -> None:
    (root / ".gitignore").write_text("build/\n*.log\n!keep.log\n")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref\n")
    (root / "build").mkdir()
    (root / "build" / "out.o").write_text("o")
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "mod.py").write_text("x")
    (root / "src" / "main.py").write_text("x")
    (root / "src" / "pkg" / ".gitignore").write_text("secret.txt\n")
    (root / "src" / "pkg" / "secret.txt").write_text("x")
    (root / "debug.log").write_text("x")
    (root / "keep.log").write_text("x")
    (root / "README.md").write_text("x")


async def test_list_directory_marks_dirs_and_respects_gitignore(
    ctx: ToolContext, root: Path
) -> None:
    make_tree(root)
    result = await call(ctx, "list_directory")
    lines = result.text.splitlines()
    assert lines[0] == "./"
    assert "src/" in lines and "README.md" in lines and "keep.log" in lines
    assert "build/" not in lines and "debug.log" not in lines and ".git/" not in lines
    assert ".gitignore" in lines
    assert "src/main.py" not in lines  # depth 1
    assert "entries ignored by .gitignore" in result.text


async def test_list_directory_depth_and_nested_gitignore(ctx: ToolContext, root: Path) -> None:
    make_tree(root)
    result = await call(ctx, "list_directory", path="src", depth=3)
    lines = result.text.splitlines()
    assert lines[0] == "src/"
    assert "pkg/" in lines and "pkg/mod.py" in lines and "main.py" in lines
    assert "pkg/secret.txt" not in lines


async def test_list_directory_caps_entries(
    ctx: ToolContext, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "MAX_LIST_ENTRIES", 5)
    for i in range(12):
        (root / f"f{i:02}.txt").write_text("x")
    result = await call(ctx, "list_directory")
    assert len([line for line in result.text.splitlines() if line.startswith("f")]) == 5
    assert "stopped at 5 entries" in result.text


async def test_list_directory_errors(ctx: ToolContext, root: Path) -> None:
    (root / "file.txt").write_text("x")
    not_dir = await call(ctx, "list_directory", path="file.txt")
    assert not_dir.is_error and "is a file, not a directory" in not_dir.text
    missing = await call(ctx, "list_directory", path="nope")
    assert missing.is_error and "does not exist" in missing.text
    escape = await call(ctx, "list_directory", path="..")
    assert escape.is_error and "outside the workspace" in escape.text
    depth = await call(ctx, "list_directory", depth=0)
    assert depth.is_error and "depth" in depth.text


# -- create_file ------------------------------------------------------------------------------


async def test_create_file_writes_exact_content_and_parents(
    ctx: ToolContext, root: Path, port: HeadlessPort
) -> None:
    content = "line one\r\nline two\n\ttabbed é"
    result = await call(ctx, "create_file", path="new/dir/file.txt", content=content)
    assert not result.is_error, result.text
    assert (root / "new/dir/file.txt").read_bytes() == content.encode()
    assert "Created new/dir/file.txt" in result.text
    diffs = [u for u in port.updates if u.get("content")]
    assert diffs[0]["content"][0] == {
        "type": "diff",
        "path": str(root / "new/dir/file.txt"),
        "oldText": None,
        "newText": content,
    }


async def test_create_file_refuses_existing_without_overwrite(ctx: ToolContext, root: Path) -> None:
    (root / "exists.txt").write_text("keep me\n")
    result = await call(ctx, "create_file", path="exists.txt", content="new")
    assert result.is_error
    assert "already exists" in result.text and "overwrite" in result.text
    assert (root / "exists.txt").read_text() == "keep me\n"


async def test_create_file_overwrite_replaces_as_text_change(root: Path) -> None:
    (root / "exists.txt").write_text("old\n")
    port = ReviewingPort(ApplyResult(True))
    ctx = ToolContext(Workspace([root]), Settings(), port, tool_call_id="c")
    result = await call(ctx, "create_file", path="exists.txt", content="new\n", overwrite=True)
    assert not result.is_error
    [change] = port.change_sets[0].changes
    assert isinstance(change, TextChange)
    assert change.old_text == "old\n" and change.new_text == "new\n"


async def test_create_file_overwrite_on_disk(ctx: ToolContext, root: Path) -> None:
    (root / "exists.txt").write_text("old\n")
    result = await call(ctx, "create_file", path="exists.txt", content="new\n", overwrite=True)
    assert not result.is_error and "Overwrote" in result.text
    assert (root / "exists.txt").read_text() == "new\n"


async def test_create_file_bad_targets_change_nothing(ctx: ToolContext, root: Path) -> None:
    (root / "adir").mkdir()
    (root / "afile").write_text("x")
    before = snapshot(root)
    on_dir = await call(ctx, "create_file", path="adir", content="x")
    assert on_dir.is_error and "is a directory" in on_dir.text
    under_file = await call(ctx, "create_file", path="afile/child.txt", content="x")
    assert under_file.is_error
    assert "afile is a file" in under_file.text or "Not a directory" in under_file.text
    escape = await call(ctx, "create_file", path="../evil.txt", content="x")
    assert escape.is_error and "outside the workspace" in escape.text
    assert not (root.parent / "evil.txt").exists()
    assert snapshot(root) == before


# -- edit_file --------------------------------------------------------------------------------


async def test_edit_file_replaces_exact_unique_match(
    ctx: ToolContext, root: Path, port: HeadlessPort
) -> None:
    (root / "util.py").write_text("def add(a, b):\n    return a + b\n")
    result = await call(
        ctx,
        "edit_file",
        path="util.py",
        old_string="def add(a, b):",
        new_string='def add(a, b):\n    """Add two numbers."""',
    )
    assert not result.is_error, result.text
    assert "Edited util.py" in result.text and "line 1" in result.text
    assert result.text.splitlines()[1:] == [
        "     1\tdef add(a, b):",
        '     2\t    """Add two numbers."""',
        "     3\t    return a + b",
    ]
    assert (root / "util.py").read_text() == (
        'def add(a, b):\n    """Add two numbers."""\n    return a + b\n'
    )
    assert port.applied and port.applied[0].tool_call_id == "call_1"
    assert port.applied[0].label == "Edit util.py"
    update = port.updates[-1]
    assert update["sessionUpdate"] == "tool_call_update" and update["status"] == "in_progress"
    assert update["content"][0]["oldText"] == "def add(a, b):\n    return a + b\n"


async def test_edit_file_no_match_quotes_closest_line(ctx: ToolContext, root: Path) -> None:
    text = "".join(f"value_{i} = compute({i})\n" for i in range(50))
    (root / "calc.py").write_text(text)
    result = await call(
        ctx, "edit_file", path="calc.py", old_string="value_17 = compute(71)", new_string="x"
    )
    assert result.is_error
    assert "old_string was not found in calc.py" in result.text
    assert "line 18" in result.text
    assert "value_17 = compute(17)" in result.text
    assert (root / "calc.py").read_text() == text


async def test_edit_file_no_match_whitespace_only_difference(ctx: ToolContext, root: Path) -> None:
    text = "class A:\n    def f(self):\n        return 1\n"
    (root / "a.py").write_text(text)
    result = await call(
        ctx, "edit_file", path="a.py", old_string="def f(self):\n  return 1", new_string="x"
    )
    assert result.is_error
    assert "different whitespace or indentation is at line 2" in result.text
    assert (root / "a.py").read_text() == text


async def test_edit_file_no_match_nothing_similar(ctx: ToolContext, root: Path) -> None:
    (root / "a.txt").write_text("alpha\nbeta\n")
    result = await call(ctx, "edit_file", path="a.txt", old_string="zzzzzzzzqqq", new_string="x")
    assert result.is_error and "Nothing similar" in result.text


async def test_edit_file_many_matches_lists_count_and_lines(ctx: ToolContext, root: Path) -> None:
    text = "x = 1\ny = 2\nx = 1\n\nx = 1\n"
    (root / "m.py").write_text(text)
    result = await call(ctx, "edit_file", path="m.py", old_string="x = 1", new_string="x = 3")
    assert result.is_error
    assert "occurs 3 times" in result.text and "lines 1, 3, 5" in result.text
    assert "replace_all" in result.text
    assert (root / "m.py").read_text() == text


async def test_edit_file_replace_all(ctx: ToolContext, root: Path) -> None:
    (root / "m.py").write_text("x = 1\ny = 2\nx = 1\n")
    result = await call(
        ctx, "edit_file", path="m.py", old_string="x = 1", new_string="x = 3", replace_all=True
    )
    assert not result.is_error
    assert "replaced 2 occurrences" in result.text
    assert (root / "m.py").read_text() == "x = 3\ny = 2\nx = 3\n"


async def test_edit_file_identical_strings_is_an_error(ctx: ToolContext, root: Path) -> None:
    (root / "a.txt").write_text("same\n")
    result = await call(ctx, "edit_file", path="a.txt", old_string="same", new_string="same")
    assert result.is_error and "identical" in result.text
    assert (root / "a.txt").read_text() == "same\n"


async def test_edit_file_empty_old_string_is_an_error(ctx: ToolContext, root: Path) -> None:
    (root / "a.txt").write_text("text\n")
    result = await call(ctx, "edit_file", path="a.txt", old_string="", new_string="x")
    assert result.is_error and "old_string is empty" in result.text
    assert (root / "a.txt").read_text() == "text\n"


async def test_edit_file_keeps_crlf_when_strings_use_lf(ctx: ToolContext, root: Path) -> None:
    (root / "win.txt").write_bytes(b"first\r\nsecond\r\nthird\r\n")
    result = await call(
        ctx, "edit_file", path="win.txt", old_string="first\nsecond", new_string="one\ntwo\nthree"
    )
    assert not result.is_error, result.text
    assert (root / "win.txt").read_bytes() == b"one\r\ntwo\r\nthree\r\nthird\r\n"


async def test_edit_file_one_line_match_in_crlf_file_inserts_crlf(
    ctx: ToolContext, root: Path
) -> None:
    (root / "win.txt").write_bytes(b"first\r\nsecond\r\n")
    result = await call(ctx, "edit_file", path="win.txt", old_string="first", new_string="a\nb")
    assert not result.is_error, result.text
    assert (root / "win.txt").read_bytes() == b"a\r\nb\r\nsecond\r\n"


async def test_edit_file_lf_file_with_crlf_strings(ctx: ToolContext, root: Path) -> None:
    (root / "unix.txt").write_bytes(b"a\nb\nc\n")
    result = await call(ctx, "edit_file", path="unix.txt", old_string="a\r\nb", new_string="A\r\nB")
    assert not result.is_error, result.text
    assert (root / "unix.txt").read_bytes() == b"A\nB\nc\n"


async def test_edit_file_keeps_utf8_bom(ctx: ToolContext, root: Path) -> None:
    (root / "bom.txt").write_bytes(b"\xef\xbb\xbfhello w\xc3\xb6rld\n")
    result = await call(ctx, "edit_file", path="bom.txt", old_string="hello", new_string="bye")
    assert not result.is_error
    assert (root / "bom.txt").read_bytes() == b"\xef\xbb\xbfbye w\xc3\xb6rld\n"


async def test_edit_file_refuses_non_utf8(ctx: ToolContext, root: Path) -> None:
    data = "caf\xe9 au lait\n".encode("latin-1")
    (root / "latin.txt").write_bytes(data)
    result = await call(ctx, "edit_file", path="latin.txt", old_string="au", new_string="o")
    assert result.is_error and "not valid UTF-8" in result.text
    assert (root / "latin.txt").read_bytes() == data


async def test_edit_file_refuses_binary(ctx: ToolContext, root: Path) -> None:
    data = b"\x7fELF\x00\x00abc"
    (root / "prog").write_bytes(data)
    result = await call(ctx, "edit_file", path="prog", old_string="abc", new_string="xyz")
    assert result.is_error and "binary" in result.text and "ELF" in result.text
    assert (root / "prog").read_bytes() == data


async def test_edit_file_refuses_huge_file(
    ctx: ToolContext, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "EDIT_MAX_BYTES", 1000)
    data = b"y" * 2000
    (root / "huge.txt").write_bytes(data)
    result = await call(ctx, "edit_file", path="huge.txt", old_string="yy", new_string="z")
    assert result.is_error and "larger than" in result.text
    assert (root / "huge.txt").read_bytes() == data


async def test_edit_file_missing_directory_and_escape(ctx: ToolContext, root: Path) -> None:
    (root / "d").mkdir()
    missing = await call(ctx, "edit_file", path="nope.py", old_string="a", new_string="b")
    assert missing.is_error and "does not exist" in missing.text
    on_dir = await call(ctx, "edit_file", path="d", old_string="a", new_string="b")
    assert on_dir.is_error and "is a directory" in on_dir.text
    outside = root.parent / "victim.txt"
    outside.write_text("a\n")
    escape = await call(ctx, "edit_file", path="../victim.txt", old_string="a", new_string="b")
    assert escape.is_error and "outside the workspace" in escape.text
    assert outside.read_text() == "a\n"


async def test_edit_file_edits_open_buffer_and_carries_version(root: Path) -> None:
    path = root / "open.py"
    path.write_text("disk text\n")
    port = ReviewingPort(ApplyResult(True))
    ctx = ToolContext(Workspace([root]), Settings(), port, tool_call_id="call_9")
    ctx.workspace.open_document(path, "buffer text\n", 7)
    result = await call(ctx, "edit_file", path="open.py", old_string="buffer", new_string="edited")
    assert not result.is_error
    [change] = port.change_sets[0].changes
    assert isinstance(change, TextChange)
    assert change.version == 7
    assert change.old_text == "buffer text\n" and change.new_text == "edited text\n"
    assert port.change_sets[0].tool_call_id == "call_9"


async def test_edit_rejected_in_review_is_reported_to_model(root: Path) -> None:
    (root / "a.py").write_text("x = 1\n")
    port = ReviewingPort(ApplyResult(False, "use Google style"))
    ctx = ToolContext(Workspace([root]), Settings(), port, tool_call_id="c")
    result = await call(ctx, "edit_file", path="a.py", old_string="x = 1", new_string="x = 2")
    assert result.is_error
    assert result.text.startswith("The user rejected this edit: use Google style")
    assert (root / "a.py").read_text() == "x = 1\n"


async def test_edit_rejected_without_reason(root: Path) -> None:
    (root / "a.py").write_text("x = 1\n")
    port = ReviewingPort(ApplyResult(False))
    ctx = ToolContext(Workspace([root]), Settings(), port, tool_call_id="c")
    result = await call(ctx, "edit_file", path="a.py", old_string="x = 1", new_string="x = 2")
    assert result.is_error and result.text.startswith("The user rejected this edit.")


async def test_headless_stale_edit_is_reported_not_applied(ctx: ToolContext, root: Path) -> None:
    path = root / "a.py"
    path.write_text("disk\n")
    ctx.workspace.open_document(path, "buffer\n", 2)
    result = await call(ctx, "edit_file", path="a.py", old_string="buffer", new_string="x")
    assert result.is_error
    assert "could not be applied" in result.text and "changed on disk" in result.text
    assert path.read_text() == "disk\n"


async def test_edit_file_10mb_exact_edit(ctx: ToolContext, root: Path) -> None:
    line = "abcdefghij" * 5 + "\n"
    count = 10 * 1024 * 1024 // len(line)
    lines = [line] * count
    lines[count // 2] = "UNIQUE MARKER\n"
    (root / "big.txt").write_text("".join(lines))
    result = await call(
        ctx, "edit_file", path="big.txt", old_string="UNIQUE MARKER", new_string="done"
    )
    assert not result.is_error, result.text
    assert f"line {count // 2 + 1}" in result.text
    data = (root / "big.txt").read_text()
    assert "UNIQUE" not in data and data.count("done\n") == 1


async def test_edit_file_no_match_in_10mb_file_still_finds_near_match(
    ctx: ToolContext, root: Path
) -> None:
    line = "abcdefghij" * 5 + "\n"
    count = 10 * 1024 * 1024 // len(line)
    lines = [line] * count
    lines[1234] = "special_function(alpha, beta)\n"
    (root / "big.txt").write_text("".join(lines))
    result = await call(
        ctx,
        "edit_file",
        path="big.txt",
        old_string="special_function(alpha, gamma)",
        new_string="x",
    )
    assert result.is_error and "line 1235" in result.text


# -- delete / move / copy ---------------------------------------------------------------------


async def test_delete_file_deletes_and_shows_old_text(
    ctx: ToolContext, root: Path, port: HeadlessPort
) -> None:
    (root / "gone.txt").write_text("bye\n")
    result = await call(ctx, "delete_file", path="gone.txt")
    assert not result.is_error and "Deleted gone.txt" in result.text
    assert not (root / "gone.txt").exists()
    assert port.updates[-1]["content"][0]["oldText"] == "bye\n"


async def test_delete_file_bad_inputs_change_nothing(ctx: ToolContext, root: Path) -> None:
    (root / "dir").mkdir()
    (root / "dir" / "keep.txt").write_text("x")
    outside = root.parent / "outside.txt"
    outside.write_text("x")
    before = snapshot(root)
    on_dir = await call(ctx, "delete_file", path="dir")
    assert on_dir.is_error and "is a directory" in on_dir.text
    missing = await call(ctx, "delete_file", path="nope.txt")
    assert missing.is_error and "does not exist" in missing.text
    escape = await call(ctx, "delete_file", path=str(outside))
    assert escape.is_error and "outside the workspace" in escape.text
    assert outside.exists()
    assert snapshot(root) == before


async def test_move_file_renames_and_keeps_mode(ctx: ToolContext, root: Path) -> None:
    src = root / "run.sh"
    src.write_text("#!/bin/sh\necho hi\n")
    if sys.platform != "win32":
        os.chmod(src, 0o755)
    result = await call(ctx, "move_file", source="run.sh", destination="bin/run.sh")
    assert not result.is_error, result.text
    dest = root / "bin" / "run.sh"
    assert not src.exists() and dest.read_text() == "#!/bin/sh\necho hi\n"
    if sys.platform != "win32":
        assert stat.S_IMODE(dest.stat().st_mode) == 0o755


async def test_move_file_into_existing_directory(ctx: ToolContext, root: Path) -> None:
    (root / "a.txt").write_text("a")
    (root / "dest").mkdir()
    result = await call(ctx, "move_file", source="a.txt", destination="dest")
    assert not result.is_error
    assert (root / "dest" / "a.txt").read_text() == "a"


async def test_move_file_bad_inputs_change_nothing(ctx: ToolContext, root: Path) -> None:
    (root / "a.txt").write_text("a")
    (root / "b.txt").write_text("b")
    (root / "d").mkdir()
    before = snapshot(root)
    exists = await call(ctx, "move_file", source="a.txt", destination="b.txt")
    assert exists.is_error and "already exists" in exists.text
    same = await call(ctx, "move_file", source="a.txt", destination="a.txt")
    assert same.is_error and "same file" in same.text
    on_dir = await call(ctx, "move_file", source="d", destination="e")
    assert on_dir.is_error and "is a directory" in on_dir.text
    missing = await call(ctx, "move_file", source="nope", destination="x")
    assert missing.is_error and "does not exist" in missing.text
    escape = await call(ctx, "move_file", source="a.txt", destination="../a.txt")
    assert escape.is_error and "outside the workspace" in escape.text
    assert snapshot(root) == before


async def test_copy_file_copies_text(ctx: ToolContext, root: Path) -> None:
    (root / "a.txt").write_bytes(b"one\r\ntwo\n")
    result = await call(ctx, "copy_file", source="a.txt", destination="sub/b.txt")
    assert not result.is_error, result.text
    assert (root / "sub" / "b.txt").read_bytes() == b"one\r\ntwo\n"
    assert (root / "a.txt").read_bytes() == b"one\r\ntwo\n"


async def test_copy_file_refuses_binary_and_existing(ctx: ToolContext, root: Path) -> None:
    (root / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (root / "a.txt").write_text("a")
    (root / "b.txt").write_text("b")
    before = snapshot(root)
    binary = await call(ctx, "copy_file", source="img.png", destination="copy.png")
    assert binary.is_error and "binary" in binary.text and "cp" in binary.text
    exists = await call(ctx, "copy_file", source="a.txt", destination="b.txt")
    assert exists.is_error and "already exists" in exists.text
    assert snapshot(root) == before


async def test_change_sets_built_by_tools_use_resolved_paths(root: Path) -> None:
    port = ReviewingPort(ApplyResult(True))
    ctx = ToolContext(Workspace([root]), Settings(), port, tool_call_id="c")
    await call(ctx, "create_file", path="./x/../new.txt", content="hi")
    [change] = port.change_sets[0].changes
    assert isinstance(change, CreateFile) and change.path == root.resolve() / "new.txt"


def test_tool_specs_have_the_contract_metadata() -> None:
    for name in ("create_file", "edit_file", "delete_file", "move_file", "copy_file"):
        spec = REGISTRY.get(name)
        assert spec is not None and spec.reviewed_edit and spec.risk.value == "write"
    read = REGISTRY.get("read_file")
    assert read is not None and read.kind == "read" and read.risk.value == "read"
    assert read.make_title({"path": "src/app.py"}) == "Read src/app.py"
    edit = REGISTRY.get("edit_file")
    assert edit is not None and edit.make_title({"path": "src/app.py"}) == "Edit src/app.py"
    schema = edit.json_schema()
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"path", "old_string", "new_string"}


@pytest.mark.parametrize("trailing_newline", [True, False])
def test_disk_window_matches_in_memory_window(tmp_path: Path, trailing_newline: bool) -> None:
    import random

    rnd = random.Random(5)
    for case in range(30):
        count = rnd.randint(0, 40)
        body = "\n".join(f"line {i} " + "x" * rnd.randint(0, 5) for i in range(count))
        if trailing_newline and count:
            body += "\n"
        path = tmp_path / f"f{case}.txt"
        path.write_text(body)
        for first in (1, 2, count, count + 1, rnd.randint(1, 45)):
            first = max(1, first)
            limit = rnd.randint(1, 10)
            disk = files._window_from_disk(path, first, limit)
            memory = files._window_from_text(body, first, limit)
            assert (disk.lines, disk.total, disk.more) == (
                memory.lines,
                memory.total,
                memory.more,
            ), (
                case,
                first,
                limit,
            )


async def test_read_file_giant_single_line_is_not_loaded_whole(
    ctx: ToolContext, root: Path
) -> None:
    (root / "bundle.min.js").write_text("a" * (3 * 1024 * 1024) + "\nsecond line\n")
    result = await call(ctx, "read_file", path="bundle.min.js")
    first, second = result.text.splitlines()[:2]
    assert first.startswith(
        "     1\t" + "a" * files.MAX_LINE_CHARS + "... [line truncated: 3.0 MB]"
    )
    assert second == "     2\tsecond line"
    assert result.raw_output is not None and result.raw_output["totalLines"] == 2


async def test_read_file_giant_line_of_multibyte_text_is_not_called_invalid(
    ctx: ToolContext, root: Path
) -> None:
    (root / "wide.txt").write_text("€" * files.MAX_LINE_BYTES + "\n")
    result = await call(ctx, "read_file", path="wide.txt")
    assert "€" * 100 in result.text
    assert "not valid UTF-8" not in result.text
    assert "\ufffd" not in result.text


async def test_read_file_first_page_of_a_huge_file_estimates_the_total_without_counting(
    ctx: ToolContext, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "COUNT_REST_BYTES", 64 * 1024)
    line = "y" * 39 + "\n"
    count = 1024 * 1024 // len(line)  # 1 MiB: far more than the counting budget
    (root / "huge.log").write_text(line * count)
    result = await call(ctx, "read_file", path="huge.log", limit=100)
    assert result.text.startswith("     1\t" + "y" * 39)
    size = files._human_size(count * len(line))
    assert f"Showing lines 1-100 of about {count:,} ({size}; the rest was not counted)" in (
        result.text
    )
    assert "offset=101" in result.text
    assert result.raw_output is not None
    assert result.raw_output["totalLines"] is None
    assert result.raw_output["totalLinesEstimate"] == count
    assert result.raw_output["more"] is True
    # Within the budget the total stays exact.
    tail = await call(ctx, "read_file", path="huge.log", offset=count - 50, limit=10)
    assert f"of {count}." in tail.text


async def test_read_file_estimate_never_hides_the_end_of_the_file(
    ctx: ToolContext, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "COUNT_REST_BYTES", 1024)
    # Short lines first, then long ones: the estimate is off, paging still reaches the end.
    (root / "mixed.txt").write_text("a\n" * 100 + ("b" * 500 + "\n") * 50)
    first = await call(ctx, "read_file", path="mixed.txt", limit=100)
    assert "about" in first.text and "offset=101" in first.text
    rest = await call(ctx, "read_file", path="mixed.txt", offset=101, limit=100)
    assert "Showing lines 101-150 of 150 (end of file)" in rest.text


async def test_list_directory_partial_sort_shows_the_same_first_entries(
    ctx: ToolContext, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "MAX_LIST_ENTRIES", 10)
    names = [
        f"F{(i * 37) % 500:03}.txt" if i % 2 else f"f{(i * 37) % 500:03}.txt" for i in range(500)
    ]
    for name in names:
        (root / name).write_text("x")
    result = await call(ctx, "list_directory")
    shown = [line for line in result.text.splitlines()[1:11]]
    assert shown == sorted(names, key=lambda n: (n.lower(), n))[:10]
    assert "stopped at 10 entries" in result.text


async def test_list_directory_partial_sort_falls_back_when_the_head_is_ignored(
    ctx: ToolContext, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "MAX_LIST_ENTRIES", 5)
    (root / ".gitignore").write_text("a*\n")
    for i in range(400):  # the first 400 in order are all ignored: more than the heap's margin
        (root / f"a{i:03}.log").write_text("x")
    for i in range(20):
        (root / f"z{i:02}.txt").write_text("x")
    result = await call(ctx, "list_directory")
    shown = result.text.splitlines()[1:6]
    assert shown == [".gitignore"] + [f"z{i:02}.txt" for i in range(4)]
    assert "ignored by .gitignore" in result.text
