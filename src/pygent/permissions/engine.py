"""The permission engine: decides, before every tool call, whether it runs, asks or is refused.

Order of decisions (the first that applies wins):

1. A **deny rule** that matches refuses the call (deny always wins, in every mode).
2. **Plan mode** refuses anything above ``READ``.
3. A ``WRITE`` tool whose every change is reviewed by the frontend (``spec.reviewed_edit`` and
   ``port.reviews_edits``) runs: the edit review is the approval, so nobody is asked twice.
4. An **allow rule** that covers the whole call lets it run (a destructive shell command only with
   a rule that names it).
5. A **destructive** shell command asks, even in ``auto`` mode; so does a fetch of this machine
   or a private network (``localhost``, ``10.0.0.0/8``, the cloud metadata address, ...), which
   an allow rule lets through only when it names the URL.
6. The **mode** decides by risk: ``ask`` runs READ, ``auto-edit`` READ and WRITE, ``auto`` all.

The OS sandbox (:mod:`pygent.sandbox`) adds two decisions right after plan mode, kept in
:func:`sandbox_verdict`: a shell command that asks to run *outside* the sandbox (``escalate``)
always asks, whatever the mode and rules, and "always" is not offered; a plain shell command that
the sandbox confines (no network, no destructive part, no path outside the workspace) runs
without asking in ``auto-edit`` and ``auto``. Without an active sandbox nothing is relaxed.

A shell command whose every part is read-only, with every path inside the workspace, counts as
``READ``. When the engine asks, the person's "always" answers become rules for this session and are
saved to the project's ``.pygent/config.toml``. An "always allow" remembers the narrowest rule that
covers the call (the exact command, or its command word and options with ``*`` standing for
workspace paths), and says which rule it saved.
"""

from __future__ import annotations

import contextlib
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pygent.errors import ConfigError
from pygent.permissions.modes import mode_verdict, plan_refusal, validate_mode
from pygent.permissions.protected import is_protected
from pygent.permissions.rules import (
    SESSION_ORIGIN,
    CallSubject,
    Rule,
    RuleSet,
    escape_pattern,
    load_rule_origins,
    parse_rule,
    save_rule,
)
from pygent.permissions.shell import ShellAnalysis, ShellCommand, classify_command, is_assignment
from pygent.permissions.shell_paths import judge_paths
from pygent.protocol.port import (
    ALLOW_ALWAYS,
    ALLOW_ONCE,
    REJECT_ALWAYS,
    REJECT_ONCE,
    PermissionOption,
    PermissionRequest,
)
from pygent.tools.base import PermissionDecision, ToolRisk
from pygent.tools.errors import ToolError

if TYPE_CHECKING:
    from pygent.settings.models import Settings
    from pygent.tools.base import ToolContext, ToolSpec
    from pygent.tools.workspace import Workspace

__all__ = ["PermissionEngine", "is_shell_tool"]

# Tools whose first word(s) make a useful "always" rule: `git commit*`, `npm run*`.
_TWO_WORD_PROGRAMS = frozenset(
    {
        "git",
        "npm",
        "pnpm",
        "yarn",
        "bun",
        "cargo",
        "go",
        "uv",
        "pip",
        "pip3",
        "poetry",
        "docker",
        "kubectl",
        "make",
        "just",
        "hatch",
        "tox",
        "nox",
        "dotnet",
        "gradle",
        "mvn",
        "ruff",
    }
)


def is_shell_tool(spec: ToolSpec) -> bool:
    """True for the ``shell`` tool (and any execute tool whose rule argument is ``command``)."""
    return spec.name in ("shell", "bash") or (spec.kind == "execute" and spec.rule_arg == "command")


@dataclass
class _Call:
    subject: CallSubject
    risk: ToolRisk
    command: str | None = None

    @property
    def shell(self) -> ShellAnalysis | None:
        return self.subject.shell


class PermissionEngine:
    """Implements :class:`pygent.tools.base.PermissionGate` with modes, rules and the person.

    Args:
        settings: Effective settings (``permissions.mode``, ``permissions.allow``/``deny``).
        project_root: The project whose ``.pygent/config.toml`` "always" answers are saved to.
        mode: Start in this mode instead of ``settings.permissions.mode``.

    Raises:
        ConfigError: a rule in the settings is malformed (the message names it and its file).
        PygentError: ``mode`` is not a known mode.

    Attributes:
        rules: Allow and deny rules from the settings plus those added in this session.
    """

    def __init__(self, settings: Settings, project_root: Path, *, mode: str | None = None) -> None:
        self.project_root = Path(project_root)
        self._mode = validate_mode(mode or settings.permissions.mode)
        self.settings = settings
        self.rules = self._settings_rules(settings)

    def _settings_rules(self, settings: Settings) -> RuleSet:
        perms = settings.permissions
        origins = load_rule_origins(self.project_root) if (perms.allow or perms.deny) else {}
        rules = RuleSet()
        for effect, texts in (("allow", perms.allow), ("deny", perms.deny)):
            for text in texts:
                origin = origins.get((effect, str(text).strip()), "settings")
                rules.add(parse_rule(text, effect, origin))  # type: ignore[arg-type]
        return rules

    def update_settings(self, settings: Settings) -> None:
        """Take new settings (e.g. after ``config set``): rules are re-read, the mode is kept.

        Rules added in this session ("always" answers) stay.

        Raises:
            ConfigError: a new rule is malformed (the engine keeps its old rules).
        """
        rules = self._settings_rules(settings)
        for rule in (*self.rules.allow, *self.rules.deny):
            if rule.origin == SESSION_ORIGIN:
                rules.add(rule)
        self.settings = settings
        self.rules = rules

    # -- mode -----------------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        """The current mode (``ask``, ``auto-edit``, ``plan``, ``auto``); settable at runtime."""
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        self._mode = validate_mode(value)

    @property
    def config_path(self) -> Path:
        """Where "always" answers are saved: the project's ``.pygent/config.toml``."""
        from pygent.settings.paths import project_config_file

        return project_config_file(self.project_root)

    def add_rule(self, text: str, effect: str = "allow", *, origin: str = SESSION_ORIGIN) -> Rule:
        """Add a rule for the rest of this engine's life (not saved).

        Raises:
            ConfigError: the rule is malformed.
        """
        if effect not in ("allow", "deny"):
            raise ValueError(f"effect must be 'allow' or 'deny', not {effect!r}")
        rule = parse_rule(text, effect, origin)  # type: ignore[arg-type]
        self.rules.add(rule)
        return rule

    # -- the gate -------------------------------------------------------------------------------

    async def check(
        self, spec: ToolSpec, args: dict[str, Any], ctx: ToolContext
    ) -> PermissionDecision:
        """Allow or refuse the validated call ``spec(args)``; may ask through ``ctx.port``."""
        call = self._describe(spec, args, ctx.workspace)
        subject = call.subject
        deny = self.rules.find_deny(spec, subject) if self.rules.deny else None
        if deny is not None:
            return PermissionDecision(
                False,
                f"{subject.display()} was not run: the {deny.describe()} forbids it. "
                "Do not retry it; find another way or ask the user to change the rule.",
            )
        verdict = mode_verdict(self._mode, call.risk)
        if verdict == "refuse":
            shown = subject.display() if subject.shell or subject.paths else spec.name
            return PermissionDecision(False, plan_refusal(shown))
        sandboxed = sandbox_verdict(spec, args, call, ctx, self._mode)
        if sandboxed == "escalate":
            reason = f"runs OUTSIDE the sandbox: {str(args.get('reason')).strip()}"
            return await self._ask(spec, args, ctx, call, reason, remember=False)
        if sandboxed == "escalate-without-reason":
            return PermissionDecision(
                False,
                f"{subject.display()} was not run: escalate=true needs a reason saying why the "
                "command must run outside the sandbox. Call shell again with `reason`.",
            )
        if sandboxed == "relax":
            return PermissionDecision(True)
        if call.risk is ToolRisk.WRITE and spec.reviewed_edit and _reviews_edits(ctx):
            return PermissionDecision(True)
        protected = _protected_paths(call)
        shell = call.shell
        private = await _private_target(spec, args, call)
        if (
            verdict == "run"
            and not protected
            and not private
            and not (shell is not None and shell.destructive)
        ):
            return PermissionDecision(True)  # the mode lets it through; no rule can change that
        allowing = self.rules
        if private:
            # Only a rule naming this URL's own scheme, host and port covers a private fetch.
            url = str(args.get(spec.rule_arg or "url", ""))
            allowing = RuleSet(r for r in self.rules.allow if r.names_origin(url))
        allow = allowing.find_allow(spec, subject) if allowing.allow else None
        if allow is not None and (not protected or self._names_protected(spec, call)):
            return PermissionDecision(True)
        if shell is not None and shell.destructive:
            reason = "destructive command: " + ", ".join(shell.destructive_reasons)
            return await self._ask(spec, args, ctx, call, reason)
        if private:
            return await self._ask(spec, args, ctx, call, f"private network address: {private}")
        if protected:
            reason = f"changes protected path {protected[0]} (pygent settings or git internals)"
            return await self._ask(spec, args, ctx, call, reason)
        if verdict == "run":
            return PermissionDecision(True)
        reason = f"mode '{self._mode}'"
        if shell is not None and shell.paths != "inside":
            where = [r for r in shell.reasons if r.startswith("uses paths")]
            reason += f": {where[0]}" if where else ""
        return await self._ask(spec, args, ctx, call, reason)

    def _names_protected(self, spec: ToolSpec, call: _Call) -> bool:
        """Every protected path of the call is matched by an allow rule that names it."""
        named = RuleSet(r for r in self.rules.allow if r.names_something)
        paths = [p for p in call.subject.paths if is_protected(p[0])]
        only = CallSubject(tool=spec.name, paths=paths)
        return named.find_allow(spec, only) is not None

    # -- describing a call ----------------------------------------------------------------------

    def _describe(self, spec: ToolSpec, args: dict[str, Any], workspace: Workspace) -> _Call:
        subject = CallSubject(tool=spec.name)
        risk = spec.risk
        command: str | None = None
        if is_shell_tool(spec):
            value = args.get(spec.rule_arg or "command")
            if isinstance(value, str):
                command = value
                subject.shell = analysis = classify_command(value)
                cwd = args.get("cwd")
                # `cat ~/.ssh/id_rsa` reads, but outside what the file tools may see.
                judge_paths(analysis, workspace, cwd if isinstance(cwd, str) else None)
                if analysis.read_only:
                    risk = ToolRisk.READ
            return _Call(subject, risk, command)
        if spec.rule_arg and spec.rule_arg not in spec.path_args:
            value = args.get(spec.rule_arg)
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if item is not None:
                    subject.values.append((str(item),))
        for name in spec.path_args:
            value = args.get(name)
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(item, (str, Path)) and str(item):
                    subject.paths.append(_path_forms(str(item), workspace))
        return _Call(subject, risk)

    # -- asking ----------------------------------------------------------------------------------

    async def _ask(
        self,
        spec: ToolSpec,
        args: dict[str, Any],
        ctx: ToolContext,
        call: _Call,
        reason: str,
        *,
        remember: bool = True,
    ) -> PermissionDecision:
        subject = call.subject
        # remember=False (escalations): only "Allow once" / "Reject once" are offered.
        allow_rules = self._derive_rules(spec, call, "allow", ctx.workspace) if remember else []
        deny_rules = self._derive_rules(spec, call, "deny", ctx.workspace) if remember else []
        options: list[PermissionOption] = [ALLOW_ONCE]
        if allow_rules:
            options.append(ALLOW_ALWAYS)
        options.append(REJECT_ONCE)
        if deny_rules:
            options.append(REJECT_ALWAYS)
        request: PermissionRequest = {
            "toolCall": {
                "toolCallId": ctx.tool_call_id,
                "title": spec.make_title(args),
                "kind": spec.kind,
                "rawInput": _jsonable(args),
            },
            "options": options,
            "_meta": {
                "reason": reason,
                "pygent": {
                    "message": _ask_message(spec, args, call, reason),
                    "mode": self._mode,
                    "risk": call.risk.value,
                    "call": subject.display(),
                    "alwaysAllowRules": allow_rules,
                    "alwaysRejectRules": deny_rules,
                    "destructive": list(call.shell.destructive_reasons) if call.shell else [],
                },
            },
        }
        try:
            outcome = await ctx.port.request_permission(request)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            if type(exc).__name__ == "CancelledError":
                raise
            from loguru import logger

            logger.opt(exception=exc).error("permission request failed")
            return PermissionDecision(
                False,
                f"{subject.display()} was not run: pygent could not ask the user for permission "
                f"({type(exc).__name__}: {exc}).",
            )
        outcome = outcome if isinstance(outcome, dict) else {}
        if outcome.get("outcome") != "selected":
            return PermissionDecision(
                False,
                f"The permission request was cancelled, so {subject.display()} was not run.",
            )
        option_id = outcome.get("optionId")
        offered = {o["optionId"]: o["kind"] for o in options}
        kind = offered.get(str(option_id), "reject_once")
        if kind == "allow_once":
            return PermissionDecision(True)
        if kind == "allow_always":
            saved = self._remember(allow_rules, "allow", ctx)
            return PermissionDecision(True, saved)
        declined = f"The user declined to run {subject.display()}."
        if kind == "reject_always":
            self._remember(deny_rules, "deny", ctx)
            rules = ", ".join(f"`{r}`" for r in deny_rules)
            return PermissionDecision(
                False,
                f"{declined} They asked not to be asked again ({rules} now denies it). "
                "Do not retry it; find another way or ask the user how to proceed.",
            )
        return PermissionDecision(
            False, f"{declined} Do not retry it unchanged; ask the user how to proceed."
        )

    def _remember(self, texts: list[str], effect: str, ctx: ToolContext) -> str:
        """Add and save the rules; tell the person (a notice) and return what the model reads."""
        from pygent.protocol.updates import notice

        for text in texts:
            self.add_rule(text, effect)
        path = self.config_path
        shown = ", ".join(f"`{t}`" for t in texts)
        verb = "Allowed" if effect == "allow" else "Denied"
        try:
            for text in texts:
                save_rule(path, effect, text)  # type: ignore[arg-type]
        except (ConfigError, OSError) as exc:
            from loguru import logger

            logger.warning("could not save permission rule to {}: {}", path, exc)
            with contextlib.suppress(Exception):
                ctx.send(
                    notice(
                        f"The rule {', '.join(texts)} applies to this session only: "
                        f"saving it to {path} failed ({exc}).",
                        "warning",
                    )
                )
            return f"{verb} from now on in this session (not saved): {shown}."
        message = f"{verb} from now on: {shown} (saved to {path})."
        with contextlib.suppress(Exception):
            ctx.send(notice(message, "info"))
        return message

    def _derive_rules(
        self, spec: ToolSpec, call: _Call, effect: str, workspace: Workspace
    ) -> list[str]:
        """Rules that an "always" answer would add (empty: nothing can be remembered).

        An allow rule is the narrowest that covers the call; none is offered when no rule could
        cover it (a path outside the workspace, a line that cannot be parsed).
        """
        subject = call.subject
        name = spec.name
        shell = call.shell
        if shell is not None:
            command = (call.command or "").strip()
            if not command:
                return []
            exact = [f"{name}({escape_pattern(command)})"]
            if effect == "deny":
                top = [c for c in shell.commands if not c.nested]
                if shell.parse_error is not None or shell.destructive or len(top) != 1:
                    return exact
                prefix = _command_prefix(top[0].argv)
                return [f"{name}({escape_pattern(prefix)}*)"] if prefix else exact
            if shell.parse_error is not None or shell.paths != "inside":
                return []
            top = [c for c in shell.commands if not c.nested]
            out: list[str] = []
            for cmd in shell.commands:
                if cmd.read_only:
                    continue
                narrow = _narrow_pattern(cmd, workspace)
                if narrow is None:
                    text = command if len(top) == 1 and cmd is top[0] else cmd.text
                    rule = f"{name}({escape_pattern(text)})"
                else:
                    rule = f"{name}({narrow})"
                if rule not in out:
                    out.append(rule)
            return out or exact
        entries = subject.values or subject.paths
        if entries:
            out = []
            for forms in entries:
                value = forms[0]
                if subject.values and "://" in value:
                    parts = urlsplit(value)
                    if parts.scheme and parts.netloc:
                        rule = f"{name}({escape_pattern(f'{parts.scheme}://{parts.netloc}/')}*)"
                        if rule not in out:
                            out.append(rule)
                        continue
                rule = f"{name}({escape_pattern(value)})"
                if rule not in out:
                    out.append(rule)
            return out
        return [name]


# -- the OS sandbox (pygent.sandbox) ------------------------------------------------------------

_SANDBOX_RELAXED_MODES = ("auto-edit", "auto")


def sandbox_verdict(
    spec: ToolSpec, args: dict[str, Any], call: _Call, ctx: ToolContext, mode: str
) -> str | None:
    """What the OS sandbox changes for a shell call, or None (decide as without a sandbox).

    Returns:
        ``"escalate"``: the call asks to run outside an active sandbox; it must always ask.
        ``"escalate-without-reason"``: the same without a ``reason``; refuse it.
        ``"relax"``: an active sandbox confines the call and the mode is ``auto-edit`` or
        ``auto``; it runs without asking. Only for commands with no destructive part, no parse
        error, no network (``[sandbox] network = false``), no expansion (``$HOME``, backticks),
        every path judged inside the workspace, and none inside ``.git``/``.pygent``: the
        sandbox stops writes outside the workspace, not reads of secrets or changes to
        pygent's own settings.
    """
    if not is_shell_tool(spec):
        return None
    from pygent.protocol.port import client_terminals

    if client_terminals(ctx.port) is not None:
        # The frontend runs the command in its own terminal (ACP clients with terminals): our
        # sandbox never sees it, so nothing is relaxed and there is nothing to escape from.
        return None
    from pygent.sandbox.runtime import sandbox_status

    status = sandbox_status(ctx.settings)
    if args.get("escalate"):
        if not status.active:
            return None  # nothing to escape from: decided like any command
        reason = args.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            return "escalate-without-reason"
        return "escalate"
    if not status.active or status.network or mode not in _SANDBOX_RELAXED_MODES:
        return None
    shell = call.shell
    if shell is None or shell.parse_error is not None or shell.destructive:
        return None
    if shell.paths != "inside" or any(c in (call.command or "") for c in "$`"):
        return None  # a path outside the workspace, or one only known when it runs
    for cmd in shell.commands:
        for word in [*cmd.argv, *(r.target for r in cmd.redirects)]:
            if any(is_protected(part.replace("\\", "/")) for part in word.split("=")):
                return None  # pygent's settings or git internals
    return "relax"


def _ask_message(spec: ToolSpec, args: dict[str, Any], call: _Call, reason: str) -> str:
    """One line for frontends that can only show text and buttons (LSP showMessageRequest)."""
    why = f"asks in {reason}" if reason.startswith("mode ") else reason
    if call.command is not None:
        command = call.command.strip()
        if len(command) > 300:
            command = command[:299] + "…"
        return f"pygent wants to run `{command}` ({spec.name}, {why})"
    return f"pygent wants to: {spec.make_title(args)} ({spec.name}, {why})"


def _command_prefix(argv: list[str]) -> str | None:
    """The program (and subcommand) a deny rule keeps: ``git commit`` for ``git commit -m x``.

    ``python -m pytest`` for ``python -m pytest -x``; environment assignments stay
    (``FOO=1 make``). None when only the exact command will do.
    """
    head = _head(argv)
    return None if head is None else " ".join(shlex.quote(w) for w in argv[:head])


def _head(argv: list[str]) -> int | None:
    """How many words name what runs: assignments, the program, its subcommand (or None)."""
    start = 0
    while start < len(argv) and is_assignment(argv[start]):
        start += 1
    if start >= len(argv) or "\x00" in " ".join(argv):
        return None
    base = argv[start].rsplit("/", 1)[-1]
    take = 1
    if base in _TWO_WORD_PROGRAMS and len(argv) > start + 1:
        if argv[start + 1].startswith("-"):
            return None  # `git -C dir commit`: only the exact command
        take = 2
    elif base.startswith("python") and len(argv) > start + 2 and argv[start + 1] == "-m":
        take = 3
    return start + take


def _narrow_pattern(cmd: ShellCommand, workspace: Workspace) -> str | None:
    """``rm *`` for ``rm a.txt``; ``pytest -q *`` for ``pytest -q tests/``; or None (exact).

    The program, its subcommand and the same options stay literal; ``*`` stands for the
    arguments, and only when each is a workspace path that exists or an option's value. A
    destructive or forceful command, a redirection, or an argument that is neither (a make
    target, a package name) keeps the exact command.
    """
    if cmd.destructive or cmd.forms or cmd.redirects or any(w.expands for w in cmd.words):
        return None
    argv = cmd.argv
    head = _head(argv)
    if head is None:
        return None
    options: list[str] = []
    operands = 0
    previous_option = False
    for word in argv[head:]:
        if word.startswith("-") and word != "-":
            if word not in options:
                options.append(word)
            previous_option = "=" not in word
            continue
        operands += 1
        if not previous_option and not _workspace_path(word, workspace):
            return None
        previous_option = False
    if operands == 0:
        return None
    literal = " ".join(shlex.quote(w) for w in [*argv[:head], *options])
    return f"{escape_pattern(literal)} *"


def _workspace_path(word: str, workspace: Workspace) -> bool:
    """``word`` names an existing file or directory inside the workspace."""
    try:
        return workspace.resolve(word, must_exist=True) is not None
    except ToolError:
        return False


async def _private_target(spec: ToolSpec, args: dict[str, Any], call: _Call) -> str | None:
    """Why a network call's URL points at this machine or a private network, else None."""
    if call.risk is not ToolRisk.NETWORK or not spec.rule_arg:
        return None
    url = args.get(spec.rule_arg)
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        return None
    from pygent.tools.netguard import private_target

    return await private_target(url)


def _protected_paths(call: _Call) -> list[str]:
    """Workspace paths of a WRITE call that lie in ``.pygent/`` or ``.git/``."""
    subject = call.subject
    if call.risk is not ToolRisk.WRITE:
        return []
    return [forms[0] for forms in subject.paths if is_protected(forms[0])]


def _path_forms(value: str, workspace: Workspace) -> tuple[str, ...]:
    """Spellings of a path argument rules may match: workspace-relative and absolute."""
    try:
        resolved = workspace.resolve(value)
    except ToolError:
        return (value.replace("\\", "/"),)
    return (workspace.display(resolved), resolved.as_posix())


def _reviews_edits(ctx: ToolContext) -> bool:
    try:
        return bool(ctx.port.reviews_edits)
    except Exception:
        return False


def _jsonable(args: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in args.items():
        if value is None:
            continue  # unset optional arguments: what the model sent, not the defaults
        if isinstance(value, (str, int, float, bool, list, dict)):
            out[key] = value
        elif hasattr(value, "model_dump"):
            out[key] = value.model_dump(mode="json")
        else:
            out[key] = str(value)
    return out
