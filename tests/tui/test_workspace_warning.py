"""``pygent chat`` shows the server's warnings about a broad workspace and unwritable directories."""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_helpers import wait_for

from pygent.settings import paths
from pygent.testing.fake_llm import FakeLLMThread
from pygent.tui.app import PygentApp
from pygent.tui.widgets.message import ErrorMessage
from unwritable_dirs import METHODS, unwritable


def _notices(app: PygentApp) -> list[tuple[str, str]]:
    return [(n.message, n.severity) for n in app._notifications]


async def test_chat_in_the_home_directory_shows_the_workspace_warning(
    server_env: FakeLLMThread,
) -> None:
    home = Path.home().resolve()  # tests/conftest.py points HOME at a temp directory
    app = PygentApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.session_id, what="a session")
        found = await wait_for(
            pilot,
            lambda: [n for n in _notices(app) if "home directory" in n[0]],
            what="the broad-workspace warning",
        )
        message, severity = found[0]
        assert severity == "warning"
        assert message.startswith(f"pygent: The workspace is your home directory ({home})")
        assert "Open a project folder instead" in message


@pytest.mark.parametrize("method", METHODS)
async def test_chat_with_unwritable_data_and_log_directories_warns_and_still_chats(
    server_env: FakeLLMThread, workspace: Path, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    monkeypatch.delenv("PYGENT_LOG_DISABLED", raising=False)
    server_env.script([{"text": "still here"}])
    with unwritable(paths.user_data_dir(), method), unwritable(paths.user_log_dir(), method):
        app = PygentApp(workspace)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.session_id, what="a session")
            await wait_for(
                pilot,
                lambda: len([n for n in _notices(app) if "Cannot " in n[0]]) == 2,
                what="both storage warnings",
            )
            notices = [n for n in _notices(app) if "Cannot " in n[0]]
            assert all(severity == "warning" for _, severity in notices)
            texts = " ".join(message for message, _ in notices)
            assert f"Cannot write the log file {paths.log_file()}" in texts
            assert f"Cannot save sessions in {paths.sessions_dir()}" in texts
            app.input_box.text = "hello"
            app.input_box.focus()
            await pilot.press("enter")
            await wait_for(
                pilot, lambda: "still here" in app.conversation.answer_text(), what="the answer"
            )
            assert not app.conversation.query(ErrorMessage)
    assert server_env.requests[-1]["messages"][-1] == {"role": "user", "content": "hello"}
