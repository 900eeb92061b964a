"""The ``pygent/*`` protocol: method names, capability negotiation and parameter validation.

Light on purpose: this module is imported before ``initialize`` is answered, so it needs nothing
but the standard library. ACP's pydantic models (``acp.schema``, ~0.6 s to import) are loaded
lazily by :func:`validate_params` (the server warms them in the background after ``initialized``).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from pygent.errors import PygentError, invalid_params
from pygent.protocol.codes import (
    INTERNAL_ERROR,
)
from pygent.protocol.methods import (
    CLIENT_METHODS,
    COMMAND_CANCEL,
    COMMAND_PROMPT,
    PROTOCOL_VERSION,
    SESSION_CANCEL,
    SESSION_COMPACT,
    SESSION_DELETE,
    SESSION_LIST,
    SESSION_LOAD,
    SESSION_NEW,
    SESSION_PROMPT,
    SESSION_SET_MODE,
    SESSION_SET_MODEL,
)
from pygent.protocol.modes import PERMISSION_MODES

SUPPORTED_ENCODINGS = ("utf-8", "utf-16", "utf-32")


# -- initialize ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientFeatures:
    """What the client can do, decided once from ``initialize`` params.

    Attributes:
        apply_edit: ``workspace.applyEdit``: edits go to the editor for review.
        change_annotations: ``workspace.workspaceEdit.changeAnnotationSupport``.
        document_changes: ``workspace.workspaceEdit.documentChanges``.
        permission_requests: ``experimental.pygent.permissionRequests``.
        show_message_request: ``window.showMessage`` (request) is assumed by LSP; kept for clarity.
        show_document: ``window.showDocument.support``.
        work_done_progress: ``window.workDoneProgress``.
        position_encoding: The negotiated position encoding.
    """

    apply_edit: bool = False
    change_annotations: bool = False
    document_changes: bool = False
    permission_requests: bool = False
    show_message_request: bool = True
    show_document: bool = False
    work_done_progress: bool = False
    position_encoding: str = "utf-16"


@dataclass(frozen=True)
class InitOptions:
    """``initializationOptions`` pygent understands (unknown keys are ignored with a warning).

    Attributes:
        model: Overrides ``llm.model`` for this server.
        permission_mode: Overrides ``permissions.mode`` (``ask``, ``auto-edit``, ``plan``, ``auto``).
        log_level: Overrides ``logging.level``.
        follow_agent: Send ``window/showDocument`` (``takeFocus: false``) for every edited file;
            None when the editor did not say (the ``ui.follow_agent`` setting decides then).
    """

    model: str | None = None
    permission_mode: str | None = None
    log_level: str | None = None
    follow_agent: bool | None = None

    def settings_overrides(self) -> dict[str, Any]:
        """The options as a nested settings-override dict for ``load_settings``."""
        out: dict[str, Any] = {}
        if self.model:
            out.setdefault("llm", {})["model"] = self.model
        if self.permission_mode:
            out.setdefault("permissions", {})["mode"] = self.permission_mode
        if self.log_level:
            out.setdefault("logging", {})["level"] = self.log_level.upper()
        return out


_MODES = PERMISSION_MODES
_LEVELS = ("TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def parse_init_options(raw: Any) -> tuple[InitOptions, list[str]]:
    """Read ``initializationOptions``; invalid values fall back to defaults with a warning each.

    Returns:
        The options and the warnings to show the user.
    """
    warnings: list[str] = []
    if raw is None:
        return InitOptions(), warnings
    if not isinstance(raw, dict):
        return InitOptions(), ["initializationOptions must be an object; ignored it."]
    model = raw.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        warnings.append("initializationOptions.model must be a non-empty string; ignored it.")
        model = None
    mode = raw.get("permissionMode")
    if mode is not None and mode not in _MODES:
        warnings.append(
            f"initializationOptions.permissionMode {mode!r} is not one of {', '.join(_MODES)}; ignored it."
        )
        mode = None
    level = raw.get("logLevel")
    if level is not None and (not isinstance(level, str) or level.upper() not in _LEVELS):
        warnings.append(
            f"initializationOptions.logLevel {level!r} is not one of {', '.join(_LEVELS)}; ignored it."
        )
        level = None
    follow = raw.get("followAgent")
    if follow is not None and not isinstance(follow, bool):
        warnings.append("initializationOptions.followAgent must be true or false; ignored it.")
        follow = None
    known = {"model", "permissionMode", "logLevel", "followAgent"}
    unknown = sorted(set(raw) - known)
    if unknown:
        warnings.append(f"Unknown initializationOptions ignored: {', '.join(unknown)}.")
    return InitOptions(model, mode, level, follow), warnings


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def client_features(params: dict[str, Any]) -> ClientFeatures:
    """Decide the capability-driven behaviour from ``initialize`` params."""
    caps = params.get("capabilities") if isinstance(params, dict) else None
    caps = caps if isinstance(caps, dict) else {}
    encodings = _get(caps, "general", "positionEncodings")
    encoding = "utf-16"
    if isinstance(encodings, list):
        for candidate in encodings:
            if candidate in SUPPORTED_ENCODINGS:
                encoding = candidate
                break
    return ClientFeatures(
        apply_edit=_get(caps, "workspace", "applyEdit") is True,
        change_annotations=isinstance(
            _get(caps, "workspace", "workspaceEdit", "changeAnnotationSupport"), dict
        ),
        document_changes=_get(caps, "workspace", "workspaceEdit", "documentChanges") is True,
        permission_requests=_get(caps, "experimental", "pygent", "permissionRequests") is True,
        show_document=_get(caps, "window", "showDocument", "support") is True,
        work_done_progress=_get(caps, "window", "workDoneProgress") is True,
        position_encoding=encoding,
    )


def initialize_result(params: dict[str, Any], version: str) -> dict[str, Any]:
    """The ``initialize`` result: server info and capabilities (plain JSON, no lsprotocol)."""
    features = client_features(params)
    return {
        "serverInfo": {"name": "pygent", "version": version},
        "capabilities": {
            "positionEncoding": features.position_encoding,
            "textDocumentSync": {"openClose": True, "change": 2},
            "executeCommandProvider": {"commands": [COMMAND_PROMPT, COMMAND_CANCEL]},
            "experimental": {
                "pygent": {
                    "protocolVersion": PROTOCOL_VERSION,
                    "permissionRequests": True,
                    "methods": list(CLIENT_METHODS),
                }
            },
        },
    }


def workspace_roots(params: dict[str, Any]) -> list[Path]:
    """Workspace roots from ``initialize``: workspaceFolders, else rootUri, else rootPath, else cwd."""
    roots: list[Path] = []
    folders = params.get("workspaceFolders")
    if isinstance(folders, list):
        for folder in folders:
            path = uri_to_path(_get(folder, "uri"))
            if path is not None:
                roots.append(path)
    if not roots:
        path = uri_to_path(params.get("rootUri"))
        if path is None and isinstance(params.get("rootPath"), str) and params["rootPath"]:
            path = Path(params["rootPath"])
        if path is not None:
            roots.append(path)
    if not roots:
        roots.append(Path(os.getcwd()))
    return roots


def uri_to_path(uri: Any) -> Path | None:
    """A ``file://`` URI as a path (None for other schemes or garbage)."""
    if not isinstance(uri, str) or not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path)
    if os.name == "nt" and len(path) >= 3 and path[0] == "/" and path[2] == ":":
        path = path[1:]
    if parsed.netloc and parsed.netloc != "localhost":
        path = f"//{parsed.netloc}{path}"
    return Path(path)


# -- validation ----------------------------------------------------------------------------------

_SCHEMA_LOCK = threading.Lock()
_MODELS: dict[str, Any] | None = None


def schema_models_loaded() -> bool:
    """True once :func:`load_schema_models` has run."""
    return _MODELS is not None


def load_schema_models() -> dict[str, Any]:
    """ACP's pydantic models for the methods that have one (imports ``acp.schema`` once)."""
    global _MODELS
    with _SCHEMA_LOCK:
        if _MODELS is None:
            from acp import schema

            models: dict[str, Any] = {
                SESSION_NEW: schema.NewSessionRequest,
                SESSION_LOAD: schema.LoadSessionRequest,
                SESSION_PROMPT: schema.PromptRequest,
                SESSION_CANCEL: schema.CancelNotification,
                SESSION_LIST: schema.ListSessionsRequest,
                SESSION_DELETE: schema.DeleteSessionRequest,
                SESSION_SET_MODE: schema.SetSessionModeRequest,
            }
            _MODELS = models
        return _MODELS


def format_loc(loc: tuple[Any, ...], value: Any) -> str:
    """``("prompt", 0, "text", "text")`` -> ``prompt[0].text`` (union tags and class names dropped)."""
    out = ""
    current = value
    skip_tag = False
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            current = current[part] if isinstance(current, list) and part < len(current) else None
            skip_tag = True
            continue
        if skip_tag and isinstance(current, dict) and current.get("type") == part:
            skip_tag = False
            continue
        skip_tag = False
        if part[:1].isupper():  # a union member's class name
            continue
        out += f".{part}" if out else str(part)
        current = current.get(part) if isinstance(current, dict) else None
    return out or "params"


def _first_error(exc: Any, params: dict[str, Any]) -> str:
    errors = exc.errors()
    parts = []
    for err in errors[:3]:
        where = format_loc(tuple(err["loc"]), params)
        msg = "field required" if err["type"] == "missing" else err["msg"]
        parts.append(f"{where}: {msg}")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(parts) + more


def _plain_text_block(block: Any) -> bool:
    return (
        isinstance(block, dict)
        and block.keys() <= {"type", "text"}
        and block.get("type") == "text"
        and isinstance(block.get("text"), str)
    )


def _is_common_session(params: dict[str, Any]) -> bool:
    """Keys ACP's models could only accept (``mcpServers`` is checked by pygent.mcp.editor)."""
    return (
        params.keys() <= {"cwd", "mcpServers", "sessionId"}
        and isinstance(params.get("mcpServers"), list)
        and isinstance(params.get("cwd"), str)
    )


def validate_common(
    method: str, params: Any, default_cwd: Path | None = None
) -> dict[str, Any] | None:
    """:func:`validate_params` for the common shapes, without ACP's models (~0.6-2 s to import).

    Covers ``session/new`` and ``session/load`` (their ``mcpServers`` are checked by
    :func:`pygent.mcp.editor.parse_editor_servers`) and a ``session/prompt`` of plain text
    blocks: shapes ACP's models can only accept. Anything else returns None (validate
    it with :func:`validate_params`), so a first prompt never waits for ``acp.schema``.
    """
    if not isinstance(params, dict):
        return None
    if method in (SESSION_NEW, SESSION_LOAD):
        allowed = {"cwd", "mcpServers"} | ({"sessionId"} if method == SESSION_LOAD else set())
        if not params.keys() <= allowed or not isinstance(params.get("mcpServers", []), list):
            return None
        if "cwd" in params and not isinstance(params["cwd"], str):
            return None
        if method == SESSION_LOAD and not isinstance(params.get("sessionId"), str):
            return None
        if "cwd" not in params and default_cwd is None:
            return None
        return validate_params(method, params, default_cwd)  # no model needed for these keys
    if method == SESSION_PROMPT:
        prompt = params.get("prompt")
        if (
            params.keys() <= {"sessionId", "prompt", "workDoneToken"}
            and isinstance(params.get("sessionId"), str)
            and isinstance(prompt, list)
            and all(_plain_text_block(block) for block in prompt)
        ):
            return dict(params)
    return None


def validate_params(method: str, params: Any, default_cwd: Path | None = None) -> dict[str, Any]:
    """Check ``params`` of a ``pygent/*`` method against ACP's shape.

    ``cwd`` (default: the workspace root) and ``mcpServers`` (default ``[]``) may be omitted in
    ``session/new`` and ``session/load``; their ``mcpServers`` entries are checked first, so a
    bad one is named by index, server name and field.

    Returns:
        The params as a plain dict (with the defaults filled in).

    Raises:
        PygentError: ``invalid_params`` naming the bad field.
    """
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise invalid_params(f"params: must be an object, got {type(params).__name__}")
    params = dict(params)
    if method in (SESSION_NEW, SESSION_LOAD):
        if "cwd" not in params and default_cwd is not None:
            params["cwd"] = str(default_cwd)
        if params.get("mcpServers") is None:
            params["mcpServers"] = []
        cwd = params.get("cwd")
        if isinstance(cwd, str) and not os.path.isabs(cwd):
            raise invalid_params(f"cwd: must be an absolute path, got {cwd!r}")
        from pygent.mcp.editor import parse_editor_servers

        parse_editor_servers(params["mcpServers"])  # names the entry and field of a bad server
    if method in (SESSION_SET_MODEL, SESSION_COMPACT):
        required = ("sessionId", "modelId") if method == SESSION_SET_MODEL else ("sessionId",)
        for key in required:
            if key not in params:
                raise invalid_params(f"{key}: field required")
            if not isinstance(params[key], str) or not params[key]:
                raise invalid_params(f"{key}: must be a non-empty string")
        return dict(params)
    if method == SESSION_SET_MODE and params.get("modeId") not in (None, *_MODES):
        raise invalid_params(f"modeId: {params.get('modeId')!r} is not one of {', '.join(_MODES)}")
    if method in (SESSION_NEW, SESSION_LOAD) and _MODELS is None and _is_common_session(params):
        return dict(params)
    model = load_schema_models().get(method)
    if model is not None:
        from pydantic import ValidationError

        # ``mcpServers`` was checked above (more leniently than ACP: ``args``, ``env`` and
        # ``headers`` may be left out), so the answer never depends on whether the models loaded.
        shape = {**params, "mcpServers": []} if "mcpServers" in params else params
        try:
            model.model_validate(shape)
        except ValidationError as exc:
            raise invalid_params(_first_error(exc, params)) from None
    return dict(params)


def error_payload(error: PygentError) -> tuple[int, str, dict[str, Any]]:
    """JSON-RPC ``(code, message, data)`` for a :class:`PygentError`."""
    from pygent.errors import JSONRPC_CODES

    code = JSONRPC_CODES.get(error.code, INTERNAL_ERROR)
    message = str(error)
    data: dict[str, Any] = {"code": error.code}
    data.update({k: v for k, v in error.data.items() if k != "code"})
    if error.hint:
        data["hint"] = error.hint
    return code, message, data
