"""Dispatch overhead: lookup + argument validation + permission check around a no-op tool.

Budget (issue #3): < 1 ms median, reported (never asserted). Run with
``pytest tests/benchmarks/test_dispatch.py --benchmark-only``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _budget import report_budget

from pygent.edits.changes import ApplyResult, ChangeSet
from pygent.permissions.engine import PermissionEngine
from pygent.protocol.port import PermissionOutcome, PermissionRequest
from pygent.settings.models import Settings
from pygent.tools.base import ToolContext, ToolRegistry, ToolRisk, dispatch, tool
from pygent.tools.workspace import Workspace

BUDGET_S = 0.001
REG = ToolRegistry()


@tool(risk=ToolRisk.READ, kind="read", registry=REG)
async def noop(ctx: ToolContext, text: str, count: int = 1, flag: bool = False) -> str:
    """Do nothing.

    Args:
        text: Anything.
        count: A number.
        flag: A flag.
    """
    return "ok"


@tool(risk=ToolRisk.READ, kind="read", path_args=("path",), registry=REG)
async def noop_path(ctx: ToolContext, path: str, offset: int | None = None) -> str:
    """Do nothing with a path.

    Args:
        path: A path.
        offset: An offset.
    """
    return "ok"


@tool(risk=ToolRisk.EXECUTE, kind="execute", rule_arg="command", registry=REG)
async def shell(ctx: ToolContext, command: str, timeout: int = 120) -> str:
    """Do not run a command.

    Args:
        command: The command.
        timeout: Seconds.
    """
    return "ok"


class NeverAsked:
    reviews_edits = False

    def emit(self, update: dict[str, Any]) -> None:
        pass

    async def request_permission(self, request: PermissionRequest) -> PermissionOutcome:
        raise AssertionError("the benchmark must not ask")

    async def apply_edit(self, change_set: ChangeSet) -> ApplyResult:
        raise AssertionError("no edits")


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def _ctx(tmp_path: Path, allow: list[str], deny: list[str]) -> tuple[ToolContext, PermissionEngine]:
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "a.py").write_text("x = 1\n", encoding="utf-8")
    settings = Settings.model_validate({"permissions": {"allow": allow, "deny": deny}})
    engine = PermissionEngine(settings, tmp_path, mode="ask")
    ctx = ToolContext(Workspace([tmp_path]), settings, NeverAsked(), "s", "call_1")
    return ctx, engine


RULES = dict(
    allow=["shell(pytest*)", "shell(git status*)", "edit(src/**)", "read(src/**)"],
    deny=["shell(rm -rf*)", "web_fetch(*internal*)", "read(secrets/**)"],
)


def _check(benchmark: Any, loop: asyncio.AbstractEventLoop, *call: Any) -> None:
    result = loop.run_until_complete(dispatch(REG, *call))
    assert not result.is_error, result.text
    benchmark(lambda: loop.run_until_complete(dispatch(REG, *call)))
    report_budget(benchmark, f"dispatch {call[0]}", benchmark.stats.stats.median, BUDGET_S)


def test_dispatch_noop_read(
    benchmark: Any, loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    ctx, engine = _ctx(tmp_path, [], [])
    _check(benchmark, loop, "noop", '{"text": "hello", "count": 3}', ctx, engine)


def test_dispatch_noop_with_rules(
    benchmark: Any, loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    ctx, engine = _ctx(tmp_path, **RULES)
    _check(benchmark, loop, "noop", '{"text": "hello", "count": 3}', ctx, engine)


def test_dispatch_path_tool_with_rules(
    benchmark: Any, loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    ctx, engine = _ctx(tmp_path, **RULES)
    _check(benchmark, loop, "noop_path", '{"path": "src/a.py"}', ctx, engine)


def test_dispatch_shell_pipeline_with_rules(
    benchmark: Any, loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    ctx, engine = _ctx(tmp_path, **RULES)
    command = '{"command": "git status && pytest -q tests/unit | tail -20"}'
    _check(benchmark, loop, "shell", command, ctx, engine)
