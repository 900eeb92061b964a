"""``pygent run "PROMPT"``: one agent turn without a UI, for scripts and CI.

Text streams to stdout as it arrives; tool calls show as short lines on stderr. With ``--json``
every session update is one JSON line on stdout, followed by a final
``{"type": "result", "stopReason": ..., "usage": ..., "sessionId": ...}`` line.

Permission requests are answered by the mode and the rules: anything that would ask a person is
rejected (with a note on stderr) unless ``--mode`` allows it. Edits are applied to disk through the
headless port. Exit codes: 0 done, 1 error, 130 cancelled (Ctrl-C cancels the turn cleanly; the
session stays consistent and can be continued).
"""

from __future__ import annotations

import errno
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from pygent.cli._options import (
    continue_option,
    cwd_option,
    mode_option,
    model_option,
    resume_option,
    sandbox_option,
    settings_overrides,
)

if TYPE_CHECKING:
    from pygent.agent.loop import Agent
    from pygent.agent.session import Session, SessionStore
    from pygent.settings.models import Settings

#: errno values that mean "cannot write there" (read-only file system, permissions, a file in
#: the way of a directory).
_UNWRITABLE_ERRNOS = frozenset(
    {errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EEXIST, errno.ENOSPC}
)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CANCELLED = 130

#: Stop reasons that end a turn normally but deserve a note on stderr.
_STOP_NOTES = {
    "max_tokens": "the model stopped at its output token limit (llm.max_tokens).",
    "max_turn_requests": "the turn reached llm.max_turn_requests model requests.",
    "refusal": "the model refused to continue.",
}


class _Printer:
    """Renders updates: plain text (stdout) and tool lines (stderr), or JSON lines."""

    def __init__(self, as_json: bool, out: TextIO, err: TextIO) -> None:
        self.as_json = as_json
        self.out = out
        self.err = err
        self.titles: dict[str, str] = {}
        self.at_line_start = True

    def _text(self, text: str) -> None:
        if not text:
            return
        self.out.write(text)
        self.out.flush()
        self.at_line_start = text.endswith("\n")

    def note(self, text: str) -> None:
        if not self.as_json and not self.at_line_start:
            # Keep stdout text and stderr notes on separate lines in a terminal.
            self.out.write("\n")
            self.out.flush()
            self.at_line_start = True
        self.err.write(text + "\n")
        self.err.flush()

    def update(self, update: dict[str, Any]) -> None:
        if self.as_json:
            self.out.write(json.dumps(update, ensure_ascii=False, default=str) + "\n")
            self.out.flush()
        kind = update.get("sessionUpdate")
        if kind == "agent_message_chunk":
            if not self.as_json:
                content = update.get("content") or {}
                self._text(str(content.get("text", "")))
        elif kind == "tool_call":
            call_id = str(update.get("toolCallId", ""))
            title = str(update.get("title") or update.get("kind") or "tool")
            self.titles[call_id] = title
            if not self.as_json:
                self.note(f"• {title}")
        elif kind == "tool_call_update":
            call_id = str(update.get("toolCallId", ""))
            if update.get("title"):
                self.titles[call_id] = str(update["title"])
            if update.get("status") == "failed" and not self.as_json:
                detail = _first_text(update.get("content"))
                title = self.titles.get(call_id, "tool")
                self.note(f"  ✗ {title} failed{': ' + detail if detail else ''}")
        elif kind == "pygent_notice" and not self.as_json:
            self.note(f"pygent: {update.get('message', '')}")

    def finish(self) -> None:
        if not self.as_json and not self.at_line_start:
            self.out.write("\n")
            self.out.flush()
            self.at_line_start = True


def _first_text(content: Any) -> str:
    if not isinstance(content, list):
        return ""
    for item in content:
        if isinstance(item, dict) and item.get("type") == "content":
            text = str((item.get("content") or {}).get("text", "")).strip()
            if text:
                line = text.splitlines()[0]
                return line if len(line) <= 200 else line[:197] + "..."
    return ""


def _read_prompt(prompt: str) -> str:
    if prompt == "-":
        data = sys.stdin.read()
        return data.strip("\n")
    return prompt


def _fail(message: str, err: TextIO) -> int:
    err.write(f"Error: {message}\n")
    err.flush()
    return EXIT_ERROR


def _setup_logging(settings: Settings | None) -> None:
    from pygent.cli.sessions import setup_cli_logging

    setup_cli_logging(settings)


def _check_api_key(settings: Settings) -> None:
    """Fail before any session file is written when no key is configured (same rule as the LLM)."""
    from pygent.agent.llm import check_api_key

    check_api_key(settings)


def _find_session(
    store: SessionStore, session_id: str | None, continue_last: bool, err: TextIO
) -> Session | None:
    """The existing session to continue, or None for a new one (nothing is written here)."""
    session: Session | None = None
    if session_id is not None:
        session = store.load(session_id)
    elif continue_last:
        session = store.latest()
        if session is None:
            err.write("pygent: no earlier session in this workspace; starting a new one.\n")
    if session is not None:
        for warning in session.warnings:
            err.write(f"pygent: warning: {warning}\n")
    return session


async def _run_turn(
    prompt: str,
    session: Session,
    agent: Agent,
    printer: _Printer,
    install_signals: Callable[[Callable[[], None]], Callable[[], None]],
) -> tuple[str, dict[str, Any] | None]:
    """Run one turn; returns (stop reason, usage)."""
    import asyncio

    from pygent.protocol.updates import text_block

    turn = agent.prompt(session, [text_block(prompt)])
    loop = asyncio.get_running_loop()
    cancelled = False

    def cancel_turn() -> None:
        nonlocal cancelled
        if cancelled:
            return
        cancelled = True
        printer.note("pygent: cancelling the turn (Ctrl-C again to quit at once)...")
        turn.cancel()

    def on_interrupt() -> None:
        # Runs in a signal handler: only schedule; the loop does the work.
        loop.call_soon_threadsafe(cancel_turn)

    restore = install_signals(on_interrupt)
    try:
        async for update in turn:
            printer.update(update)
    finally:
        restore()
        from pygent import mcp

        await mcp.shutdown()  # the MCP servers this turn started end with the process
    printer.finish()
    stop_reason = turn.stop_reason or ("cancelled" if cancelled else "end_turn")
    return stop_reason, turn.usage


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _install_signal_handlers(on_interrupt: Callable[[], None]) -> Callable[[], None]:
    """Route SIGINT (and SIGTERM on POSIX) to ``on_interrupt``; a second SIGINT exits at once."""
    count = 0

    def handler(signum: int, frame: Any) -> None:
        nonlocal count
        count += 1
        if count > 1 and signum == signal.SIGINT:
            raise KeyboardInterrupt
        on_interrupt()

    previous: dict[int, Any] = {}
    signals = [signal.SIGINT]
    if sys.platform != "win32":
        signals.append(signal.SIGTERM)
    for signum in signals:
        try:
            previous[signum] = signal.signal(signum, handler)
        except (ValueError, OSError):  # not the main thread (embedded use)
            pass

    def restore() -> None:
        for signum, old in previous.items():
            try:
                signal.signal(signum, old)
            except (ValueError, OSError):
                pass

    return restore


def run_prompt(
    prompt: str,
    *,
    session_id: str | None = None,
    continue_last: bool = False,
    mode: str | None = None,
    model: str | None = None,
    as_json: bool = False,
    sandbox: str | None = None,
    cwd: Path | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run one headless turn and return the process exit code (0, 1 or 130).

    Args:
        prompt: The user's message.
        session_id: Continue this session.
        continue_last: Continue the most recently updated session of the workspace.
        mode: Permission mode (``ask``, ``auto-edit``, ``plan``, ``auto``).
        model: Model override.
        as_json: Print every update as a JSON line, then a ``result`` line.
        cwd: Working directory (default: the current one); its project root is the workspace.
        out: Where text goes (default stdout).
        err: Where notes and errors go (default stderr).
    """
    import asyncio

    from pygent.agent.session import SessionStore
    from pygent.errors import PygentError
    from pygent.settings.paths import broad_workspace_warning, find_project_root

    out = out or sys.stdout
    err = err or sys.stderr
    cwd = (cwd or Path.cwd()).resolve()
    if session_id is not None and continue_last:
        return _fail("Use either --resume ID or --continue, not both.", err)
    if not prompt.strip():
        return _fail(
            'The prompt is empty. Give it as an argument (pygent run "...") or on stdin with -.',
            err,
        )
    session: Session | None = None
    try:
        from pygent.settings.loader import load_settings

        settings = load_settings(cwd, settings_overrides(model, mode, sandbox))
        from pygent.settings.writable import prepare_storage

        # A read-only home: say which directory and what moves it, and carry on without it.
        for warning in prepare_storage(settings):
            err.write(f"pygent: warning: {warning}\n")
        _setup_logging(settings)
        from loguru import logger

        from pygent import __version__

        logger.info(
            "pygent {} run: cwd={} model={} mode={} json={}",
            __version__,
            cwd,
            settings.llm.model,
            settings.permissions.mode,
            as_json,
        )
        from pygent.sandbox.runtime import sandbox_status

        sandboxing = sandbox_status(settings)
        if sandboxing.unsupported:
            err.write(f"pygent: sandbox {sandboxing.describe()}.\n")
        root = find_project_root(cwd)
        broad = broad_workspace_warning(root)
        if broad:
            err.write(f"pygent: warning: {broad}\n")
        store = SessionStore(root)
        session = _find_session(store, session_id, continue_last, err)
        # Checked before a new session file is written, so a missing key leaves nothing behind.
        _check_api_key(settings)
        from pygent.agent.factory import build_agent
        from pygent.agent.headless import HeadlessPort
        from pygent.tools.workspace import Workspace

        port = HeadlessPort("reject_once", stderr=err, mode=settings.permissions.mode)
        # Built here: the permission rules are validated before anything is written.
        agent, _ = build_agent(settings, Workspace([root]), port)
        continuing = session is not None
        if session is None:
            session = store.create(settings.llm.model, cwd, mode=settings.permissions.mode)
        from pygent.agent.session_lock import SessionLock

        # One turn per session across processes (an editor may be running one right now).
        lock = SessionLock(session.path, session.id, "pygent run")
        lock.acquire()
        try:
            if continuing:
                session = store.load(session.id)  # what the last holder wrote, under the lock
                logger.info(
                    "session resume: {} with {} messages", session.id, len(session.messages)
                )
            if session.model != settings.llm.model:
                # The settings (flags > environment > config) choose the model; the session
                # records it.
                session.set_meta(model=settings.llm.model)
            printer = _Printer(as_json, out, err)
            from pygent import telemetry

            telemetry.set_frontend("run")
            try:
                stop_reason, usage = asyncio.run(
                    _run_turn(prompt, session, agent, printer, _install_signal_handlers)
                )
            except KeyboardInterrupt:
                printer.finish()
                err.write("pygent: cancelled.\n")
                return EXIT_CANCELLED
            finally:
                telemetry.wait_for_sends()  # a one-shot run sends its statistics within 2 s
        finally:
            lock.release()
    except KeyboardInterrupt:
        err.write("pygent: cancelled.\n")
        return EXIT_CANCELLED
    except BrokenPipeError:
        # The reader went away (`pygent run ... | head`): stop quietly, like other CLI tools.
        _silence_stdout()
        return EXIT_ERROR
    except PygentError as exc:
        if as_json:
            # Scripts reading the JSON stream get the error as the result line too.
            result_line = {
                "type": "result",
                "stopReason": None,
                "error": exc.to_dict(),
                "sessionId": session.id if session is not None else None,
            }
            out.write(json.dumps(result_line, default=str) + "\n")
            out.flush()
        return _fail(f"{exc.message}\n{exc.hint}" if exc.hint else exc.message, err)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        hint = ""
        if exc.filename and exc.errno in _UNWRITABLE_ERRNOS:
            hint = " Check that this path is writable (a read-only home: `pygent help troubleshooting`)."
        return _fail(f"{exc.strerror or exc}{where}.{hint}", err)
    except Exception as exc:
        from loguru import logger

        logger.opt(exception=exc).error("pygent run failed")
        return _fail(
            f"pygent failed unexpectedly: {type(exc).__name__}: {exc}. "
            "Run `pygent report` to bundle the log for a bug report.",
            err,
        )
    if as_json:
        result = {
            "type": "result",
            "stopReason": stop_reason,
            "usage": usage,
            "sessionId": session.id,
        }
        out.write(json.dumps(result, default=str) + "\n")
        out.flush()
    if stop_reason == "cancelled":
        err.write(f"pygent: cancelled; continue with `pygent run --resume {session.id} ...`.\n")
        return EXIT_CANCELLED
    note = _STOP_NOTES.get(stop_reason)
    if note:
        err.write(f"pygent: {note}\n")
    return EXIT_OK


@click.command()
@click.argument("prompt")
@resume_option(pick=False, help="Continue the session with this id.")
@continue_option("Continue this workspace's newest session.")
@model_option("Model to use, e.g. openai/gpt-4o (overrides llm.model).")
@mode_option(
    "Permission mode: ask (default; anything that would ask is rejected), auto-edit, plan, auto."
)
@sandbox_option()
@cwd_option("Work in DIR (its project) instead of the current directory.")
@click.option("--json", "as_json", is_flag=True, help="Print every update as one JSON line.")
def run(
    prompt: str,
    resume: str | None,
    continue_last: bool,
    model: str | None,
    mode: str | None,
    sandbox: str | None,
    cwd: str | None,
    as_json: bool,
) -> None:
    """Run one prompt without a UI (for scripts and CI).

    PROMPT is the message; `-` reads it from stdin. Answer text streams to stdout, tool calls
    appear on stderr. Exit status: 0 done, 1 error, 130 cancelled.

    \b
    Examples:
      pygent run "Explain what src/app.py does"
      pygent run --mode auto-edit "Fix the failing test in tests/test_io.py"
      git diff | pygent run --json -
      pygent run --continue "Now add a docstring"
      pygent run --resume 01JDQ8M3V6Y5W1ZP9K4T2X7R0B "And the tests?"
    """
    code = run_prompt(
        _read_prompt(prompt),
        session_id=resume,
        cwd=Path(cwd) if cwd is not None else None,
        continue_last=continue_last,
        mode=mode,
        model=model,
        as_json=as_json,
        sandbox=sandbox,
    )
    sys.exit(code)
