"""The tool mechanism: @tool schemas, dispatch (validation, permission, crashes, cancellation), caps."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import Field

from pygent.edits.changes import ApplyResult, ChangeSet, TextChange
from pygent.protocol.port import PermissionOutcome, PermissionRequest
from pygent.settings.models import Settings
from pygent.tools.base import (
    PermissionDecision,
    ToolContext,
    ToolOutput,
    ToolRegistry,
    ToolRisk,
    ToolSpec,
    cap_output,
    dispatch,
    parse_docstring,
    tool,
)
from pygent.tools.errors import ToolError
from pygent.tools.workspace import Workspace


class RecordingPort:
    """A frontend port that records what it is sent."""

    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.edits: list[ChangeSet] = []

    @property
    def reviews_edits(self) -> bool:
        return False

    def emit(self, update: dict[str, Any]) -> None:
        self.updates.append(update)

    async def request_permission(self, request: PermissionRequest) -> PermissionOutcome:
        return {"outcome": "cancelled"}

    async def apply_edit(self, change_set: ChangeSet) -> ApplyResult:
        self.edits.append(change_set)
        return ApplyResult(applied=True)


@pytest.fixture
def registry() -> ToolRegistry:
    reg = ToolRegistry()

    @tool(
        risk=ToolRisk.READ,
        kind="read",
        title=lambda a: f"Read {a['path']}",
        path_args=("path",),
        registry=reg,
    )
    async def read_thing(
        ctx: ToolContext, path: str, offset: int | None = None, limit: int = 10
    ) -> str:
        """Read a thing from the workspace.

        Longer explanation of the tool.

        Args:
            path: File to read, relative to the workspace root.
            offset: First line (1-based);
                continues on a second line.
            limit: How many lines.

        Returns:
            The lines.
        """
        return f"{path}:{offset}:{limit}"

    @tool(risk=ToolRisk.WRITE, kind="edit", registry=reg)
    async def constrained(
        ctx: ToolContext,
        count: Annotated[int, Field(ge=1, le=5)],
        mode: Literal["fast", "slow"] = "fast",
    ) -> str:
        """Use constrained arguments.

        Args:
            count: Between one and five.
            mode: Speed.
        """
        return f"{count} {mode}"

    @tool(risk=ToolRisk.READ, registry=reg)
    async def crash(ctx: ToolContext) -> str:
        """Always crashes."""
        raise ZeroDivisionError("boom")

    @tool(risk=ToolRisk.READ, registry=reg)
    async def refuse(ctx: ToolContext) -> str:
        """Raises a tool error."""
        raise ToolError("That file does not exist. Try list_directory first.")

    @tool(risk=ToolRisk.READ, registry=reg)
    async def big(ctx: ToolContext, size: int) -> str:
        """Returns a big output.

        Args:
            size: Characters.
        """
        return "".join(f"line {i:06d}\n" for i in range(size // 12 + 1))[:size]

    @tool(risk=ToolRisk.READ, registry=reg)
    async def slow(ctx: ToolContext) -> str:
        """Sleeps."""
        await asyncio.sleep(30)
        return "done"

    @tool(risk=ToolRisk.READ, registry=reg)
    async def structured(ctx: ToolContext) -> ToolOutput:
        """Returns structured output."""
        return ToolOutput("exit 1", raw_output={"exitCode": 1}, is_error=True)

    return reg


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(
        workspace=Workspace([tmp_path]),
        settings=Settings(),
        port=RecordingPort(),
        tool_call_id="call_1",
    )


# -- schema --------------------------------------------------------------------------------------


def test_schema_from_hints_and_docstring(registry: ToolRegistry) -> None:
    spec = registry.get("read_thing")
    assert spec is not None
    schema = spec.json_schema()
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["path"]
    props = schema["properties"]
    assert set(props) == {"path", "offset", "limit"}
    assert props["path"] == {
        "type": "string",
        "description": "File to read, relative to the workspace root.",
    }
    assert props["offset"]["description"] == "First line (1-based); continues on a second line."
    assert props["limit"]["default"] == 10
    assert "title" not in schema and all("title" not in p for p in props.values())
    assert spec.description == "Read a thing from the workspace.\n\nLonger explanation of the tool."
    assert "Returns" not in spec.description and "Args" not in spec.description


def test_openai_schema_shape(registry: ToolRegistry) -> None:
    spec = registry.get("read_thing")
    assert spec is not None
    schema = spec.openai_schema()
    assert schema["type"] == "function"
    assert schema["function"]["name"] == "read_thing"
    assert schema["function"]["parameters"]["additionalProperties"] is False
    json.dumps(registry.schemas())  # every schema is JSON-serialisable


def test_annotated_constraints_and_literals_reach_schema(registry: ToolRegistry) -> None:
    spec = registry.get("constrained")
    assert spec is not None
    props = spec.json_schema()["properties"]
    assert props["count"]["minimum"] == 1 and props["count"]["maximum"] == 5
    assert props["count"]["description"] == "Between one and five."
    assert props["mode"]["enum"] == ["fast", "slow"]


def test_docstring_parser_stops_at_other_sections() -> None:
    desc, args = parse_docstring(
        """Summary.

        Args:
            a: First.
            b (int): Second,
                wrapped.

        Warning:
            Not an argument.
        """
    )
    assert desc == "Summary."
    assert args == {"a": "First.", "b": "Second, wrapped."}


def test_tool_must_be_async_and_take_context() -> None:
    reg = ToolRegistry()
    with pytest.raises(TypeError, match="async"):

        @tool(risk=ToolRisk.READ, registry=reg)  # type: ignore[arg-type]
        def sync_tool(ctx: ToolContext) -> str:
            return ""

    with pytest.raises(TypeError, match="ToolContext"):

        @tool(risk=ToolRisk.READ, registry=reg)
        async def no_ctx() -> str:
            return ""


def test_registry_listing_and_subset(registry: ToolRegistry) -> None:
    assert "read_thing" in registry
    assert registry.names() == sorted(registry.names())
    sub = registry.subset(["read_thing", "nope"])
    assert sub.names() == ["read_thing"] and len(sub) == 1
    assert [s["function"]["name"] for s in registry.schemas(["crash"])] == ["crash"]


def test_title_from_args_and_fallback(registry: ToolRegistry) -> None:
    spec = registry.get("read_thing")
    assert spec is not None
    assert spec.make_title({"path": "a.py"}) == "Read a.py"
    assert spec.make_title({}) == "read_thing"  # the title function failed: the name


# -- dispatch ------------------------------------------------------------------------------------


async def test_dispatch_runs_and_coerces(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await dispatch(registry, "read_thing", '{"path": "a.py", "offset": "3"}', ctx)
    assert not result.is_error and result.status == "completed"
    assert result.text == "a.py:3:10"
    assert result.tool_call_id == "call_1"


async def test_validation_error_names_argument(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await dispatch(registry, "read_thing", {"path": "a", "offset": "three"}, ctx)
    assert result.is_error and result.status == "failed"
    assert "Invalid arguments for read_thing" in result.text
    assert "'offset'" in result.text and "integer" in result.text


async def test_missing_and_unknown_arguments(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await dispatch(registry, "read_thing", {"pathh": "a"}, ctx)
    assert result.is_error
    assert "missing required argument 'path'" in result.text
    assert "unknown argument 'pathh'" in result.text


async def test_constraint_violation(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await dispatch(registry, "constrained", {"count": 9}, ctx)
    assert result.is_error and "'count'" in result.text and "5" in result.text
    result = await dispatch(registry, "constrained", {"count": 2, "mode": "warp"}, ctx)
    assert result.is_error and "'mode'" in result.text


@pytest.mark.parametrize("raw", ['{"path": ', "[1, 2]", '"text"', "nul\x00l"])
async def test_malformed_json_arguments(registry: ToolRegistry, ctx: ToolContext, raw: str) -> None:
    result = await dispatch(registry, "read_thing", raw, ctx)
    assert result.is_error
    assert "JSON" in result.text


async def test_empty_arguments_mean_no_arguments(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await dispatch(registry, "structured", "", ctx)
    assert result.text == "exit 1"
    assert result.is_error and result.raw_output == {"exitCode": 1}


async def test_unknown_tool_lists_available(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await dispatch(registry, "rm_everything", "{}", ctx)
    assert result.is_error
    assert "Unknown tool 'rm_everything'" in result.text and "read_thing" in result.text


async def test_tool_crash_is_an_error_result(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await dispatch(registry, "crash", "{}", ctx)
    assert result.is_error
    assert "crash failed unexpectedly" in result.text and "ZeroDivisionError: boom" in result.text


async def test_tool_error_message_goes_to_model(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await dispatch(registry, "refuse", None, ctx)
    assert result.is_error
    assert result.text == "That file does not exist. Try list_directory first."


async def test_cancellation_propagates(registry: ToolRegistry, ctx: ToolContext) -> None:
    task = asyncio.create_task(dispatch(registry, "slow", "{}", ctx))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


class ScriptedGate:
    def __init__(self, decision: PermissionDecision | Exception) -> None:
        self.decision = decision
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def check(
        self, spec: ToolSpec, args: dict[str, Any], ctx: ToolContext
    ) -> PermissionDecision:
        self.calls.append((spec.name, args))
        if isinstance(self.decision, Exception):
            raise self.decision
        return self.decision


async def test_gate_sees_validated_args_and_can_refuse(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    gate = ScriptedGate(PermissionDecision(False, "The user declined to run read_thing."))
    result = await dispatch(registry, "read_thing", '{"path": "x", "offset": "2"}', ctx, gate)
    assert result.is_error and result.text == "The user declined to run read_thing."
    assert gate.calls == [("read_thing", {"path": "x", "offset": 2, "limit": 10})]


async def test_gate_not_consulted_for_invalid_args(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    gate = ScriptedGate(PermissionDecision(True))
    await dispatch(registry, "read_thing", "{}", ctx, gate)
    assert gate.calls == []


async def test_gate_failure_is_a_refusal_not_a_crash(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    gate = ScriptedGate(RuntimeError("port closed"))
    result = await dispatch(registry, "read_thing", {"path": "x"}, ctx, gate)
    assert result.is_error
    assert "was not run" in result.text and "port closed" in result.text


# -- output cap ----------------------------------------------------------------------------------


def test_cap_output_short_text_unchanged() -> None:
    assert cap_output("abc", 10) == "abc"


def test_cap_output_keeps_head_and_tail_with_marker() -> None:
    text = "".join(f"line {i:05d}\n" for i in range(10_000))
    capped = cap_output(text, 3000, "use read_file with offset and limit to see more")
    assert capped.startswith("line 00000\n")
    assert capped.endswith("line 09999\n")
    cut = len(text) - 3000
    assert f"[... {cut} characters" in capped
    assert "lines) omitted; use read_file with offset and limit to see more ...]" in capped
    head, _, _tail = capped.partition("\n\n[...")
    assert len(head) == 2000
    assert text.startswith(head)


async def test_dispatch_caps_output_with_hint(
    registry: ToolRegistry, ctx: ToolContext, tmp_path: Path
) -> None:
    ctx.settings = Settings.model_validate({"tools": {"max_output_chars": 1000}})
    result = await dispatch(registry, "big", {"size": 50_000}, ctx)
    assert not result.is_error
    assert len(result.text) < 1200
    assert "characters" in result.text and "omitted; narrow the request to see more" in result.text
    assert result.text.startswith("line 000000")


async def test_apply_edit_sends_diff_and_returns_port_answer(
    ctx: ToolContext, tmp_path: Path
) -> None:
    change = ChangeSet("Edit a.py", [TextChange(tmp_path / "a.py", "old\n", "new\n")])
    result = await ctx.apply_edit(change)
    assert result.applied
    port = ctx.port
    assert isinstance(port, RecordingPort)
    assert port.edits[0].tool_call_id == "call_1"
    update = port.updates[0]
    assert update["sessionUpdate"] == "tool_call_update" and update["status"] == "in_progress"
    assert update["content"][0] == {
        "type": "diff",
        "path": str(tmp_path / "a.py"),
        "oldText": "old\n",
        "newText": "new\n",
    }
