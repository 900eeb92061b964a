"""Shell command classification: is a command read-only, is it destructive, and why.

The permission engine treats a ``shell`` call whose every command is read-only as ``READ`` (it
runs even in ``ask`` and ``plan`` mode), and a destructive one (``sudo``, ``rm -rf``,
``git push --force``, ``curl ... | sh``, ``mkfs``, ``dd``, ``chmod -R``, fork bombs) as one that
always asks, even in ``auto`` mode, unless an allow rule names it.

The line is tokenised by :mod:`pygent.permissions.shell_lex`, split at ``|``, ``&&``, ``||``,
``;``, ``&`` and newlines, and every simple command is judged on its own. The classifier fails
closed: a command is read-only only when every word of it is understood. Anything the shell would
change before running it (``$VAR``, ``${VAR}``, ``$(...)``, backticks, ``~user``), a variable
assignment before it (``PATH=./bin ls``, ``LD_PRELOAD=...``, ``GIT_*``), a wrapper that runs
another program (``env``, ``xargs``, ``timeout``, ``sudo``, ``exec``...), an option that runs a
program (``find -exec``, ``fd -x``, ``git grep -O``, ``sort --compress-program``, ``rg --pre``,
``tar --to-command``...), a redirection into a file, a here-document, or a line that cannot be
parsed makes it not read-only. Programs not on a list are not read-only.

Which paths a command touches (and whether they are inside the workspace) is judged by
:mod:`pygent.permissions.shell_paths`, which needs the workspace.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pygent.permissions.shell_lex import (
    OUTPUT_REDIRECTS,
    PIPES,
    REDIRECTS,
    SEPARATORS,
    SUBST_MARK,
    ParseError,
    Token,
    render,
    substitution_indexes,
    tokenize,
)
from pygent.permissions.shell_tables import (
    ALWAYS_READ_ONLY,
    DOWNLOADERS,
    GIT_BRANCH_LIST_FLAGS,
    GIT_READ_ONLY,
    HARMLESS_TARGETS,
    INTERPRETERS,
    KEYWORDS_ALONE,
    KEYWORDS_BEFORE,
    PIP_READ,
    SHELLS,
    SORT_SAFE_FLAGS,
    SORT_VALUE_OPTS,
    VERSION_FLAGS,
    VERSION_ONLY,
    WRAPPER_VALUE_OPTS,
)

__all__ = [
    "PathVerdict",
    "Redirect",
    "ShellAnalysis",
    "ShellCommand",
    "classify_command",
    "is_assignment",
]

#: Where a command's paths lie: all inside the workspace, some outside, or not knowable.
PathVerdict = str  # "inside" | "outside" | "unknown"


@dataclass
class Redirect:
    """One redirection of a simple command.

    Attributes:
        op: The operator (``>``, ``>>``, ``<``, ``<<``, ``2>&1`` is ``>&`` with target ``1``).
        target: The word after it (a file, a file descriptor, a here-document delimiter).
        token: The target's token (whether it expands), when there is one.
    """

    op: str
    target: str
    token: Token | None = None

    @property
    def writes(self) -> bool:
        """It writes (or may write) a file, rather than duplicating a file descriptor."""
        if self.op in OUTPUT_REDIRECTS:
            return True
        return self.op == ">&" and not self.target.isdigit() and self.target != "-"

    @property
    def reads(self) -> bool:
        """It reads a file (``< file``)."""
        return self.op == "<" or (self.op == "<&" and not self.target.isdigit())


@dataclass
class ShellCommand:
    """One simple command of a command line (``git status`` in ``git status && ls``).

    Attributes:
        text: The command as text (quoted the shell way), what rules match against.
        argv: Its words, with quotes removed (environment assignments included).
        read_only: Read-only: every word understood, nothing written, no program run.
        reasons: Why it is not read-only.
        destructive: Why it is destructive (empty when it is not).
        nested: It comes from inside a command substitution or ``sh -c``.
        core: The program and its arguments without environment assignments and wrappers
            (``rm -rf x`` for ``sudo env A=1 rm -rf x``); deny rules match it too.
        words: The word tokens of ``argv`` (same order), with what each expands.
        redirects: Its redirections.
        joined: The operators between the previous command and this one (``("&&",)``).
        subshell: It runs in a subshell (inside ``( )`` or a pipeline), so a ``cd`` there does
            not move the commands after it.
        forms: Word groups an allow rule must name literally to cover the command: the
            destructive or forceful part (``["-rf"]`` for ``rm -rf x``, ``["--hard"]`` for
            ``git reset --hard``, ``["sudo"]``).
        paths: Where its paths lie (``inside``, ``outside``, ``unknown``), once judged by
            :func:`pygent.permissions.shell_paths.judge_paths`.
        outside: The paths found outside the workspace (or that cannot be resolved).
    """

    text: str
    argv: list[str]
    read_only: bool
    reasons: list[str] = field(default_factory=list)
    destructive: list[str] = field(default_factory=list)
    nested: bool = False
    core: str = ""
    joined: tuple[str, ...] = ()
    subshell: bool = False
    words: list[Token] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)
    forms: list[list[str]] = field(default_factory=list)
    paths: PathVerdict = "inside"
    outside: list[str] = field(default_factory=list)


@dataclass
class ShellAnalysis:
    """What :func:`classify_command` found out about a command line.

    Attributes:
        command: The command line as given.
        read_only: Every command is read-only (the call counts as ``READ``).
        destructive: Some part is destructive (always asks, even in ``auto`` mode).
        reasons: Why it is not read-only and why it is destructive, for people.
        destructive_reasons: Only the destructive findings (``"rm -rf"``, ``"sudo"``, ...).
        commands: Every simple command found, including nested ones.
        parse_error: Set when the line could not be parsed (e.g. an unterminated quote).
        paths: Where the line's paths lie: ``inside`` the workspace, ``outside``, or
            ``unknown`` (an expansion, ``cd -``...); set by
            :func:`pygent.permissions.shell_paths.judge_paths`.
        outside: The paths outside the workspace or that cannot be resolved statically.
    """

    command: str
    read_only: bool
    destructive: bool
    reasons: list[str] = field(default_factory=list)
    destructive_reasons: list[str] = field(default_factory=list)
    commands: list[ShellCommand] = field(default_factory=list)
    parse_error: str | None = None
    paths: PathVerdict = "inside"
    outside: list[str] = field(default_factory=list)

    @property
    def chained(self) -> bool:
        """More than one top-level command (``a && b``, ``a | b``, ``a; b``)."""
        return sum(1 for c in self.commands if not c.nested) > 1


_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=")
_FORK_BOMB = re.compile(r"([\w:.-]+)\s*\(\s*\)\s*\{[^}]*\1\s*\|\s*\1")
_CURL_PIPE_SH = re.compile(
    r"\b(curl|wget|fetch)\b[^|;&]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?"
    r"(sh|bash|zsh|dash|ksh|fish|python3?|perl|ruby|node)\b"
)


_Add = Callable[[str, list[str]], None]
_Guard = Callable[[list[str]], None]


def is_assignment(word: str) -> bool:
    """``NAME=value`` (also ``NAME+=value`` and ``NAME[i]=value``): a variable assignment."""
    return _ASSIGNMENT.match(word) is not None


def classify_command(command: str) -> ShellAnalysis:
    """Analyse a shell command line.

    Args:
        command: The command as the model wrote it (may hold pipelines, ``&&``, newlines, ...).

    Returns:
        The analysis: ``read_only`` when every command is read-only and nothing is written to a
        file; ``destructive`` with reasons for ``sudo``, ``rm -rf`` and friends. Paths are not
        judged here (see :func:`pygent.permissions.shell_paths.judge_paths`).
    """
    analysis = _analyze(command, depth=0)
    raw_destructive: list[str] = []
    if ":(){" in command.replace(" ", "") or _FORK_BOMB.search(command):
        raw_destructive.append("fork bomb")
    match = _CURL_PIPE_SH.search(command)
    if match:
        raw_destructive.append(f"{match.group(1)} | {match.group(2)}")
    for reason in raw_destructive:
        if reason not in analysis.destructive_reasons:
            analysis.destructive_reasons.append(reason)
            analysis.reasons.append(f"destructive: {reason}")
            # Only a rule naming the whole line can cover it.
            for cmd in analysis.commands:
                cmd.forms.append([command.strip()])
                cmd.read_only = False
    if raw_destructive:
        analysis.read_only = False
    analysis.destructive = bool(analysis.destructive_reasons)
    return analysis


def _analyze(command: str, depth: int) -> ShellAnalysis:
    if depth > 8:
        return ShellAnalysis(command, False, False, ["nested too deeply to analyse"])
    try:
        tokens, subs = tokenize(command)
    except ParseError as exc:
        return _analyze_unparsable(command, str(exc), depth)
    commands: list[ShellCommand] = []
    # Split into simple commands, remembering the operators before each (for `curl ... | sh`
    # and for knowing whether a `cd` certainly ran before the next command) and whether it runs
    # in a subshell (inside `( )` or in a pipeline).
    segments: list[tuple[list[Token], tuple[str, ...], bool]] = []
    current: list[Token] = []
    ops: list[str] = []
    depth_parens = 0
    current_depth = 0
    for token in tokens:
        if token.kind == "op" and token.value in SEPARATORS:
            if current:
                segments.append((current, tuple(ops), current_depth > 0))
                ops = []
            current = []
            ops.append(token.value)
            if token.value == "(":
                depth_parens += 1
            elif token.value == ")":
                depth_parens = max(0, depth_parens - 1)
        else:
            if not current:
                current_depth = depth_parens
            current.append(token)
    if current:
        segments.append((current, tuple(ops), current_depth > 0))
    trailing = tuple(ops)

    pipeline_sources: list[str] = []  # downloaders earlier in the current pipeline
    for index, (seg_tokens, joined, in_parens) in enumerate(segments):
        op_before = joined[-1] if joined else None
        if op_before not in PIPES:
            pipeline_sources = []
        cmd = _analyze_segment(seg_tokens, subs, depth)
        after = segments[index + 1][1] if index + 1 < len(segments) else trailing
        cmd.joined = joined
        cmd.subshell = in_parens or op_before in PIPES or any(op in PIPES for op in after[:1])
        base = _effective_base(cmd.argv)
        if base in INTERPRETERS and pipeline_sources:
            cmd.destructive.append(f"{pipeline_sources[-1]} | {base}")
            cmd.forms.append(list(cmd.argv))
            cmd.read_only = False
        if base in DOWNLOADERS:
            pipeline_sources.append(base)
        if base in SHELLS and any(
            re.search(r"\b(curl|wget|fetch)\b", subs[idx])
            for word in cmd.argv
            for idx in substitution_indexes(word)
            if idx < len(subs)
        ):
            cmd.destructive.append(f"{base} running downloaded code")
            cmd.forms.append(list(cmd.argv))
        commands.append(cmd)

    for inner in subs:
        nested = _analyze(inner, depth + 1)
        for sub_cmd in nested.commands:
            sub_cmd.nested = True
            commands.append(sub_cmd)
    if not segments and subs:
        # Only a here-document's substitutions: still never read-only.
        for cmd in commands:
            cmd.read_only = False
    return _summarize(command, commands)


def _summarize(
    command: str, commands: list[ShellCommand], parse_error: str | None = None
) -> ShellAnalysis:
    reasons: list[str] = []
    destructive: list[str] = []
    for cmd in commands:
        for reason in cmd.reasons:
            if reason not in reasons:
                reasons.append(reason)
        for reason in cmd.destructive:
            if reason not in destructive:
                destructive.append(reason)
    reasons.extend(f"destructive: {r}" for r in destructive)
    read_only = parse_error is None and bool(commands) and all(c.read_only for c in commands)
    unknown = parse_error is not None or any(c.paths != "inside" for c in commands)
    if not commands and parse_error is None:
        reasons.append("empty command")
    return ShellAnalysis(
        command=command,
        read_only=read_only,
        destructive=bool(destructive),
        reasons=reasons,
        destructive_reasons=destructive,
        commands=commands,
        parse_error=parse_error,
        paths="unknown" if unknown else "inside",
    )


def _analyze_unparsable(command: str, error: str, depth: int) -> ShellAnalysis:
    """Best effort for a line the tokenizer rejects: still look for destructive words."""
    words = [w.strip("'\"") for w in command.split()]
    cmd = ShellCommand(text=command.strip(), argv=words, read_only=False)
    cmd.reasons.append(f"cannot be parsed ({error})")
    cmd.paths = "unknown"
    # Check every position as a possible command start (we cannot trust separators here).
    for start, word in enumerate(words):
        if start == 0 or words[start - 1][-1:] in (";", "|", "&") or word in ("sudo", "doas"):
            _check_destructive(words[start:], cmd, depth)
    if cmd.forms:
        cmd.forms.append([command.strip()])
    return _summarize(command, [cmd], parse_error=error)


def _analyze_segment(tokens: list[Token], subs: list[str], depth: int) -> ShellCommand:
    argv: list[str] = []
    words: list[Token] = []
    redirects: list[Redirect] = []
    reasons: list[str] = []
    parts: list[str] = []
    cmd = ShellCommand(text="", argv=argv, read_only=False, reasons=reasons)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind == "word":
            argv.append(token.value)
            words.append(token)
            parts.append(render(token.value, subs))
            i += 1
            continue
        op = token.value
        target_token = (
            tokens[i + 1] if i + 1 < len(tokens) and tokens[i + 1].kind == "word" else None
        )
        target = target_token.value if target_token is not None else ""
        parts.append(op)
        if target_token is not None:
            parts.append(render(target, subs))
        i += 2 if target_token is not None else 1
        if op not in REDIRECTS:
            reasons.append(f"uses the shell operator {op}")
            continue
        redirect = Redirect(op, target, target_token)
        redirects.append(redirect)
        if op in ("<<", "<<-"):
            reasons.append("uses a here-document")
        elif op == "<<<":
            reasons.append("uses a here-string")
        elif target_token is not None and (target_token.expands or target_token.glob):
            reasons.append(f"redirects to {render(target, subs)}, which the shell expands")
        elif redirect.writes and target not in HARMLESS_TARGETS:
            if target.startswith("/dev/"):
                cmd.destructive.append(f"writes to device {target}")
                cmd.forms.append([op, target])
            reasons.append(f"redirects output into {target or 'a file'}")
    cmd.text = " ".join(parts)
    cmd.words = words
    cmd.redirects = redirects
    rest = argv
    assignments: list[str] = []
    while rest and (is_assignment(rest[0]) or rest[0] in KEYWORDS_BEFORE):
        if is_assignment(rest[0]):
            assignments.append(rest[0].split("=", 1)[0].rstrip("+"))
        rest = rest[1:]
    if rest and all(w in KEYWORDS_ALONE for w in rest):
        rest = []
    if any(SUBST_MARK in w for w in argv) or any(SUBST_MARK in r.target for r in redirects):
        reasons.append("uses command substitution")
    expanding = [w.value for w in words if w.expands and SUBST_MARK not in w.value]
    if expanding:
        reasons.append(
            f"uses shell expansion ({render(expanding[0], subs)}), whose value cannot be known"
        )
    if expanding or any(SUBST_MARK in w for w in argv):
        cmd.paths = "unknown"  # until judge_paths knows better, nothing here is known
    if assignments:
        names = ", ".join(assignments[:3])
        reasons.append(
            f"sets {names} for the command (a variable can change what runs or what it loads)"
        )
    if not rest:
        cmd.read_only = not reasons and not cmd.destructive
        return cmd
    core = _unwrap_all(rest)
    cmd.core = " ".join(render(w, subs) for w in core)
    ro, why = _is_read_only(rest, depth)
    if not ro and why:
        reasons.append(why)
    _check_destructive(rest, cmd, depth)
    cmd.read_only = ro and not reasons and not cmd.destructive
    return cmd


def _unwrap_all(words: list[str]) -> list[str]:
    """``words`` without leading env assignments and ``sudo``/``env``/``timeout``... wrappers."""
    while words and is_assignment(words[0]):
        words = words[1:]
    inner = _unwrap(words)
    while inner is not None and inner is not words:
        words = inner
        while words and is_assignment(words[0]):
            words = words[1:]
        inner = _unwrap(words)
    return words


def _effective_base(argv: list[str]) -> str:
    """The program a command runs, looking through env assignments and wrappers."""
    words = _unwrap_all(argv)
    return os.path.basename(words[0]) if words else ""


def _split_string(value: str) -> list[str]:
    """``env -S`` splits its value into words (roughly the shell way)."""
    try:
        tokens, _ = tokenize(value)
    except ParseError:
        return value.split()
    return [t.value for t in tokens if t.kind == "word"]


def _unwrap(words: list[str]) -> list[str] | None:
    """For ``sudo X``, ``env A=1 X``, ``timeout 5 X``, ``xargs X``...: the words of ``X``.

    Returns ``words`` itself when it is not a wrapper, and None for a wrapper with nothing inside.
    """
    if not words:
        return None
    base = os.path.basename(words[0])
    if base not in WRAPPER_VALUE_OPTS:
        return words
    value_opts = WRAPPER_VALUE_OPTS[base]
    i = 1
    while i < len(words):
        w = words[i]
        if w == "--":
            i += 1
            break
        if base == "env" and (w.startswith("-S") or w.startswith("--split-string")):
            # `env -S'rm -rf x'`: the value is a whole command line.
            if w in ("-S", "--split-string"):
                value = words[i + 1] if i + 1 < len(words) else ""
                i += 2
            else:
                value = w[2:] if w.startswith("-S") else w.split("=", 1)[-1]
                i += 1
            return _split_string(value) + words[i:] or None
        if w.startswith("-") and len(w) > 1:
            i += 2 if w in value_opts else 1
            continue
        if base == "env" and is_assignment(w):
            i += 1
            continue
        break
    if base == "timeout" and i < len(words):
        i += 1  # the duration
    rest = words[i:]
    return rest or None


def _short_flags(args: list[str]) -> set[str]:
    out: set[str] = set()
    for a in args:
        if a.startswith("-") and not a.startswith("--") and len(a) > 1:
            out.update(a[1:])
    return out


def _check_destructive(words: list[str], cmd: ShellCommand, depth: int) -> None:
    """Record destructive findings (and the forms a rule must name) of the command ``words``."""
    if not words:
        return
    base = os.path.basename(words[0])
    args = words[1:]
    found = cmd.destructive

    def add(reason: str, form: list[str]) -> None:
        if reason not in found:
            found.append(reason)
        guard(form)

    def guard(form: list[str]) -> None:
        if form and form not in cmd.forms:
            cmd.forms.append(form)

    if base in ("sudo", "doas", "su", "pkexec"):
        add(base if base != "doas" else "doas (sudo)", [words[0]])
    if base in WRAPPER_VALUE_OPTS:
        inner = _unwrap(words)
        if inner:
            _check_destructive(inner, cmd, depth)
        return
    if base in SHELLS and "-c" in args:
        idx = args.index("-c")
        if idx + 1 < len(args) and SUBST_MARK not in args[idx + 1]:
            nested = _analyze(args[idx + 1], depth + 1)
            for reason in nested.destructive_reasons:
                add(reason, list(words))
        return
    if base == "rm":
        flags = [a for a in args if a.startswith("-") and a not in ("-", "--")]
        short = _short_flags(flags)
        if "r" in short or "R" in short or "--recursive" in flags:
            add("rm " + " ".join(flags), flags)
        elif "f" in short or "--force" in flags:
            guard(flags)  # not destructive, but a rule must name the force
    elif base == "mkfs" or base.startswith("mkfs."):
        add("mkfs", [words[0]])
    elif base == "dd":
        add("dd", [words[0]])
    elif base in ("chmod", "chown", "chgrp"):
        if "R" in _short_flags(args) or "--recursive" in args:
            add(f"{base} -R", [a for a in args if a.startswith("-")])
    elif base in ("shred", "wipefs", "fdisk", "sfdisk", "parted", "mkswap") or base in (
        "shutdown",
        "reboot",
        "halt",
        "poweroff",
    ):
        add(base, [words[0]])
    elif base == "git":
        _check_git_destructive(args, add, guard)
    elif base == "find":
        for idx, a in enumerate(args):
            if a == "-delete":
                guard(["-delete"])
            if a in ("-exec", "-execdir", "-ok", "-okdir"):
                executed: list[str] = []
                for w in args[idx + 1 :]:
                    if w in (";", "+"):
                        break
                    executed.append(w)
                _check_destructive(executed, cmd, depth)
    elif base in ("fd", "fdfind"):
        for idx, a in enumerate(args):
            if a in ("-x", "-X", "--exec", "--exec-batch"):
                _check_destructive(args[idx + 1 :], cmd, depth)
                break


def _check_git_destructive(args: list[str], add: _Add, guard: _Guard) -> None:
    sub, sub_args = _git_subcommand(args)
    if sub == "push":
        force = [
            a
            for a in sub_args
            if a in ("-f", "--force", "--mirror")
            or a.startswith("--force-with-lease")
            or (a.startswith("-") and not a.startswith("--") and "f" in a[1:])
            or a.startswith("+")
        ]
        if force:
            add("git push --force", force)
    elif sub == "reset" and "--hard" in sub_args:
        add("git reset --hard", ["--hard"])
    elif sub == "clean":
        flags = [a for a in sub_args if a.startswith("-")]
        if "f" in _short_flags(sub_args) or "--force" in sub_args:
            add("git clean -f", ["clean", *flags])
        else:
            guard(["clean", *flags])
    elif _forced_git(sub, sub_args):
        guard([a for a in sub_args if a.startswith("-")])
    elif sub == "stash" and sub_args[:1] in (["drop"], ["clear"]):
        guard([sub_args[0]])


def _forced_git(sub: str, sub_args: list[str]) -> bool:
    """``git branch -D``, ``git checkout -f``: not destructive, but a rule must name the force."""
    short = _short_flags(sub_args)
    if sub == "branch":
        return "D" in short or "--force" in sub_args
    if sub in ("checkout", "switch"):
        return "f" in short or "--force" in sub_args or "--discard-changes" in sub_args
    return False


def _git_subcommand(args: list[str]) -> tuple[str, list[str]]:
    """``(subcommand, its args)`` after git's global options; ``("", [])`` when there is none."""
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env"):
            i += 2
        elif a.startswith("-"):
            i += 1
        else:
            return a, args[i + 1 :]
    return "", []


def _long(arg: str, name: str, shortest: int) -> bool:
    """``arg`` is the long option ``name`` or a GNU abbreviation of it (at least ``shortest``
    characters of the name, ``--`` included), with or without ``=value``."""
    opt = arg.split("=", 1)[0]
    return len(opt) >= shortest and name.startswith(opt)


def _is_read_only(words: list[str], depth: int) -> tuple[bool, str]:
    """``(read-only?, why not)`` for the simple command ``words`` (env assignments removed)."""
    name = words[0]
    args = words[1:]
    base = os.path.basename(name)
    if "/" in name or "\\" in name:
        return False, f"runs the program {name} by path"
    if base in WRAPPER_VALUE_OPTS:
        if base == "command" and args[:1] in (["-v"], ["-V"]):
            return True, ""
        if base == "env" and not args:
            return True, ""  # prints the environment
        return False, f"{base} runs another command"
    if base in ("eval", "source", ".", "trap", "alias"):
        return False, f"{base} runs its arguments as shell code"
    if base in SHELLS:
        if "-c" in args:
            return False, f"{base} -c runs a command line"
        return False, f"runs a {base} script"
    if base == "cd":
        if args[:1] == ["-"]:
            return False, "cd - goes to $OLDPWD, which cannot be known"
        return True, ""
    if base in ("test", "["):
        if any("$" in a or "`" in a for a in args):
            return False, f"{base} with $ in an operand can run commands (array subscripts)"
        return True, ""
    if base == "printf" and any(a == "-v" or a.startswith("-v") for a in args[:1]):
        return False, "printf -v assigns a variable (its subscript can run commands)"
    if base in ALWAYS_READ_ONLY:
        return True, ""
    checker = _SPECIAL.get(base)
    if checker is not None:
        return checker(args)
    if base == "git":
        return _git_read_only(args)
    if base in ("pip", "pip3") and args[:1] and args[0] in PIP_READ:
        return True, ""
    if base in VERSION_ONLY:
        if len(args) == 1 and args[0] in VERSION_FLAGS:
            return True, ""
        return False, f"`{base}` is not on the read-only list (only `{base} --version` is)"
    return False, f"`{base}` is not on the read-only list"


def _rg(args: list[str]) -> tuple[bool, str]:
    for a in args:
        if a == "--pre" or a.startswith("--pre="):
            return False, "rg --pre runs a program"
        if a.startswith("--hostname-bin"):
            return False, "rg --hostname-bin runs a program"
    return True, ""


def _ag(args: list[str]) -> tuple[bool, str]:
    if any(_long(a, "--pager", 4) for a in args):
        return False, "ag --pager runs a program"
    return True, ""


def _fd(args: list[str]) -> tuple[bool, str]:
    for a in args:
        if a in ("-x", "-X") or _long(a, "--exec", 6) or _long(a, "--exec-batch", 7):
            return False, f"fd {a} runs a program for every file"
        if a.startswith("-") and not a.startswith("--") and ("x" in a[1:] or "X" in a[1:]):
            return False, f"fd {a} runs a program for every file"
    return True, ""


def _find(args: list[str]) -> tuple[bool, str]:
    unsafe = {
        "-exec",
        "-execdir",
        "-ok",
        "-okdir",
        "-delete",
        "-fprint",
        "-fprint0",
        "-fprintf",
        "-fls",
    }
    bad = [a for a in args if a in unsafe]
    if bad:
        return False, f"find {bad[0]} changes or runs things"
    return True, ""


def _sort(args: list[str]) -> tuple[bool, str]:
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            break
        if a in SORT_VALUE_OPTS:
            i += 2
            continue
        if a.startswith("--"):
            if _long(a, "--compress-program", 4):
                return False, "sort --compress-program runs a program"
            if _long(a, "--output", 3):
                return False, "sort -o writes a file"
            if a.split("=", 1)[0] not in _SORT_SAFE_LONG:
                return False, f"sort {a} is not known to be read-only"
        elif a.startswith("-") and len(a) > 1:
            if a[1] in "kt" or a[1] == "S":
                pass  # value glued to the option: -k2, -t,
            elif "o" in a[1:]:
                return False, "sort -o writes a file"
            elif not set(a[1:]) <= SORT_SAFE_FLAGS:
                return False, f"sort {a} is not known to be read-only"
        i += 1
    return True, ""


_SORT_SAFE_LONG = frozenset(
    {
        "--ignore-leading-blanks",
        "--dictionary-order",
        "--ignore-case",
        "--general-numeric-sort",
        "--ignore-nonprinting",
        "--month-sort",
        "--human-numeric-sort",
        "--numeric-sort",
        "--random-sort",
        "--reverse",
        "--version-sort",
        "--key",
        "--field-separator",
        "--unique",
        "--stable",
        "--zero-terminated",
        "--check",
        "--merge",
        "--buffer-size",
        "--parallel",
    }
)


def _uniq(args: list[str]) -> tuple[bool, str]:
    positional = [a for a in args if not a.startswith("-")]
    if len(positional) > 1:
        return False, "uniq with an output file writes it"
    return True, ""


def _tree(args: list[str]) -> tuple[bool, str]:
    if "-o" in args or "-R" in args:
        return False, "tree -o / -R writes files"
    return True, ""


def _file(args: list[str]) -> tuple[bool, str]:
    if "-C" in args or any(_long(a, "--compile", 5) for a in args):
        return False, "file -C writes a magic file"
    return True, ""


def _date(args: list[str]) -> tuple[bool, str]:
    if any(a in ("-s", "--set") or a.startswith("--set=") for a in args) or any(
        not a.startswith(("-", "+")) for a in args
    ):
        return False, "date with a value sets the clock"
    return True, ""


def _hostname(args: list[str]) -> tuple[bool, str]:
    if any(not a.startswith("-") for a in args):
        return False, "hostname with a name sets it"
    return True, ""


_TAR_LIST_LETTERS = frozenset("tvfzjJ")


def _tar(args: list[str]) -> tuple[bool, str]:
    """Only listing an archive (``tar -tzf a.tgz``, ``tar tvf a.tar``) is read-only."""
    listing = False
    i = 0
    while i < len(args):
        a = args[i]
        letters = a[1:] if a.startswith("-") and not a.startswith("--") else a if i == 0 else ""
        if a in ("--list", "--verbose", "--gzip", "--bzip2", "--xz"):
            listing = listing or a == "--list"
        elif a.startswith("--file="):
            pass
        elif a == "--file":
            i += 1
        elif letters and set(letters) <= _TAR_LIST_LETTERS:
            listing = listing or "t" in letters
        elif a.startswith("-"):
            return False, f"tar {a} is not known to be read-only"
        i += 1
    if not listing:
        return False, "tar creates or extracts files (only tar -t lists)"
    return True, ""


_SPECIAL = {
    "rg": _rg,
    "ag": _ag,
    "fd": _fd,
    "fdfind": _fd,
    "find": _find,
    "sort": _sort,
    "uniq": _uniq,
    "tree": _tree,
    "file": _file,
    "date": _date,
    "hostname": _hostname,
    "tar": _tar,
}


def _git_read_only(args: list[str]) -> tuple[bool, str]:
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-c" or a.startswith(("--exec-path", "--config-env")):
            return False, "git -c can run configured programs"
        if a in ("-C", "--git-dir", "--work-tree", "--namespace"):
            i += 2
        elif a.startswith("-"):
            i += 1
        else:
            break
    if i >= len(args):
        return True, ""  # bare `git` / `git --version`
    sub, rest = args[i], args[i + 1 :]
    if any(a == "--output" or a.startswith("--output=") for a in rest):
        return False, f"git {sub} --output writes a file"
    if any(a == "--ext-diff" for a in rest):
        return False, f"git {sub} --ext-diff runs a configured program"
    if any(a.startswith(("--upload-pack", "--receive-pack", "--exec=")) for a in rest):
        return False, f"git {sub} runs the program given to --upload-pack/--exec"
    if sub == "grep" and any(
        a.startswith("-O") or _long(a, "--open-files-in-pager", 6) for a in rest
    ):
        return False, "git grep -O opens a program (the pager) on the files"
    if sub in GIT_READ_ONLY:
        return True, ""
    listing = True
    if sub == "branch":
        listing_mode = any(a in ("-l", "--list") for a in rest)
        for a in rest:
            if a.startswith("-"):
                if a not in GIT_BRANCH_LIST_FLAGS and not a.startswith(("--sort", "--format")):
                    listing = False
            elif not listing_mode:
                listing = False
    elif sub == "tag":
        listing_mode = not rest or any(a in ("-l", "--list") for a in rest)
        listing = listing_mode and not any(a in ("-d", "--delete", "-a", "-s", "-f") for a in rest)
    elif sub == "remote":
        listing = not rest or rest[0] in ("-v", "--verbose", "get-url")
    elif sub == "stash":
        listing = bool(rest) and rest[0] in ("list", "show")
    elif sub == "config":
        listing = any(
            a in ("--get", "--get-all", "--get-regexp", "--list", "-l") for a in rest
        ) and not any(
            a in ("--unset", "--unset-all", "--add", "--replace-all", "-e", "--edit") for a in rest
        )
    elif sub == "worktree":
        listing = rest[:1] == ["list"]
    elif sub == "reflog":
        listing = not rest or rest[0] == "show" or rest[0].startswith("-")
    elif sub == "submodule":
        listing = rest[:1] == ["status"]
    elif sub == "notes":
        listing = not rest or rest[0] in ("list", "show")
    else:
        listing = False
    if listing:
        return True, ""
    return False, f"`git {sub}` can change the repository"
