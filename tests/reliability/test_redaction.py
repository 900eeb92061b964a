"""Nothing leaked: a key the provider echoes back never reaches the editor, the session or the log.

The end-to-end cases drive a real ``pygent serve`` whose (fake) provider answers 401 with
"Incorrect API key provided: <the key>", as OpenAI does, then look for the key everywhere it
could have gone: every frame on stdout, the session file, the next request to the model, the log.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_helpers import TEST_KEY, Server, server_env, session_new, text_prompt

from pygent import redact as redaction
from pygent.agent.session import SessionStore
from pygent.errors import PygentError, auth_failed
from pygent.testing.fake_llm import FakeLLMThread

#: A key in no known format: only "the configured key" and "*_API_KEY" rules can catch it.
ODD_KEY = "Zq9custom-format-key-0042"


def test_redact_replaces_registered_value_of_any_format() -> None:
    redaction.add_secret(ODD_KEY)
    assert redaction.redact(f"bad key {ODD_KEY}.") == f"bad key {redaction.REDACTED}."


def test_redact_replaces_values_of_api_key_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOMEVENDOR_API_KEY", "vendor-value-7781")
    assert "vendor-value-7781" not in redaction.redact("key vendor-value-7781 rejected")
    assert "vendor-value-7781" not in redaction.redact_keys("key vendor-value-7781 rejected")


def test_redact_ignores_values_too_short_to_be_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINY_API_KEY", "abc")
    assert redaction.redact("abc def") == "abc def"


def test_redact_keys_keeps_code_but_removes_key_shaped_tokens() -> None:
    code = 'password = get_password()\nclient = Client(api_key="sk-live-abcdefgh12345678")\n'
    out = redaction.redact_keys(code)
    assert "password = get_password()" in out
    assert "sk-live-abcdefgh12345678" not in out


def test_redact_value_walks_nested_records_and_keeps_untouched_objects() -> None:
    record = {"message": {"content": [{"text": f"echo {TEST_KEY}"}], "role": "user"}}
    clean = {"message": {"content": "nothing secret", "role": "user"}}
    assert TEST_KEY not in str(redaction.redact_value(record, keys_only=True))
    assert redaction.redact_value(clean, keys_only=True) is clean


def test_pygent_error_redacts_message_hint_and_data() -> None:
    error = PygentError("llm_error", f"failed: {TEST_KEY}", f"hint {TEST_KEY}", {"x": TEST_KEY})
    assert TEST_KEY not in error.message
    assert TEST_KEY not in error.hint
    assert TEST_KEY not in str(error.data)
    assert TEST_KEY not in str(auth_failed("m", f"Incorrect API key provided: {TEST_KEY}"))


@pytest.mark.parametrize("key", [TEST_KEY, ODD_KEY], ids=["sk-shaped", "any-format"])
def test_key_echoed_by_provider_reaches_no_frame_session_record_prompt_or_log(
    key: str,
    start_server: Callable[..., Server],
    fake_llm: FakeLLMThread,
    workspace: Path,
) -> None:
    log_file = Path(os.environ["XDG_STATE_HOME"]) / "reliability.log"
    env = server_env(fake_llm.base_url, PYGENT_API_KEY=key, PYGENT_LOG_DISABLED="0")
    env["PYGENT_LOG_LEVEL"] = "DEBUG"
    (workspace / ".pygent").mkdir()
    (workspace / ".pygent" / "config.toml").write_text(
        f"[logging]\nfile = {str(log_file)!r}\n", encoding="utf-8"
    )
    fake_llm.script(
        [
            {
                "error": {
                    "status": 401,
                    "message": f"Incorrect API key provided: {key}. You can find your API key "
                    "at https://platform.example/account/api-keys.",
                }
            },
            {"text": "second turn answer"},
        ]
    )
    server = start_server(env)
    session_id = session_new(server)
    first = server.call(
        "pygent/session/prompt", {"sessionId": session_id, "prompt": text_prompt("hello")}
    )
    assert "error" in first, first
    assert first["error"]["data"]["code"] == "auth_failed"
    assert "[REDACTED]" in first["error"]["message"]
    second = server.call(
        "pygent/session/prompt", {"sessionId": session_id, "prompt": text_prompt("again")}
    )
    assert second.get("result", {}).get("stopReason") == "end_turn", second
    assert server.close() == 0

    assert key not in server.stdout_text()
    session_text = SessionStore(workspace).path_for(session_id).read_text()
    assert key not in session_text
    assert "[interrupted:" in session_text  # the interruption itself was kept
    last_request = str(fake_llm.requests[-1]["messages"])
    assert key not in last_request
    assert "REDACTED" in last_request  # the redacted note went back to the model
    log = log_file.read_text(encoding="utf-8")
    assert "auth" in log.lower() or "401" in log  # the failure is in the log...
    assert key not in log  # ...without the key
