"""Soak: hundreds of turns with tools and edits in one server; resources must stop growing.

Every turn asks permission for a file write, writes it, runs a shell command and reads a file.
A new session starts every :data:`TURNS_PER_SESSION` turns (as a person would), so a history
that grows cannot be mistaken for a leak. The server's RSS, open file descriptors, threads and
child processes are sampled from ``/proc`` and printed as a table (``-s``).

The default run is short (a leak of a descriptor or a child per turn still shows); ``-m fuzz``
runs 500 turns for the report.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_helpers import Server, session_new, text_prompt

from pygent.testing.fake_llm import FakeLLMThread

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="samples the server from /proc"
)

TURNS_PER_SESSION = 50

SCRIPT = [
    {
        "match": "soak turn",
        "respond": {
            "text": "Working.",
            "tool_calls": [
                {
                    "name": "create_file",
                    "arguments": {"path": "soak.txt", "content": "x\n" * 500, "overwrite": True},
                },
                {"name": "shell", "arguments": {"command": "echo soak"}},
                {"name": "read_file", "arguments": {"path": "util.py"}},
            ],
        },
    },
    {"after_tool": ".", "respond": {"text": "soak turn done"}},
]


def sample(pid: int) -> dict[str, int]:
    """RSS (KiB), open fds, threads and live children of ``pid``."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    children = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        after = stat.rsplit(")", 1)[-1].split()
        if int(after[1]) == pid and after[0] != "Z":
            children += 1
    return {
        "rss_kib": int(fields["VmRSS"].split()[0]),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "threads": int(fields["Threads"].strip()),
        "children": children,
    }


def _soak(
    start_server: Callable[..., Server], fake_llm: FakeLLMThread, turns: int, every: int
) -> list[tuple[int, dict[str, int]]]:
    fake_llm.script(SCRIPT)
    server = start_server()
    pid = server.process.pid
    rows: list[tuple[int, dict[str, int]]] = []
    session_id = ""
    for turn in range(1, turns + 1):
        if (turn - 1) % TURNS_PER_SESSION == 0:
            session_id = session_new(server)
        answer = server.call(
            "pygent/session/prompt",
            {"sessionId": session_id, "prompt": text_prompt(f"soak turn {turn}")},
        )
        assert answer.get("result", {}).get("stopReason") == "end_turn", answer
        if turn % every == 0 or turn == 1:
            rows.append((turn, sample(pid)))
    assert server.garbage == []
    print("\n| turns | RSS (MiB) | open fds | threads | children |")
    print("|---:|---:|---:|---:|---:|")
    for turn, row in rows:
        print(
            f"| {turn} | {row['rss_kib'] / 1024:.1f} | {row['fds']} | {row['threads']} "
            f"| {row['children']} |"
        )
    assert server.close() == 0
    return rows


def _assert_flat(rows: list[tuple[int, dict[str, int]]]) -> None:
    # After warm-up (a fifth of the run), descriptors and threads stay put and no child lingers.
    warm = rows[max(1, len(rows) // 5)][1]
    last = rows[-1][1]
    assert last["fds"] - warm["fds"] <= 8, rows
    assert last["threads"] - warm["threads"] <= 4, rows
    assert all(row["children"] == 0 for _, row in rows), rows


def test_soak_short_leaks_no_descriptor_thread_or_child(
    start_server: Callable[..., Server], fake_llm: FakeLLMThread
) -> None:
    _assert_flat(_soak(start_server, fake_llm, turns=20, every=5))


@pytest.mark.fuzz
@pytest.mark.timeout(5400)
def test_soak_500_turns_long_profile(
    start_server: Callable[..., Server], fake_llm: FakeLLMThread
) -> None:
    rows = _soak(start_server, fake_llm, turns=500, every=50)
    _assert_flat(rows)
    # Memory flattens: the second half grows less than the first half did (plus 16 MiB slack).
    mid = rows[len(rows) // 2][1]["rss_kib"]
    first, last = rows[1][1]["rss_kib"], rows[-1][1]["rss_kib"]
    assert last - mid <= max(mid - first, 0) + 16 * 1024, rows
