"""``pygent acp`` driven by the official ACP TypeScript SDK's client (``tests/acp/js/client.mjs``).

The Node client (``@agentclientprotocol/sdk`` 2.4.0, installed with ``npm ci`` into
``tests/acp/js/node_modules``; the test runs ``npm ci`` itself when the folder is missing) runs
full turns against a real agent process and validates every message the agent sends with the
SDK's zod schemas on the raw stream; this test checks its summary.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from acp_helpers import AGENT_CMD, DOCSTRING, UTIL_PY, edit_call, tool_results

from pygent.testing.fake_llm import FakeLLMThread

JS_DIR = Path(__file__).parent / "js"
SDK_VERSION = "2.4.0"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is required for the ACP SDK client tests (node >= 20 on PATH).")
    return node


@pytest.fixture(scope="module")
def sdk_client() -> Path:
    """``client.mjs`` with the SDK installed from the lockfile."""
    package = JS_DIR / "node_modules" / "@agentclientprotocol" / "sdk" / "package.json"
    if not package.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is required to install the ACP SDK (tests/acp/js: npm ci).")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True, timeout=600)
    assert json.loads(package.read_text())["version"] == SDK_VERSION
    return JS_DIR / "client.mjs"


def _run_client(sdk_client: Path, workspace: Path, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [_node(), str(sdk_client), str(workspace), "--", *AGENT_CMD],
        cwd=JS_DIR,
        env=env,
        capture_output=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    summary: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return summary


def test_sdk_client_runs_full_turns_and_every_message_passes_the_sdk_schema(
    sdk_client: Path, workspace: Path, agent_env: dict[str, str], fake_llm: FakeLLMThread
) -> None:
    create_other = {
        "tool_calls": [
            {
                "id": "call_create",
                "name": "create_file",
                "arguments": {"path": "other.py", "content": "x = 1\n"},
            }
        ]
    }
    fake_llm.script(
        [
            {"text": "Hello from pygent."},
            edit_call(),
            {"text": "Docstring added."},
            create_other,
            {"text": "Not created."},
            {"text": "slow " * 400, "delay": 0.05},
        ]
    )
    summary = _run_client(sdk_client, workspace, agent_env)

    assert summary["schemaProblems"] == []
    assert summary["nonJsonLines"] == []
    assert summary["rawMessages"] > 10
    init = summary["initialize"]
    assert init["protocolVersion"] == 1
    assert init["agentCapabilities"]["loadSession"] is True
    assert init["agentInfo"]["name"] == "pygent"

    assert summary["stopReasons"] == ["end_turn", "end_turn", "end_turn", "cancelled"]
    assert summary["texts"][0] == "Hello from pygent."
    assert summary["texts"][1].endswith("Docstring added.")

    # The edit: reviewed as a diff inside the permission request, then written by the client.
    target = str(workspace / "util.py")
    new_text = "def add(a, b):\n" + DOCSTRING + "    return a + b\n"
    edit_request, reject_request = summary["permissions"]
    assert edit_request["toolCall"]["content"] == [
        {"type": "diff", "path": target, "oldText": UTIL_PY, "newText": new_text}
    ]
    assert summary["writes"] == [{"path": target, "content": new_text}]
    assert summary["utilPy"] == new_text
    assert target in summary["reads"]

    # The rejected creation: nothing written, the model was told.
    assert reject_request["toolCall"]["content"][0]["oldText"] is None
    assert not (workspace / "other.py").exists()
    assert any("rejected the edit" in text for text in tool_results(fake_llm.requests))

    assert summary["modeUpdates"] == ["auto-edit"]
    # Load in a fresh process: the history replays before the answer.
    kinds = summary["replayKinds"]
    assert kinds[0] == "user_message_chunk"
    assert {"tool_call", "tool_call_update", "agent_message_chunk"} <= set(kinds)
    assert summary["replayBeforeAnswer"] is True
    # Closing stdin ends each agent cleanly.
    assert summary["exitCodes"] == [0, 0]
