"""MCP tools as pygent tools: ``mcp__SERVER__TOOL`` specs, argument checks and result conversion.

Imports the SDK's types only inside functions that receive SDK objects, so building specs is
cheap once a server is connected.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from pygent.mcp.config import tool_name
from pygent.tools.base import ToolOutput, ToolRisk, ToolSpec
from pygent.tools.errors import ToolError

if TYPE_CHECKING:
    import mcp_types

    from pygent.mcp.client import ServerConnection
    from pygent.tools.base import ToolContext

__all__ = ["build_specs", "result_output", "schema_problem"]

_RISKS = {r.value: r for r in ToolRisk}


def schema_problem(schema: Any) -> str | None:
    """Why a tool's input schema cannot be given to a model, or None when it can."""
    if not isinstance(schema, dict):
        return f"its input schema is {type(schema).__name__}, not a JSON object"
    kind = schema.get("type", "object")
    if kind != "object":
        return f"its input schema has type {kind!r}; tool arguments must be an object"
    props = schema.get("properties", {})
    if not isinstance(props, dict):
        return "its input schema's `properties` is not an object"
    for key, value in props.items():
        if not isinstance(value, (dict, bool)):
            return f"its input schema's property {key!r} is not a schema"
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        return "its input schema's `required` is not a list of names"
    try:
        json.dumps(schema)
    except (TypeError, ValueError) as exc:
        return f"its input schema is not JSON ({exc})"
    return None


def _clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in schema.items() if k != "$schema"}
    out["type"] = "object"
    out.setdefault("properties", {})
    return out


def _args_model(name: str, required: list[str]) -> type[BaseModel]:
    """Arguments pass through to the server, which validates them; required ones are checked here
    so the model hears about a missing argument by name without a round trip."""
    fields: dict[str, Any] = {r: (Any, Field(...)) for r in required if r.isidentifier()}
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        f"{name}_args", __config__=ConfigDict(extra="allow"), **fields
    )
    return model


def build_specs(conn: ServerConnection, taken: set[str]) -> tuple[list[ToolSpec], list[str]]:
    """The connection's tools as specs, and one problem line per tool that was skipped.

    Args:
        conn: A running connection.
        taken: Tool names already in use (built-in, plugin or another server's); updated.
    """
    settings = conn.config.settings
    allowed = set(settings.allowed_tools) if settings.allowed_tools is not None else None
    risk = _RISKS[settings.risk]
    specs: list[ToolSpec] = []
    problems: list[str] = []
    for tool in conn.tools:
        if allowed is not None and tool.name not in allowed:
            continue
        name = tool_name(conn.name, tool.name)
        problem = schema_problem(tool.input_schema)
        if problem is None and name in taken:
            problem = f"its name {name!r} is already used by another tool"
        if problem is not None:
            problems.append(
                f"tool {tool.name!r} of MCP server {conn.name!r} was skipped: {problem}"
            )
            continue
        taken.add(name)
        schema = _clean_schema(tool.input_schema)
        spec = ToolSpec(
            name=name,
            description=_description(conn, tool),
            risk=risk,
            kind=_kind(settings.risk),
            func=_caller(conn, tool.name, settings.timeout),
            args_model=_args_model(name, list(schema.get("required", []))),
            title=f"{conn.name}: {tool.title or tool.name}",
        )
        spec._schema = schema
        specs.append(spec)
    if allowed is not None:
        missing = sorted(allowed - {t.name for t in conn.tools})
        if missing:
            problems.append(
                f"MCP server {conn.name!r} has no tool named {', '.join(map(repr, missing))} "
                f"(mcp.servers.{conn.name}.allowed_tools)"
            )
    return specs, problems


def _kind(risk: str) -> Any:
    return {"read": "read", "network": "fetch", "write": "edit"}.get(risk, "execute")


def _description(conn: ServerConnection, tool: mcp_types.Tool) -> str:
    text = (tool.description or tool.title or tool.name).strip()
    return f"{text}\n\n(From the MCP server {conn.name!r}.)"


def _caller(conn: ServerConnection, tool: str, timeout: float) -> Any:
    async def call(ctx: ToolContext, **arguments: Any) -> ToolOutput:
        return await call_tool(conn, tool, arguments, timeout)

    call.__name__ = f"mcp_{conn.name}_{tool}"
    call.__module__ = "pygent.mcp.tools"
    return call


async def call_tool(
    conn: ServerConnection, tool: str, arguments: dict[str, Any], timeout: float
) -> ToolOutput:
    """Call one tool; every failure becomes a :class:`ToolError` the model can read."""
    import asyncio

    from pygent.mcp.client import describe_error

    label = f"{tool!r} of the MCP server {conn.name!r}"
    if conn.state != "running":
        raise ToolError(
            f"The MCP server {conn.name!r} is not running ({conn.error or conn.state}); "
            "its tools cannot be used in this session."
        )
    try:
        result = await conn.call(tool, arguments, timeout)
    except asyncio.TimeoutError:
        raise ToolError(
            f"The tool {label} did not answer within {timeout:g} s "
            f"(mcp.servers.{conn.name}.timeout); it was abandoned. Try again with a smaller "
            "request, or do without it."
        ) from None
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        reason = describe_error(exc)
        from mcp import MCPError

        if isinstance(exc, MCPError) and conn.state == "running" and "closed" not in reason.lower():
            raise ToolError(f"The tool {label} failed: {reason}") from None
        conn.mark_dead(f"it stopped during a call of {tool!r}: {reason}")
        raise ToolError(
            f"The MCP server {conn.name!r} stopped while running {tool!r} ({reason}); "
            "its tools cannot be used in this session."
        ) from None
    return result_output(result)


def result_output(result: mcp_types.CallToolResult) -> ToolOutput:
    """A tool result as text: text as is, images and audio as a placeholder, resources as text."""
    parts: list[str] = []
    for item in result.content:
        kind = getattr(item, "type", "")
        if kind == "text":
            parts.append(str(getattr(item, "text", "")))
        elif kind in ("image", "audio"):
            data = str(getattr(item, "data", ""))
            size = len(data) * 3 // 4
            parts.append(
                f"[{kind}: {getattr(item, 'mime_type', '') or 'unknown type'}, ~{size} bytes]"
            )
        elif kind == "resource":
            resource = getattr(item, "resource", None)
            uri = str(getattr(resource, "uri", ""))
            text = getattr(resource, "text", None)
            if text is not None:
                parts.append(f"[resource {uri}]\n{text}")
            else:
                mime = getattr(resource, "mime_type", "") or "binary"
                parts.append(f"[resource {uri}: {mime} content not shown]")
        elif kind == "resource_link":
            label = getattr(item, "title", None) or getattr(item, "name", "")
            parts.append(f"[resource link: {label} {getattr(item, 'uri', '')}]".replace("  ", " "))
        else:
            parts.append(f"[{kind or 'unknown'} content not shown]")
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False, indent=2))
    text = "\n".join(parts)
    if result.is_error:
        return ToolOutput(text or "The MCP tool reported an error without details.", is_error=True)
    return ToolOutput(text or "(the tool returned no content)")
