"""Editor-given MCP servers and trust questions through a real ``pygent serve``.

The editor passes ``mcpServers`` (ACP's shape) in ``pygent/session/new``; their tools are in the
session's first model request. A project's untrusted servers are asked about with a permission
request, even in ``auto`` mode; the answer is remembered as ``pygent mcp trust`` remembers it.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from mcp_helpers import STDIO_SERVER, stdio_table, toml_table, user_config
from run_helpers import call, make_repo, pygent_env

from pygent.client import PygentClient, PygentClientError
from pygent.testing.fake_llm import FakeLLMThread

pytestmark = pytest.mark.slow

Answer = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def editor_stdio(name: str, marker: str) -> dict[str, Any]:
    """An ACP stdio server entry that starts the test server with MARKER set."""
    return {
        "name": name,
        "command": sys.executable,
        "args": [str(STDIO_SERVER)],
        "env": [{"name": "MARKER", "value": marker}],
    }


def offered_tools(request: dict[str, Any]) -> set[str]:
    return {t["function"]["name"] for t in request.get("tools") or []}


def tool_results(fake: FakeLLMThread) -> list[str]:
    return [m["content"] for m in fake.requests[-1]["messages"] if m.get("role") == "tool"]


class Serve:
    """A running ``pygent serve`` and what its editor was asked."""

    def __init__(self, client: PygentClient, asked: list[dict[str, Any]]) -> None:
        self.client = client
        self.asked = asked

    async def new(self, servers: list[dict[str, Any]] | None = None) -> str:
        params: dict[str, Any] = {}
        if servers is not None:
            params["mcpServers"] = servers
        result = await asyncio.wait_for(self.client.request("pygent/session/new", params), 60)
        return str(result["sessionId"])

    async def prompt(self, session: str, text: str = "go") -> dict[str, Any]:
        return await asyncio.wait_for(self.client.prompt(session, text), 180)


@pytest.fixture
async def serve(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> AsyncIterator[Callable[..., Awaitable[Serve]]]:
    clients: list[PygentClient] = []

    async def start(repo: Path, answer: Answer | None = None) -> Serve:
        asked: list[dict[str, Any]] = []

        async def default(params: dict[str, Any]) -> dict[str, Any]:
            return {"outcome": {"outcome": "selected", "optionId": "allow_once"}}

        async def record(params: dict[str, Any]) -> dict[str, Any]:
            asked.append(params)
            return await (answer or default)(params)

        client = PygentClient(
            [sys.executable, "-m", "pygent", "serve"],
            root=repo,
            env=pygent_env(fake_llm.base_url),
            request_permission=record,
        )
        clients.append(client)
        await asyncio.wait_for(client.start(), 120)
        return Serve(client, asked)

    yield start
    for client in clients:
        await client.close(timeout=60)


def trust_questions(asked: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in asked if p["toolCall"]["toolCallId"].startswith("mcp-trust-")]


async def test_editor_server_tools_are_in_the_first_request_and_run_with_the_editor_env(
    tmp_path: Path, fake_llm: FakeLLMThread, serve: Callable[..., Awaitable[Serve]]
) -> None:
    repo = make_repo(tmp_path / "repo")
    fake_llm.script(
        [{"tool_calls": [call("mcp__ed__echo", text="hi")]}, {"text": "done"}],
    )
    server = await serve(repo)
    session = await server.new([editor_stdio("ed", "from-editor")])
    result = await server.prompt(session)
    assert result["stopReason"] == "end_turn"
    assert {"mcp__ed__echo", "mcp__ed__add"} <= offered_tools(fake_llm.requests[0])
    (output,) = tool_results(fake_llm)
    assert "echo: hi (marker=from-editor" in output
    assert not trust_questions(server.asked)  # the editor's servers are trusted as given

    # Another session of the same server without them does not see their tools.
    fake_llm.script([{"text": "plain"}])
    other = await server.new()
    await server.prompt(other)
    assert not any(name.startswith("mcp__") for name in offered_tools(fake_llm.requests[-1]))


async def test_editor_http_and_sse_servers_get_their_headers(
    tmp_path: Path,
    fake_llm: FakeLLMThread,
    serve: Callable[..., Awaitable[Serve]],
    http_server: str,
    sse_server: str,
) -> None:
    repo = make_repo(tmp_path / "repo")
    fake_llm.script(
        [
            {"tool_calls": [call("mcp__web__token"), call("mcp__old__shout", text="hey")]},
            {"text": "ok"},
        ]
    )
    server = await serve(repo)
    auth = [{"name": "Authorization", "value": "Bearer ${NOT_EXPANDED}"}]
    session = await server.new(
        [
            {"type": "http", "name": "web", "url": http_server, "headers": auth},
            {"type": "sse", "name": "old", "url": sse_server},  # headers may be left out
        ]
    )
    await server.prompt(session)
    # Values from the editor are used as given: no ${VAR} expansion.
    assert tool_results(fake_llm) == ["authorization=Bearer ${NOT_EXPANDED}", "HEY!"]
    listed = await server.client.request("pygent/mcp/list", {"sessionId": session})
    by_name = {s["name"]: s for s in listed["servers"]}
    assert by_name["old"]["transport"] == "sse" and by_name["old"]["state"] == "running"
    assert "shout" in {t["name"] for t in by_name["old"]["tools"]}


async def test_editor_server_replaces_a_configured_server_of_the_same_name(
    tmp_path: Path, fake_llm: FakeLLMThread, serve: Callable[..., Awaitable[Serve]]
) -> None:
    repo = make_repo(tmp_path / "repo")
    user_config(toml_table("demo", stdio_table(env={"MARKER": "from-config"})))
    fake_llm.script([{"tool_calls": [call("mcp__demo__echo", text="x")]}, {"text": "ok"}])
    server = await serve(repo)
    session = await server.new([editor_stdio("demo", "from-editor")])
    await server.prompt(session)
    (output,) = tool_results(fake_llm)
    assert "marker=from-editor" in output
    listed = await server.client.request("pygent/mcp/list", {"sessionId": session})
    (demo,) = [s for s in listed["servers"] if s["name"] == "demo"]
    assert demo["source"] == "editor" and demo["state"] == "running"


@pytest.mark.parametrize(
    ("servers", "message"),
    [
        ({"name": "x"}, "mcpServers: must be a list of servers, got an object"),
        (["npx"], "mcpServers[0]: must be an object with a name, got a string"),
        ([{"command": "npx"}], "mcpServers[0].name: must be a non-empty string"),
        ([{"name": "a", "args": []}], "mcpServers[0] ('a').command: must be a non-empty string"),
        (
            [{"name": "a", "command": "x", "args": ["ok", 3]}],
            "mcpServers[0] ('a').args: must be a list of strings",
        ),
        (
            [{"name": "a", "command": "x", "env": {"K": "v"}}],
            "mcpServers[0] ('a').env: must be a list of",
        ),
        (
            [{"name": "a", "command": "x", "env": [{"name": "K"}]}],
            "mcpServers[0] ('a').env[0].value: must be a string, got null",
        ),
        (
            [{"name": "ok", "command": "x"}, {"type": "http", "name": "b", "url": "ftp://h"}],
            "mcpServers[1] ('b').url: must be an http:// or https:// URL, got 'ftp://h'",
        ),
        (
            [{"type": "sse", "name": "b", "url": "http://h", "headers": [{"value": "v"}]}],
            "mcpServers[0] ('b').headers[0].name: must be a non-empty string",
        ),
        (
            [{"type": "ws", "name": "b", "url": "http://h"}],
            "mcpServers[0] ('b').type: 'ws' is not one of stdio, http, sse",
        ),
        (
            [{"name": "a", "command": "x"}, {"name": "a", "command": "y"}],
            "mcpServers[1] ('a').name: is given twice",
        ),
    ],
)
async def test_invalid_editor_servers_are_refused_naming_entry_and_field_and_serve_goes_on(
    tmp_path: Path,
    fake_llm: FakeLLMThread,
    serve: Callable[..., Awaitable[Serve]],
    servers: Any,
    message: str,
) -> None:
    repo = make_repo(tmp_path / "repo")
    server = await serve(repo)
    with pytest.raises(PygentClientError) as caught:
        await server.client.request("pygent/session/new", {"mcpServers": servers})
    assert caught.value.code == -32602
    assert message in str(caught.value)
    sessions = await server.client.list_sessions()
    assert sessions == []  # nothing was created for the refused request
    assert await server.new([])  # still serving


def _project(repo: Path, text: str) -> None:
    (repo / ".pygent").mkdir(exist_ok=True)
    (repo / ".pygent" / "config.toml").write_text(text, encoding="utf-8")


def _trust_file() -> dict[str, Any]:
    from pygent.mcp.trust import trust_file

    path = trust_file()
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


async def test_untrusted_project_servers_are_asked_about_even_in_auto_mode_and_trust_is_kept(
    tmp_path: Path, fake_llm: FakeLLMThread, serve: Callable[..., Awaitable[Serve]]
) -> None:
    repo = make_repo(tmp_path / "repo")
    # The project tries to get its server started unasked: auto mode, nothing else.
    _project(
        repo,
        '[permissions]\nmode = "auto"\n\n'
        + toml_table("proj", stdio_table("--bad-schema", env={"MARKER": "p"})),
    )

    async def trust(params: dict[str, Any]) -> dict[str, Any]:
        return {"outcome": {"outcome": "selected", "optionId": "mcp_trust"}}

    fake_llm.script([{"tool_calls": [call("mcp__proj__echo", text="t")]}, {"text": "ok"}])
    server = await serve(repo, trust)
    session = await server.new()
    await server.prompt(session)
    (question,) = trust_questions(server.asked)
    tool = question["toolCall"]
    assert tool["kind"] == "execute"
    assert str(repo.resolve()) in tool["title"]
    text = tool["content"][0]["content"]["text"]
    assert f"{sys.executable} {STDIO_SERVER} --bad-schema" in text
    assert f"in {repo.resolve()}" in text  # the cwd
    assert [o["name"] for o in question["options"]] == ["Trust and start", "Don't start"]
    assert tool["rawInput"]["servers"][0]["args"] == [str(STDIO_SERVER), "--bad-schema"]
    assert "mcp__proj__echo" in offered_tools(fake_llm.requests[0])
    assert "marker=p" in tool_results(fake_llm)[0]
    recorded = _trust_file()["workspaces"][str(repo.resolve())]
    assert recorded["servers"] == ["proj"]

    # A new server process does not ask again: the trust was recorded like `pygent mcp trust`.
    fake_llm.script([{"text": "again"}])
    second = await serve(repo, trust)
    await second.prompt(await second.new())
    assert trust_questions(second.asked) == []
    assert "mcp__proj__echo" in offered_tools(fake_llm.requests[-1])

    # A changed list asks again.
    _project(
        repo,
        '[permissions]\nmode = "auto"\n\n'
        + toml_table("proj", stdio_table("--bad-schema", env={"MARKER": "changed"})),
    )
    fake_llm.script([{"text": "third"}])
    third = await serve(repo, trust)
    await third.prompt(await third.new())
    assert len(trust_questions(third.asked)) == 1


async def test_refusing_project_servers_skips_them_and_does_not_ask_again_in_that_process(
    tmp_path: Path, fake_llm: FakeLLMThread, serve: Callable[..., Awaitable[Serve]]
) -> None:
    repo = make_repo(tmp_path / "repo")
    started = tmp_path / "started"
    _project(repo, toml_table("proj", stdio_table(env={"STARTED_FILE": str(started)})))

    async def refuse(params: dict[str, Any]) -> dict[str, Any]:
        return {"outcome": {"outcome": "selected", "optionId": "mcp_dont_start"}}

    fake_llm.script([{"text": "one"}, {"text": "two"}, {"text": "three"}])
    server = await serve(repo, refuse)
    session = await server.new()
    updates: list[dict[str, Any]] = []
    async with server.client.stream(session) as stream:
        async for params in stream.until(server.prompt(session)):
            updates.append(params["update"])
    await server.prompt(await server.new())  # another session of the same process
    await server.prompt(session)
    assert len(trust_questions(server.asked)) == 1
    assert not started.exists()  # never started
    assert all(
        not any(name.startswith("mcp__") for name in offered_tools(r)) for r in fake_llm.requests
    )
    notices = json.dumps(updates)
    assert "you chose not to start them" in notices
    listed = await server.client.request("pygent/mcp/list", {"sessionId": session})
    (proj,) = listed["servers"]
    assert proj["state"] == "untrusted" and proj["source"] == "project"
    assert "chose not to start" in proj["error"]
    assert _trust_file() == {}  # a refusal is not recorded


PROBE = """
import asyncio, sys
from pathlib import Path
from pygent.agent.headless import HeadlessPort
from pygent.agent.loop import Agent
from pygent.agent.session import SessionStore
from pygent.server.protocol import validate_params
from pygent.settings.loader import load_settings
from pygent.tools.workspace import Workspace

root = Path(sys.argv[1])
validate_params("pygent/session/new", {"cwd": str(root), "mcpServers": []})
settings = load_settings(root)
session = SessionStore(root).create(settings.llm.model, root)
agent = Agent(settings, Workspace([root]), HeadlessPort(stderr=None))


async def turn() -> None:
    async for _ in agent.prompt(session, [{"type": "text", "text": "hi"}]):
        pass


asyncio.run(turn())
print(sorted(m for m in ("mcp", "mcp_types") if m in sys.modules))
"""


def test_a_session_without_mcp_servers_never_imports_the_mcp_sdk(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> None:
    import subprocess

    repo = make_repo(tmp_path / "repo")
    fake_llm.script([{"text": "hello"}])
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(repo)],
        env=pygent_env(fake_llm.base_url),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(fake_llm.requests) == 1  # the turn reached the model
    assert proc.stdout.strip().splitlines()[-1] == "[]"


async def test_a_dismissed_trust_question_skips_the_servers_and_asks_again_next_prompt(
    tmp_path: Path, fake_llm: FakeLLMThread, serve: Callable[..., Awaitable[Serve]]
) -> None:
    repo = make_repo(tmp_path / "repo")
    _project(repo, toml_table("proj", stdio_table()))
    answers = iter(
        [
            {"outcome": {"outcome": "cancelled"}},
            {"outcome": {"outcome": "selected", "optionId": "mcp_trust"}},
        ]
    )

    async def answer(params: dict[str, Any]) -> dict[str, Any]:
        return next(answers)

    fake_llm.script([{"text": "one"}, {"text": "two"}])
    server = await serve(repo, answer)
    session = await server.new()
    await server.prompt(session)
    assert not any(n.startswith("mcp__") for n in offered_tools(fake_llm.requests[0]))
    assert _trust_file() == {}
    await server.prompt(session)
    assert len(trust_questions(server.asked)) == 2
    assert "mcp__proj__echo" in offered_tools(fake_llm.requests[1])


async def test_a_client_without_permission_requests_is_asked_with_a_message_listing_the_servers(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> None:
    repo = make_repo(tmp_path / "repo")
    _project(repo, toml_table("proj", stdio_table()))
    messages: list[dict[str, Any]] = []

    def pick(params: dict[str, Any]) -> dict[str, Any]:
        messages.append(params)
        return {"title": "Trust and start"}

    fake_llm.script([{"text": "ok"}])
    client = PygentClient(
        [sys.executable, "-m", "pygent", "serve"],
        root=repo,
        env=pygent_env(fake_llm.base_url),
        show_message_request=pick,  # a bare LSP client: no pygent permission requests
    )
    await asyncio.wait_for(client.start(), 120)
    try:
        session = await client.new_session()
        await asyncio.wait_for(client.prompt(session, "go"), 180)
    finally:
        await client.close(timeout=60)
    (asked,) = messages
    assert asked["message"].startswith(
        f"pygent wants to start the MCP servers of the project {repo.resolve()}:"
    )
    assert f"- proj: runs `{sys.executable} {STDIO_SERVER}` in {repo.resolve()}" in asked["message"]
    assert [a["title"] for a in asked["actions"]] == ["Trust and start", "Don't start"]
    assert "mcp__proj__echo" in offered_tools(fake_llm.requests[0])
    assert _trust_file()["workspaces"][str(repo.resolve())]["servers"] == ["proj"]


def test_an_editor_server_name_cannot_put_its_log_outside_the_log_directory(
    tmp_path: Path,
) -> None:
    from pygent.mcp.client import ServerConnection
    from pygent.mcp.editor import parse_editor_servers

    (config,) = parse_editor_servers([{"name": "../../etc/evil name", "command": "x"}])
    conn = ServerConnection(config, tmp_path, tmp_path / "logs")
    assert conn.log_path.parent == tmp_path / "logs"
    assert conn.log_path.name == "mcp-_.._etc_evil_name.log"
