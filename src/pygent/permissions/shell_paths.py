"""Where a shell command's paths lie: inside the workspace, outside it, or unknowable.

Paths are resolved the way the file tools resolve them (:meth:`Workspace.resolve`): relative to
the command's directory, ``~`` expanded, symbolic links followed, so ``cat rootlink/etc/hostname``
with ``rootlink -> /`` is outside. ``cd`` is followed along the line (``cd / && cat etc/x``); a
directory that cannot be known statically (``cd -``, ``cd $X``, ``pushd``) makes every later
relative path unknown. A word the shell expands (``$HOME/x``, ``${X}``, ``$(...)``, ``~user``)
is unknown. Unquoted globs are expanded against the file system, as the shell would.

An argument that is not a path (``grep pattern``, ``git log main``) resolves to a harmless name
inside the workspace; an argument that merely looks like an outside path (``grep /etc``) is
treated as one: the judgement errs towards asking.
"""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from pygent.permissions.shell import ShellAnalysis, ShellCommand, is_assignment
from pygent.permissions.shell_lex import SUBST_MARK, Token
from pygent.permissions.shell_tables import HARMLESS_TARGETS, KEYWORDS_BEFORE, NO_PATH_ARGS

if TYPE_CHECKING:
    from pygent.tools.workspace import Workspace

__all__ = ["judge_paths"]

_HARMLESS = HARMLESS_TARGETS | {"/dev/stdin", "/dev/zero", "/dev/random", "/dev/urandom"}
_GLOB_LIMIT = 200
_KEY_VALUE = re.compile(r"^[A-Za-z_][\w.-]*=")


def _shown(word: str) -> str:
    """``word`` for messages, its substitution markers shown as ``$(...)``."""
    return re.sub(f"{SUBST_MARK}\\d+{SUBST_MARK}", "$(...)", word)


class _Judge:
    """Judges paths command by command, following ``cd`` along the line.

    ``bases`` are the directories the next command may run in: after ``cd X && ...`` only ``X``;
    after ``cd X; ...``, ``cd X || ...``, a ``cd`` in a subshell or a pipeline, either the old
    directory or ``X`` (the ``cd`` may have failed or not applied). None stands for a directory
    that cannot be known.
    """

    def __init__(self, workspace: Workspace, base: Path | None) -> None:
        self.workspace = workspace
        self.bases: list[Path | None] = [base]
        self.before_cd: list[Path | None] | None = None

    def resolve(self, text: str, base: Path | None) -> Path | None:
        """``text`` as an absolute resolved path from ``base`` (None: it cannot be known)."""
        if "\x00" in text:
            return None
        candidate = Path(os.path.expanduser(text)) if text.startswith("~") else Path(text)
        if text.startswith("~") and str(candidate).startswith("~"):
            return None  # ~user that does not exist, or cannot be expanded
        if not candidate.is_absolute():
            if base is None:
                return None
            candidate = base / candidate
        try:
            return candidate.resolve(strict=False)
        except (OSError, RuntimeError):
            return None

    def verdict(self, text: str, token: Token | None, found: dict[str, str]) -> None:
        """Record ``text`` in ``found`` as ``outside`` or ``unknown`` when it is not inside."""
        if token is not None and (token.expands or token.brace or SUBST_MARK in text):
            found.setdefault(_shown(text), "unknown")
            return
        if text in _HARMLESS or not text:
            return
        if token is not None and token.tilde and not (text == "~" or text.startswith("~/")):
            found.setdefault(text, "unknown")  # ~user: another user's home
            return
        for base in self.bases:
            candidates = [text]
            if token is not None and token.glob and base is not None:
                matches = glob.glob(text, root_dir=base)[:_GLOB_LIMIT]
                candidates = matches or [text]
            for candidate in candidates:
                resolved = self.resolve(candidate, base)
                if resolved is None:
                    found.setdefault(text, "unknown")
                elif not self.workspace.contains(resolved):
                    found[text] = "outside"

    def command(self, cmd: ShellCommand) -> dict[str, str]:
        if self.before_cd is not None and cmd.joined != ("&&",):
            # The `cd` before may not have run (`;`, `||`, a failed cd): either directory.
            self.bases = _merge(self.before_cd, self.bases)
            self.before_cd = None
        found: dict[str, str] = {}
        tokens = list(cmd.words)
        while tokens and (is_assignment(tokens[0].value) or tokens[0].value in KEYWORDS_BEFORE):
            tokens = tokens[1:]
        for redirect in cmd.redirects:
            if redirect.op in ("<<", "<<-", "<<<"):
                continue
            if redirect.op in (">&", "<&") and (
                redirect.target.isdigit() or redirect.target == "-"
            ):
                continue
            self.verdict(redirect.target, redirect.token, found)
        if not tokens:
            return found
        program = os.path.basename(tokens[0].value)
        args = tokens[1:]
        if program in ("cd", "pushd", "popd"):
            self.cd(program, args, found, cmd.subshell)
            return found
        if None in self.bases:
            found.setdefault(".", "unknown")  # the directory itself cannot be known
        for token in args:
            if token.expands or token.brace or SUBST_MARK in token.value:
                self.verdict(token.value, token, found)
        if program in NO_PATH_ARGS:
            return found
        if program == "git":
            foreign = self.foreign_repository(args)
            if foreign is not None:
                found[foreign] = "outside"
        for token in args:
            value = token.value
            if token.expands or token.brace or SUBST_MARK in value:
                continue
            if _KEY_VALUE.match(value):
                # `dd of=/dev/sda`, `make DESTDIR=/x`: judge the value when it looks like a path.
                value = value.split("=", 1)[1]
                if not value.startswith(("/", "~", "\\")) and ".." not in value:
                    continue
            elif value.startswith("-"):
                if "=" in value:
                    value = value.split("=", 1)[1]
                elif (
                    not value.startswith("--")
                    and len(value) > 2
                    and ("/" in value[2:] or value[2:].startswith(("~", "..")))
                ):
                    value = value[2:]  # a value glued to a short option: -I/usr/include
                else:
                    continue
                if not value:
                    continue
            self.verdict(value, token, found)
        return found

    def foreign_repository(self, args: list[Token]) -> str | None:
        """A repository other than the workspace's own that ``git`` would use, or None.

        A repository planted in the workspace (a directory with its own ``.git``, a bare
        repository's ``HEAD``/``objects``/``refs``, or one named by ``--git-dir``) brings its own
        config, whose ``core.fsmonitor``, ``core.pager`` or diff drivers run programs even for
        ``git status``. The workspace's own ``.git`` is protected from writes; such a one is not.
        """
        dirs = list(self.bases)
        i = 0
        while i < len(args):
            token = args[i]
            value = token.value
            if value == "-C" and i + 1 < len(args):
                step = args[i + 1]
                if step.expands or step.brace:
                    return None  # already unknown
                dirs = [self.resolve(step.value, d) for d in dirs]
                i += 2
                continue
            if value == "--git-dir" or value.startswith("--git-dir="):
                named = value.split("=", 1)[1] if "=" in value else ""
                if not named and i + 1 < len(args):
                    named = args[i + 1].value
                resolved = [self.resolve(named, d) for d in dirs]
                own = {root / ".git" for root in self.workspace.roots}
                if any(r not in own for r in resolved):
                    return named or value
                return None
            if not value.startswith("-"):
                break  # the subcommand
            i += 1
        for start in dirs:
            if start is None:
                continue
            planted = self.planted_repository(start)
            if planted is not None:
                return planted
        return None

    def planted_repository(self, start: Path) -> str | None:
        roots = set(self.workspace.roots)
        current = start
        while self.workspace.contains(current):
            if current in roots:
                if not (current / ".git").exists() and _looks_bare(current):
                    return f"{self.workspace.display(current)} (a repository of its own)"
                return None
            if (current / ".git").exists() or _looks_bare(current):
                return f"{self.workspace.display(current)} (a repository of its own)"
            if current.parent == current:
                return None
            current = current.parent
        return None

    def cd(self, program: str, args: list[Token], found: dict[str, str], subshell: bool) -> None:
        operands = [t for t in args if not t.value.startswith("-") or t.value == "-"]
        if program == "popd" or (program == "pushd" and not operands):
            target_bases: list[Path | None] = [None]  # the directory stack is not known
        else:
            token = operands[0] if operands else Token("word", "~", tilde=True)
            target = token.value
            if target == "-" or token.expands or token.brace or SUBST_MARK in target:
                found.setdefault(_shown(target), "unknown")
                target_bases = [None]
            else:
                before = dict(found)
                self.verdict(target, token, found)
                target_bases = [self.resolve(target, base) for base in self.bases]
                if None in target_bases and found == before:
                    found[target] = "unknown"
        if subshell:
            self.bases = _merge(self.bases, target_bases)  # (cd x) or cd x | ...: maybe not
            return
        if self.before_cd is None:
            self.before_cd = self.bases
        else:
            self.before_cd = _merge(self.before_cd, self.bases)
        self.bases = list(dict.fromkeys(target_bases))


def _looks_bare(directory: Path) -> bool:
    """``directory`` looks like a git directory (git would use it as a bare repository)."""
    try:
        return (
            (directory / "HEAD").is_file()
            and (directory / "objects").is_dir()
            and (directory / "refs").is_dir()
        )
    except OSError:
        return True


def _merge(a: list[Path | None], b: list[Path | None]) -> list[Path | None]:
    return list(dict.fromkeys([*a, *b]))


def judge_paths(analysis: ShellAnalysis, workspace: Workspace, cwd: str | None = None) -> None:
    """Set where the paths of ``analysis`` (and of each of its commands) lie.

    Commands with a path outside the workspace or one that cannot be resolved statically stop
    being read-only, and the analysis says why.

    Args:
        analysis: From :func:`pygent.permissions.shell.classify_command`.
        workspace: The workspace whose roots count as inside.
        cwd: The directory the command runs in (relative to the workspace root), if not the root.
    """
    base: Path | None = workspace.root
    outside: list[str] = []
    unknown: list[str] = []
    if cwd:
        from pygent.tools.errors import ToolError

        try:
            base = workspace.resolve(cwd)
        except ToolError:
            base = None
            outside.append(cwd)
    judge = _Judge(workspace, base)
    top = [c for c in analysis.commands if not c.nested]
    nested = [c for c in analysis.commands if c.nested]
    for cmd in top + nested:
        if analysis.parse_error is not None:
            cmd.paths = "unknown"
            unknown.append(cmd.text)
            continue
        found = judge.command(cmd)
        if cwd and base is None:
            found.setdefault(cwd, "outside")
        cmd.outside = list(found)
        if any(v == "outside" for v in found.values()):
            cmd.paths = "outside"
        elif found:
            cmd.paths = "unknown"
        else:
            cmd.paths = "inside"
        for path, kind in found.items():
            (outside if kind == "outside" else unknown).append(path)
    outside = list(dict.fromkeys(outside))
    unknown = list(dict.fromkeys(unknown))
    analysis.outside = outside + unknown
    analysis.paths = "outside" if outside else "unknown" if unknown else "inside"
    if analysis.paths == "inside":
        return
    analysis.read_only = False
    for cmd in analysis.commands:
        if cmd.paths != "inside":
            cmd.read_only = False
    if outside:
        analysis.reasons.append(f"uses paths outside the workspace: {', '.join(outside[:3])}")
    if unknown:
        analysis.reasons.append(
            f"uses paths that cannot be known before it runs: {', '.join(unknown[:3])}"
        )
