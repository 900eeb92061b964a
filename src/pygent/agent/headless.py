"""The headless frontend port: no person to ask, edits go straight to disk.

Used by ``pygent run`` and by tests. Edits are applied with
:func:`pygent.edits.apply.apply_change_set` (atomic, all or nothing); permission requests are answered
by a policy (a fixed option id, or a callable); every emitted update is collected in
:attr:`HeadlessPort.updates`.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from pygent.edits.apply import apply_change_set
from pygent.edits.changes import ApplyResult, ChangeSet
from pygent.protocol.port import PermissionOutcome, PermissionRequest

__all__ = ["HeadlessPort", "PermissionPolicy", "rejection_advice"]

PolicyResult = PermissionOutcome | str | None
PermissionPolicy = str | Callable[[PermissionRequest], PolicyResult | Awaitable[PolicyResult]]
"""An option id to always pick (``"reject_once"``, ``"allow_once"``, ...), or a callable returning an
outcome dict, an option id, or None (= cancelled)."""


class HeadlessPort:
    """A :class:`~pygent.protocol.port.FrontendPort` that needs nobody.

    Args:
        policy: How permission requests are answered: an option id (default ``"reject_once"``) or a
            callable ``(request) -> outcome | option id | None`` (may be async).
        on_update: Called with every emitted update (after it is appended to :attr:`updates`).
        stderr: Where rejection notes go (default ``sys.stderr``; pass None to stay silent).
        mode: The permission mode named in rejection notes when the request does not say.
    """

    def __init__(
        self,
        policy: PermissionPolicy = "reject_once",
        *,
        on_update: Callable[[dict[str, Any]], None] | None = None,
        stderr: TextIO | None = sys.stderr,
        mode: str = "ask",
    ) -> None:
        self.policy = policy
        self.on_update = on_update
        self.stderr = stderr
        self.mode = mode
        self.updates: list[dict[str, Any]] = []
        """Every update emitted, in order."""
        self.permission_requests: list[PermissionRequest] = []
        """Every permission request received, in order."""
        self.applied: list[ChangeSet] = []
        """Change sets applied to disk."""

    @property
    def reviews_edits(self) -> bool:
        """Always False: nobody reviews edits here."""
        return False

    def emit(self, update: dict[str, Any]) -> None:
        """Record an update and pass it to ``on_update``."""
        self.updates.append(update)
        if self.on_update is not None:
            self.on_update(update)

    async def apply_edit(self, change_set: ChangeSet) -> ApplyResult:
        """Apply ``change_set`` to disk (validated, atomic, all or nothing)."""
        result = await asyncio.to_thread(apply_change_set, change_set)
        if result.applied:
            self.applied.append(change_set)
        return result

    async def request_permission(self, request: PermissionRequest) -> PermissionOutcome:
        """Answer from the policy; a rejection writes a note to ``stderr``."""
        self.permission_requests.append(request)
        policy = self.policy
        answer: Any
        if callable(policy):
            answer = policy(request)
            if inspect.isawaitable(answer):
                answer = await answer
        else:
            answer = policy
        outcome = self._outcome(request, answer)
        if outcome.get("outcome") != "selected" or str(outcome.get("optionId", "")).startswith(
            "reject"
        ):
            self._note_rejection(request)
        return outcome

    @staticmethod
    def _outcome(request: PermissionRequest, answer: Any) -> PermissionOutcome:
        if answer is None:
            return {"outcome": "cancelled"}
        if isinstance(answer, dict):
            return answer  # type: ignore[return-value]
        option_id = str(answer)
        offered = {o["optionId"] for o in request.get("options", [])}
        if offered and option_id not in offered:
            # A policy naming an option that was not offered: pick the matching kind, else cancel.
            by_kind = {o["kind"]: o["optionId"] for o in request.get("options", [])}
            if option_id in by_kind:
                return {"outcome": "selected", "optionId": by_kind[option_id]}
            return {"outcome": "cancelled"}
        return {"outcome": "selected", "optionId": option_id}

    def _note_rejection(self, request: PermissionRequest) -> None:
        if self.stderr is None:
            return
        meta: dict[str, Any] = dict(request.get("_meta") or {})
        # The permission engine describes the call in _meta.pygent ("call", "mode").
        raw_details = meta.get("pygent")
        details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
        call = request.get("toolCall") or {}
        mode = details.get("mode") or meta.get("mode") or self.mode
        what = details.get("call")
        if not what:
            tool_name = meta.get("tool") or call.get("kind") or "tool"
            raw = call.get("rawInput") or {}
            arg = meta.get("arg")
            if arg is None and isinstance(raw, dict) and raw:
                arg = raw.get("command") or raw.get("path") or raw.get("url")
                if arg is None:
                    arg = next(iter(raw.values()))
            what = (
                f"{tool_name}(`{arg}`)" if arg is not None else str(call.get("title") or tool_name)
            )
        advice = (
            rejection_advice(details, str(meta.get("reason") or ""))
            if details
            else "Use --mode auto or an allow rule."
        )
        print(
            f"pygent: {what} needs permission; rejected (mode {mode!r}). {advice}",
            file=self.stderr,
            flush=True,
        )


def rejection_advice(details: dict[str, Any], reason: str = "") -> str:
    """The narrowest way to let a rejected call run, for ``pygent run``'s stderr note.

    Edits: ``--mode auto-edit``. A command or a fetch: the exact allow rule the permission engine
    would save for "Allow always" (``_meta.pygent.alwaysAllowRules``), as TOML to paste into the
    project's ``.pygent/config.toml``; ``--mode auto`` is named as the broad alternative only
    when it would actually let the call run (a destructive command or a protected path asks
    even then).

    Args:
        details: The request's ``_meta.pygent`` (``risk``, ``alwaysAllowRules``, ``destructive``).
        reason: The request's ``_meta.reason``.
    """
    import json

    risk = str(details.get("risk") or "")
    raw_rules = details.get("alwaysAllowRules")
    rules = [str(r) for r in raw_rules] if isinstance(raw_rules, list) else []
    only_a_rule = bool(details.get("destructive")) or reason.startswith(
        ("changes protected path", "private network address")
    )
    if risk == "write" and not only_a_rule:
        return "Run with --mode auto-edit to let pygent edit files."
    if not rules:
        if only_a_rule:
            return "No rule can allow it; run it yourself if it is what you want."
        return (
            "No allow rule can cover it (it uses paths outside the workspace or cannot be "
            "parsed); only --mode auto runs it."
        )
    what = {"execute": "this command", "network": "this site"}.get(risk, "this call")
    if risk == "network" and any("://" in rule for rule in rules):
        what = "fetches from this site"
    snippet = ", ".join(json.dumps(rule) for rule in rules)
    text = (
        f"To allow just {what}, add to .pygent/config.toml:\n  [permissions]\n  allow = [{snippet}]"
    )
    if not only_a_rule:
        broad = {"execute": "every command", "network": "every network access"}.get(
            risk, "everything"
        )
        text += f"\n  (or run with --mode auto, which allows {broad} without asking)"
    return text
