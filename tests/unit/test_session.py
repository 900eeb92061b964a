"""Sessions: JSON Lines persistence, ids, listing, corrupt files, replay as ACP updates."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pygent.agent.session import (
    Session,
    SessionStore,
    new_session_id,
    title_from_text,
    validate_session_id,
    workspace_key,
)
from pygent.errors import PygentError
from pygent.settings.paths import sessions_dir

MODEL = "openai/fake-model"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "my project"
    root.mkdir()
    return root


@pytest.fixture
def store(workspace: Path) -> SessionStore:
    return SessionStore(workspace)


def _conversation(session: Session) -> None:
    session.append({"role": "user", "content": "Fix the parser\nIt breaks on empty input."})
    session.append(
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": '{"path": "parser.py"}'},
                },
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": '{"path": "missing.py"}'},
                },
            ],
        }
    )
    session.append({"role": "tool", "tool_call_id": "call_1", "content": "def parse(): ..."})
    session.append(
        {"role": "tool", "tool_call_id": "call_2", "content": "File not found."}, status="failed"
    )
    session.append({"role": "assistant", "content": "Fixed."})


# -- ids -------------------------------------------------------------------------------------


def test_new_session_ids_are_26_crockford_chars_and_sort_by_creation() -> None:
    ids = [new_session_id() for _ in range(500)]
    assert all(len(i) == 26 and validate_session_id(i) == i for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_session_id_time_prefix_orders_across_milliseconds() -> None:
    early = new_session_id(now_ms=1_700_000_000_000)
    late = new_session_id(now_ms=1_700_000_000_001)
    assert early < late
    assert early[:10] != late[:10]


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "../../etc/passwd",
        "..",
        "01JDQ8M3V6Y5W1ZP9K4T2X7R0/",
        "01JDQ8M3V6Y5W1ZP9K4T2X/R0B",
        "a/b",
        "..\\..\\windows",
        "01JDQ8M3V6Y5W1ZP9K4T2X7R0BX",  # too long
        "01JDQ8M3V6Y5W1ZP9K4T2X7R0",  # too short
        "01JDQ8M3V6Y5W1ZP9K4T2X7R0U",  # U is not Crockford
        "x" * 5000,
        "01JDQ8M3V6Y5W1ZP9K4T2X7R\x00B",
    ],
)
def test_validate_session_id_rejects_path_tricks_with_a_clear_error(bad: str) -> None:
    with pytest.raises(PygentError) as info:
        validate_session_id(bad)
    assert info.value.code == "invalid_params"
    assert "session id" in info.value.message
    assert "pygent sessions list" in info.value.hint
    assert len(str(info.value)) < 400  # huge inputs are shortened in the message


def test_validate_session_id_accepts_lower_case() -> None:
    sid = new_session_id()
    assert validate_session_id(sid.lower()) == sid


def test_store_rejects_bad_ids_without_touching_files(store: SessionStore, tmp_path: Path) -> None:
    victim = tmp_path / "victim.jsonl"
    victim.write_text("keep me\n")
    for bad in ("../victim", "../../victim", "/etc/passwd", str(victim)):
        for op in (store.load, store.delete):
            with pytest.raises(PygentError) as info:
                op(bad)
            assert info.value.code == "invalid_params"
    assert victim.read_text() == "keep me\n"


# -- layout and persistence ------------------------------------------------------------------


def test_workspace_key_is_readable_and_unique_per_path(tmp_path: Path) -> None:
    a = tmp_path / "a" / "proj"
    b = tmp_path / "b" / "proj"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    assert workspace_key(a).startswith("proj-")
    assert workspace_key(a) != workspace_key(b)
    assert workspace_key(a) == workspace_key(a / ".." / "proj")
    assert len(workspace_key(a).split("-")[-1]) == 10


def test_session_file_layout_header_and_mode(store: SessionStore, workspace: Path) -> None:
    session = store.create(MODEL)
    assert session.path.parent == sessions_dir() / workspace_key(workspace)
    assert session.path.name == f"{session.id}.jsonl"
    header = json.loads(session.path.read_text().splitlines()[0])
    assert header["type"] == "session"
    assert header["id"] == session.id
    assert header["model"] == MODEL
    assert header["cwd"] == str(workspace.resolve())
    assert header["pygentVersion"]
    assert header["created"].endswith("Z")
    if os.name == "posix":
        assert stat.S_IMODE(session.path.stat().st_mode) == 0o600


def test_append_persists_one_record_per_message_and_load_round_trips(
    store: SessionStore,
) -> None:
    session = store.create(MODEL, mode="auto-edit")
    _conversation(session)
    lines = session.path.read_text().splitlines()
    kinds = [json.loads(line)["type"] for line in lines]
    assert kinds == ["session", "meta", *["message"] * 5]

    loaded = store.load(session.id)
    assert loaded.messages == session.messages
    assert loaded.title == "Fix the parser"
    assert loaded.mode == "auto-edit"
    assert loaded.model == MODEL
    assert loaded.warnings == []
    assert loaded.message_status(3) == "failed"
    assert loaded.created == session.created


def test_append_rejects_non_messages_and_writes_nothing(store: SessionStore) -> None:
    session = store.create(MODEL)
    before = session.path.read_bytes()
    with pytest.raises(ValueError):
        session.append({"content": "no role"})
    assert session.path.read_bytes() == before
    assert session.messages == []


def test_messages_with_newlines_unicode_and_surrogates_stay_one_line_each(
    store: SessionStore,
) -> None:
    session = store.create(MODEL)
    texts = ["line1\nline2\r\n", "emoji 🎉 and \u2028 separator", "bad \udcff byte"]
    for text in texts:
        session.append({"role": "tool", "tool_call_id": "x", "content": text})
    assert len(session.path.read_bytes().split(b"\n")) == 1 + 3 + 1
    loaded = store.load(session.id)
    assert [m["content"] for m in loaded.messages] == texts


def test_set_meta_changes_title_mode_and_model(store: SessionStore) -> None:
    session = store.create(MODEL)
    session.append({"role": "user", "content": "first question"})
    session.set_meta(title="Renamed", mode="plan", model="openai/other", pinned=True)
    session.append({"role": "user", "content": "second question"})
    loaded = store.load(session.id)
    assert (loaded.title, loaded.mode, loaded.model) == ("Renamed", "plan", "openai/other")
    assert loaded.meta == {"pinned": True}


def test_set_meta_refuses_reserved_keys(store: SessionStore) -> None:
    session = store.create(MODEL)
    before = session.path.read_bytes()
    with pytest.raises(ValueError, match="reserved"):
        session.set_meta(type="message")
    assert session.path.read_bytes() == before


def test_title_is_first_line_of_first_user_message_shortened() -> None:
    assert title_from_text("\n\n  Refactor   the\tloader \nmore") == "Refactor the loader"
    long = title_from_text("x" * 200)
    assert len(long) == 60 and long.endswith("…")
    assert title_from_text("") == ""


def test_title_from_content_parts(store: SessionStore) -> None:
    session = store.create(MODEL)
    session.append(
        {
            "role": "user",
            "content": [{"type": "text", "text": "Explain this"}, {"type": "image_url"}],
        }
    )
    assert session.title == "Explain this"
    assert store.load(session.id).title == "Explain this"


def test_replace_history_makes_load_yield_exactly_those_messages(store: SessionStore) -> None:
    session = store.create(MODEL)
    _conversation(session)
    summary = [
        {"role": "user", "content": "Fix the parser"},
        {"role": "assistant", "content": "Summary: parser fixed, tests pass."},
    ]
    session.replace_history(summary)
    assert session.messages == summary
    assert store.load(session.id).messages == summary
    session.append({"role": "user", "content": "Now add tests"})
    loaded = store.load(session.id)
    assert loaded.messages == [*summary, {"role": "user", "content": "Now add tests"}]
    assert loaded.title == "Fix the parser"
    info = store.list()[0]
    assert info["messageCount"] == 3


# -- listing, deleting ------------------------------------------------------------------------


def test_list_newest_first_with_title_count_and_iso_time(store: SessionStore) -> None:
    first = store.create(MODEL)
    first.append({"role": "user", "content": "Old task"})
    os.utime(first.path, (1_700_000_000, 1_700_000_000))
    second = store.create(MODEL)
    second.append({"role": "user", "content": "New task"})
    second.append({"role": "assistant", "content": "ok"})
    infos = store.list()
    assert [i["sessionId"] for i in infos] == [second.id, first.id]
    assert infos[0]["title"] == "New task"
    assert infos[0]["messageCount"] == 2
    assert infos[1]["messageCount"] == 1
    assert infos[1]["updatedAt"] == "2023-11-14T22:13:20.000Z"


def test_updated_is_never_before_created_by_a_coarse_clock(store: SessionStore) -> None:
    from datetime import datetime

    session = store.create(MODEL)
    created = datetime.fromisoformat(session.created.replace("Z", "+00:00")).timestamp()
    os.utime(session.path, (created - 0.004, created - 0.004))  # a coarse mtime clock
    (info,) = store.list()
    assert info["updatedAt"] == info["created"] == session.created
    # A file really older than its header (copied, restored) keeps its own time.
    os.utime(session.path, (created - 3600, created - 3600))
    (info,) = store.list()
    assert info["updatedAt"] < info["created"]


def test_list_sees_appends_after_caching(store: SessionStore) -> None:
    session = store.create(MODEL)
    assert store.list()[0]["messageCount"] == 0
    session.append({"role": "user", "content": "hello"})
    info = store.list()[0]
    assert info["messageCount"] == 1
    assert info["title"] == "hello"


def test_list_ignores_other_files_and_other_workspaces(store: SessionStore, tmp_path: Path) -> None:
    store.create(MODEL)
    (store.directory / "notes.txt").write_text("x")
    (store.directory / "../evil.jsonl").write_text("x")
    other_root = tmp_path / "other"
    other_root.mkdir()
    SessionStore(other_root).create(MODEL)
    assert len(store.list()) == 1
    assert SessionStore(tmp_path / "nowhere").list() == []


def test_delete_removes_the_session(store: SessionStore) -> None:
    keep = store.create(MODEL)
    gone = store.create(MODEL)
    store.delete(gone.id)
    assert not gone.path.exists()
    assert [i["sessionId"] for i in store.list()] == [keep.id]
    with pytest.raises(PygentError) as info:
        store.load(gone.id)
    assert info.value.code == "session_not_found"
    assert "pygent sessions list" in str(info.value)
    with pytest.raises(PygentError) as info:
        store.delete(gone.id)
    assert info.value.code == "session_not_found"


def test_latest_is_the_most_recently_updated(store: SessionStore) -> None:
    assert store.latest() is None
    a = store.create(MODEL)
    b = store.create(MODEL)
    os.utime(b.path, (1_700_000_000, 1_700_000_000))
    a.append({"role": "user", "content": "hi"})
    latest = store.latest()
    assert latest is not None and latest.id == a.id


# -- corrupt files ----------------------------------------------------------------------------


def test_truncated_last_line_is_skipped_with_a_warning_and_appends_continue(
    store: SessionStore,
) -> None:
    session = store.create(MODEL)
    _conversation(session)
    with session.path.open("ab") as handle:  # a kill in the middle of a write
        handle.write(b'{"type":"message","ts":"x","message":{"role":"assis')
    loaded = store.load(session.id)
    assert loaded.messages == session.messages
    assert len(loaded.warnings) == 1
    assert "last line" in loaded.warnings[0] and "skipped" in loaded.warnings[0]

    loaded.append({"role": "user", "content": "continue"})
    again = store.load(session.id)
    assert again.messages == [*session.messages, {"role": "user", "content": "continue"}]
    assert len(again.warnings) == 1
    assert "Line 8" in again.warnings[0]  # the partial line is now a corrupt middle line


def test_corrupt_middle_lines_do_not_lose_the_rest(store: SessionStore) -> None:
    session = store.create(MODEL)
    _conversation(session)
    lines = session.path.read_bytes().split(b"\n")
    lines[3] = b"\x00\xff garbage {"  # second message record
    lines.insert(5, b'{"type":"message","message":"not a dict"}')
    lines.insert(6, b"[1, 2]")
    session.path.write_bytes(b"\n".join(lines))
    loaded = store.load(session.id)
    expected = [m for i, m in enumerate(session.messages) if i != 1]
    assert loaded.messages == expected
    assert len(loaded.warnings) == 3
    assert all("rest of the session was loaded" in w for w in loaded.warnings)
    assert store.list()[0]["messageCount"] >= 4


def test_missing_header_uses_defaults_and_warns(store: SessionStore) -> None:
    session = store.create(MODEL)
    session.append({"role": "user", "content": "hello"})
    lines = session.path.read_bytes().split(b"\n")
    session.path.write_bytes(b"\n".join(lines[1:]))
    loaded = store.load(session.id)
    assert loaded.messages == [{"role": "user", "content": "hello"}]
    assert any("header" in w for w in loaded.warnings)
    assert loaded.created.endswith("Z")


def test_unknown_record_types_are_ignored(store: SessionStore) -> None:
    session = store.create(MODEL)
    session.append({"role": "user", "content": "hello"})
    with session.path.open("ab") as handle:
        handle.write(b'{"type":"future-thing","x":1}\n')
    loaded = store.load(session.id)
    assert loaded.messages == session.messages and loaded.warnings == []


# -- replay -----------------------------------------------------------------------------------


def test_replay_updates_as_acp_session_updates(store: SessionStore) -> None:
    session = store.create(MODEL)
    _conversation(session)
    updates = store.load(session.id).replay_updates()
    kinds = [u["sessionUpdate"] for u in updates]
    assert kinds == [
        "user_message_chunk",
        "agent_message_chunk",
        "tool_call",
        "tool_call",
        "tool_call_update",
        "tool_call_update",
        "agent_message_chunk",
    ]
    assert updates[0]["content"] == {
        "type": "text",
        "text": "Fix the parser\nIt breaks on empty input.",
    }
    assert updates[2]["toolCallId"] == "call_1"
    assert updates[2]["rawInput"] == {"path": "parser.py"}
    assert updates[4] == {
        "sessionUpdate": "tool_call_update",
        "toolCallId": "call_1",
        "status": "completed",
        "content": [{"type": "content", "content": {"type": "text", "text": "def parse(): ..."}}],
    }
    assert updates[5]["status"] == "failed"
    assert updates[6]["content"]["text"] == "Fixed."


def _one_tool_turn(session: Session) -> None:
    call = {
        "id": "call_t",
        "type": "function",
        "function": {"name": "shell", "arguments": '{"command": "make"}'},
    }
    session.append({"role": "user", "content": "build it"})
    session.append({"role": "assistant", "content": None, "tool_calls": [call]})
    session.append(
        {"role": "tool", "tool_call_id": "call_t", "content": "built"},
        duration_ms=412.04,
        approval_wait_ms=12034.56,
    )
    session.append({"role": "assistant", "content": "Built."})


def test_tool_timings_and_turn_usage_survive_a_reload_and_replay(store: SessionStore) -> None:
    session = store.create(MODEL)
    _one_tool_turn(session)
    usage = {"inputTokens": 90, "outputTokens": 12, "totalTokens": 102, "costUsd": None}
    session.record_usage(usage)
    loaded = store.load(session.id)
    assert loaded.warnings == []
    assert loaded.message_extras(2) == {"durationMs": 412.0, "approvalWaitMs": 12034.6}
    updates = loaded.replay_updates()
    result = next(u for u in updates if u.get("status") == "completed")
    assert result["_meta"] == {"pygent": {"durationMs": 412.0, "approvalWaitMs": 12034.6}}
    # The usage follows the turn's last message; an unknown cost is left out, not null.
    assert updates[-1] == {
        "sessionUpdate": "usage_update",
        "_meta": {"pygent": {"usage": {"inputTokens": 90, "outputTokens": 12, "totalTokens": 102}}},
    }
    assert updates[-2]["content"]["text"] == "Built."
    # The messages themselves stay exactly what the model is sent.
    assert loaded.messages[2] == {"role": "tool", "tool_call_id": "call_t", "content": "built"}


def test_usage_of_an_empty_session_is_not_recorded(store: SessionStore) -> None:
    session = store.create(MODEL)
    session.record_usage({"inputTokens": 5, "outputTokens": 0, "totalTokens": 5})
    assert b'"usage"' not in session.path.read_bytes()
    assert store.load(session.id).replay_updates() == []


def test_corrupt_timings_and_usage_are_dropped_and_the_rest_loads(store: SessionStore) -> None:
    session = store.create(MODEL)
    _one_tool_turn(session)
    call = {
        "id": "call_2",
        "type": "function",
        "function": {"name": "shell", "arguments": "{}"},
    }
    records = [
        {"type": "usage", "ts": "2026-01-01T00:00:00Z", "usage": "lots"},
        {"type": "message", "message": {"role": "user", "content": "again"}},
        {
            "type": "message",
            "message": {"role": "assistant", "content": None, "tool_calls": [call]},
        },
        {
            "type": "message",
            "message": {"role": "tool", "tool_call_id": "call_2", "content": "ok"},
            "durationMs": "slow",
            "approvalWaitMs": -3,
        },
        {"type": "usage", "usage": {"inputTokens": "many", "outputTokens": 7, "totalTokens": True}},
    ]
    with session.path.open("a", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    loaded = store.load(session.id)
    assert len(loaded.messages) == 7  # nothing lost
    assert len(loaded.warnings) == 1 and "Line 7" in loaded.warnings[0]
    assert "skipped" in loaded.warnings[0]
    assert loaded.message_extras(6) == {"usage": {"outputTokens": 7}}
    updates = loaded.replay_updates()
    last_result = [u for u in updates if u.get("toolCallId") == "call_2"][-1]
    assert last_result["status"] == "completed" and "_meta" not in last_result
    assert updates[-1]["_meta"]["pygent"]["usage"] == {"outputTokens": 7}


def test_replay_marks_tool_calls_without_result_as_failed(store: SessionStore) -> None:
    session = store.create(MODEL)
    session.append({"role": "user", "content": "go"})
    session.append(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c9", "type": "function", "function": {"name": "x", "arguments": "{bad"}}
            ],
        }
    )
    updates = session.replay_updates()
    assert updates[1]["sessionUpdate"] == "tool_call"
    assert updates[1]["rawInput"] == {}
    assert updates[-1]["toolCallId"] == "c9" and updates[-1]["status"] == "failed"


# -- concurrency ------------------------------------------------------------------------------


def test_two_processes_appending_to_one_session_never_interleave(
    store: SessionStore, tmp_path: Path
) -> None:
    session = store.create(MODEL)
    script = tmp_path / "writer.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            from pathlib import Path
            from pygent.agent.session import SessionStore
            store = SessionStore(Path({str(store.workspace_root)!r}))
            s = store.load({session.id!r})
            for i in range(300):
                s.append({{"role": "user", "content": sys.argv[1] + str(i) + "x" * 5000}})
            """
        )
    )
    env = {**os.environ}
    procs = [subprocess.Popen([sys.executable, str(script), tag], env=env) for tag in ("a", "b")]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    loaded = store.load(session.id)
    assert loaded.warnings == []
    assert len(loaded.messages) == 600
    for tag in ("a", "b"):
        mine = [m["content"] for m in loaded.messages if m["content"].startswith(tag)]
        assert [c[: len(c) - 5000] for c in mine] == [f"{tag}{i}" for i in range(300)]
