"""``pygent chat`` started in the home directory shows the server's broad-workspace warning."""

from __future__ import annotations

from pathlib import Path

from tui_helpers import wait_for

from pygent.testing.fake_llm import FakeLLMThread
from pygent.tui.app import PygentApp


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
