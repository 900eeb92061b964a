"""The workspace: path confinement in every escaping form, multiple roots, the buffer overlay."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from pygent.tools.errors import ToolError
from pygent.tools.workspace import Workspace

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file types")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    base = tmp_path / "project"
    (base / "src" / "pkg").mkdir(parents=True)
    (base / "src" / "pkg" / "mod.py").write_text("x = 1\n", encoding="utf-8")
    (base / "README.md").write_text("hello\n", encoding="utf-8")
    return base


@pytest.fixture
def ws(root: Path) -> Workspace:
    return Workspace([root])


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.txt"
    secret.write_text("password\n", encoding="utf-8")
    return secret


def test_relative_and_absolute_inside(ws: Workspace, root: Path) -> None:
    assert ws.resolve("src/pkg/mod.py") == root.resolve() / "src/pkg/mod.py"
    assert ws.resolve(str(root / "README.md")) == root.resolve() / "README.md"
    assert ws.resolve(".") == root.resolve()
    assert ws.resolve("src/../README.md") == root.resolve() / "README.md"  # `..` that stays inside


@pytest.mark.parametrize("path", ["..", "../secret.txt", "src/../../secret.txt", "../project2/x"])
def test_dotdot_escape_refused(ws: Workspace, path: str) -> None:
    with pytest.raises(ToolError, match="outside the workspace") as info:
        ws.resolve(path)
    assert "Only paths inside the workspace can be used." in str(info.value)


def test_absolute_path_elsewhere_refused(ws: Workspace, outside: Path) -> None:
    with pytest.raises(ToolError, match="outside the workspace"):
        ws.resolve(str(outside))
    with pytest.raises(ToolError, match="outside the workspace"):
        ws.resolve(Path(outside.anchor) / "etc")


def test_prefix_sibling_is_not_inside(ws: Workspace, root: Path) -> None:
    sibling = root.parent / (root.name + "-other")
    sibling.mkdir()
    with pytest.raises(ToolError, match="outside the workspace"):
        ws.resolve(str(sibling))


def test_home_tilde_outside_refused(ws: Workspace) -> None:
    with pytest.raises(ToolError, match="outside the workspace"):
        ws.resolve("~/.ssh/id_rsa")


@posix_only
def test_symlink_pointing_out_refused(ws: Workspace, root: Path, outside: Path) -> None:
    (root / "link.txt").symlink_to(outside)
    (root / "linkdir").symlink_to(outside.parent, target_is_directory=True)
    with pytest.raises(ToolError, match="outside the workspace"):
        ws.resolve("link.txt")
    with pytest.raises(ToolError, match="outside the workspace"):
        ws.resolve("linkdir/secret.txt")
    assert outside.read_text(encoding="utf-8") == "password\n"  # nothing touched


@posix_only
def test_symlink_inside_is_followed(ws: Workspace, root: Path) -> None:
    (root / "alias.py").symlink_to(root / "src/pkg/mod.py")
    assert ws.resolve("alias.py") == root.resolve() / "src/pkg/mod.py"


@posix_only
def test_symlink_loop_refused(ws: Workspace, root: Path) -> None:
    (root / "a").symlink_to(root / "b")
    (root / "b").symlink_to(root / "a")
    with pytest.raises(ToolError, match="symbolic link loop"):
        ws.resolve("a")
    with pytest.raises(ToolError, match="symbolic link loop"):
        ws.resolve("a/inner.txt", must_exist=True)


@posix_only
def test_device_file_refused() -> None:
    dev = Workspace(["/dev"])
    with pytest.raises(ToolError, match="not a regular file or directory"):
        dev.resolve("null")
    with pytest.raises(ToolError, match="outside the workspace"):
        Workspace([Path.cwd()]).resolve("/dev/null")


@posix_only
def test_fifo_refused(ws: Workspace, root: Path) -> None:
    os.mkfifo(root / "pipe")
    with pytest.raises(ToolError, match="device, FIFO or socket"):
        ws.resolve("pipe")


@posix_only
def test_symlink_to_device_refused(ws: Workspace, root: Path) -> None:
    (root / "null").symlink_to("/dev/null")
    with pytest.raises(ToolError, match="outside the workspace"):
        ws.resolve("null")


def test_nul_byte_refused(ws: Workspace) -> None:
    with pytest.raises(ToolError, match="NUL byte"):
        ws.resolve("src/\x00mod.py")


@pytest.mark.parametrize("path", ["", "   ", "\n"])
def test_empty_path_refused(ws: Workspace, path: str) -> None:
    with pytest.raises(ToolError, match="empty"):
        ws.resolve(path)


def test_must_exist(ws: Workspace) -> None:
    with pytest.raises(ToolError, match=r"src/nope\.py does not exist"):
        ws.resolve("src/nope.py", must_exist=True)
    assert ws.resolve("src/new.py").name == "new.py"  # a path to create is fine


def test_kinds(ws: Workspace, root: Path) -> None:
    with pytest.raises(ToolError, match="src is a directory, not a file"):
        ws.resolve("src", kind="file")
    with pytest.raises(ToolError, match=r"README\.md is a file, not a directory"):
        ws.resolve("README.md", kind="dir")
    assert ws.resolve("src", kind="dir").is_dir()
    assert ws.resolve("README.md", kind="file").is_file()


def test_multiple_roots(root: Path, tmp_path: Path, outside: Path) -> None:
    second = tmp_path / "lib"
    second.mkdir()
    (second / "util.py").write_text("", encoding="utf-8")
    ws = Workspace([root, second])
    assert ws.root == root.resolve()
    assert ws.resolve(str(second / "util.py")) == second.resolve() / "util.py"
    assert ws.display(second.resolve() / "util.py") == "util.py"
    with pytest.raises(ToolError, match="outside the workspace") as info:
        ws.resolve(str(outside))
    assert str(second.resolve()) in str(info.value)  # the message lists every root
    # Relative paths are relative to the first root.
    with pytest.raises(ToolError, match="does not exist"):
        ws.resolve("util.py", must_exist=True)


def test_workspace_needs_a_root() -> None:
    with pytest.raises(ValueError, match="at least one root"):
        Workspace([])


def test_display(ws: Workspace, root: Path) -> None:
    assert ws.display(root.resolve()) == "."
    assert ws.display(root.resolve() / "src" / "pkg" / "mod.py") == "src/pkg/mod.py"


# -- overlay -------------------------------------------------------------------------------------


def test_overlay_reads_buffer_not_disk(ws: Workspace, root: Path) -> None:
    path = ws.resolve("src/pkg/mod.py")
    assert ws.read_text(path) == ("x = 1\n", None)
    ws.open_document(path, "x = 2  # unsaved\n", 3)
    assert ws.read_text(path) == ("x = 2  # unsaved\n", 3)
    ws.change_document(path, "x = 3\n", 4)
    assert ws.read_text(path) == ("x = 3\n", 4)
    assert (root / "src/pkg/mod.py").read_text(encoding="utf-8") == "x = 1\n"  # disk untouched
    ws.close_document(path)
    assert ws.read_text(path) == ("x = 1\n", None)


def test_overlay_keys_are_normalised(ws: Workspace, root: Path) -> None:
    ws.open_document(root / "src" / "pkg" / ".." / "pkg" / "mod.py", "buffer\n", 1)
    assert ws.read_text(ws.resolve("src/pkg/mod.py")) == ("buffer\n", 1)
    doc = ws.document(root / "src/pkg/mod.py")
    assert doc is not None and doc.version == 1


def test_overlay_only_file_exists_for_must_exist(ws: Workspace, root: Path) -> None:
    path = root.resolve() / "untitled.py"
    ws.open_document(path, "new buffer\n", 1)
    assert ws.resolve("untitled.py", must_exist=True) == path
    assert ws.read_text(path) == ("new buffer\n", 1)


def test_read_text_errors(ws: Workspace, root: Path) -> None:
    with pytest.raises(ToolError, match="does not exist"):
        ws.read_text(root.resolve() / "missing.txt")
    with pytest.raises(ToolError, match="is a directory"):
        ws.read_text(root.resolve() / "src")


def test_read_text_replaces_undecodable_bytes(ws: Workspace, root: Path) -> None:
    (root / "latin.txt").write_bytes(b"caf\xe9\n")
    text, version = ws.read_text(ws.resolve("latin.txt"))
    assert text == "caf\ufffd\n" and version is None
