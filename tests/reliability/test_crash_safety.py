"""Crash safety: SIGKILL at random points of turns that edit files, run shell and write the session.

Every round starts a real server on the same workspace and session, prompts a turn whose model
overwrites a 1 MB file, runs a shell command and edits ``util.py``, and SIGKILLs the server after
a random number of the turn's updates (kills land before, during and after each step). After
each kill:

* the session loads, with at most the last (partial) line skipped, and a warning saying so;
* every file holds exactly an old or a new version, never a mix;
* nothing left behind blocks the next round: the next server continues the same session.

Temp files a kill leaves (``.name.XXXX.tmp``, hidden) are counted and reported, not hidden.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from reliability_helpers import Server, server_env, text_prompt

from pygent.agent.session import SessionStore
from pygent.testing.fake_llm import FakeLLMThread

BIG = "big.txt"


def _big_version(n: int) -> str:
    return "".join(f"version {n} line {i:06d}\n" for i in range(40_000))  # ~1 MB


def _script(round_no: int, util_text: str) -> list[dict[str, object]]:
    last_line = util_text.rstrip("\n").splitlines()[-1]
    return [
        {
            "text": f"Round {round_no}: rewriting.",
            "chunk_size": 65536,  # the 1 MB argument in 16 events, not 250,000
            "tool_calls": [
                {
                    "name": "create_file",
                    "arguments": {
                        "path": BIG,
                        "content": _big_version(round_no),
                        "overwrite": True,
                    },
                }
            ],
        },
        {"tool_calls": [{"name": "shell", "arguments": {"command": f"echo round {round_no}"}}]},
        {
            "tool_calls": [
                {
                    "name": "edit_file",
                    "arguments": {
                        "path": "util.py",
                        "old_string": last_line,
                        "new_string": f"{last_line}\n# round {round_no}",
                    },
                }
            ]
        },
        {"text": f"Round {round_no} done."},
    ]


def _crash_rounds(
    workspace: Path, fake_llm: FakeLLMThread, rounds: int, seed: int
) -> dict[str, int]:
    rng = random.Random(seed)
    env = server_env(fake_llm.base_url, PYGENT_PERMISSION_MODE="auto")
    store = SessionStore(workspace)
    big_versions = {""}
    (workspace / BIG).write_text("")
    util_versions = {(workspace / "util.py").read_text()}
    session_id: str | None = None
    stats = {"kills": 0, "partial_lines": 0, "temp_files": 0, "finished_turns": 0, "big_new": 0}
    for round_no in range(1, rounds + 1):
        util_before = (workspace / "util.py").read_text()
        big_versions.add(_big_version(round_no))
        util_versions.add(f"{util_before.rstrip(chr(10))}\n# round {round_no}\n")
        fake_llm.script(_script(round_no, util_before))
        server = Server(workspace, env)
        try:
            server.initialize()
            if session_id is None:
                session_id = server.call("pygent/session/new", {})["result"]["sessionId"]
            prompt_id = server.request(
                "pygent/session/prompt",
                {"sessionId": session_id, "prompt": text_prompt(f"round {round_no}")},
            )
            # Kill after a random number of updates: before, during or after each tool call,
            # and sometimes after the turn ended (a whole turn sends about 14 updates).
            kill_after = rng.randint(1, 16)
            server.wait_for(
                lambda srv=server, sid=session_id, n=kill_after, pid=prompt_id: (  # type: ignore[misc]
                    len(srv.updates(sid)) >= n or any(m.get("id") == pid for m in srv.messages)
                )
            )
        finally:
            server.kill()
        stats["kills"] += 1
        if any(m.get("id") == prompt_id and "result" in m for m in list(server.messages)):
            stats["finished_turns"] += 1
        # The session loads: at most the cut-off last line is skipped, with a warning.
        loaded = store.load(session_id)
        assert len(loaded.warnings) <= 1, loaded.warnings
        stats["partial_lines"] += len(loaded.warnings)
        # Files are whole: an old or a new version, never a mix.
        assert (workspace / BIG).read_text() in big_versions
        stats["big_new"] += (workspace / BIG).read_text() == _big_version(round_no)
        assert (workspace / "util.py").read_text() in util_versions
        temps = [p for p in workspace.iterdir() if p.name.endswith(".tmp")]
        stats["temp_files"] += len(temps)
        assert all(p.name.startswith(".") for p in temps)
        print(f"round {round_no}: {stats}", flush=True)
    # Nothing left blocks the next run: a fresh server finishes a turn on the same session.
    assert session_id is not None
    fake_llm.script([{"text": "after the crashes"}])
    server = Server(workspace, env)
    try:
        server.initialize()
        answer = server.call(
            "pygent/session/prompt", {"sessionId": session_id, "prompt": text_prompt("still ok?")}
        )
        assert answer.get("result", {}).get("stopReason") == "end_turn", answer
        assert server.garbage == []
        assert server.close() == 0
    finally:
        if server.alive:
            server.kill()
    final = store.load(session_id)
    assert "after the crashes" in str(final.messages[-1].get("content"))
    print(f"\ncrash safety: {stats}")
    return stats


def test_sigkill_at_random_points_leaves_whole_files_and_loadable_session(
    workspace: Path, fake_llm: FakeLLMThread
) -> None:
    stats = _crash_rounds(workspace, fake_llm, rounds=3, seed=14)
    assert stats["kills"] == 3


@pytest.mark.fuzz
@pytest.mark.timeout(5400)
def test_sigkill_100_times_long_profile(workspace: Path, fake_llm: FakeLLMThread) -> None:
    stats = _crash_rounds(workspace, fake_llm, rounds=100, seed=1414)
    assert stats["kills"] == 100
