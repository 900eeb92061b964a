"""Warnings a person must see reach ACP clients too: an unwritable home, a too-broad workspace.

ACP has no message method, so each arrives as a notice on the new session's updates
(``session_info_update`` with ``_meta.pygent.notice``, schema-valid), after the answer that
created the session; the session works as usual.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from acp_helpers import RawAgent, schema_problems

from pygent.settings import paths
from unwritable_dirs import METHODS, unwritable

Start = Callable[..., Awaitable[RawAgent]]


async def _notices_after_new_session(agent: RawAgent, cwd: Path) -> tuple[str, list[str]]:
    """Create a session at ``cwd``; its id and the notices sent before a later request's answer."""
    await agent.initialize()
    answer = await agent.request("session/new", {"cwd": str(cwd), "mcpServers": []}, 1)
    session_id = answer["result"]["sessionId"]
    # Another request: every notice queued for the new session is out before its answer.
    await agent.request("session/list", {}, 2)
    notices = [
        m["params"]["update"]["_meta"]["pygent"]["notice"]["message"]
        for m in agent.received
        if m.get("method") == "session/update"
        and m["params"]["sessionId"] == session_id
        and "notice" in (m["params"]["update"].get("_meta") or {}).get("pygent", {})
    ]
    assert schema_problems(agent.received) == []
    return session_id, notices


async def test_home_directory_as_workspace_is_warned_about(make_raw: Start) -> None:
    home = Path.home().resolve()  # the isolated test home
    agent = await make_raw()
    _, notices = await _notices_after_new_session(agent, home)
    assert any("your home directory" in n for n in notices), notices


async def test_a_project_directory_gets_no_warning(make_raw: Start, workspace: Path) -> None:
    agent = await make_raw()
    _, notices = await _notices_after_new_session(agent, workspace)
    assert notices == []


@pytest.mark.parametrize("method", METHODS)
async def test_unwritable_data_directory_is_warned_about_and_sessions_still_work(
    make_raw: Start, workspace: Path, method: str
) -> None:
    with unwritable(paths.user_data_dir(), method):
        agent = await make_raw()
        session_id, notices = await _notices_after_new_session(agent, workspace)
        listed: dict[str, Any] = await agent.request("session/list", {"cwd": str(workspace)}, 3)
    assert any(f"Cannot save sessions in {paths.sessions_dir()}" in n for n in notices), notices
    assert [s["sessionId"] for s in listed["result"]["sessions"]] == [session_id]
