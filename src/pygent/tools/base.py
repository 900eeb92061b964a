"""The tool mechanism: ``@tool``, :class:`ToolRisk`, the registry, and :func:`dispatch`.

A tool is an ``async def`` whose first parameter is the :class:`ToolContext`; the rest are its
arguments. The decorator reads the type hints and the docstring (Google style ``Args:``) and builds
a pydantic model, hence the JSON schema the model sees (``additionalProperties: false``).

Dispatch looks the tool up, validates arguments (a validation failure is a tool error naming the
argument), asks the permission gate, runs the tool and caps its output. Permission is a layer around
dispatch, never an ``if`` inside a tool.
"""

from __future__ import annotations

import enum
import inspect
import json
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_type_hints

from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from pydantic.fields import FieldInfo

from pygent.edits.changes import (
    ApplyResult,
    ChangeSet,
    CreateFile,
    DeleteFile,
    RenameFile,
    TextChange,
)
from pygent.protocol.updates import ToolKind, diff_content, tool_call_update
from pygent.tools.errors import ToolError

if TYPE_CHECKING:
    from pygent.protocol.port import FrontendPort
    from pygent.settings.models import Settings
    from pygent.tools.workspace import Workspace

__all__ = [
    "ToolContext",
    "ToolError",
    "ToolOutput",
    "ToolRegistry",
    "ToolResult",
    "ToolRisk",
    "ToolSpec",
    "cap_output",
    "default_registry",
    "dispatch",
    "tool",
]


class ToolRisk(enum.Enum):
    """How much a tool can change; decides what the permission mode lets through."""

    READ = "read"
    """No side effects: read, list, grep, find, git status/diff/log."""
    WRITE = "write"
    """Changes files in the workspace; git add/commit/checkout."""
    EXECUTE = "execute"
    """Runs programs (shell)."""
    NETWORK = "network"
    """Leaves the machine: web fetch, git push/pull."""

    @property
    def rank(self) -> int:
        """Ordering for comparisons (READ < WRITE < EXECUTE < NETWORK)."""
        return _RISK_RANK[self]


_RISK_RANK = {ToolRisk.READ: 0, ToolRisk.WRITE: 1, ToolRisk.EXECUTE: 2, ToolRisk.NETWORK: 3}


@dataclass
class ToolOutput:
    """What a tool returns when plain text is not enough.

    Attributes:
        text: What the model reads.
        raw_output: Machine-readable details for frontends (``rawOutput``), e.g. ``{"exitCode": 0}``.
        content: Extra ACP tool-call content for frontends (diffs are added by ``apply_edit``).
        is_error: Report the call as failed while still giving the model ``text``.
    """

    text: str
    raw_output: dict[str, Any] | None = None
    content: list[dict[str, Any]] | None = None
    is_error: bool = False


@dataclass
class ToolContext:
    """What a running tool may use. Tools reach people only through :meth:`apply_edit`.

    Attributes:
        workspace: Roots and buffer overlay; resolve every path through it.
        settings: Effective settings.
        port: The frontend port.
        session_id: The session the call belongs to.
        tool_call_id: The model's id for this call.
        emit: Where tool-call updates go (defaults to ``port.emit``).
        gate: The permission gate that let this call run (set by :func:`dispatch`), for tools
            that must judge a further step the same way, such as each redirect of a fetch.
    """

    workspace: Workspace
    settings: Settings
    port: FrontendPort
    session_id: str = ""
    tool_call_id: str = ""
    emit: Callable[[dict[str, Any]], None] | None = None
    gate: PermissionGate | None = None
    _diff_sent: bool = field(default=False, repr=False)

    def send(self, update: dict[str, Any]) -> None:
        """Emit an update about this call."""
        (self.emit or self.port.emit)(update)

    async def apply_edit(self, change_set: ChangeSet) -> ApplyResult:
        """Show the change's diff on the tool call, then have the frontend review and apply it."""
        if not change_set.tool_call_id:
            change_set.tool_call_id = self.tool_call_id
        self.send(
            tool_call_update(
                self.tool_call_id, status="in_progress", content=diff_contents(change_set)
            )
        )
        return await self.port.apply_edit(change_set)


def diff_contents(change_set: ChangeSet) -> list[dict[str, Any]]:
    """ACP diff contents for every change of a change set."""
    out: list[dict[str, Any]] = []
    for change in change_set.changes:
        if isinstance(change, TextChange):
            out.append(diff_content(str(change.path), change.old_text, change.new_text))
        elif isinstance(change, CreateFile):
            out.append(diff_content(str(change.path), None, change.content))
        elif isinstance(change, DeleteFile):
            out.append(diff_content(str(change.path), change.old_text or "", ""))
        elif isinstance(change, RenameFile):
            out.append(
                {
                    "type": "content",
                    "content": {
                        "type": "text",
                        "text": f"Move {change.source} -> {change.destination}",
                    },
                }
            )
    return out


ToolFunc = Callable[..., Awaitable["str | ToolOutput"]]
TitleSpec = str | Callable[[dict[str, Any]], str]


@dataclass
class ToolSpec:
    """A registered tool: metadata, argument model, and the function.

    Attributes:
        name: The name the model calls.
        description: From the docstring's summary and body (without ``Args:``).
        risk: The risk tier.
        kind: ACP tool kind for frontends.
        func: The implementation.
        args_model: pydantic model validating the arguments.
        title: Human title, or a function of the (validated) arguments.
        rule_arg: The argument permission rules match against (e.g. ``command`` for ``shell``).
        path_args: Arguments that name workspace paths (become ``locations``).
        reviewed_edit: True when every change goes through ``apply_edit`` (the review is the approval).
    """

    name: str
    description: str
    risk: ToolRisk
    kind: ToolKind
    func: ToolFunc
    args_model: type[BaseModel]
    title: TitleSpec
    rule_arg: str | None = None
    path_args: tuple[str, ...] = ()
    reviewed_edit: bool = False
    _schema: dict[str, Any] | None = field(default=None, repr=False)

    def json_schema(self) -> dict[str, Any]:
        """The JSON schema of the arguments (cached)."""
        if self._schema is None:
            schema = self.args_model.model_json_schema()
            schema.pop("title", None)
            for prop in schema.get("properties", {}).values():
                prop.pop("title", None)
            schema["additionalProperties"] = False
            self._schema = schema
        return self._schema

    def openai_schema(self) -> dict[str, Any]:
        """The tool in OpenAI function-calling form (what litellm takes)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.json_schema(),
            },
        }

    def make_title(self, args: dict[str, Any]) -> str:
        """The human title for a call with ``args``."""
        if callable(self.title):
            try:
                return self.title(args)
            except Exception:
                return self.name
        return self.title


_ARGS_HEADER = re.compile(r"^\s*(Args|Arguments|Parameters):\s*$")
_SECTION_HEADER = re.compile(r"^\s*(Returns|Raises|Yields|Examples?|Notes?):\s*$")
# Any other unindented "Word:" / "Two Words:" line also ends the ``Args:`` section (Google style).
_ANY_SECTION = re.compile(r"^[A-Z][A-Za-z ]{0,30}:\s*$")
_ARG_LINE = re.compile(r"^\s+(\*{0,2}\w+)(?:\s*\([^)]*\))?:\s*(.*)$")


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into (description, {arg: text})."""
    doc = inspect.cleandoc(doc or "")
    description: list[str] = []
    args: dict[str, str] = {}
    section = "desc"
    current: str | None = None
    for line in doc.splitlines():
        if _ARGS_HEADER.match(line):
            section = "args"
            continue
        if _SECTION_HEADER.match(line):
            section = "other"
            continue
        if section == "desc":
            description.append(line)
        elif section == "args":
            if _ANY_SECTION.match(line):
                section = "other"
                continue
            m = _ARG_LINE.match(line)
            indent = len(line) - len(line.lstrip())
            if m and indent <= 4:
                current = m.group(1).lstrip("*")
                args[current] = m.group(2).strip()
            elif current and line.strip():
                args[current] = (args[current] + " " + line.strip()).strip()
    return "\n".join(description).strip(), args


class ToolRegistry:
    """Tools by name. Plugins register through :func:`tool` too."""

    def __init__(self) -> None:
        self._tools: dict[str, ToolSpec] = {}

    def register(self, spec: ToolSpec) -> None:
        """Add (or replace) a tool."""
        self._tools[spec.name] = spec

    def get(self, name: str) -> ToolSpec | None:
        """The tool called ``name``, or None."""
        return self._tools.get(name)

    def names(self) -> list[str]:
        """Registered tool names, sorted."""
        return sorted(self._tools)

    def __iter__(self) -> Any:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def schemas(self, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """OpenAI-style schemas of the given (default: all) tools."""
        chosen = self.names() if names is None else list(names)
        return [self._tools[n].openai_schema() for n in chosen if n in self._tools]

    def subset(self, names: Iterable[str]) -> ToolRegistry:
        """A registry with only ``names``."""
        out = ToolRegistry()
        for n in names:
            if n in self._tools:
                out.register(self._tools[n])
        return out


_DEFAULT_REGISTRY = ToolRegistry()
_BUILTINS_LOADED = False
BUILTIN_MODULES = (
    "pygent.tools.files",
    "pygent.tools.search",
    "pygent.tools.git",
    "pygent.tools.shell",
    "pygent.tools.web",
    "pygent.tools.plan",
)


def default_registry() -> ToolRegistry:
    """The process-wide registry with every built-in tool loaded."""
    global _BUILTINS_LOADED
    if not _BUILTINS_LOADED:
        import importlib

        for module in BUILTIN_MODULES:
            importlib.import_module(module)
        _BUILTINS_LOADED = True
    return _DEFAULT_REGISTRY


def tool(
    *,
    risk: ToolRisk,
    kind: ToolKind = "other",
    title: TitleSpec | None = None,
    name: str | None = None,
    rule_arg: str | None = None,
    path_args: tuple[str, ...] = (),
    reviewed_edit: bool = False,
    registry: ToolRegistry | None = None,
) -> Callable[[ToolFunc], ToolFunc]:
    """Register an ``async def f(ctx, ...)`` as a tool.

    Args:
        risk: The risk tier.
        kind: ACP tool kind (``read``, ``edit``, ``delete``, ``move``, ``search``, ``execute``, ``fetch``, ``other``).
        title: A title or ``lambda args: ...`` (defaults to the tool name).
        name: Tool name (defaults to the function name).
        rule_arg: Argument that permission rules match (``shell(pytest*)`` matches ``command``).
        path_args: Arguments naming paths (shown as locations; matched by path rules).
        reviewed_edit: Every change goes through ``ctx.apply_edit`` (the review is the approval).
        registry: Where to register. Without it, pygent's built-in tools join the process-wide
            registry; any other function is only described (a plugin adds it with
            :meth:`pygent.plugins.PluginApp.add_tool`).

    Example:
        @tool(risk=ToolRisk.READ, kind="read", title=lambda a: f"Read {a['path']}")
        async def read_file(ctx: ToolContext, path: str) -> str:
            \"\"\"Read a file.

            Args:
                path: File to read.
            \"\"\"
    """

    def decorate(func: ToolFunc) -> ToolFunc:
        if not inspect.iscoroutinefunction(func):
            raise TypeError(f"tool {func.__name__} must be an async function")
        spec = build_spec(
            func,
            risk=risk,
            kind=kind,
            title=title,
            name=name,
            rule_arg=rule_arg,
            path_args=path_args,
            reviewed_edit=reviewed_edit,
        )
        if registry is not None:
            registry.register(spec)
        elif func.__module__.split(".", 1)[0] == "pygent":
            _DEFAULT_REGISTRY.register(spec)  # the built-in tools
        # Anything else (a plugin, a script) is only described here: it joins a registry through
        # `registry=`, ToolRegistry.register or PluginApp.add_tool, which checks name clashes.
        func.__pygent_tool__ = spec  # type: ignore[attr-defined]
        return func

    return decorate


def _type_hints(func: ToolFunc) -> dict[str, Any]:
    """The function's resolved hints, keeping ``Annotated`` metadata (``Field`` constraints).

    Tool modules often import ``ToolContext`` only under ``TYPE_CHECKING``; it is supplied here.
    """
    try:
        return get_type_hints(func, include_extras=True)
    except NameError:
        return get_type_hints(
            func,
            localns={"ToolContext": ToolContext, "ToolOutput": ToolOutput},
            include_extras=True,
        )


def build_spec(
    func: ToolFunc,
    *,
    risk: ToolRisk,
    kind: ToolKind,
    title: TitleSpec | None,
    name: str | None,
    rule_arg: str | None,
    path_args: tuple[str, ...],
    reviewed_edit: bool,
) -> ToolSpec:
    """Build a :class:`ToolSpec` from a function's signature and docstring."""
    tool_name = name or func.__name__
    description, arg_docs = parse_docstring(func.__doc__ or "")
    hints = _type_hints(func)
    params = list(inspect.signature(func).parameters.values())
    if not params:
        raise TypeError(f"tool {tool_name} must take the ToolContext as first parameter")
    fields: dict[str, Any] = {}
    for param in params[1:]:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"tool {tool_name}: *args/**kwargs are not supported")
        annotation = hints.get(param.name, Any)
        default = ... if param.default is param.empty else param.default
        if isinstance(default, FieldInfo):
            if default.description is None and param.name in arg_docs:
                default.description = arg_docs[param.name]
            fields[param.name] = (annotation, default)
        else:
            from pydantic import Field

            fields[param.name] = (
                annotation,
                Field(default=default, description=arg_docs.get(param.name)),
            )
    model = create_model(  # type: ignore[call-overload]
        f"{tool_name}_args",
        __config__=ConfigDict(extra="forbid", strict=False),
        **fields,
    )
    return ToolSpec(
        name=tool_name,
        description=description or tool_name,
        risk=risk,
        kind=kind,
        func=func,
        args_model=model,
        title=title or tool_name,
        rule_arg=rule_arg,
        path_args=path_args,
        reviewed_edit=reviewed_edit,
    )


# -- dispatch -------------------------------------------------------------------------------


@dataclass
class PermissionDecision:
    """The permission gate's answer.

    Attributes:
        allowed: Run the tool.
        message: When refused, what the model is told (e.g. "The user declined ..."); when
            allowed, a note added after the tool's result (e.g. the rule "Allow always" saved).
    """

    allowed: bool
    message: str = ""


class PermissionGate(Protocol):
    """Decides whether a validated call may run (implemented by :mod:`pygent.permissions`)."""

    async def check(
        self, spec: ToolSpec, args: dict[str, Any], ctx: ToolContext
    ) -> PermissionDecision:
        """Allow or refuse; may ask the person through ``ctx.port``."""
        ...


@dataclass
class ToolResult:
    """The outcome of one dispatched call.

    Attributes:
        tool_call_id: The model's call id.
        name: Tool name as called.
        text: What the model reads.
        is_error: The call failed (bad args, refused, tool error, crash).
        raw_output: For frontends (``rawOutput``).
        content: ACP content for the final ``tool_call_update``.
        duration_ms: Wall time of the tool itself.
    """

    tool_call_id: str
    name: str
    text: str
    is_error: bool = False
    raw_output: dict[str, Any] | None = None
    content: list[dict[str, Any]] | None = None
    duration_ms: float = 0.0

    @property
    def status(self) -> Literal["completed", "failed"]:
        """ACP tool-call status."""
        return "failed" if self.is_error else "completed"


def cap_output(text: str, limit: int, hint: str = "") -> str:
    """Keep the head and tail of ``text`` when it is longer than ``limit`` characters.

    The marker says how much was cut and, with ``hint``, how to see the rest.
    """
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head
    cut = len(text) - head - tail
    omitted_lines = text.count("\n", head, len(text) - tail)
    marker = f"\n\n[... {cut} characters ({omitted_lines} lines) omitted"
    marker += f"; {hint}" if hint else ""
    marker += " ...]\n\n"
    return text[:head] + marker + text[len(text) - tail :]


def format_validation_error(tool_name: str, exc: ValidationError) -> str:
    """A message naming each wrong argument and why."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        if err["type"] == "extra_forbidden":
            parts.append(f"unknown argument {loc!r}")
        elif err["type"] == "missing":
            parts.append(f"missing required argument {loc!r}")
        else:
            parts.append(f"argument {loc!r}: {err['msg']}")
    return f"Invalid arguments for {tool_name}: " + "; ".join(parts) + "."


def parse_arguments(raw: str | dict[str, Any] | None) -> dict[str, Any]:
    """Decode the model's argument JSON. Raises :class:`ToolError` on malformed JSON."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, (str, bytes, bytearray)):
        raise ToolError("The tool arguments must be a JSON object.")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ToolError(
            f"The tool arguments are not valid JSON ({exc.msg} at position {exc.pos}). "
            "Send the arguments as one JSON object."
        ) from None
    if not isinstance(value, dict):
        raise ToolError("The tool arguments must be a JSON object.")
    return value


def locations_for(
    spec: ToolSpec, args: dict[str, Any], workspace: Workspace
) -> list[dict[str, Any]]:
    """ACP ``locations`` for a call: the absolute paths its path arguments name."""
    out = []
    for arg in spec.path_args:
        value = args.get(arg)
        if isinstance(value, str) and value:
            path = Path(value)
            if not path.is_absolute():
                path = workspace.root / path
            out.append({"path": str(path)})
    return out


async def dispatch(
    registry: ToolRegistry,
    name: str,
    raw_arguments: str | dict[str, Any] | None,
    ctx: ToolContext,
    gate: PermissionGate | None = None,
) -> ToolResult:
    """Run one tool call end to end; never raises for anything the model or a tool did.

    Cancellation (``asyncio.CancelledError``) propagates so the turn can stop.
    """
    call_id = ctx.tool_call_id
    spec = registry.get(name)
    if spec is None:
        known = ", ".join(registry.names())
        return ToolResult(call_id, name, f"Unknown tool {name!r}. Available tools: {known}.", True)
    try:
        args = parse_arguments(raw_arguments)
        validated = spec.args_model.model_validate(args)
    except ToolError as exc:
        return ToolResult(call_id, name, str(exc), True)
    except ValidationError as exc:
        return ToolResult(call_id, name, format_validation_error(name, exc), True)
    # Field values as validated (nested models stay models; no dump/re-validate round trip).
    values = {key: getattr(validated, key) for key in type(validated).model_fields}
    if validated.model_extra:  # tools whose schema comes from elsewhere (MCP) take any argument
        values.update(validated.model_extra)
    note = ""
    if gate is not None:
        ctx.gate = gate
        try:
            decision = await gate.check(spec, values, ctx)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            if type(exc).__name__ == "CancelledError":
                raise
            from loguru import logger

            logger.opt(exception=exc).error("permission check for {} failed", name)
            return ToolResult(
                call_id,
                name,
                f"{name} was not run: the permission check failed ({type(exc).__name__}: {exc}).",
                True,
            )
        if not decision.allowed:
            return ToolResult(call_id, name, decision.message, True)
        note = decision.message
    started = time.perf_counter()
    try:
        output = await spec.func(ctx, **values)
    except ToolError as exc:
        return ToolResult(call_id, name, str(exc), True, duration_ms=_ms(started))
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        if type(exc).__name__ == "CancelledError":
            raise
        from loguru import logger

        logger.opt(exception=exc).error("tool {} crashed", name)
        return ToolResult(
            call_id,
            name,
            f"The tool {name} failed unexpectedly: {type(exc).__name__}: {exc}",
            True,
            duration_ms=_ms(started),
        )
    limit = ctx.settings.tools.max_output_chars
    if isinstance(output, ToolOutput):
        text = _noted(cap_output(output.text, limit, _more_hint(spec)), note)
        return ToolResult(
            call_id,
            name,
            text,
            output.is_error,
            output.raw_output,
            output.content,
            _ms(started),
        )
    return ToolResult(
        call_id,
        name,
        _noted(cap_output(str(output), limit, _more_hint(spec)), note),
        False,
        duration_ms=_ms(started),
    )


def _noted(text: str, note: str) -> str:
    """The tool's result with the permission note (e.g. the rule just saved) after it."""
    return f"{text}\n\n[{note}]" if note else text


def _more_hint(spec: ToolSpec) -> str:
    if spec.name == "read_file":
        return "use read_file with offset and limit to see more"
    if spec.name in ("grep", "find_files"):
        return "narrow the pattern or path to see more"
    return "narrow the request to see more"


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
