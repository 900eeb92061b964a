"""``update_plan``: the plan reaches the frontend as ACP's ``plan`` update; bad plans are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _tool_testkit import make_ctx, registry_of

from pygent.tools.base import dispatch
from pygent.tools.plan import MAX_ENTRIES, update_plan


async def _run(tmp_path: Path, arguments: Any) -> tuple[Any, list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []
    ctx = make_ctx(tmp_path)
    ctx.tool_call_id = "call_plan"
    ctx.emit = sent.append
    result = await dispatch(registry_of(update_plan), "update_plan", arguments, ctx)
    return result, sent


async def test_update_plan_sends_the_whole_plan_as_a_plan_update(tmp_path: Path) -> None:
    entries = [
        {"content": "Read the code", "status": "completed"},
        {"content": "Fix the bug", "status": "in_progress", "priority": "high"},
        {"content": "Run the tests"},
    ]
    result, sent = await _run(tmp_path, {"entries": entries})
    assert not result.is_error, result.text
    assert sent == [
        {
            "sessionUpdate": "plan",
            "entries": [
                {"content": "Read the code", "status": "completed", "priority": "medium"},
                {"content": "Fix the bug", "status": "in_progress", "priority": "high"},
                {"content": "Run the tests", "status": "pending", "priority": "medium"},
            ],
        }
    ]
    assert "1/3 done" in result.text
    assert "[x] Read the code" in result.text and "[>] Fix the bug" in result.text


async def test_update_plan_refuses_an_empty_plan_and_sends_nothing(tmp_path: Path) -> None:
    result, sent = await _run(tmp_path, {"entries": []})
    assert result.is_error and "empty" in result.text
    assert sent == []


async def test_update_plan_refuses_too_many_steps(tmp_path: Path) -> None:
    entries = [{"content": f"step {i}"} for i in range(MAX_ENTRIES + 1)]
    result, sent = await _run(tmp_path, {"entries": entries})
    assert result.is_error and f"{MAX_ENTRIES} or fewer" in result.text
    assert sent == []


async def test_update_plan_names_an_unknown_status(tmp_path: Path) -> None:
    result, sent = await _run(tmp_path, {"entries": [{"content": "x", "status": "done"}]})
    assert result.is_error
    assert "entries.0.status" in result.text
    assert sent == []
