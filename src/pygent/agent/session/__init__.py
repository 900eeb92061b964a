"""Sessions: conversations saved as append-only JSON Lines files, one per session, per workspace.

A session file lives at ``sessions_dir() / <workspace key> / <id>.jsonl``. The first line is a
header record; every later line is one record, written with a single ``O_APPEND`` write so that two
frontends appending to the same session never interleave lines, and a crash loses at most a partial
last line (which loading skips with a warning)::

    {"type":"session","id":"01J...","created":"...","cwd":"/repo","model":"openai/gpt-4o","pygentVersion":"0.1.0"}
    {"type":"meta","ts":"...","title":"Fix the parser"}
    {"type":"message","ts":"...","message":{"role":"user","content":"Fix the parser"}}
    {"type":"message","ts":"...","message":{"role":"assistant","content":null,"tool_calls":[...]}}
    {"type":"message","ts":"...","message":{"role":"tool",...},"durationMs":412.0,"approvalWaitMs":12034.5}
    {"type":"message","ts":"...","message":{"role":"assistant","content":"Done."}}
    {"type":"usage","ts":"...","usage":{"inputTokens":5230,"outputTokens":210,"totalTokens":5440,...}}
    {"type":"compaction","ts":"...","messages":[...],"replaced":12}

A ``compaction`` record replaces all history before it (see :meth:`Session.replace_history`).
A tool result's record carries how long the tool ran and how long the person took to approve it
(``durationMs``, ``approvalWaitMs``); a ``usage`` record ends each turn with its token usage.
Both are optional: files written before they existed load the same way, without them.
Sessions belong to the workspace, not to a frontend: the TUI, the server and ``pygent run`` all
read and write the same files.

Modules: :mod:`~pygent.agent.session.ids` (ids, workspace key), :mod:`~pygent.agent.session.store`
(the files: write and parse), :mod:`~pygent.agent.session.index` (the per-workspace list index),
:mod:`~pygent.agent.session.replay` (history -> session updates), :mod:`~pygent.agent.session.text`.
"""

from __future__ import annotations

from pygent.agent.session.ids import new_session_id, validate_session_id, workspace_key
from pygent.agent.session.store import SESSION_FILE_SUFFIX, Session, SessionInfo, SessionStore
from pygent.agent.session.text import message_text, title_from_text

__all__ = [
    "SESSION_FILE_SUFFIX",
    "Session",
    "SessionInfo",
    "SessionStore",
    "message_text",
    "new_session_id",
    "title_from_text",
    "validate_session_id",
    "workspace_key",
]
