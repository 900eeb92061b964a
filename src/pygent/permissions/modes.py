"""Permission modes: what runs without asking, by risk tier.

========== ============================== ===========================================
mode       runs without asking            everything else
========== ============================== ===========================================
ask        READ                           asks
auto-edit  READ, WRITE                    asks
plan       READ                           refused (read-only; the model is told why)
auto       READ, WRITE, EXECUTE, NETWORK  (destructive commands, private fetches ask)
========== ============================== ===========================================
"""

from __future__ import annotations

from typing import Literal

from pygent.errors import invalid_params
from pygent.protocol.modes import MODE_DESCRIPTIONS, PERMISSION_MODES, PermissionMode
from pygent.tools.base import ToolRisk

__all__ = [
    "MODE_DESCRIPTIONS",
    "PERMISSION_MODES",
    "PermissionMode",
    "mode_verdict",
    "plan_refusal",
    "validate_mode",
]

_RUNS: dict[str, frozenset[ToolRisk]] = {
    "ask": frozenset({ToolRisk.READ}),
    "auto-edit": frozenset({ToolRisk.READ, ToolRisk.WRITE}),
    "plan": frozenset({ToolRisk.READ}),
    "auto": frozenset(ToolRisk),
}

Verdict = Literal["run", "ask", "refuse"]


def validate_mode(mode: str) -> PermissionMode:
    """Return ``mode`` when it is a known mode.

    Raises:
        PygentError: ``invalid_params`` naming the valid modes.
    """
    if mode not in PERMISSION_MODES:
        raise invalid_params(
            f"Unknown permission mode {mode!r}. Use one of: {', '.join(PERMISSION_MODES)}."
        )
    return mode  # type: ignore[return-value]


def mode_verdict(mode: str, risk: ToolRisk) -> Verdict:
    """What ``mode`` does with a call of ``risk`` when no rule decided: run, ask or refuse."""
    if risk in _RUNS[mode]:
        return "run"
    return "refuse" if mode == "plan" else "ask"


def plan_refusal(call: str) -> str:
    """What the model reads when plan mode refused ``call`` (e.g. ``git_commit``)."""
    return (
        f"pygent is in plan mode (read-only): {call} was not run. "
        "Describe the change instead, or ask the user to switch to another mode."
    )
