"""Change sets as LSP WorkspaceEdits: shapes, minimal ranges, position encodings, round trips."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pygent.edits.changes import ChangeSet, CreateFile, DeleteFile, RenameFile, TextChange
from pygent.edits.lsp import apply_lsp_text_edits, minimal_text_edit, to_workspace_edit
from pygent.edits.positions import (
    acp_line,
    code_units,
    line_starts,
    lsp_line,
    offset_to_position,
    position_to_offset,
)

ROOT = Path("/home/u/proj").resolve() if Path("/").anchor == "/" else Path("C:/proj")


def test_protocol_example_edit_with_annotation_and_version() -> None:
    old = "def add(a, b):\n    return a + b\n"
    new = 'def add(a, b):\n    """Add two numbers."""\n    return a + b\n'
    path = ROOT / "util.py"
    change_set = ChangeSet(
        "Edit util.py", [TextChange(path, old, new, 7)], "pygent: add a docstring", "call_1"
    )
    edit = to_workspace_edit(change_set, annotations=True)
    [doc] = edit["documentChanges"]
    assert doc["textDocument"] == {"uri": path.as_uri(), "version": 7}
    [text_edit] = doc["edits"]
    assert text_edit["annotationId"] == "pygent-call_1"
    assert text_edit["range"]["start"]["line"] == 1
    assert apply_lsp_text_edits(old, doc["edits"]) == new
    assert edit["changeAnnotations"] == {
        "pygent-call_1": {
            "label": "Edit util.py",
            "needsConfirmation": True,
            "description": "pygent: add a docstring",
        }
    }


def test_without_annotations_there_is_no_annotation_map_or_ids() -> None:
    change_set = ChangeSet("Edit a", [TextChange(ROOT / "a", "x\n", "y\n")], tool_call_id="c")
    edit = to_workspace_edit(change_set, annotations=False)
    assert "changeAnnotations" not in edit
    assert "annotationId" not in edit["documentChanges"][0]["edits"][0]
    assert edit["documentChanges"][0]["textDocument"]["version"] is None


def test_versions_argument_overrides_change_version() -> None:
    path = ROOT / "a.py"
    change_set = ChangeSet("Edit", [TextChange(path, "a", "b", 3)])
    edit = to_workspace_edit(change_set, annotations=False, versions={path: 12})
    assert edit["documentChanges"][0]["textDocument"]["version"] == 12


def test_minimal_range_trims_common_prefix_and_suffix() -> None:
    old = "line1\nline2 has old word\nline3\n"
    new = "line1\nline2 has new word\nline3\n"
    edit = minimal_text_edit(old, new)
    assert edit == {
        "range": {"start": {"line": 1, "character": 10}, "end": {"line": 1, "character": 13}},
        "newText": "new",
    }
    assert minimal_text_edit(old, old) is None


def test_unchanged_text_change_produces_no_document_edit() -> None:
    change_set = ChangeSet("noop", [TextChange(ROOT / "a", "same", "same")])
    assert to_workspace_edit(change_set, annotations=False)["documentChanges"] == []


@pytest.mark.parametrize(
    ("encoding", "character"),
    [("utf-16", 4), ("utf-8", 7), ("utf-32", 3)],
)
def test_positions_count_code_units_of_the_negotiated_encoding(
    encoding: str, character: int
) -> None:
    # "a😀é" + "X": 😀 is 2 UTF-16 units / 4 UTF-8 bytes, é is 1 / 2.
    old = "a😀éX\n"
    new = "a😀éY\n"
    edit = minimal_text_edit(old, new, encoding)
    assert edit is not None
    assert edit["range"]["start"] == {"line": 0, "character": character}
    assert apply_lsp_text_edits(old, [edit], encoding) == new


def test_crlf_pair_is_never_split() -> None:
    old = "a\r\nb\r\n"
    new = "a\nb\r\n"
    edit = minimal_text_edit(old, new)
    assert edit is not None
    assert edit["range"]["start"] == {"line": 0, "character": 1}
    assert edit["range"]["end"] == {"line": 1, "character": 0}
    assert apply_lsp_text_edits(old, [edit]) == new


def test_resource_operations() -> None:
    change_set = ChangeSet(
        "Files",
        [
            CreateFile(ROOT / "new.txt", "hello\n"),
            CreateFile(ROOT / "empty.txt", ""),
            RenameFile(ROOT / "a.txt", ROOT / "b.txt"),
            DeleteFile(ROOT / "c.txt", "old"),
        ],
        tool_call_id="call_2",
    )
    edit = to_workspace_edit(change_set, annotations=True)
    changes = edit["documentChanges"]
    assert changes[0] == {
        "kind": "create",
        "uri": (ROOT / "new.txt").as_uri(),
        "options": {"overwrite": False, "ignoreIfExists": False},
        "annotationId": "pygent-call_2",
    }
    assert changes[1]["textDocument"] == {"uri": (ROOT / "new.txt").as_uri(), "version": None}
    assert changes[1]["edits"][0]["newText"] == "hello\n"
    assert changes[2]["kind"] == "create" and changes[2]["uri"].endswith("empty.txt")
    assert changes[3] == {
        "kind": "rename",
        "oldUri": (ROOT / "a.txt").as_uri(),
        "newUri": (ROOT / "b.txt").as_uri(),
        "options": {"overwrite": False, "ignoreIfExists": False},
        "annotationId": "pygent-call_2",
    }
    assert changes[4]["kind"] == "delete" and changes[4]["uri"] == (ROOT / "c.txt").as_uri()
    assert len(changes) == 5


def test_unknown_position_encoding_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown position encoding"):
        to_workspace_edit(ChangeSet("x"), annotations=False, position_encoding="latin-1")


def test_overlapping_edits_are_refused() -> None:
    rng = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 3}}
    rng2 = {"start": {"line": 0, "character": 2}, "end": {"line": 0, "character": 4}}
    with pytest.raises(ValueError, match="overlaps"):
        apply_lsp_text_edits(
            "abcdef", [{"range": rng, "newText": ""}, {"range": rng2, "newText": ""}]
        )


def test_apply_several_edits_in_any_order() -> None:
    text = "one\ntwo\nthree\n"
    edits = [
        {
            "range": {"start": {"line": 2, "character": 0}, "end": {"line": 2, "character": 5}},
            "newText": "3",
        },
        {
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 3}},
            "newText": "1",
        },
    ]
    assert apply_lsp_text_edits(text, edits) == "1\ntwo\n3\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "utf-32"])
def test_round_trip_random_texts(encoding: str) -> None:
    rnd = random.Random(1234)
    alphabet = ["a", "b", " ", "\n", "\r\n", "\r", "é", "😀", "\t", "中"]
    for _ in range(300):
        old = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 30)))
        new = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 30)))
        if rnd.random() < 0.5 and old:
            cut = rnd.randint(0, len(old))
            new = old[:cut] + new[: rnd.randint(0, 5)] + old[cut:]
        edit = minimal_text_edit(old, new, encoding)
        if edit is None:
            assert old == new
            continue
        assert apply_lsp_text_edits(old, [edit], encoding) == new, (old, new)


def test_position_helpers() -> None:
    text = "ab\r\ncd\ref\ngh"
    assert line_starts(text) == [0, 4, 7, 10]
    assert offset_to_position(text, 5) == {"line": 1, "character": 1}
    assert offset_to_position(text, 8) == {"line": 2, "character": 1}
    assert position_to_offset(text, {"line": 3, "character": 1}) == 11
    assert position_to_offset(text, {"line": 0, "character": 99}) == 2  # clamped to line end
    assert position_to_offset(text, {"line": 9, "character": 0}) == len(text)
    assert code_units("😀", "utf-16") == 2 and code_units("😀", "utf-8") == 4
    assert acp_line(0) == 1 and lsp_line(1) == 0 and lsp_line(0) == 0
