"""MCP client costs: starting a stdio server (spawn + handshake + tools/list) and one tool call.

Budgets (ours, not an issue's): start < 3 s (a Python server spends most of it importing the
SDK), one call through dispatch (validation, permission check, JSON-RPC round trip) < 20 ms
median; checking 10 editor-given servers in ``session/new`` < 5 ms; ``pygent/mcp/list`` < 5 ms.
Reported, never asserted. Run with
``pytest tests/benchmarks/test_mcp_bench.py --benchmark-only -s``.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from _budget import report_budget

from pygent import mcp
from pygent.settings.models import Settings
from pygent.tools.base import ToolContext, ToolRegistry, dispatch
from pygent.tools.workspace import Workspace

SERVER = Path(__file__).resolve().parents[1] / "mcp" / "servers" / "stdio_server.py"
START_BUDGET_S = 3.0
CALL_BUDGET_S = 0.020


def _settings() -> Settings:
    table = {"command": sys.executable, "args": [str(SERVER)], "risk": "read"}
    return Settings.model_validate({"mcp": {"servers": {"bench": table}}})


def test_mcp_stdio_server_start_and_list_tools(benchmark: Any, tmp_path: Path) -> None:
    settings = _settings()

    async def start_once() -> list[str]:
        try:
            registry, notices = await mcp.session_tools(settings, tmp_path, ToolRegistry())
            assert notices == []
            return registry.names()
        finally:
            await mcp.shutdown()

    names = benchmark.pedantic(lambda: asyncio.run(start_once()), rounds=3, iterations=1)
    assert "mcp__bench__add" in names
    report_budget(
        benchmark, "MCP stdio start + tools/list", benchmark.stats.stats.median, START_BUDGET_S
    )


def test_mcp_tool_call_through_dispatch(benchmark: Any, tmp_path: Path) -> None:
    settings = _settings()
    loop = asyncio.new_event_loop()
    try:
        registry, _ = loop.run_until_complete(mcp.session_tools(settings, tmp_path, ToolRegistry()))
        ctx = ToolContext(Workspace([tmp_path]), settings, port=None)  # type: ignore[arg-type]

        def one_call() -> str:
            result = loop.run_until_complete(
                dispatch(registry, "mcp__bench__add", '{"a": 2, "b": 3}', ctx)
            )
            return result.text

        assert one_call() == "5"  # warm
        assert benchmark(one_call) == "5"
        report_budget(
            benchmark, "MCP tool call via dispatch", benchmark.stats.stats.median, CALL_BUDGET_S
        )
    finally:
        loop.run_until_complete(mcp.shutdown())
        loop.close()


EDITOR_CHECK_BUDGET_S = 0.005
STATUS_BUDGET_S = 0.005


def test_session_new_with_ten_editor_servers_is_checked_quickly(benchmark: Any) -> None:
    """``pygent/session/new`` with 10 editor-given servers: pygent's own check, no ACP models."""
    from pygent.server import protocol as wire

    servers: list[dict[str, Any]] = [
        {
            "name": f"s{i}",
            "command": sys.executable,
            "args": [str(SERVER), "--flag"],
            "env": [{"name": "TOKEN", "value": "x" * 40}],
        }
        for i in range(5)
    ] + [
        {"type": "http", "name": f"h{i}", "url": f"http://127.0.0.1:{9000 + i}/mcp", "headers": []}
        for i in range(5)
    ]
    params = {"cwd": str(SERVER.parent), "mcpServers": servers}

    def check() -> dict[str, Any]:
        checked = wire.validate_common("pygent/session/new", params, SERVER.parent)
        assert checked is not None
        return checked

    assert benchmark(check)["mcpServers"] == servers
    report_budget(
        benchmark,
        "session/new with 10 editor MCP servers (validation)",
        benchmark.stats.stats.median,
        EDITOR_CHECK_BUDGET_S,
    )


def test_mcp_list_status_of_a_running_server(benchmark: Any, tmp_path: Path) -> None:
    """``pygent/mcp/list``'s work for a session with one running server (what ``/mcp`` waits for)."""
    from pygent.mcp.manager import server_status

    settings = _settings()
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(mcp.session_tools(settings, tmp_path, ToolRegistry()))

        async def status() -> list[dict[str, Any]]:
            return server_status(settings, tmp_path)

        def once() -> list[dict[str, Any]]:
            return loop.run_until_complete(status())

        (entry,) = benchmark(once)
        assert entry["state"] == "running" and entry["tools"]
        report_budget(
            benchmark,
            "pygent/mcp/list (1 running server)",
            benchmark.stats.stats.median,
            STATUS_BUDGET_S,
        )
    finally:
        loop.run_until_complete(mcp.shutdown())
        loop.close()
