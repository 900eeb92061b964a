"""Applying change sets to disk: exact bytes, validation first, all or nothing, rollback."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from pygent.edits.apply import apply_change_set
from pygent.edits.changes import ChangeSet, CreateFile, DeleteFile, RenameFile, TextChange


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_text_change_writes_exact_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"one\r\ntwo\n")
    new = "one\r\nTWO\nthree\r"
    result = apply_change_set(ChangeSet("Edit", [TextChange(path, "one\r\ntwo\n", new)]))
    assert result.applied and result.failure_reason is None
    assert path.read_bytes() == new.encode()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_text_change_keeps_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "run.sh"
    path.write_text("echo a\n")
    os.chmod(path, 0o751)
    assert apply_change_set(ChangeSet("Edit", [TextChange(path, "echo a\n", "echo b\n")])).applied
    assert stat.S_IMODE(path.stat().st_mode) == 0o751
    assert path.read_text() == "echo b\n"


def test_stale_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("user typed this\n")
    result = apply_change_set(ChangeSet("Edit", [TextChange(path, "what the tool saw\n", "new\n")]))
    assert not result.applied
    assert result.failure_reason is not None and "changed on disk" in result.failure_reason
    assert path.read_text() == "user typed this\n"


def test_text_change_of_missing_file_is_refused(tmp_path: Path) -> None:
    result = apply_change_set(ChangeSet("Edit", [TextChange(tmp_path / "gone", "a", "b")]))
    assert not result.applied and "no longer exists" in (result.failure_reason or "")


def test_create_rename_delete(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_text("move me")
    (tmp_path / "del.txt").write_text("delete me")
    result = apply_change_set(
        ChangeSet(
            "Files",
            [
                CreateFile(tmp_path / "deep/new.txt", "created\n"),
                RenameFile(tmp_path / "old.txt", tmp_path / "moved/old.txt"),
                DeleteFile(tmp_path / "del.txt", "delete me"),
            ],
        )
    )
    assert result.applied, result.failure_reason
    assert snapshot(tmp_path) == {"deep/new.txt": b"created\n", "moved/old.txt": b"move me"}


def test_create_over_existing_needs_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("keep")
    refused = apply_change_set(ChangeSet("Create", [CreateFile(path, "new")]))
    assert not refused.applied and "already exists" in (refused.failure_reason or "")
    assert path.read_text() == "keep"
    assert apply_change_set(ChangeSet("Create", [CreateFile(path, "new", overwrite=True)])).applied
    assert path.read_text() == "new"


def test_invalid_change_means_nothing_is_applied(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    before = snapshot(tmp_path)
    result = apply_change_set(
        ChangeSet(
            "Mixed",
            [
                TextChange(tmp_path / "a.txt", "a", "A"),
                CreateFile(tmp_path / "b.txt", "b"),
                DeleteFile(tmp_path / "missing.txt"),
            ],
        )
    )
    assert not result.applied and "missing.txt does not exist" in (result.failure_reason or "")
    assert snapshot(tmp_path) == before


def test_changes_are_validated_in_sequence(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    result = apply_change_set(
        ChangeSet("Seq", [CreateFile(path, "v1"), TextChange(path, "v1", "v2")])
    )
    assert result.applied and path.read_text() == "v2"


def test_failure_midway_rolls_back(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("original")
    before = snapshot(tmp_path)
    # Validation passes (neither path exists yet), but creating "x/child" after "x" became a file fails.
    result = apply_change_set(
        ChangeSet(
            "Broken",
            [
                TextChange(tmp_path / "keep.txt", "original", "changed"),
                CreateFile(tmp_path / "x", "a file"),
                CreateFile(tmp_path / "x" / "child", "cannot"),
            ],
        )
    )
    assert not result.applied
    assert "Nothing was changed" in (result.failure_reason or "")
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "x").exists()


def test_rename_onto_existing_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("a")
    (tmp_path / "b").write_text("b")
    result = apply_change_set(ChangeSet("Move", [RenameFile(tmp_path / "a", tmp_path / "b")]))
    assert not result.applied and "already exists" in (result.failure_reason or "")
    assert snapshot(tmp_path) == {"a": b"a", "b": b"b"}


def test_delete_of_changed_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("changed since")
    result = apply_change_set(ChangeSet("Delete", [DeleteFile(tmp_path / "a", "seen")]))
    assert not result.applied and "changed on disk" in (result.failure_reason or "")
    assert (tmp_path / "a").exists()


def test_directory_where_file_expected(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    result = apply_change_set(ChangeSet("Edit", [TextChange(tmp_path / "d", "", "x")]))
    assert not result.applied and "is a directory" in (result.failure_reason or "")
