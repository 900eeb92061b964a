"""Method names of the ``pygent/*`` protocol spoken by ``pygent serve`` (and read by every client)."""

from __future__ import annotations

PROTOCOL_VERSION = 1
"""Bumped on incompatible changes to the ``pygent/*`` methods."""

SESSION_NEW = "pygent/session/new"
SESSION_PROMPT = "pygent/session/prompt"
SESSION_CANCEL = "pygent/session/cancel"
SESSION_LIST = "pygent/session/list"
SESSION_LOAD = "pygent/session/load"
SESSION_DELETE = "pygent/session/delete"
SESSION_SET_MODE = "pygent/session/setMode"
SESSION_SET_MODEL = "pygent/session/setModel"
SESSION_COMPACT = "pygent/session/compact"
SESSION_UPDATE = "pygent/session/update"
SESSION_REQUEST_PERMISSION = "pygent/session/requestPermission"
LLM_CHECK = "pygent/llm/check"
"""``{model, apiBase?, apiKey?}`` -> ``{ok, message}``: test a model configuration before saving it."""
MCP_LIST = "pygent/mcp/list"
"""``{sessionId}`` -> ``{servers: [{name, source, transport, target, state, error, tools}]}``."""
COMMANDS_LIST = "pygent/commands/list"
"""``{sessionId}`` -> ``{commands: [{name, help, source}]}``: the plugins' slash commands."""
COMMANDS_RUN = "pygent/commands/run"
"""``{sessionId, name, args}`` -> ``{text}``: run a plugin's slash command (Markdown result)."""

#: Client -> server methods, as advertised in ``capabilities.experimental.pygent.methods``.
CLIENT_METHODS = (
    SESSION_NEW,
    SESSION_PROMPT,
    SESSION_CANCEL,
    SESSION_LIST,
    SESSION_LOAD,
    SESSION_DELETE,
    SESSION_SET_MODE,
    SESSION_SET_MODEL,
    SESSION_COMPACT,
    LLM_CHECK,
    MCP_LIST,
    COMMANDS_LIST,
    COMMANDS_RUN,
)

COMMAND_PROMPT = "pygent.prompt"
COMMAND_CANCEL = "pygent.cancel"
