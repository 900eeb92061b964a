"""Shell command analysis: is a command read-only, is it destructive, and why.

The permission engine treats a ``shell`` call whose every command is on the read-only allowlist as
``READ`` (it runs even in ``ask`` and ``plan`` mode), and a destructive one (``sudo``, ``rm -rf``,
``git push --force``, ``curl ... | sh``, ``mkfs``, ``dd``, ``chmod -R``, fork bombs) as one that
always asks, even in ``auto`` mode, unless an allow rule names it.

The command is tokenised the way a POSIX shell does (quotes, backslashes, comments, here-documents),
then split at ``|``, ``&&``, ``||``, ``;``, ``&`` and newlines. Quoting is resolved by a small
shlex-style tokenizer of our own, because :mod:`shlex` cannot tell a quoted ``';'`` from the
operator ``;``. Command substitutions (``$(...)``, backticks, ``<(...)``) make a command
not read-only; their contents are analysed too, so ``echo $(rm -rf /)`` is destructive.

The analysis errs on the side of asking: anything it does not recognise is not read-only.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field

__all__ = ["ShellAnalysis", "ShellCommand", "classify_command"]


@dataclass
class ShellCommand:
    """One simple command of a command line (``git status`` in ``git status && ls``).

    Attributes:
        text: The command as text (quoted the shell way), what rules match against.
        argv: Its words, with quotes removed (environment assignments included).
        read_only: On the read-only allowlist, with no redirection into a file.
        reasons: Why it is not read-only.
        destructive: Why it is destructive (empty when it is not).
        nested: It comes from inside a command substitution or ``sh -c``.
        core: The program and its arguments without environment assignments and wrappers
            (``rm -rf x`` for ``sudo env A=1 rm -rf x``); deny rules match it too.
    """

    text: str
    argv: list[str]
    read_only: bool
    reasons: list[str] = field(default_factory=list)
    destructive: list[str] = field(default_factory=list)
    nested: bool = False
    core: str = ""


@dataclass
class ShellAnalysis:
    """What :func:`classify_command` found out about a command line.

    Attributes:
        command: The command line as given.
        read_only: Every command is on the read-only allowlist (the call counts as ``READ``).
        destructive: Some part is destructive (always asks, even in ``auto`` mode).
        reasons: Why it is not read-only and why it is destructive, for people.
        destructive_reasons: Only the destructive findings (``"rm -rf"``, ``"sudo"``, ...).
        commands: Every simple command found, including nested ones.
        parse_error: Set when the line could not be parsed (e.g. an unterminated quote).
    """

    command: str
    read_only: bool
    destructive: bool
    reasons: list[str] = field(default_factory=list)
    destructive_reasons: list[str] = field(default_factory=list)
    commands: list[ShellCommand] = field(default_factory=list)
    parse_error: str | None = None


class _ParseError(Exception):
    pass


# -- tokenizer --------------------------------------------------------------------------------

_OPERATORS = (
    "&>>",
    "<<<",
    "<<-",
    "&&",
    "||",
    ";;",
    "|&",
    ">>",
    "<<",
    ">&",
    "<&",
    "&>",
    ">|",
    "<>",
    ";",
    "&",
    "|",
    "<",
    ">",
    "(",
    ")",
)
_SEPARATORS = frozenset({";", "&", "&&", "||", "|", "|&", ";;", "(", ")"})
_PIPES = frozenset({"|", "|&"})
_OUTPUT_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", "<>"})
_HARMLESS_TARGETS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "-"})
_SUBST_MARK = "\x00"


@dataclass
class _Token:
    kind: str  # "word" or "op"
    value: str


def _sentinel(index: int) -> str:
    return f"{_SUBST_MARK}{index}{_SUBST_MARK}"


def _balanced(text: str, start: int) -> tuple[str, int]:
    """The text up to the ``)`` closing an opening just before ``start``, and the index after it."""
    depth = 1
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            j = text.find("'", i + 1)
            if j < 0:
                raise _ParseError("unterminated single quote")
            i = j + 1
            continue
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            if i >= n:
                raise _ParseError("unterminated double quote")
            i += 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return text[start:i], i + 1
        i += 1
    raise _ParseError("unterminated command substitution $(...)")


def _backtick(text: str, start: int) -> tuple[str, int]:
    """The text up to the closing backtick (``start`` is just after the opening one)."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == "`":
            return text[start:i].replace("\\`", "`"), i + 1
        i += 1
    raise _ParseError("unterminated backtick substitution")


def _tokenize(command: str) -> tuple[list[_Token], list[str]]:
    """Shell words and operators of ``command``, plus the texts of its command substitutions."""
    tokens: list[_Token] = []
    subs: list[str] = []
    buf: list[str] = []
    in_word = False
    expect_heredoc = False
    heredocs: list[str] = []
    i = 0
    n = len(command)

    def flush() -> None:
        nonlocal in_word, expect_heredoc
        if in_word:
            word = "".join(buf)
            tokens.append(_Token("word", word))
            if expect_heredoc:
                heredocs.append(word)
                expect_heredoc = False
        buf.clear()
        in_word = False

    def substitution(inner: str) -> None:
        nonlocal in_word
        subs.append(inner)
        buf.append(_sentinel(len(subs) - 1))
        in_word = True

    while i < n:
        c = command[i]
        if c in " \t\r":
            flush()
            i += 1
        elif c == "\n":
            flush()
            tokens.append(_Token("op", ";"))
            i += 1
            # Here-document bodies are data, not commands: skip to their delimiters.
            for delimiter in heredocs:
                while i < n:
                    end = command.find("\n", i)
                    line = command[i:] if end < 0 else command[i:end]
                    i = n if end < 0 else end + 1
                    if line.strip() == delimiter:
                        break
            heredocs.clear()
        elif c == "\\":
            if i + 1 < n and command[i + 1] == "\n":  # line continuation
                i += 2
                continue
            buf.append(command[i + 1] if i + 1 < n else "\\")
            in_word = True
            i += 2
        elif c == "'":
            j = command.find("'", i + 1)
            if j < 0:
                raise _ParseError("unterminated single quote")
            buf.append(command[i + 1 : j])
            in_word = True
            i = j + 1
        elif c == '"':
            in_word = True
            i += 1
            while True:
                if i >= n:
                    raise _ParseError("unterminated double quote")
                d = command[i]
                if d == "\\" and i + 1 < n and command[i + 1] in '$`"\\\n':
                    if command[i + 1] != "\n":
                        buf.append(command[i + 1])
                    i += 2
                elif d == '"':
                    i += 1
                    break
                elif command.startswith("$(", i):
                    inner, i = _balanced(command, i + 2)
                    substitution(inner)
                elif d == "`":
                    inner, i = _backtick(command, i + 1)
                    substitution(inner)
                else:
                    buf.append(d)
                    i += 1
        elif c == "#" and not in_word:
            end = command.find("\n", i)
            i = n if end < 0 else end
        elif command.startswith("$((", i):
            inner, i = _balanced(command, i + 2)
            if "$(" in inner or "`" in inner:
                substitution(inner)
            else:
                buf.append("$(" + inner + ")")
                in_word = True
        elif command.startswith("$(", i):
            inner, i = _balanced(command, i + 2)
            substitution(inner)
        elif c == "`":
            inner, i = _backtick(command, i + 1)
            substitution(inner)
        elif c in "<>" and command.startswith("(", i + 1):  # process substitution
            flush()
            inner, i = _balanced(command, i + 2)
            substitution(inner)
            flush()
        elif c in ";&|<>()":
            if c in "<>" and in_word and "".join(buf).isdigit():
                buf.clear()  # "2>" names a file descriptor, not a word
                in_word = False
            flush()
            for op in _OPERATORS:
                if command.startswith(op, i):
                    tokens.append(_Token("op", op))
                    i += len(op)
                    if op in ("<<", "<<-"):
                        expect_heredoc = True
                    break
        else:
            buf.append(c)
            in_word = True
            i += 1
    flush()
    return tokens, subs


# -- classification -----------------------------------------------------------------------------

# Shell grammar words that only group commands: `{ ls; pwd; }`, `if test -f x; then cat x; fi`.
_KEYWORDS_BEFORE = frozenset({"{", "!", "if", "then", "else", "elif", "do", "while", "until"})
_KEYWORDS_ALONE = frozenset({"}", "fi", "done", "esac"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_FORK_BOMB = re.compile(r"([\w:.-]+)\s*\(\s*\)\s*\{[^}]*\1\s*\|\s*\1")
_CURL_PIPE_SH = re.compile(
    r"\b(curl|wget|fetch)\b[^|;&]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?"
    r"(sh|bash|zsh|dash|ksh|fish|python3?|perl|ruby|node)\b"
)

_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "fish", "csh", "tcsh"})
_INTERPRETERS = _SHELLS | {"python", "python3", "perl", "ruby", "node"}
_DOWNLOADERS = frozenset({"curl", "wget", "fetch"})

_ALWAYS_READ_ONLY = frozenset(
    {
        "ls",
        "cat",
        "head",
        "tail",
        "grep",
        "egrep",
        "fgrep",
        "wc",
        "pwd",
        "echo",
        "printf",
        "which",
        "whereis",
        "file",
        "stat",
        "du",
        "df",
        "diff",
        "cmp",
        "basename",
        "dirname",
        "realpath",
        "readlink",
        "true",
        "false",
        "whoami",
        "id",
        "groups",
        "uname",
        "printenv",
        "type",
        "nl",
        "cut",
        "tr",
        "column",
        "jq",
        "sha1sum",
        "sha256sum",
        "sha512sum",
        "md5sum",
        "cksum",
        "b2sum",
        "tac",
        "rev",
        "fold",
        "expand",
        "unexpand",
        "od",
        "hexdump",
        "strings",
        "seq",
        "test",
        "[",
        "cd",
        "ps",
        "uptime",
        "free",
        "nproc",
        "locale",
        "ag",
        "ack",
        "fd",
        "fdfind",
        "tokei",
        "cloc",
        "comm",
        "join",
        "paste",
        "look",
        "tsort",
        "sleep",
    }
)
_VERSION_FLAGS = frozenset({"--version", "-V", "version", "-v"})
_VERSION_ONLY = frozenset(
    {
        "python",
        "python3",
        "node",
        "npm",
        "pnpm",
        "yarn",
        "ruby",
        "perl",
        "cargo",
        "rustc",
        "go",
        "java",
        "javac",
        "gcc",
        "clang",
        "make",
        "uv",
        "pip",
        "pip3",
        "poetry",
        "deno",
        "bun",
        "docker",
        "kubectl",
        "pytest",
        "ruff",
        "mypy",
    }
)
_PIP_READ = frozenset({"list", "show", "freeze", "check"})

_GIT_READ_ONLY = frozenset(
    {
        "status",
        "diff",
        "log",
        "show",
        "blame",
        "annotate",
        "rev-parse",
        "ls-files",
        "ls-tree",
        "ls-remote",
        "describe",
        "shortlog",
        "grep",
        "cat-file",
        "rev-list",
        "show-ref",
        "for-each-ref",
        "merge-base",
        "name-rev",
        "version",
        "help",
        "whatchanged",
        "count-objects",
        "check-ignore",
        "diff-tree",
        "diff-files",
        "diff-index",
        "show-branch",
    }
)
_GIT_BRANCH_LIST_FLAGS = frozenset(
    {
        "-a",
        "--all",
        "-r",
        "--remotes",
        "-v",
        "-vv",
        "--verbose",
        "-l",
        "--list",
        "--show-current",
        "--merged",
        "--no-merged",
        "--contains",
        "--no-contains",
        "--points-at",
        "--no-color",
        "--color",
        "--column",
        "--no-column",
        "-q",
        "--quiet",
    }
)


def classify_command(command: str) -> ShellAnalysis:
    """Analyse a shell command line.

    Args:
        command: The command as the model wrote it (may hold pipelines, ``&&``, newlines, ...).

    Returns:
        The analysis: ``read_only`` when every command is on the read-only allowlist and nothing
        is written to a file; ``destructive`` with reasons for ``sudo``, ``rm -rf`` and friends.
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
    if raw_destructive:
        analysis.read_only = False
    analysis.destructive = bool(analysis.destructive_reasons)
    return analysis


def _analyze(command: str, depth: int) -> ShellAnalysis:
    if depth > 8:
        return ShellAnalysis(command, False, False, ["nested too deeply to analyse"])
    try:
        tokens, subs = _tokenize(command)
    except _ParseError as exc:
        return _analyze_unparsable(command, str(exc), depth)
    commands: list[ShellCommand] = []
    # Split into simple commands, remembering what came before each (for `curl ... | sh`).
    segments: list[tuple[list[_Token], str | None]] = []
    current: list[_Token] = []
    before: str | None = None
    for token in tokens:
        if token.kind == "op" and token.value in _SEPARATORS:
            if current:
                segments.append((current, before))
            current = []
            before = token.value
        else:
            current.append(token)
    if current:
        segments.append((current, before))

    pipeline_sources: list[str] = []  # downloaders earlier in the current pipeline
    for seg_tokens, op_before in segments:
        if op_before not in _PIPES:
            pipeline_sources = []
        cmd = _analyze_segment(seg_tokens, subs, depth)
        base = _effective_base(cmd.argv)
        if base in _INTERPRETERS and pipeline_sources:
            cmd.destructive.append(f"{pipeline_sources[-1]} | {base}")
            cmd.read_only = False
        if base in _DOWNLOADERS:
            pipeline_sources.append(base)
        if base in _SHELLS and any(
            re.search(r"\b(curl|wget|fetch)\b", subs[int(idx)])
            for idx in re.findall(f"{_SUBST_MARK}(\\d+){_SUBST_MARK}", " ".join(cmd.argv))
        ):
            cmd.destructive.append(f"{base} running downloaded code")
        commands.append(cmd)

    for inner in subs:
        nested = _analyze(inner, depth + 1)
        for sub_cmd in nested.commands:
            sub_cmd.nested = True
            commands.append(sub_cmd)
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
    )


def _analyze_unparsable(command: str, error: str, depth: int) -> ShellAnalysis:
    """Best effort for a line the tokenizer rejects: still look for destructive words."""
    words = [w.strip("'\"") for w in command.split()]
    cmd = ShellCommand(text=command.strip(), argv=words, read_only=False)
    cmd.reasons.append(f"cannot be parsed ({error})")
    # Check every position as a possible command start (we cannot trust separators here).
    for start, word in enumerate(words):
        if start == 0 or words[start - 1][-1:] in (";", "|", "&") or word in ("sudo", "doas"):
            _check_destructive(words[start:], cmd.destructive, depth)
    return _summarize(command, [cmd], parse_error=error)


def _render(word: str, subs: list[str]) -> str:
    if _SUBST_MARK in word:
        return re.sub(
            f"{_SUBST_MARK}(\\d+){_SUBST_MARK}",
            lambda m: f"$({subs[int(m.group(1))]})" if int(m.group(1)) < len(subs) else "$(...)",
            word,
        )
    return shlex.quote(word)


def _analyze_segment(tokens: list[_Token], subs: list[str], depth: int) -> ShellCommand:
    argv: list[str] = []
    reasons: list[str] = []
    destructive: list[str] = []
    parts: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind == "word":
            argv.append(token.value)
            parts.append(_render(token.value, subs))
            i += 1
            continue
        op = token.value
        target = tokens[i + 1].value if i + 1 < len(tokens) and tokens[i + 1].kind == "word" else ""
        parts.append(op)
        if target:
            parts.append(_render(target, subs))
        i += 2 if target else 1
        writes = op in _OUTPUT_REDIRECTS or (
            op == ">&" and target and not target.isdigit() and target != "-"
        )
        if writes:
            if target in _HARMLESS_TARGETS:
                continue
            if target.startswith("/dev/"):
                destructive.append(f"writes to device {target}")
            reasons.append(f"redirects output into {target or 'a file'}")
    text = " ".join(parts)
    cmd = ShellCommand(text=text, argv=argv, read_only=False, reasons=reasons)
    words = argv
    while words and (_ASSIGNMENT.match(words[0]) or words[0] in _KEYWORDS_BEFORE):
        words = words[1:]
    if words and all(w in _KEYWORDS_ALONE for w in words):
        words = []
    if any(_SUBST_MARK in w for w in argv):
        cmd.reasons.append("uses command substitution")
    if not words:
        cmd.read_only = not cmd.reasons
        cmd.destructive = destructive
        return cmd
    core = _unwrap_all(words)
    cmd.core = " ".join(_render(w, subs) for w in core)
    ro, why = _is_read_only(words, depth)
    if not ro and why:
        cmd.reasons.append(why)
    _check_destructive(words, destructive, depth)
    cmd.destructive = destructive
    cmd.read_only = ro and not cmd.reasons and not destructive
    return cmd


def _unwrap_all(words: list[str]) -> list[str]:
    """``words`` without leading env assignments and ``sudo``/``env``/``timeout``... wrappers."""
    while words and _ASSIGNMENT.match(words[0]):
        words = words[1:]
    inner = _unwrap(words)
    while inner is not None and inner is not words:
        words = inner
        while words and _ASSIGNMENT.match(words[0]):
            words = words[1:]
        inner = _unwrap(words)
    return words


def _effective_base(argv: list[str]) -> str:
    """The program a command runs, looking through env assignments and wrappers."""
    words = _unwrap_all(argv)
    return os.path.basename(words[0]) if words else ""


_WRAPPER_VALUE_OPTS: dict[str, frozenset[str]] = {
    "sudo": frozenset({"-u", "-g", "-C", "-h", "-p", "-r", "-t", "-U", "-D"}),
    "doas": frozenset({"-u", "-C"}),
    "env": frozenset({"-u", "-C", "-S", "--unset", "--chdir"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "ionice": frozenset({"-c", "-n", "-p"}),
    "timeout": frozenset({"-s", "-k", "--signal", "--kill-after"}),
    "xargs": frozenset({"-n", "-I", "-i", "-d", "-P", "-L", "-l", "-s", "-E", "-e", "-a"}),
    "stdbuf": frozenset({"-i", "-o", "-e"}),
    "nohup": frozenset(),
    "time": frozenset({"-f", "-o"}),
    "command": frozenset(),
    "builtin": frozenset(),
    "exec": frozenset({"-a"}),
}


def _unwrap(words: list[str]) -> list[str] | None:
    """For ``sudo X``, ``env A=1 X``, ``timeout 5 X``, ``xargs X``...: the words of ``X``.

    Returns ``words`` itself when it is not a wrapper, and None for a wrapper with nothing inside.
    """
    if not words:
        return None
    base = os.path.basename(words[0])
    if base not in _WRAPPER_VALUE_OPTS:
        return words
    value_opts = _WRAPPER_VALUE_OPTS[base]
    i = 1
    while i < len(words):
        w = words[i]
        if w == "--":
            i += 1
            break
        if w.startswith("-") and len(w) > 1:
            i += 2 if w in value_opts else 1
            continue
        if base == "env" and _ASSIGNMENT.match(w):
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


def _check_destructive(words: list[str], found: list[str], depth: int) -> None:
    """Append destructive findings of the simple command ``words`` to ``found``."""
    if not words:
        return
    base = os.path.basename(words[0])
    args = words[1:]

    def add(reason: str) -> None:
        if reason not in found:
            found.append(reason)

    if base in ("sudo", "doas", "su", "pkexec"):
        add(base if base != "doas" else "doas (sudo)")
    if base in _WRAPPER_VALUE_OPTS:
        inner = _unwrap(words)
        if inner:
            _check_destructive(inner, found, depth)
        return
    if base in _SHELLS and "-c" in args:
        idx = args.index("-c")
        if idx + 1 < len(args) and _SUBST_MARK not in args[idx + 1]:
            nested = _analyze(args[idx + 1], depth + 1)
            for reason in nested.destructive_reasons:
                add(reason)
        return
    if base == "rm":
        flags = [a for a in args if a.startswith("-") and a != "-" and a != "--"]
        short = _short_flags(flags)
        if "r" in short or "R" in short or "--recursive" in flags:
            add("rm " + " ".join(flags))
    elif base == "mkfs" or base.startswith("mkfs."):
        add("mkfs")
    elif base == "dd":
        add("dd")
    elif base in ("chmod", "chown", "chgrp"):
        if "R" in _short_flags(args) or "--recursive" in args:
            add(f"{base} -R")
    elif base in ("shred", "wipefs", "fdisk", "sfdisk", "parted", "mkswap") or base in (
        "shutdown",
        "reboot",
        "halt",
        "poweroff",
    ):
        add(base)
    elif base == "git":
        sub, sub_args = _git_subcommand(args)
        if sub == "push":
            if (
                "f" in _short_flags(sub_args)
                or any(a == "--force" or a.startswith("--force-with-lease") for a in sub_args)
                or "--mirror" in sub_args
                or any(a.startswith("+") for a in sub_args)
            ):
                add("git push --force")
        elif sub == "reset" and "--hard" in sub_args:
            add("git reset --hard")
        elif sub == "clean" and ("f" in _short_flags(sub_args) or "--force" in sub_args):
            add("git clean -f")
    elif base == "find":
        for idx, a in enumerate(args):
            if a in ("-exec", "-execdir", "-ok", "-okdir"):
                executed: list[str] = []
                for w in args[idx + 1 :]:
                    if w in (";", "+"):
                        break
                    executed.append(w)
                _check_destructive(executed, found, depth)


def _git_subcommand(args: list[str]) -> tuple[str, list[str]]:
    """``(subcommand, its args)`` after git's global options; ``("", [])`` when there is none."""
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-C", "-c", "--git-dir", "--work-tree", "--namespace"):
            i += 2
        elif a.startswith("-"):
            i += 1
        else:
            return a, args[i + 1 :]
    return "", []


def _is_read_only(words: list[str], depth: int) -> tuple[bool, str]:
    """``(read-only?, why not)`` for the simple command ``words`` (env assignments removed)."""
    name = words[0]
    args = words[1:]
    base = os.path.basename(name)
    if "/" in name or "\\" in name:
        return False, f"runs the program {name} by path"
    if base in _WRAPPER_VALUE_OPTS:
        if base in ("sudo", "doas", "exec"):
            return False, f"runs through {base}"
        if base == "command" and args[:1] in (["-v"], ["-V"]):
            return True, ""
        inner = _unwrap(words)
        if inner is None:
            return True, ""  # e.g. plain `env` (prints the environment) or `xargs` (echo)
        return _is_read_only(inner, depth)
    if base in _SHELLS:
        if "-c" in args:
            idx = args.index("-c")
            if idx + 1 < len(args) and _SUBST_MARK not in args[idx + 1]:
                nested = _analyze(args[idx + 1], depth + 1)
                if nested.read_only:
                    return True, ""
                return False, f"{base} -c runs a command that is not read-only"
        return False, f"runs a {base} script"
    if base in _ALWAYS_READ_ONLY:
        return True, ""
    if base == "rg":
        if any(a == "--pre" or a.startswith("--pre=") for a in args):
            return False, "rg --pre runs a program"
        return True, ""
    if base == "sort":
        if "o" in _short_flags(args) or any(a.startswith("--output") for a in args):
            return False, "sort -o writes a file"
        return True, ""
    if base == "uniq":
        positional = [a for a in args if not a.startswith("-")]
        if len(positional) > 1:
            return False, "uniq with an output file writes it"
        return True, ""
    if base == "tree":
        if "-o" in args:
            return False, "tree -o writes a file"
        return True, ""
    if base == "date":
        if any(a in ("-s", "--set") or a.startswith("--set=") for a in args) or any(
            not a.startswith(("-", "+")) for a in args
        ):
            return False, "date with a value sets the clock"
        return True, ""
    if base == "hostname":
        if any(not a.startswith("-") for a in args):
            return False, "hostname with a name sets it"
        return True, ""
    if base == "find":
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
    if base == "git":
        return _git_read_only(args)
    if base in ("pip", "pip3") and args[:1] and args[0] in _PIP_READ:
        return True, ""
    if base in _VERSION_ONLY:
        if len(args) == 1 and args[0] in _VERSION_FLAGS:
            return True, ""
        return False, f"`{base}` is not on the read-only list (only `{base} --version` is)"
    return False, f"`{base}` is not on the read-only list"


def _git_read_only(args: list[str]) -> tuple[bool, str]:
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-c" or a.startswith("--exec-path="):
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
    if sub in _GIT_READ_ONLY:
        return True, ""
    listing = True
    if sub == "branch":
        listing_mode = any(a in ("-l", "--list") for a in rest)
        for a in rest:
            if a.startswith("-"):
                if a not in _GIT_BRANCH_LIST_FLAGS and not a.startswith(("--sort", "--format")):
                    listing = False
            elif not listing_mode:
                listing = False
    elif sub == "tag":
        listing_mode = not rest or any(a in ("-l", "--list") for a in rest)
        listing = listing_mode and not any(a in ("-d", "--delete", "-a", "-s", "-f") for a in rest)
    elif sub == "remote":
        listing = not rest or rest[0] in ("-v", "--verbose", "show", "get-url")
    elif sub == "stash":
        listing = bool(rest) and rest[0] in ("list", "show")
    elif sub == "config":
        listing = any(
            a in ("--get", "--get-all", "--get-regexp", "--list", "-l") for a in rest
        ) and not any(a in ("--unset", "--unset-all", "--add", "--replace-all") for a in rest)
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
