"""MCP servers through whole ``pygent run`` turns: real MCP servers, real processes, the fake LLM.

Each test writes a config with ``[mcp.servers.NAME]`` tables, scripts the model's tool calls, and
checks what the model was offered (its tool list), what it got back (the tool results) and what
the person saw (stderr notices).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from mcp_helpers import stdio_table, toml_table, user_config
from run_helpers import call, make_repo, pygent_env, run_pygent, tool_messages

from pygent.testing.fake_llm import FakeLLMThread

pytestmark = pytest.mark.slow  # real `pygent run` processes and MCP servers


def offered(request: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{tool name: parameters schema}`` of the tools a model request offered."""
    return {t["function"]["name"]: t["function"]["parameters"] for t in request.get("tools", [])}


def results(fake: FakeLLMThread) -> list[str]:
    """Every tool result of the last request, in order."""
    return list(tool_messages(fake.requests[-1]).values())


def test_stdio_server_tools_run_in_a_turn_with_text_image_and_resource_results(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> None:
    repo = make_repo(tmp_path / "repo")
    started = tmp_path / "started"
    user_config(
        toml_table(
            "demo", stdio_table(env={"MARKER": "${DEMO_MARKER}", "STARTED_FILE": str(started)})
        )
    )
    fake_llm.script(
        [
            {
                "tool_calls": [
                    call("mcp__demo__echo", text="hello"),
                    call("mcp__demo__add", a=2, b=40),
                    call("mcp__demo__picture"),
                    call("mcp__demo__readme"),
                    call("mcp__demo__add", a=1),
                ]
            },
            {"text": "Done with MCP."},
        ]
    )
    proc = run_pygent(
        "--mode",
        "auto",
        "use the demo server",
        cwd=repo,
        env=pygent_env(fake_llm.base_url, DEMO_MARKER="m-42"),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith("Done with MCP.\n")
    tools = offered(fake_llm.requests[0])
    assert tools["mcp__demo__add"]["properties"].keys() == {"a", "b"}
    assert tools["mcp__demo__add"]["required"] == ["a", "b"]
    assert "read_file" in tools  # the built-in tools stay
    echo, added, picture, readme, missing = results(fake_llm)
    # ${DEMO_MARKER} was expanded from pygent's environment; the server runs in the workspace.
    assert echo == f"echo: hello (marker=m-42, cwd={repo.resolve()})"
    assert added == "42"
    assert picture.startswith("a picture:\n[image: image/png, ~")
    assert readme == "[resource file:///demo/README.md]\n# Demo readme"
    assert missing == "Invalid arguments for mcp__demo__add: missing required argument 'b'."
    assert "m-42" not in proc.stderr  # an expanded value is never shown
    # One server process for the whole turn, shut down cleanly when pygent ended.
    pid, end = started.read_text(encoding="utf-8").splitlines()
    assert pid.isdigit() and end == "exited"


def test_streamable_http_server_gets_headers_with_expanded_secrets(
    tmp_path: Path, fake_llm: FakeLLMThread, http_server: str
) -> None:
    repo = make_repo(tmp_path / "repo")
    user_config(
        toml_table(
            "web",
            {"url": http_server, "headers": {"Authorization": "Bearer ${WEB_TOKEN}"}},
        )
    )
    fake_llm.script(
        [
            {"tool_calls": [call("mcp__web__shout", text="hi"), call("mcp__web__token")]},
            {"text": "ok"},
        ]
    )
    proc = run_pygent(
        "--mode",
        "auto",
        "shout",
        cwd=repo,
        env=pygent_env(fake_llm.base_url, WEB_TOKEN="tok-123"),
    )
    assert proc.returncode == 0, proc.stderr
    assert results(fake_llm) == ["HI!", "authorization=Bearer tok-123"]


def test_execute_risk_mcp_tool_asks_in_ask_mode_and_allow_rule_lets_it_run(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> None:
    repo = make_repo(tmp_path / "repo")
    started = tmp_path / "started"
    table = toml_table("demo", stdio_table(env={"STARTED_FILE": str(started)}))
    user_config(table)
    script: list[dict[str, Any]] = [
        {"tool_calls": [call("mcp__demo__echo", text="x")]},
        {"text": "end"},
    ]
    fake_llm.script(list(script))
    proc = run_pygent("--mode", "ask", "echo", cwd=repo, env=pygent_env(fake_llm.base_url))
    assert proc.returncode == 0, proc.stderr
    (refused,) = results(fake_llm)
    assert "echo:" not in refused  # the server was never called
    assert "declined" in refused.lower() or "not allowed" in refused.lower(), refused
    assert "mcp__demo__echo" in proc.stderr  # the person saw what was asked

    user_config('[permissions]\nallow = ["mcp__demo__*"]\n\n' + table)
    fake_llm.script(list(script))
    proc = run_pygent("--mode", "ask", "echo", cwd=repo, env=pygent_env(fake_llm.base_url))
    assert proc.returncode == 0, proc.stderr
    (allowed,) = results(fake_llm)
    assert allowed.startswith("echo: x")


def test_server_crashing_mid_call_fails_the_call_and_the_turn_goes_on(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> None:
    repo = make_repo(tmp_path / "repo", {"a.txt": "alpha\n"})
    user_config(toml_table("demo", stdio_table()))
    fake_llm.script(
        [
            {"tool_calls": [call("mcp__demo__crash")]},
            {
                "tool_calls": [
                    call("mcp__demo__echo", text="again"),
                    call("read_file", path="a.txt"),
                ]
            },
            {"text": "Recovered."},
        ]
    )
    proc = run_pygent("--mode", "auto", "crash it", cwd=repo, env=pygent_env(fake_llm.base_url))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith("Recovered.\n")
    crashed = tool_messages(fake_llm.requests[1])
    (crash,) = crashed.values()
    assert "The MCP server 'demo' stopped while running 'crash'" in crash
    again, read = results(fake_llm)[-2:]
    assert "The MCP server 'demo' is not running" in again
    assert "crash tool: exiting now" in again  # its last stderr line says why
    assert "alpha" in read  # built-in tools keep working


def test_call_exceeding_timeout_fails_clearly_and_the_server_keeps_working(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> None:
    repo = make_repo(tmp_path / "repo")
    user_config(toml_table("demo", stdio_table(timeout=1)))
    fake_llm.script(
        [
            {"tool_calls": [call("mcp__demo__hang")]},
            {"tool_calls": [call("mcp__demo__add", a=1, b=1)]},
            {"text": "fine"},
        ]
    )
    proc = run_pygent("--mode", "auto", "hang", cwd=repo, env=pygent_env(fake_llm.base_url))
    assert proc.returncode == 0, proc.stderr
    (hang,) = tool_messages(fake_llm.requests[1]).values()
    assert hang.startswith("The tool 'hang' of the MCP server 'demo' did not answer within 1 s")
    assert "mcp.servers.demo.timeout" in hang
    assert results(fake_llm)[-1] == "2"


def test_malformed_schema_skips_that_tool_with_a_notice_and_keeps_the_others(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> None:
    repo = make_repo(tmp_path / "repo")
    user_config(toml_table("demo", stdio_table("--bad-schema")))
    fake_llm.script([{"text": "ok"}])
    proc = run_pygent("--mode", "auto", "hi", cwd=repo, env=pygent_env(fake_llm.base_url))
    assert proc.returncode == 0, proc.stderr
    tools = offered(fake_llm.requests[0])
    assert "mcp__demo__malformed" not in tools
    assert "mcp__demo__echo" in tools
    assert "'malformed' of MCP server 'demo' was skipped" in proc.stderr
    assert proc.stderr.count("was skipped") == 1


def test_server_failing_to_start_is_reported_once_and_the_others_work(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> None:
    repo = make_repo(tmp_path / "repo")
    broken = {
        "command": sys.executable,
        "args": ["-c", "import sys; sys.stderr.write('boom: no token\\n'); sys.exit(2)"],
    }
    user_config(
        toml_table("broken", broken)
        + toml_table("ghost", {"command": "pygent-no-such-mcp-server"})
        + toml_table(
            "mute",  # starts but never answers the handshake
            {
                "command": sys.executable,
                "args": ["-c", "import time; time.sleep(120)"],
                "startup_timeout": 1,
            },
        )
        + toml_table("demo", stdio_table())
    )
    fake_llm.script(
        [
            {"tool_calls": [call("mcp__demo__add", a=3, b=4), call("mcp__broken__x")]},
            {"text": "ok"},
        ]
    )
    proc = run_pygent("--mode", "auto", "hi", cwd=repo, env=pygent_env(fake_llm.base_url))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("The MCP server 'broken' is not available") == 1
    assert "boom: no token" in proc.stderr  # its stderr says why
    assert "The MCP server 'ghost' is not available: command not found" in proc.stderr
    assert "The MCP server 'mute' is not available: it did not start within 1 s" in proc.stderr
    added, unknown = results(fake_llm)
    assert added == "7"
    assert unknown.startswith("Unknown tool 'mcp__broken__x'")


def test_unset_variable_in_a_server_config_names_the_variable_not_the_value(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> None:
    repo = make_repo(tmp_path / "repo")
    user_config(toml_table("demo", stdio_table(env={"TOKEN": "${PYGENT_TEST_UNSET_TOKEN}"})))
    fake_llm.script([{"text": "ok"}])
    env = pygent_env(fake_llm.base_url)
    env.pop("PYGENT_TEST_UNSET_TOKEN", None)
    proc = run_pygent("--mode", "auto", "hi", cwd=repo, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "mcp.servers.demo.env.TOKEN uses ${PYGENT_TEST_UNSET_TOKEN}" in proc.stderr
    assert "mcp__demo__echo" not in offered(fake_llm.requests[0])


# -- trust --------------------------------------------------------------------------------------


def _project(repo: Path, text: str) -> None:
    (repo / ".pygent").mkdir(exist_ok=True)
    (repo / ".pygent" / "config.toml").write_text(text, encoding="utf-8")


def _trust(repo: Path, *extra: str, input: str | None = None) -> Any:
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "pygent", "mcp", "trust", *extra],
        cwd=repo,
        env=pygent_env(None),
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_project_server_starts_only_after_trust_and_a_changed_list_is_untrusted_again(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> None:
    repo = make_repo(tmp_path / "repo")
    started = tmp_path / "started"
    _project(repo, toml_table("proj", stdio_table(env={"STARTED_FILE": str(started)})))
    env = pygent_env(fake_llm.base_url)

    fake_llm.script([{"text": "one"}])
    proc = run_pygent("--mode", "auto", "hi", cwd=repo, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "The project's MCP servers 'proj' (.pygent/config.toml) were not started" in proc.stderr
    assert "`pygent mcp trust`" in proc.stderr
    assert not started.exists()  # never spawned
    assert not any(name.startswith("mcp__") for name in offered(fake_llm.requests[-1]))

    refused = _trust(repo, input="n\n")
    assert refused.returncode == 1
    assert str(stdio_table()["args"][0]) in refused.stdout  # the command was shown
    fake_llm.script([{"text": "two"}])
    run_pygent("--mode", "auto", "hi", cwd=repo, env=env)
    assert not started.exists()

    accepted = _trust(repo, input="y\n")
    assert accepted.returncode == 0, accepted.stderr
    fake_llm.script([{"tool_calls": [call("mcp__proj__add", a=5, b=5)]}, {"text": "three"}])
    proc = run_pygent("--mode", "auto", "hi", cwd=repo, env=env)
    assert proc.returncode == 0, proc.stderr
    assert results(fake_llm) == ["10"]
    assert started.exists()
    assert "not started" not in proc.stderr

    # The project changes what it runs: the old trust no longer covers it.
    _project(
        repo, toml_table("proj", stdio_table("--bad-schema", env={"STARTED_FILE": str(started)}))
    )
    started.unlink()
    fake_llm.script([{"text": "four"}])
    proc = run_pygent("--mode", "auto", "hi", cwd=repo, env=env)
    assert "were not started" in proc.stderr
    assert not started.exists()


def test_project_cannot_trust_itself_or_take_over_a_user_server(
    tmp_path: Path, fake_llm: FakeLLMThread
) -> None:
    repo = make_repo(tmp_path / "repo")
    started = tmp_path / "started"
    # A key claiming trust is not a setting: the config is refused, nothing starts.
    _project(repo, "[mcp]\ntrusted = true\n\n" + toml_table("proj", stdio_table()))
    fake_llm.script([{"text": "x"}])
    proc = run_pygent("--mode", "auto", "hi", cwd=repo, env=pygent_env(fake_llm.base_url))
    assert proc.returncode == 1
    assert "unknown key 'mcp.trusted'" in proc.stderr
    assert fake_llm.requests == []

    # A project table with the name of a user server replaces it, and so needs trust.
    user_config(toml_table("demo", stdio_table()))
    _project(repo, toml_table("demo", stdio_table(env={"STARTED_FILE": str(started)})))
    fake_llm.script([{"text": "y"}])
    proc = run_pygent("--mode", "auto", "hi", cwd=repo, env=pygent_env(fake_llm.base_url))
    assert proc.returncode == 0, proc.stderr
    assert "The project's MCP servers 'demo'" in proc.stderr
    assert not started.exists()
    assert "mcp__demo__echo" not in offered(fake_llm.requests[-1])
    # The trust record lives in the user's data directory, not in the project.
    assert not any(p.name.startswith("mcp-trust") for p in repo.rglob("*"))
