"""The plan tool: the model keeps a short checklist of its steps, shown live by every frontend.

``update_plan`` replaces the whole plan each time (ACP's ``plan`` update is a full snapshot, not a
diff); frontends render it as a checklist. It changes nothing and asks nobody (READ).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pygent.protocol.updates import plan
from pygent.tools.base import ToolContext, ToolOutput, ToolRisk, tool
from pygent.tools.errors import ToolError

__all__ = ["PlanEntry", "update_plan"]

#: More steps than this is a sign the model is writing a report, not a plan.
MAX_ENTRIES = 50

_MARKS = {"pending": "[ ]", "in_progress": "[>]", "completed": "[x]"}


class PlanEntry(BaseModel):
    """One step of the plan (ACP's ``PlanEntry``)."""

    model_config = ConfigDict(extra="forbid")

    content: str = Field(min_length=1, max_length=500, description="What the step does.")
    status: Literal["pending", "in_progress", "completed"] = Field(
        default="pending", description="pending, in_progress or completed."
    )
    priority: Literal["high", "medium", "low"] = Field(
        default="medium", description="high, medium or low."
    )


@tool(risk=ToolRisk.READ, kind="think", title="Update plan")
async def update_plan(ctx: ToolContext, entries: list[PlanEntry]) -> ToolOutput:
    """Show the user your plan for a multi-step task as a checklist, and keep it current.

    Send the whole plan every time (it replaces the previous one): mark the step you start
    `in_progress` and finished steps `completed`. Skip it for one-step tasks.

    Args:
        entries: Every step, in order.
    """
    if not entries:
        raise ToolError("The plan is empty: send at least one step.")
    if len(entries) > MAX_ENTRIES:
        raise ToolError(f"The plan has {len(entries)} steps; keep it to {MAX_ENTRIES} or fewer.")
    snapshot = [entry.model_dump() for entry in entries]
    ctx.send(plan(snapshot))
    lines = [f"{_MARKS[entry.status]} {entry.content}" for entry in entries]
    done = sum(entry.status == "completed" for entry in entries)
    return ToolOutput(
        f"Plan updated ({done}/{len(entries)} done):\n" + "\n".join(lines),
        raw_output={"entries": snapshot},
    )
