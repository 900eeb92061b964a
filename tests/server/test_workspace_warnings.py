"""``pygent serve`` opened on the home directory warns the editor, and keeps working."""

from __future__ import annotations

from pathlib import Path

from server_helpers import SERVER_CMD, until, wait

from pygent.client import PygentClient
from pygent.testing.fake_llm import FakeLLMThread


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
