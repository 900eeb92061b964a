"""``pygent serve`` warns the editor about a workspace that is the home directory and about
directories it cannot write, and keeps working."""

from __future__ import annotations

from pathlib import Path

import pytest
from server_helpers import SERVER_CMD, until, wait

from pygent.client import PygentClient
from pygent.settings import paths
from pygent.settings.writable import dir_variable
from pygent.testing.fake_llm import FakeLLMThread
from unwritable_dirs import METHODS, unwritable


def _shown(client: PygentClient) -> list[dict[str, object]]:
    return [p for m, p in client.notifications if m == "window/showMessage"]


async def test_home_directory_workspace_gets_a_show_message_warning_and_still_works(
    server_env: dict[str, str], fake_llm: FakeLLMThread
) -> None:
    home = Path.home().resolve()  # tests/conftest.py points HOME at a temp directory
    client = PygentClient(SERVER_CMD, root=home, env=server_env)
    await wait(client.start())
    try:
        await wait(
            until(lambda: any("home directory" in str(p["message"]) for p in _shown(client)))
        )
        (warning,) = [p for p in _shown(client) if "home directory" in str(p["message"])]
        assert warning["type"] == 2  # Warning
        assert warning["message"] == (
            f"pygent: The workspace is your home directory ({home}): the agent can read every "
            "file under it and, when allowed, change them. Open a project folder instead "
            "(cd into it and start pygent there)."
        )
        fake_llm.script([{"text": "still here"}])
        session_id = await wait(client.new_session())
        result = await wait(client.prompt(session_id, "hello"))
        assert result["stopReason"] == "end_turn"
    finally:
        await client.close(timeout=30)


async def test_project_workspace_gets_no_broad_workspace_warning(
    server_env: dict[str, str], workspace: Path, fake_llm: FakeLLMThread
) -> None:
    client = PygentClient(SERVER_CMD, root=workspace, env=server_env)
    await wait(client.start())
    try:
        fake_llm.script([{"text": "ok"}])
        session_id = await wait(client.new_session())
        await wait(client.prompt(session_id, "hello"))
        assert not [p for p in _shown(client) if "The workspace is" in str(p["message"])]
    finally:
        await client.close(timeout=30)


@pytest.mark.parametrize("method", METHODS)
async def test_unwritable_data_and_log_directories_are_notices_and_the_server_keeps_working(
    server_env: dict[str, str], workspace: Path, fake_llm: FakeLLMThread, method: str
) -> None:
    env = {k: v for k, v in server_env.items() if k != "PYGENT_LOG_DISABLED"}
    with unwritable(paths.user_data_dir(), method), unwritable(paths.user_log_dir(), method):
        client = PygentClient(SERVER_CMD, root=workspace, env=env)
        await wait(client.start())
        try:
            fake_llm.script([{"text": "still answering"}])
            session_id = await wait(client.new_session())
            result = await wait(client.prompt(session_id, "hello"))
            assert result["stopReason"] == "end_turn"
            listed = await wait(client.request("pygent/session/list", {}))
            assert [s["sessionId"] for s in listed["sessions"]] == [session_id]
            await wait(until(lambda: len(_storage_notices(client)) == 2), 20)
            log, sessions = sorted(_storage_notices(client), key=lambda p: "sessions" in p[1])
            assert log[0] == sessions[0] == 2  # warnings
            assert log[1].startswith(f"pygent: Cannot write the log file {paths.log_file()} (")
            assert "so logging is off" in log[1]
            assert sessions[1].startswith(
                f"pygent: Cannot save sessions in {paths.sessions_dir()} ("
            )
            assert "cannot be resumed later" in sessions[1]
            assert f"Point {dir_variable('data')} at a writable directory" in sessions[1]
        finally:
            await client.close(timeout=30)
    assert fake_llm.requests[-1]["messages"][-1] == {"role": "user", "content": "hello"}


def _storage_notices(client: PygentClient) -> list[tuple[object, str]]:
    return [
        (p["type"], str(p["message"]))
        for p in _shown(client)
        if str(p["message"]).startswith(("pygent: Cannot write", "pygent: Cannot save"))
    ]
