"""Plugin slash commands over the protocol (``pygent/commands/list`` and ``/run``) on a real
``pygent serve``, with a test plugin found through its entry point."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp_helpers import install_test_plugin
from run_helpers import make_repo, pygent_env

from pygent.client import PygentClient, PygentClientError
from pygent.testing.fake_llm import FakeLLMThread

pytestmark = pytest.mark.slow


@pytest.fixture
async def client(tmp_path: Path, fake_llm: FakeLLMThread) -> AsyncIterator[PygentClient]:
    site = install_test_plugin(tmp_path / "site")
    env = pygent_env(fake_llm.base_url)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH")) if p)
    repo = make_repo(tmp_path / "repo")
    client = PygentClient([sys.executable, "-m", "pygent", "serve"], root=repo, env=env)
    await asyncio.wait_for(client.start(), 120)
    try:
        yield client
    finally:
        await client.close(timeout=60)


async def run(client: PygentClient, session: str, name: str, args: object = "") -> object:
    return await asyncio.wait_for(
        client.request("pygent/commands/run", {"sessionId": session, "name": name, "args": args}),
        60,
    )


async def test_commands_list_names_each_command_with_its_help_and_plugin(
    client: PygentClient,
) -> None:
    session = await client.new_session()
    answer = await client.request("pygent/commands/list", {"sessionId": session})
    assert answer["commands"] == [
        {"name": "boom", "help": "Always fails.", "source": "testcmds"},
        {"name": "legacy", "help": "A handler without context.", "source": "testcmds"},
        {"name": "number", "help": "Returns a number, not text.", "source": "testcmds"},
        {"name": "shout", "help": "Shout the text back.", "source": "testcmds"},
    ]
    methods = client.server_capabilities["experimental"]["pygent"]["methods"]
    assert {"pygent/commands/list", "pygent/commands/run", "pygent/mcp/list"} <= set(methods)


async def test_command_handler_gets_args_and_the_session_context(
    client: PygentClient, fake_llm: FakeLLMThread
) -> None:
    session = await client.new_session()
    answer = await run(client, session, "shout", "hello there")
    text = answer["text"]  # type: ignore[index]
    assert text.startswith("**HELLO THERE** (session " + session)
    assert f"cwd {client.root.resolve()}" in text
    assert "/shout of testcmds, model openai/fake-model" in text
    legacy = await run(client, session, "/legacy", "x y")
    assert legacy == {"text": "legacy got 'x y'"}


async def test_a_raising_handler_is_a_clear_error_and_the_server_goes_on(
    client: PygentClient,
) -> None:
    session = await client.new_session()
    with pytest.raises(PygentClientError) as caught:
        await run(client, session, "boom", "now")
    message = str(caught.value)
    assert "The command /boom of the plugin 'testcmds' failed: ValueError: kaboom now." in message
    assert caught.value.data["hint"].startswith("The plugin has a bug")
    with pytest.raises(PygentClientError) as caught:
        await run(client, session, "number")
    assert "/number returned int, not text" in str(caught.value)
    assert (await run(client, session, "shout", "still here"))["text"].startswith(  # type: ignore[index]
        "**STILL HERE**"
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"name": "nope"},
            "No plugin command /nope. Plugin commands: /boom, /legacy, /number, /shout",
        ),
        ({"name": ""}, "name: must be the command's name"),
        ({"name": "shout", "args": ["a"]}, "args: must be a string (the text after /shout)"),
        ({"sessionId": "", "name": "shout"}, "sessionId: must be a non-empty string"),
    ],
)
async def test_bad_command_requests_are_refused_clearly(
    client: PygentClient, params: dict[str, object], message: str
) -> None:
    session = await client.new_session()
    with pytest.raises(PygentClientError) as caught:
        await client.request("pygent/commands/run", {"sessionId": session, **params})
    assert caught.value.code == -32602
    assert message in str(caught.value)
