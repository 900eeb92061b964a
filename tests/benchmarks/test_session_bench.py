"""Benchmark: loading a 1,000-message session (target < 50 ms, reported) and listing sessions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _budget import report_budget

from pygent.agent.session import SessionStore


def _fill(store: SessionStore, messages: int) -> str:
    session = store.create("openai/fake-model")
    for i in range(messages // 4):
        session.append({"role": "user", "content": f"Question {i}: " + "words " * 40})
        session.append(
            {
                "role": "assistant",
                "content": "Let me check.",
                "tool_calls": [
                    {
                        "id": f"call_{i}",
                        "type": "function",
                        "function": {"name": "read_file", "arguments": '{"path": "src/app.py"}'},
                    }
                ],
            }
        )
        session.append(
            {"role": "tool", "tool_call_id": f"call_{i}", "content": "line of code\n" * 60}
        )
        session.append({"role": "assistant", "content": "Here is the answer. " * 30})
    return session.id


def test_load_1000_message_session(benchmark: Any, tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    session_id = _fill(store, 1000)
    loaded = benchmark(store.load, session_id)
    assert len(loaded.messages) == 1000
    # min is the cost without contention from other processes.
    report_budget(
        benchmark, "load 1,000-message session", benchmark.stats.stats.min, 0.050, what="min"
    )


def test_list_50_sessions_uncached(benchmark: Any, tmp_path: Path) -> None:

    store = SessionStore(tmp_path)
    for _ in range(50):
        _fill(store, 40)

    def list_uncached() -> int:
        (store.directory / "index.json").unlink(missing_ok=True)
        return len(store.list())

    assert benchmark(list_uncached) == 50
