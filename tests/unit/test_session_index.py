"""The sessions index: listing reads only what changed, survives corruption and two writers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pygent.agent.session import SessionStore
from pygent.agent.session.index import INDEX_FILE, SessionIndex

MODEL = "openai/fake-model"


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    root = tmp_path / "project"
    root.mkdir()
    return SessionStore(root)


def _fresh_list(store: SessionStore) -> list[dict[str, object]]:
    """What a listing says when no index exists (the ground truth)."""
    index = store.directory / INDEX_FILE
    saved = index.read_bytes() if index.exists() else None
    index.unlink(missing_ok=True)
    try:
        return [dict(i) for i in store.list()]
    finally:
        if saved is not None:
            index.write_bytes(saved)


def test_listing_writes_an_index_with_what_the_list_shows(store: SessionStore) -> None:
    session = store.create(MODEL)
    session.append({"role": "user", "content": "Fix the parser\nplease"})
    session.append({"role": "assistant", "content": "Done."})
    infos = store.list()
    assert [(i["title"], i["messageCount"], i["model"]) for i in infos] == [
        ("Fix the parser", 2, MODEL)
    ]
    entries = SessionIndex(store.directory).read()
    assert entries[session.id]["messageCount"] == 2
    assert entries[session.id]["size"] == session.path.stat().st_size


def test_an_unchanged_file_is_not_read_again(store: SessionStore) -> None:
    session = store.create(MODEL)
    session.append({"role": "user", "content": "original title"})
    store.list()
    # Same size and mtime but other bytes: only a re-read could notice, and none happens.
    stat = session.path.stat()
    data = session.path.read_bytes().replace(b"original", b"REPLACED")
    session.path.write_bytes(data)
    os.utime(session.path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert store.list()[0]["title"] == "original title"


def test_appended_messages_are_read_incrementally(store: SessionStore) -> None:
    session = store.create(MODEL)
    session.append({"role": "user", "content": "first"})
    assert store.list()[0]["messageCount"] == 1
    scanned = SessionIndex(store.directory).read()[session.id]["size"]
    session.append({"role": "assistant", "content": "second"})
    session.set_meta(title="Renamed")
    session.append({"role": "user", "content": "third"})
    infos = store.list()
    assert (infos[0]["messageCount"], infos[0]["title"]) == (3, "Renamed")
    assert SessionIndex(store.directory).read()[session.id]["size"] > scanned
    assert [dict(i) for i in infos] == _fresh_list(store)


def test_a_compaction_resets_the_count(store: SessionStore) -> None:
    session = store.create(MODEL)
    for n in range(6):
        session.append({"role": "user" if n % 2 == 0 else "assistant", "content": f"m{n}"})
    store.list()
    session.replace_history([{"role": "user", "content": "summary"}])
    session.append({"role": "assistant", "content": "ok"})
    assert store.list()[0]["messageCount"] == 2
    assert [dict(i) for i in store.list()] == _fresh_list(store)


def test_a_half_written_last_line_is_counted_once_complete(store: SessionStore) -> None:
    session = store.create(MODEL)
    session.append({"role": "user", "content": "one"})
    line = json.dumps({"type": "message", "message": {"role": "assistant", "content": "two"}})
    with open(session.path, "ab") as handle:
        handle.write(line[:20].encode())
    assert store.list()[0]["messageCount"] == 1
    with open(session.path, "ab") as handle:
        handle.write(line[20:].encode() + b"\n")
    assert store.list()[0]["messageCount"] == 2


@pytest.mark.parametrize(
    "bad",
    [b"", b"{not json", b"[1, 2]", b'{"version": 99, "sessions": {}}', b'{"version": 1}'],
)
def test_a_missing_corrupt_or_foreign_index_is_rebuilt(store: SessionStore, bad: bytes) -> None:
    for title in ("a", "b", "c"):
        store.create(MODEL).append({"role": "user", "content": title})
    expected = _fresh_list(store)
    (store.directory / INDEX_FILE).write_bytes(bad)
    assert [dict(i) for i in store.list()] == expected
    assert len(SessionIndex(store.directory).read()) == 3  # rewritten, valid again


def test_deleted_and_foreign_files_leave_the_list(store: SessionStore) -> None:
    keep = store.create(MODEL)
    gone = store.create(MODEL)
    store.list()
    store.delete(gone.id)
    assert gone.id not in SessionIndex(store.directory).read()
    (store.directory / "notes.jsonl").write_text("{}\n", encoding="utf-8")
    assert [i["sessionId"] for i in store.list()] == [keep.id]
    keep.path.unlink()  # removed behind our back
    assert store.list() == []
    assert SessionIndex(store.directory).read() == {}


def test_two_stores_on_one_workspace_stay_correct(store: SessionStore) -> None:
    other = SessionStore(store.workspace_root)  # a second server on the same workspace
    errors: list[BaseException] = []

    def writer(s: SessionStore, tag: str) -> None:
        try:
            for n in range(15):
                session = s.create(MODEL)
                session.append({"role": "user", "content": f"{tag} {n}"})
                s.list()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=writer, args=(s, t)) for s, t in ((store, "a"), (other, "b"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    listed = [dict(i) for i in store.list()]
    assert len(listed) == 30
    assert listed == _fresh_list(store) == [dict(i) for i in other.list()]


def test_two_processes_listing_and_writing_never_break_the_index(store: SessionStore) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from pygent.agent.session import SessionStore\n"
        "s = SessionStore(Path(sys.argv[1]))\n"
        "for n in range(20):\n"
        "    s.create('m').append({'role': 'user', 'content': f'{sys.argv[2]} {n}'})\n"
        "    s.list()\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(store.workspace_root), tag])
        for tag in ("x", "y")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    json.loads((store.directory / INDEX_FILE).read_bytes())  # never half-written
    listed = store.list()
    assert len(listed) == 40
    assert sorted(i["title"] for i in listed) == sorted(
        f"{t} {n}" for t in ("x", "y") for n in range(20)
    )
    assert not list(store.directory.glob(".index-*"))  # no temporary files left behind
