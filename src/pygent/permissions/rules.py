"""Permission rules: ``tool`` or ``tool(pattern)``, allow or deny, each knowing where it came from.

Syntax:
    ``shell``                 every call of the ``shell`` tool
    ``shell(pytest*)``        shell commands starting with ``pytest``
    ``edit(src/**)``          file-changing tools on paths under ``src/``
    ``read(*.md)``            reading tools on Markdown files (a pattern without ``/`` matches the
                              file name at any depth, like ``.gitignore``)
    ``web_fetch(*internal*)`` fetches of URLs containing ``internal``

The pattern is an fnmatch-style glob (``*``, ``?``, ``[abc]``). For path tools it matches the
workspace-relative path (``/`` separators; ``*`` stays inside one directory, ``**`` crosses them;
an absolute pattern matches the absolute path). For other tools it matches the tool's rule
argument (``spec.rule_arg``: ``command`` for ``shell``, ``url`` for ``web_fetch``), where ``*``
matches anything.

Shell allow rules match at word boundaries: a ``*`` that ends the pattern right after a word
(``shell(touch*)``, ``shell(git status *)``, or Claude Code's ``shell(npm test:*)``) matches
nothing or a space and the rest, so ``touch*`` covers ``touch a`` but never ``touchy``. Deny rules
stay plain globs (broader is the safe side for a deny).

A shell command line matches an allow rule only when *each* of its commands (``a && b | c``,
including ones inside ``$(...)``) is read-only or matched, so ``shell(pytest*)`` does not let
``pytest; rm -rf ~`` through. No allow rule covers a command with a path outside the workspace
(or one that cannot be known statically), nor a destructive or forceful form (``rm -rf``,
``rm -f``, ``git push --force``, ``git reset --hard``, ``git clean``, ``sudo``...) unless the
rule's literal text names that form (``shell(rm -rf build)``). A deny rule fires when the whole
line or any one command matches.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pygent.errors import ConfigError
from pygent.tools.base import ToolRisk

if TYPE_CHECKING:
    from pygent.permissions.shell import ShellAnalysis
    from pygent.tools.base import ToolSpec

__all__ = [
    "CallSubject",
    "Rule",
    "RuleEffect",
    "RuleSet",
    "escape_pattern",
    "load_rule_origins",
    "parse_rule",
    "save_rule",
]

RuleEffect = Literal["allow", "deny"]
SESSION_ORIGIN = "session"
SETTINGS_ORIGIN = "settings"

_RULE = re.compile(r"^\s*([A-Za-z_][\w.*-]*)\s*(?:\((.*)\))?\s*$", re.DOTALL)
#: Tool names with wildcards are allowed for MCP tools only: ``mcp__github__*``, ``mcp__*``.
_MCP_PREFIX = "mcp__"
_EDIT_KINDS = frozenset({"edit", "delete", "move"})
_EDIT_NAMES = frozenset({"create_file", "copy_file"})
_WILDCARDS = "*?["


@dataclass(frozen=True)
class Rule:
    """One allow or deny rule.

    Attributes:
        text: The rule as written (``shell(pytest*)``).
        tool: The tool name or alias (``shell``, ``edit``, ``read``).
        pattern: The glob inside the parentheses, or None for a bare tool name.
        effect: ``allow`` or ``deny``.
        origin: Where it came from: a config file path, ``settings`` (environment or command
            line) or ``session`` (an "always" answer in this session).
    """

    text: str
    tool: str
    pattern: str | None
    effect: RuleEffect
    origin: str = SETTINGS_ORIGIN

    def describe(self) -> str:
        """``deny rule `shell(rm -rf*)` from /p/.pygent/config.toml`` - for prompts and messages."""
        where = "this session" if self.origin == SESSION_ORIGIN else self.origin
        return f"{self.effect} rule `{self.text}` from {where}"

    @property
    def names_something(self) -> bool:
        """The pattern starts with literal text (``shell(rm -rf build*)``, not ``shell(*)``).

        Only such rules can let a destructive command run without asking.
        """
        if not self.pattern:
            return False
        return _literal_prefix(self.pattern).strip() != ""

    def applies_to(self, spec: ToolSpec) -> bool:
        """True when the rule's tool (or alias) covers ``spec``."""
        if self.tool == spec.name:
            return True
        if "*" in self.tool:  # mcp__server__* (parse_rule allows wildcards for MCP names only)
            return spec.name.startswith(_MCP_PREFIX) and fnmatch.fnmatchcase(spec.name, self.tool)
        if self.tool in ("bash", "shell"):
            return spec.name in ("shell", "bash")
        if self.tool == "edit":
            return bool(spec.path_args) and (spec.kind in _EDIT_KINDS or spec.name in _EDIT_NAMES)
        if self.tool == "read":
            return bool(spec.path_args) and spec.risk is ToolRisk.READ
        return False

    def matches_text(self, value: str, *, path: bool, shell: bool = False) -> bool:
        """True when the pattern matches ``value`` (any value for a bare rule).

        With ``shell``, a trailing ``*`` after a word matches at a word boundary only.
        """
        if self.pattern is None:
            return True
        return _compile(self.pattern, path, shell).match(value) is not None

    def names_forms(self, forms: list[list[str]]) -> bool:
        """Every form (``["-rf"]``, ``["--hard"]``) appears in the pattern's literal text.

        A destructive or forceful command is covered only by a rule that names what makes it
        so: ``shell(rm -rf build*)`` names ``-rf``; ``shell(rm *)`` does not.
        """
        if not forms:
            return True
        if not self.pattern:
            return False
        literal = _literal_prefix(self.pattern)
        words = set(literal.split())
        return all(
            all(part in words or (" " in part and part in literal) for part in form)
            for form in forms
        )

    def names_origin(self, url: str) -> bool:
        """The pattern's literal text names ``url``'s scheme, host and port (``http://h:1/``).

        Only such a rule lets a fetch of this machine or a private network run: a rule for one
        private address never covers another.
        """
        if not self.pattern:
            return False
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(url)
        except ValueError:
            return False
        if not parts.scheme or not parts.netloc:
            return False
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        literal = _literal_prefix(self.pattern).lower()
        return literal.startswith(origin + "/") or (
            literal == self.pattern.lower() and literal == origin
        )


def _literal_prefix(pattern: str) -> str:
    for i, c in enumerate(pattern):
        if c in _WILDCARDS:
            return pattern[:i]
    return pattern


def parse_rule(text: str, effect: RuleEffect, origin: str = SETTINGS_ORIGIN) -> Rule:
    """Parse ``tool`` or ``tool(pattern)``.

    Raises:
        ConfigError: the rule is malformed, with the origin and the expected syntax.
    """
    where = "this session" if origin == SESSION_ORIGIN else origin
    match = _RULE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ConfigError(
            f"Invalid permission rule {text!r} in permissions.{effect} ({where}).",
            "Write rules as `tool` or `tool(pattern)`, e.g. `shell(pytest*)` or `edit(src/**)`.",
        )
    tool, pattern = match.group(1), match.group(2)
    if "*" in tool and not tool.startswith(_MCP_PREFIX):
        raise ConfigError(
            f"Invalid permission rule {text!r} in permissions.{effect} ({where}): only MCP tool "
            "names may hold `*`.",
            "Name the tool exactly, or match MCP tools with `mcp__SERVER__*`.",
        )
    if pattern is not None:
        pattern = pattern.strip()
        if len(pattern) >= 2 and pattern[0] == pattern[-1] and pattern[0] in "\"'":
            pattern = pattern[1:-1]
        if not pattern:
            raise ConfigError(
                f"Invalid permission rule {text!r} in permissions.{effect} ({where}): "
                "the pattern is empty.",
                f"Use `{tool}` to match every call, or `{tool}(pattern)`.",
            )
        try:
            _compile(pattern, True)
            _compile(pattern, False)
        except re.error as exc:  # pragma: no cover - the translator escapes everything
            raise ConfigError(
                f"Invalid pattern in permission rule {text!r} ({where}): {exc}.",
                "Use `*`, `**`, `?` and `[abc]` only.",
            ) from None
    return Rule(text=text.strip(), tool=tool, pattern=pattern, effect=effect, origin=origin)


_WORD_END = re.compile(r"[\w ]")


@functools.lru_cache(maxsize=1024)
def _compile(pattern: str, path: bool, shell: bool = False) -> re.Pattern[str]:
    """Glob to regex. With ``path``: ``*`` and ``?`` stop at ``/``, ``**`` crosses directories,
    and a pattern without ``/`` matches the file name at any depth. With ``shell``: a ``*``
    ending the pattern after a word (or ``:*``) matches only at a word boundary."""
    boundary = False
    if shell and pattern.endswith("*") and not pattern.endswith("**"):
        head = pattern[:-1]
        if head.endswith(":"):
            head = head[:-1]
        if head.strip() and _WORD_END.match(head[-1]):
            pattern, boundary = head.rstrip(" "), True
    if path:
        pattern = pattern[2:] if pattern.startswith("./") else pattern
        if "/" not in pattern and "**" not in pattern:
            pattern = "**/" + pattern
    out: list[str] = []
    i = 0
    n = len(pattern)
    star = "[^/]*" if path else ".*"
    one = "[^/]" if path else "."
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                i += 2
                if path and pattern.startswith("/", i):
                    out.append("(?:.*/)?")
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append(star)
            i += 1
        elif c == "?":
            out.append(one)
            i += 1
        elif c == "[":
            j = i + 1
            if j < n and pattern[j] in "!^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            end = pattern.find("]", j)
            if end < 0:
                out.append(re.escape(c))
                i += 1
                continue
            body = pattern[i + 1 : end]
            negate = body[:1] in ("!", "^")
            body = re.sub(r"([\\\[&~|^])", r"\\\1", body[1:] if negate else body)
            out.append("[" + ("^" if negate else "") + body + "]")
            i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    regex = "".join(out)
    if path and regex.endswith("/.*"):
        regex = regex[:-3] + "(?:/.*)?"
    if boundary:
        regex += r"(?:[ \t].*)?"
    return re.compile(regex + r"\Z", re.DOTALL)


def escape_pattern(text: str) -> str:
    """A pattern matching exactly ``text`` (``*``, ``?`` and ``[`` wrapped in brackets)."""
    return re.sub(r"([*?\[])", r"[\1]", text)


# -- what a call looks like to the rules --------------------------------------------------------


@dataclass
class CallSubject:
    """A tool call as rules see it.

    Attributes:
        tool: The tool name.
        values: The rule argument's value(s) when it is not a path (``url``, ``message``); text
            globs match them.
        paths: One entry per path argument value; each lists equivalent spellings
            (``src/a.py`` and ``/proj/src/a.py``), any of which may match. Path globs match them.
        shell: The analysis when the call is a shell command.
    """

    tool: str
    values: list[tuple[str, ...]] = field(default_factory=list)
    paths: list[tuple[str, ...]] = field(default_factory=list)
    shell: ShellAnalysis | None = None

    def display(self, limit: int = 200) -> str:
        """``shell(`rm -rf build`)``, ``edit_file(`src/a.py`)`` or ``git_commit``."""
        if self.shell is not None:
            text = self.shell.command.strip()
        elif self.values or self.paths:
            text = ", ".join(v[0] for v in (self.values or self.paths))
        else:
            return self.tool
        if len(text) > limit:
            text = text[: limit - 1] + "…"
        return f"{self.tool}(`{text}`)"


class RuleSet:
    """Allow and deny rules; deny always wins."""

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self.allow: list[Rule] = []
        self.deny: list[Rule] = []
        for rule in rules:
            self.add(rule)

    def add(self, rule: Rule) -> None:
        """Add a rule (a duplicate of an existing rule is ignored)."""
        target = self.allow if rule.effect == "allow" else self.deny
        if all(r.text != rule.text for r in target):
            target.append(rule)

    def __len__(self) -> int:
        return len(self.allow) + len(self.deny)

    def find_deny(self, spec: ToolSpec, subject: CallSubject) -> Rule | None:
        """The first deny rule that fires for the call, or None.

        A deny rule fires when it matches the rule argument or any path (or, for a shell line,
        the whole line or any one command).
        """
        for rule in self.deny:
            if not rule.applies_to(spec):
                continue
            if subject.shell is not None:
                if any(rule.matches_text(t, path=False) for t in _shell_texts(subject.shell)):
                    return rule
                continue
            checks: list[tuple[list[tuple[str, ...]], bool]] = [(subject.paths, True)]
            if rule.tool not in ("edit", "read"):
                checks.append((subject.values, False))
            if not subject.paths and not subject.values:
                if rule.matches_text("", path=False):
                    return rule
                continue
            for entries, path in checks:
                if any(rule.matches_text(f, path=path) for forms in entries for f in forms):
                    return rule
        return None

    def find_allow(self, spec: ToolSpec, subject: CallSubject) -> Rule | None:
        """The allow rule that lets the whole call run, or None.

        Every value (path) must be matched; for a shell line, every command must be read-only or
        matched, and destructive ones must be matched by a rule that names them.
        """
        rules = [r for r in self.allow if r.applies_to(spec)]
        if not rules:
            return None
        if subject.shell is not None:
            return _allow_shell(rules, subject.shell)
        if subject.values:
            named = [r for r in rules if r.tool not in ("edit", "read")]
            hit = _cover(named, subject.values, path=False)
            if hit is not None:
                return hit
            path_rules = [r for r in rules if r.tool in ("edit", "read")]
        else:
            path_rules = rules
        if subject.paths:
            return _cover(path_rules, subject.paths, path=True)
        if subject.values:
            return None
        return next((r for r in rules if r.matches_text("", path=False)), None)


def _cover(rules: list[Rule], entries: list[tuple[str, ...]], *, path: bool) -> Rule | None:
    """The first rule used when every entry is matched by some rule, else None."""
    first: Rule | None = None
    for forms in entries:
        hit = next((r for r in rules if any(r.matches_text(f, path=path) for f in forms)), None)
        if hit is None:
            return None
        first = first or hit
    return first


def _shell_texts(analysis: ShellAnalysis) -> list[str]:
    texts = [analysis.command.strip()]
    for cmd in analysis.commands:
        texts.append(cmd.text)
        if cmd.core and cmd.core != cmd.text:
            texts.append(cmd.core)
    return texts


def _allow_shell(rules: list[Rule], analysis: ShellAnalysis) -> Rule | None:
    """The rule covering every command of the line that is not read-only, or None.

    Nothing covers a line that cannot be parsed, a command with a path outside the workspace
    (or one that cannot be resolved), or a destructive/forceful command whose form the rule does
    not name.
    """
    whole = analysis.command.strip()
    top_level = [c for c in analysis.commands if not c.nested]
    if analysis.parse_error is not None or not analysis.commands:
        return None
    first: Rule | None = None
    for cmd in analysis.commands:
        if cmd.read_only:
            continue
        if cmd.paths != "inside":
            return None
        texts = [cmd.text]
        if len(top_level) == 1 and cmd is top_level[0]:
            texts.append(whole)  # the line exactly as written, quotes and all
        hit = next(
            (
                r
                for r in rules
                if any(r.matches_text(t, path=False, shell=True) for t in texts)
                and (not cmd.destructive or r.names_something)
                and r.names_forms(cmd.forms)
            ),
            None,
        )
        if hit is None:
            return None
        first = first or hit
    return first


# -- origins and persistence ----------------------------------------------------------------------


def _read_toml(path: Path) -> Any:
    import tomlkit

    return tomlkit.parse(path.read_text(encoding="utf-8"))


def load_rule_origins(project_root: Path) -> dict[tuple[str, str], str]:
    """Which config file lists each rule: ``{(effect, rule text): file path}``.

    Reads the user file and the project file; unreadable files are skipped (the settings loader
    reports their errors). A rule in both is attributed to the project file.
    """
    from pygent.settings.paths import project_config_file, user_config_file

    origins: dict[tuple[str, str], str] = {}
    for path in (user_config_file(), project_config_file(project_root)):
        try:
            if not path.is_file():
                continue
            doc = _read_toml(path)
        except Exception:
            continue
        perms = doc.get("permissions") if isinstance(doc, Mapping) else None
        if not isinstance(perms, Mapping):
            continue
        for effect in ("allow", "deny"):
            values = perms.get(effect)
            if isinstance(values, list):
                for value in values:
                    if isinstance(value, str):
                        origins[(effect, str(value).strip())] = str(path)
    return origins


def save_rule(config_path: Path, effect: RuleEffect, rule_text: str) -> bool:
    """Append ``rule_text`` to ``[permissions] <effect>`` of ``config_path``, keeping comments.

    Creates the file (and ``.pygent/``) when missing; writes atomically. Returns False when the
    rule was already there.

    Raises:
        ConfigError: the file is not valid TOML or ``permissions.<effect>`` is not a list (the
            file is left untouched).
        OSError: the file cannot be written.
    """
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    from pygent.fsutil import atomic_write_text

    if config_path.exists():
        text = config_path.read_text(encoding="utf-8")
        try:
            doc = tomlkit.parse(text)
        except TOMLKitError as exc:
            raise ConfigError(
                f"Cannot save the permission rule: {config_path} is not valid TOML ({exc}).",
                "Fix the file, then answer again.",
            ) from None
    else:
        doc = tomlkit.document()
    perms = doc.get("permissions")
    if perms is None:
        perms = tomlkit.table()
        doc["permissions"] = perms
    if not isinstance(perms, MutableMapping):
        raise ConfigError(
            f"Cannot save the permission rule: `permissions` in {config_path} is not a table.",
            "Make it a `[permissions]` table.",
        )
    values = perms.get(effect)
    if values is None:
        values = tomlkit.array()
        perms[effect] = values
    if not isinstance(values, list):
        raise ConfigError(
            f"Cannot save the permission rule: `permissions.{effect}` in {config_path} is not a list.",
            f'Make it a list of rules, e.g. {effect} = ["shell(pytest*)"].',
        )
    if rule_text in [str(v) for v in values]:
        return False
    values.append(rule_text)
    atomic_write_text(config_path, tomlkit.dumps(doc))
    return True
