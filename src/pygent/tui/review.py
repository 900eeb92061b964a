"""Edit review and permission questions: the server's requests that wait for the person.

``workspace/applyEdit`` shows the proposed change in the right pane and waits for accept or
reject; an accepted edit is written to disk here (the TUI is the editor), from the files' old and
new text the server sends in ``_meta.pygent.files``. ``pygent/session/requestPermission`` asks in
a modal.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pygent.tui.base import AppBase
from pygent.tui.edits import EditError, apply_reviewed, change_set_from_meta, file_diffs
from pygent.tui.messages import ReviewDecided
from pygent.tui.widgets.diff_view import DiffView
from pygent.tui.widgets.permission_modal import PermissionModal


class Review(AppBase):
    """Answers ``workspace/applyEdit`` and ``pygent/session/requestPermission``."""

    async def handle_apply_edit(self, params: dict[str, Any]) -> dict[str, Any]:
        """``workspace/applyEdit``: show the diff, wait for a decision, apply accepted edits."""
        async with self._review_lock:
            try:
                change_set = change_set_from_meta(params)
            except EditError as exc:
                self.conversation.add_error(f"pygent proposed an edit the TUI cannot apply: {exc}")
                return {
                    "applied": False,
                    "failureReason": f"The edit could not be applied: {exc}",
                    "failedChange": 0,
                }
            loop = asyncio.get_running_loop()
            future: asyncio.Future[tuple[bool, str | None]] = loop.create_future()
            self._review = future
            self._show_pane(True)
            view = self.side.show_diff(
                change_set.label, file_diffs(change_set, self.root), side_by_side=self.side_by_side
            )
            self.call_after_refresh(view.focus)
            try:
                accepted, reason = await future
            except asyncio.CancelledError:
                self.side.clear_review(f"Withdrawn: {change_set.label}")
                raise
            finally:
                self._review = None
                self.side_by_side = view.side_by_side
                self.input_box.focus()
            if not accepted:
                self.side.clear_review(f"Rejected: {change_set.label}")
                answer: dict[str, Any] = {"applied": False}
                if reason:
                    answer["failureReason"] = reason
                return answer
            result = await asyncio.to_thread(apply_reviewed, change_set)
            if not result.applied:
                self.side.clear_review(f"Could not apply: {change_set.label}")
                self.conversation.add_error(
                    f"The edit could not be applied: {result.failure_reason}",
                    "pygent was told; it may read the file again and retry.",
                )
                # failedChange: LSP's mark of a failure (without it, applied: false is a rejection).
                return {
                    "applied": False,
                    "failureReason": result.failure_reason or "not applied",
                    "failedChange": 0,
                }
            self.side.clear_review(f"Applied: {change_set.label}")
            return {"applied": True}

    def on_review_decided(self, message: ReviewDecided) -> None:
        if self._review is not None and not self._review.done():
            self._review.set_result((message.accepted, message.reason))

    async def handle_request_permission(self, params: dict[str, Any]) -> dict[str, Any]:
        """``pygent/session/requestPermission``: ask in a modal."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()

        def answered(option: str | None) -> None:
            if not future.done():
                future.set_result(option)

        modal = PermissionModal(params)
        self.push_screen(modal, answered)
        try:
            option = await future
        except asyncio.CancelledError:
            if modal.is_attached and self.screen is modal:
                self.pop_screen()
            raise
        if option is None:
            return {"outcome": {"outcome": "cancelled"}}
        return {"outcome": {"outcome": "selected", "optionId": option}}

    @property
    def in_review(self) -> DiffView | None:
        """The edit in review, if any."""
        views = list(self.side.query(DiffView))
        return views[0] if views and self._review is not None else None
