"""Command tables for the shell classifier: what is read-only, what wraps, what runs programs.

Every table errs towards asking. A command is on a read-only list only when no option of it can
run a program or write a file, or when the options that can are listed here and refused.
"""

from __future__ import annotations

__all__ = [
    "ALWAYS_READ_ONLY",
    "DOWNLOADERS",
    "GIT_BRANCH_LIST_FLAGS",
    "GIT_READ_ONLY",
    "HARMLESS_TARGETS",
    "INTERPRETERS",
    "KEYWORDS_ALONE",
    "KEYWORDS_BEFORE",
    "NO_PATH_ARGS",
    "PIP_READ",
    "SHELLS",
    "SORT_SAFE_FLAGS",
    "SORT_VALUE_OPTS",
    "VERSION_FLAGS",
    "VERSION_ONLY",
    "WRAPPER_VALUE_OPTS",
]

#: Shell grammar words that only group commands: `{ ls; pwd; }`, `if test -f x; then cat x; fi`.
KEYWORDS_BEFORE = frozenset({"{", "!", "if", "then", "else", "elif", "do", "while", "until"})
KEYWORDS_ALONE = frozenset({"}", "fi", "done", "esac"})

SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "fish", "csh", "tcsh"})
INTERPRETERS = SHELLS | {"python", "python3", "perl", "ruby", "node"}
DOWNLOADERS = frozenset({"curl", "wget", "fetch"})

#: Redirection targets that are not files in the workspace and never a problem.
HARMLESS_TARGETS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "-"})

#: Read-only whatever their arguments (paths are still checked).
ALWAYS_READ_ONLY = frozenset(
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

#: Commands whose arguments are never file names (only redirections are path-checked).
NO_PATH_ARGS = frozenset(
    {"echo", "printf", "seq", "sleep", "true", "false", "which", "type", "whereis", "uname"}
)

VERSION_FLAGS = frozenset({"--version", "-V", "version", "-v"})
#: Read-only only as ``<name> --version``. Not here: tools whose version query loads project
#: code or config that can run programs (pytest loads conftest.py, yarn runs `yarnPath`, kubectl
#: runs kubeconfig exec plugins, poetry loads plugins).
VERSION_ONLY = frozenset(
    {
        "python",
        "python3",
        "node",
        "npm",
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
        "deno",
        "bun",
        "docker",
        "ruff",
        "mypy",
    }
)
PIP_READ = frozenset({"list", "show", "freeze", "check"})

#: `sort` options that neither write nor run anything (`-o`, `--compress-program`, `-T` are not).
SORT_SAFE_FLAGS = frozenset("bdfgiMhnRrVuszcCm")
SORT_VALUE_OPTS = frozenset({"-k", "-t", "-S"})

GIT_READ_ONLY = frozenset(
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
        "whatchanged",
        "count-objects",
        "check-ignore",
        "diff-tree",
        "diff-files",
        "diff-index",
        "show-branch",
    }
)
GIT_BRANCH_LIST_FLAGS = frozenset(
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

#: Programs that run another command, and their options that take a value.
WRAPPER_VALUE_OPTS: dict[str, frozenset[str]] = {
    "sudo": frozenset({"-u", "-g", "-C", "-h", "-p", "-r", "-t", "-U", "-D"}),
    "doas": frozenset({"-u", "-C"}),
    "env": frozenset({"-u", "-C", "-S", "--unset", "--chdir", "--split-string"}),
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
    "watch": frozenset({"-n", "-d", "--interval", "-x"}),
    "setsid": frozenset(),
    "chroot": frozenset(),
    "flock": frozenset({"-w", "-E"}),
    "strace": frozenset({"-o", "-e", "-p", "-s"}),
    "ltrace": frozenset({"-o", "-e", "-p", "-s"}),
    "unbuffer": frozenset(),
    "caffeinate": frozenset(),
}
