"""The headless frontend port: collects updates, applies edits to disk, answers permission by policy."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from pygent.agent.headless import HeadlessPort
from pygent.edits.changes import ChangeSet, CreateFile, TextChange
from pygent.protocol.port import (
    ALLOW_ALWAYS,
    ALLOW_ONCE,
    REJECT_ALWAYS,
    REJECT_ONCE,
    PermissionRequest,
)


def shell_request(command: str = "rm -rf x", mode: str | None = None) -> PermissionRequest:
    meta: dict[str, Any] = {"tool": "shell"}
    if mode:
        meta["mode"] = mode
    return {
        "toolCall": {
            "toolCallId": "call_2",
            "title": f"Run `{command}`",
            "kind": "execute",
            "rawInput": {"command": command},
        },
        "options": [ALLOW_ONCE, ALLOW_ALWAYS, REJECT_ONCE, REJECT_ALWAYS],
        "_meta": meta,
    }


def test_emit_collects_updates_and_calls_back() -> None:
    seen: list[dict[str, Any]] = []
    port = HeadlessPort(on_update=seen.append, stderr=None)
    update = {"sessionUpdate": "agent_message_chunk", "content": {"type": "text", "text": "hi"}}
    port.emit(update)
    assert port.updates == [update] and seen == [update]
    assert port.reviews_edits is False


async def test_apply_edit_writes_to_disk(tmp_path: Path) -> None:
    port = HeadlessPort(stderr=None)
    path = tmp_path / "a.txt"
    path.write_text("old\n")
    result = await port.apply_edit(ChangeSet("Edit", [TextChange(path, "old\n", "new\n")]))
    assert result.applied and path.read_text() == "new\n"
    assert len(port.applied) == 1


async def test_apply_edit_reports_failure_reason(tmp_path: Path) -> None:
    port = HeadlessPort(stderr=None)
    (tmp_path / "a.txt").write_text("x")
    result = await port.apply_edit(ChangeSet("Create", [CreateFile(tmp_path / "a.txt", "y")]))
    assert not result.applied and "already exists" in (result.failure_reason or "")
    assert port.applied == []
    assert (tmp_path / "a.txt").read_text() == "x"


async def test_default_policy_rejects_with_a_stderr_note() -> None:
    err = io.StringIO()
    port = HeadlessPort(stderr=err)
    outcome = await port.request_permission(shell_request())
    assert outcome == {"outcome": "selected", "optionId": "reject_once"}
    assert err.getvalue() == (
        "pygent: shell(`rm -rf x`) needs permission; rejected (mode 'ask'). "
        "Use --mode auto or an allow rule.\n"
    )
    assert len(port.permission_requests) == 1


async def test_note_names_the_mode_from_the_request() -> None:
    err = io.StringIO()
    port = HeadlessPort(stderr=err, mode="ask")
    await port.request_permission(shell_request("make", mode="plan"))
    assert "shell(`make`)" in err.getvalue() and "(mode 'plan')" in err.getvalue()


async def test_fixed_allow_policy_is_silent() -> None:
    err = io.StringIO()
    port = HeadlessPort("allow_once", stderr=err)
    assert await port.request_permission(shell_request()) == {
        "outcome": "selected",
        "optionId": "allow_once",
    }
    assert err.getvalue() == ""


async def test_callable_policies_sync_and_async() -> None:
    def sync_policy(request: PermissionRequest) -> str:
        return "allow_always" if "pytest" in request["toolCall"]["title"] else "reject_once"

    port = HeadlessPort(sync_policy, stderr=None)
    assert (await port.request_permission(shell_request("pytest -q")))["optionId"] == "allow_always"
    assert (await port.request_permission(shell_request("rm x")))["optionId"] == "reject_once"

    async def async_policy(request: PermissionRequest) -> None:
        return None

    cancelled = HeadlessPort(async_policy, stderr=None)
    assert await cancelled.request_permission(shell_request()) == {"outcome": "cancelled"}


async def test_policy_option_not_offered_falls_back_by_kind_or_cancels() -> None:
    request = shell_request()
    request["options"] = [
        {"optionId": "yes", "name": "Allow once", "kind": "allow_once"},
        {"optionId": "no", "name": "Reject once", "kind": "reject_once"},
    ]
    port = HeadlessPort("allow_once", stderr=None)
    assert await port.request_permission(request) == {"outcome": "selected", "optionId": "yes"}
    odd = HeadlessPort("sometimes", stderr=None)
    assert await odd.request_permission(request) == {"outcome": "cancelled"}


async def test_note_uses_the_permission_engine_description() -> None:
    err = io.StringIO()
    port = HeadlessPort(stderr=err)
    request = shell_request("ignored")
    request["_meta"] = {"reason": "x", "pygent": {"call": "edit_file(`src/a.py`)", "mode": "ask"}}
    await port.request_permission(request)
    assert err.getvalue().startswith("pygent: edit_file(`src/a.py`) needs permission; rejected")


async def test_note_for_a_destructive_command_offers_only_the_rule_not_auto_mode() -> None:
    err = io.StringIO()
    port = HeadlessPort(stderr=err)
    request = shell_request("rm -rf build")
    request["_meta"] = {
        "reason": "destructive command: deletes files",
        "pygent": {
            "call": "shell(`rm -rf build`)",
            "mode": "auto",
            "risk": "execute",
            "alwaysAllowRules": ["shell(rm -rf build)"],
            "destructive": ["deletes files"],
        },
    }
    await port.request_permission(request)
    note = err.getvalue()
    assert 'allow = ["shell(rm -rf build)"]' in note
    assert "--mode auto" not in note  # auto mode still asks for a destructive command


async def test_note_for_a_command_no_rule_can_cover_names_only_auto_mode() -> None:
    err = io.StringIO()
    port = HeadlessPort(stderr=err)
    request = shell_request("cat /etc/hosts > out.txt")
    request["_meta"] = {
        "reason": "mode 'ask': uses paths outside the workspace",
        "pygent": {"call": "shell(`cat /etc/hosts > out.txt`)", "mode": "ask", "risk": "execute"},
    }
    await port.request_permission(request)
    assert "No allow rule can cover it" in err.getvalue()
    assert "only --mode auto runs it" in err.getvalue()
