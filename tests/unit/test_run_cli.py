"""``pygent run``: bad input handled before any turn, output formats, sessions, exit codes.

Tests that run a turn use the real agent loop through real litellm against the fake LLM server.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pygent.agent.session import SessionStore
from pygent.cli.run import run_prompt
from pygent.testing.fake_llm import FakeLLMThread


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def fake_env(fake_llm: FakeLLMThread, monkeypatch: pytest.MonkeyPatch) -> FakeLLMThread:
    monkeypatch.setenv("PYGENT_MODEL", "openai/fake-model")
    monkeypatch.setenv("PYGENT_API_BASE", fake_llm.base_url)
    monkeypatch.setenv("PYGENT_API_KEY", "sk-fake-test")
    return fake_llm


def _run(*args: str, **kwargs: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_prompt(*args, out=out, err=err, **kwargs)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


# -- bad input, before any turn ---------------------------------------------------------------


@pytest.mark.parametrize("bad", ["../../etc/passwd", "a/b", "..", "", "x" * 300])
def test_bad_session_id_is_a_clear_error_and_writes_nothing(
    project: Path, fake_env: FakeLLMThread, bad: str
) -> None:
    code, out, err = _run("hello", session_id=bad)
    assert code == 1
    assert err.startswith("Error: ")
    assert "session id" in err and "pygent sessions list" in err
    assert out == ""
    assert SessionStore(project).list() == []
    assert fake_env.requests == []


def test_unknown_session_id_is_session_not_found(project: Path, fake_env: FakeLLMThread) -> None:
    code, _, err = _run("hello", session_id="01JDQ8M3V6Y5W1ZP9K4T2X7R0B")
    assert code == 1
    assert "No session '01JDQ8M3V6Y5W1ZP9K4T2X7R0B' in this workspace" in err
    assert fake_env.requests == []


def test_session_and_continue_together_are_refused(project: Path) -> None:
    code, _, err = _run("hello", session_id="01JDQ8M3V6Y5W1ZP9K4T2X7R0B", continue_last=True)
    assert code == 1 and "either --resume ID or --continue" in err


def test_empty_prompt_is_refused(project: Path) -> None:
    code, _, err = _run("  \n")
    assert code == 1 and "prompt is empty" in err


def test_no_api_key_exits_1_with_the_no_api_key_message_and_no_session(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYGENT_MODEL", "openai/gpt-4o")
    code, out, err = _run("hello")
    assert code == 1
    assert "No API key configured for model 'openai/gpt-4o'" in err
    assert "OPENAI_API_KEY" in err
    assert out == ""
    assert SessionStore(project).list() == []


def test_invalid_project_config_is_reported(project: Path) -> None:
    (project / ".pygent").mkdir()
    (project / ".pygent" / "config.toml").write_text("[llm]\nmodel = 42\n")
    code, _, err = _run("hello")
    assert code == 1
    assert err.startswith("Error: ")
    assert "config.toml" in err
    assert "Traceback" not in err


def test_cli_rejects_unknown_mode_with_usage_error(project: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pygent", "run", "--mode", "yolo", "hi"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "'yolo' is not one of" in proc.stderr


# -- turns against the fake server ------------------------------------------------------------


def test_text_streams_to_stdout_and_session_is_saved(
    project: Path, fake_env: FakeLLMThread
) -> None:
    fake_env.script([{"text": "Hello from the fake model."}])
    code, out, err = _run("Say hello")
    assert code == 0, err
    assert out == "Hello from the fake model.\n"
    infos = SessionStore(project).list()
    assert len(infos) == 1 and infos[0]["title"] == "Say hello"
    session = SessionStore(project).load(infos[0]["sessionId"])
    assert session.messages[0]["role"] == "user"
    assert session.messages[-1]["role"] == "assistant"
    assert "Hello from the fake model." in str(session.messages[-1]["content"])


def test_json_prints_every_update_and_a_result_line(project: Path, fake_env: FakeLLMThread) -> None:
    fake_env.script(
        [
            {"tool_calls": [{"name": "list_directory", "arguments": {"path": "."}}]},
            {"text": "Nothing much here."},
        ]
    )
    (project / "a.txt").write_text("a\n")
    code, out, err = _run("What is here?", as_json=True)
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    kinds = [line.get("sessionUpdate") for line in lines[:-1]]
    assert "tool_call" in kinds and "agent_message_chunk" in kinds
    text = "".join(
        line["content"]["text"]
        for line in lines
        if line.get("sessionUpdate") == "agent_message_chunk"
    )
    assert text == "Nothing much here."
    result = lines[-1]
    assert result["type"] == "result"
    assert result["stopReason"] == "end_turn"
    assert result["sessionId"] == SessionStore(project).list()[0]["sessionId"]
    assert "usage" in result


def test_prompt_from_stdin_with_dash(project: Path, fake_env: FakeLLMThread) -> None:
    fake_env.script([{"text": "got it"}])
    proc = subprocess.run(
        [sys.executable, "-m", "pygent", "run", "-"],
        input="Summarise this diff\n+ added line\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "got it\n"
    sent = fake_env.requests[0]["messages"]
    assert sent[-1]["role"] == "user"
    assert "Summarise this diff\n+ added line" in str(sent[-1]["content"])


def test_continue_and_session_resume_send_the_history(
    project: Path, fake_env: FakeLLMThread
) -> None:
    fake_env.script(
        [{"text": "The answer is 42."}, {"text": "You asked about 42."}, {"text": "ok"}]
    )
    assert _run("What is the answer?")[0] == 0
    code, out, _ = _run("What did I ask?", continue_last=True)
    assert code == 0 and out == "You asked about 42.\n"
    second = json.dumps(fake_env.requests[1]["messages"])
    assert "What is the answer?" in second and "The answer is 42." in second
    infos = SessionStore(project).list()
    assert len(infos) == 1
    code, _, _ = _run("Third", session_id=infos[0]["sessionId"].lower())
    assert code == 0
    assert "You asked about 42." in json.dumps(fake_env.requests[2]["messages"])


def test_continue_without_sessions_starts_a_new_one(project: Path, fake_env: FakeLLMThread) -> None:
    code, _, err = _run("hi", continue_last=True)
    assert code == 0
    assert "starting a new one" in err
    assert len(SessionStore(project).list()) == 1


def test_ask_mode_rejects_writes_with_a_note_and_keeps_disk_unchanged(
    project: Path, fake_env: FakeLLMThread
) -> None:
    fake_env.script(
        [
            {
                "tool_calls": [
                    {"name": "create_file", "arguments": {"path": "new.txt", "content": "x"}}
                ]
            },
            {"text": "I could not create it."},
        ]
    )
    code, out, err = _run("Create new.txt")
    assert code == 0
    assert "needs permission; rejected" in err
    assert not (project / "new.txt").exists()
    assert out.endswith("I could not create it.\n")


def test_ask_mode_rejecting_an_edit_suggests_auto_edit_not_auto(
    project: Path, fake_env: FakeLLMThread
) -> None:
    fake_env.script(
        [
            {
                "tool_calls": [
                    {"name": "create_file", "arguments": {"path": "a.txt", "content": "x"}}
                ]
            },
            {"text": "Not created."},
        ]
    )
    code, _, err = _run("Create a.txt")
    assert code == 0
    assert "create_file(`a.txt`) needs permission; rejected (mode 'ask')." in err
    assert "Run with --mode auto-edit to let pygent edit files." in err
    assert "--mode auto " not in err and "--mode auto," not in err
    assert not (project / "a.txt").exists()


def test_ask_mode_rejecting_a_command_prints_the_exact_rule_for_just_that_command(
    project: Path, fake_env: FakeLLMThread
) -> None:
    fake_env.script(
        [
            {"tool_calls": [{"name": "shell", "arguments": {"command": "make build"}}]},
            {"text": "Did not build."},
        ]
    )
    code, _, err = _run("Build it")
    assert code == 0
    assert "shell(`make build`) needs permission; rejected (mode 'ask')." in err
    assert (
        "To allow just this command, add to .pygent/config.toml:\n"
        "  [permissions]\n"
        '  allow = ["shell(make build)"]\n'
        "  (or run with --mode auto, which allows every command without asking)"
    ) in err
    assert not (project / ".pygent" / "config.toml").exists()  # nothing saved by itself
    # The printed rule really is the one that lets that command run.
    (project / ".pygent").mkdir()
    (project / ".pygent" / "config.toml").write_text(
        '[permissions]\nallow = ["shell(make build)"]\n', encoding="utf-8"
    )
    fake_env.script(
        [
            {"tool_calls": [{"name": "shell", "arguments": {"command": "make build"}}]},
            {"text": "Built."},
        ]
    )
    code, _, err = _run("Build it")
    assert code == 0
    assert "needs permission" not in err


def test_ask_mode_rejecting_a_fetch_prints_the_site_rule(
    project: Path, fake_env: FakeLLMThread
) -> None:
    # A public address written as an IP: no name to resolve, and the call is refused before
    # any connection is made.
    url = "https://93.184.215.14/docs/page.html"
    fake_env.script(
        [
            {"tool_calls": [{"name": "web_fetch", "arguments": {"url": url}}]},
            {"text": "Not fetched."},
        ]
    )
    code, _, err = _run("Read the docs")
    assert code == 0
    assert "needs permission; rejected (mode 'ask')." in err
    assert "To allow just fetches from this site, add to .pygent/config.toml:" in err
    assert 'allow = ["web_fetch(https://93.184.215.14/*)"]' in err


def test_auto_edit_mode_applies_edits_to_disk(project: Path, fake_env: FakeLLMThread) -> None:
    fake_env.script(
        [
            {
                "tool_calls": [
                    {"name": "create_file", "arguments": {"path": "new.txt", "content": "x\n"}}
                ]
            },
            {"text": "Created."},
        ]
    )
    code, _, err = _run("Create new.txt", mode="auto-edit")
    assert code == 0, err
    assert (project / "new.txt").read_text() == "x\n"


def test_model_error_exits_1_with_friendly_message(project: Path, fake_env: FakeLLMThread) -> None:
    fake_env.script([{"error": "auth"}])
    code, _, err = _run("hello")
    assert code == 1
    assert "rejected the API key" in err
    assert "Traceback" not in err


# -- rendering --------------------------------------------------------------------------------


def test_printer_text_mode_streams_text_and_puts_tool_lines_on_stderr() -> None:
    from pygent.cli.run import _Printer
    from pygent.protocol import updates

    out, err = io.StringIO(), io.StringIO()
    printer = _Printer(False, out, err)
    printer.update(updates.agent_message_chunk("Let me "))
    printer.update(updates.agent_message_chunk("look."))
    printer.update(updates.tool_call("c1", "Read a.py", "read"))
    printer.update(
        updates.tool_call_update(
            "c1", "failed", [updates.text_content("File not found: a.py\nmore detail")]
        )
    )
    printer.update(updates.notice("rate limited, retrying in 4 s", "warning"))
    printer.update(updates.usage_update({"inputTokens": 3}))
    printer.update(updates.agent_message_chunk("Done"))
    printer.finish()
    assert out.getvalue() == "Let me look.\nDone\n"
    assert err.getvalue() == (
        "• Read a.py\n"
        "  ✗ Read a.py failed: File not found: a.py\n"
        "pygent: rate limited, retrying in 4 s\n"
    )


def test_printer_json_mode_writes_each_update_as_one_line() -> None:
    from pygent.cli.run import _Printer
    from pygent.protocol import updates

    out, err = io.StringIO(), io.StringIO()
    printer = _Printer(True, out, err)
    sent = [
        updates.agent_message_chunk("line one\nline two"),
        updates.tool_call("c1", "Edit a.py", "edit"),
        updates.tool_call_update("c1", "completed", [updates.diff_content("a.py", "x", "y")]),
    ]
    for update in sent:
        printer.update(update)
    printer.finish()
    assert [json.loads(line) for line in out.getvalue().splitlines()] == sent
    assert err.getvalue() == ""


def test_json_mode_reports_an_error_as_the_result_line(
    project: Path, fake_env: FakeLLMThread
) -> None:
    fake_env.script([{"error": "auth"}])
    code, out, err = _run("hello", as_json=True)
    assert code == 1
    result = json.loads(out.splitlines()[-1])
    assert result["type"] == "result" and result["stopReason"] is None
    assert result["error"]["code"] == "auth_failed"
    assert result["sessionId"] == SessionStore(project).list()[0]["sessionId"]
    assert "rejected the API key" in err


def test_run_in_the_home_directory_warns_and_still_answers(
    tmp_path: Path, fake_env: FakeLLMThread
) -> None:
    home = Path.home().resolve()  # tests/conftest.py points HOME at a temp directory
    fake_env.script([{"text": "answer"}])
    code, out, err = _run("hello", cwd=home)
    assert code == 0
    assert out == "answer\n"
    assert (
        f"pygent: warning: The workspace is your home directory ({home}): the agent can read "
        "every file under it and, when allowed, change them. Open a project folder instead "
        "(cd into it and start pygent there).\n"
    ) in err


def test_run_at_the_filesystem_or_drive_root_warns(tmp_path: Path, fake_env: FakeLLMThread) -> None:
    top = Path(tmp_path.anchor)  # "/" on POSIX, "C:\\" on Windows
    fake_env.script([{"text": "answer"}])
    code, out, err = _run("hello", cwd=top)
    assert code == 0 and out == "answer\n"
    expected = f"the root of drive {top.drive}" if top.drive else "the filesystem root"
    assert f"pygent: warning: The workspace is {expected} ({top})" in err
    assert "Open a project folder instead" in err


def test_run_in_a_project_below_home_does_not_warn(project: Path, fake_env: FakeLLMThread) -> None:
    fake_env.script([{"text": "answer"}])
    code, _, err = _run("hello")
    assert code == 0
    assert "The workspace is" not in err
