"""The permission engine in front of the real built-in tools (real files, real subprocesses)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pygent.agent.headless import HeadlessPort
from pygent.permissions.engine import PermissionEngine
from pygent.settings.models import Settings
from pygent.tools.base import ToolContext, ToolResult, default_registry, dispatch
from pygent.tools.workspace import Workspace


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "build").mkdir()
    (root / "build" / "artifact.bin").write_bytes(b"\x00\x01")
    (root / "src" / "a.py").write_text("x = 1\n", encoding="utf-8")
    (root / "secret.env").write_text("TOKEN=abc\n", encoding="utf-8")
    return root


def setup(
    project: Path,
    policy: str,
    mode: str,
    *,
    allow: list[str] | None = None,
    deny: list[str] | None = None,
) -> tuple[PermissionEngine, ToolContext, HeadlessPort]:
    settings = Settings.model_validate({"permissions": {"allow": allow or [], "deny": deny or []}})
    engine = PermissionEngine(settings, project, mode=mode)
    port = HeadlessPort(policy, stderr=None)
    ctx = ToolContext(Workspace([project]), settings, port, "s1", "call_1")
    return engine, ctx, port


async def call(
    engine: PermissionEngine, ctx: ToolContext, name: str, args: dict[str, Any]
) -> ToolResult:
    return await dispatch(default_registry(), name, args, ctx, engine)


async def test_rejected_shell_write_changes_nothing(project: Path) -> None:
    engine, ctx, port = setup(project, "reject_once", "ask")
    result = await call(engine, ctx, "shell", {"command": "echo hi > out.txt"})
    assert result.is_error and "The user declined to run shell(`echo hi > out.txt`)" in result.text
    assert not (project / "out.txt").exists()
    assert len(port.permission_requests) == 1


async def test_read_only_shell_runs_without_asking(project: Path) -> None:
    engine, ctx, port = setup(project, "reject_once", "plan")
    result = await call(engine, ctx, "shell", {"command": "ls src | wc -l"})
    assert not result.is_error, result.text
    assert "1" in result.text
    assert port.permission_requests == []


async def test_destructive_command_asks_in_auto_and_rejection_keeps_files(project: Path) -> None:
    engine, ctx, port = setup(project, "reject_once", "auto")
    result = await call(engine, ctx, "shell", {"command": "rm -rf build"})
    assert result.is_error
    assert (project / "build" / "artifact.bin").exists()
    assert port.permission_requests[0]["_meta"]["reason"] == "destructive command: rm -rf"


async def test_plan_mode_refuses_file_creation(project: Path) -> None:
    engine, ctx, port = setup(project, "allow_once", "plan")
    result = await call(engine, ctx, "create_file", {"path": "new.py", "content": "y = 2\n"})
    assert result.is_error and result.text.startswith("pygent is in plan mode (read-only):")
    assert not (project / "new.py").exists()
    assert port.permission_requests == []
    read = await call(engine, ctx, "read_file", {"path": "src/a.py"})
    assert not read.is_error and "x = 1" in read.text


async def test_deny_rule_blocks_reading_a_file(project: Path) -> None:
    engine, ctx, _ = setup(project, "allow_once", "auto", deny=["read(*.env)"])
    result = await call(engine, ctx, "read_file", {"path": "secret.env"})
    assert result.is_error and "read(*.env)" in result.text
    assert "TOKEN" not in result.text


async def test_edit_asked_headless_then_applied_and_remembered(project: Path) -> None:
    engine, ctx, port = setup(project, "allow_always", "ask")
    args = {"path": "src/a.py", "old_string": "x = 1", "new_string": "x = 2"}
    result = await call(engine, ctx, "edit_file", args)
    assert not result.is_error, result.text
    assert (project / "src/a.py").read_text(encoding="utf-8") == "x = 2\n"
    saved = (project / ".pygent" / "config.toml").read_text(encoding="utf-8")
    assert "edit_file(src/a.py)" in saved
    args = {"path": "src/a.py", "old_string": "x = 2", "new_string": "x = 3"}
    assert not (await call(engine, ctx, "edit_file", args)).is_error
    assert len(port.permission_requests) == 1


async def test_rejected_edit_leaves_file(project: Path) -> None:
    engine, ctx, _ = setup(project, "reject_once", "ask")
    args = {"path": "src/a.py", "old_string": "x = 1", "new_string": "x = 2"}
    result = await call(engine, ctx, "edit_file", args)
    assert result.is_error and "declined" in result.text
    assert (project / "src/a.py").read_text(encoding="utf-8") == "x = 1\n"
