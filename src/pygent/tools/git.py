"""Git tools: status, diff, log, add, commit, checkout, push, pull through the real ``git``.

Every call runs the ``git`` executable (no library) in the repository that contains the
workspace root (or the path the call names), with prompts disabled (``GIT_TERMINAL_PROMPT=0``,
no terminal, an editor that never waits), ``LC_ALL=C`` so messages can be recognised, and
machine-readable porcelain formats that are parsed into a summary the model can read. Git's own
error messages are passed on, with a sentence saying what to do.

A repository cannot make these tools run its code: git runs with the overrides of
:mod:`pygent.tools.gitsafety` (no fsmonitor, pager, hooks, external diff, filters, custom SSH
command or credential helper from the repository's config; no ``GIT_*`` variables), and inside the
OS sandbox (:mod:`pygent.sandbox`), writing only in the workspace, the repository and its git
directories; only ``git_push`` and ``git_pull`` have network. ``[git] run_hooks = true`` lets
``git_commit`` run the repository's hooks (still confined).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from pygent.sandbox.policy import SandboxPolicy
from pygent.sandbox.runtime import policy_for
from pygent.tools.base import ToolContext, ToolOutput, ToolRisk, cap_output, tool
from pygent.tools.errors import ToolError
from pygent.tools.gitsafety import (
    config_args,
    local_overrides,
    parse_config_list,
    scrub_git_env,
    transport_options,
)
from pygent.tools.process import OutputBuffer, child_env, run_bounded, spawn_exec

__all__ = [
    "GitStatus",
    "git_add",
    "git_checkout",
    "git_commit",
    "git_diff",
    "git_log",
    "git_pull",
    "git_push",
    "git_status",
    "parse_status",
]

#: Seconds a local git command may take.
LOCAL_TIMEOUT = 60.0
_MAX_STDOUT = 8 * 1024 * 1024
_LIST_CAP = 200

_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_EDITOR": "true",
    "GIT_SEQUENCE_EDITOR": "true",
    "GIT_PAGER": "cat",
    "LC_ALL": "C",
    "LANGUAGE": "C",
    "PYGENT_AGENT": "1",
}

# -- running git ----------------------------------------------------------------------------


@dataclass
class GitRun:
    """The outcome of one git command."""

    code: int
    stdout: str
    stderr: str
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """Exit status 0."""
        return self.code == 0

    @property
    def output(self) -> str:
        """stdout and stderr together, stripped."""
        return "\n".join(p for p in (self.stdout.strip(), self.stderr.strip()) if p)


@dataclass(frozen=True)
class GitGuard:
    """How a git command is confined: global options (``--no-pager -c ...``) and the sandbox.

    Attributes:
        options: Options placed before the git subcommand.
        policy: The sandbox policy, or None when no sandbox is active.
    """

    options: tuple[str, ...]
    policy: SandboxPolicy | None


async def run_git(
    args: list[str],
    cwd: Path,
    *,
    guard: GitGuard,
    timeout: float = LOCAL_TIMEOUT,
    env: dict[str, str] | None = None,
    max_bytes: int = _MAX_STDOUT,
) -> GitRun:
    """Run ``git ARGS`` in ``cwd`` in its own process group, output bounded, confined by ``guard``.

    Raises:
        ToolError: git is not installed, or the command timed out (it was stopped).
    """
    git = shutil.which("git")
    if git is None:
        raise ToolError(
            "git is not installed or not on PATH, so the git tools cannot run. Install git "
            "(https://git-scm.com/downloads) and restart pygent."
        )
    full_env = scrub_git_env(child_env()) | _ENV | (env or {})
    out = OutputBuffer(max_bytes, 0)
    err = OutputBuffer(256 * 1024, 64 * 1024)
    try:
        proc = await spawn_exec(
            [git, *guard.options, *args], cwd=cwd, env=full_env, sandbox=guard.policy
        )
    except OSError as exc:
        raise ToolError(f"Could not run git: {exc}.") from exc
    result = await run_bounded(proc, out, stderr=err, timeout=timeout)
    if result.timed_out:
        raise ToolError(
            f"`git {args[0]}` did not finish within {timeout:g} s and was stopped. "
            "If it talks to a remote, check the network connection and the remote URL "
            "(`git remote -v` in the shell), then try again."
        )
    return GitRun(
        result.exit_code if result.exit_code is not None else -1,
        out.render(""),
        err.render("\n[...]\n"),
        out.truncated,
    )


@dataclass
class Repo:
    """A repository found for a call: work-tree root, git directories and how git is confined.

    Attributes:
        root: The work tree's top directory.
        git_dir: The (per-worktree) git directory.
        overrides: ``-c`` overrides for the risky keys the repository's own config sets.
        policy: The sandbox policy for this call's git commands (the workspace roots, ``root``
            and the git directories writable), or None when no sandbox is active.
        run_hooks: ``[git] run_hooks``.
    """

    root: Path
    git_dir: Path
    overrides: list[tuple[str, str]] = field(default_factory=list)
    policy: SandboxPolicy | None = None
    run_hooks: bool = False

    def guard(self, *, network: bool = False, hooks: bool = False) -> GitGuard:
        """The guard for a git command on this repository.

        Args:
            network: The command talks to a remote (push, pull).
            hooks: The command may run the repository's hooks when ``[git] run_hooks`` is on.
        """
        policy = self.policy
        if policy is not None and network:
            policy = policy.with_network(True)
        options = config_args(self.overrides, run_hooks=hooks and self.run_hooks)
        return GitGuard(tuple(options), policy)

    def operation(self) -> str | None:
        """The operation in progress (``merge``, ``rebase``, ``cherry-pick``, ``revert``), if any."""
        if (self.git_dir / "MERGE_HEAD").exists():
            return "merge"
        if (self.git_dir / "rebase-merge").exists() or (self.git_dir / "rebase-apply").exists():
            return "rebase"
        if (self.git_dir / "CHERRY_PICK_HEAD").exists():
            return "cherry-pick"
        if (self.git_dir / "REVERT_HEAD").exists():
            return "revert"
        return None


async def find_repo(ctx: ToolContext, path: Path | None = None) -> Repo:
    """The repository containing ``path`` (default: the workspace root).

    Raises:
        ToolError: not inside a git repository (or inside a bare one).
    """
    start = path if path is not None else ctx.workspace.root
    while not start.is_dir() and start != start.parent:
        start = start.parent
    policy = policy_for(ctx.settings, ctx.workspace.roots)
    base = GitGuard(tuple(config_args()), policy)
    run = await run_git(
        ["rev-parse", "--show-toplevel", "--absolute-git-dir", "--git-common-dir"],
        start,
        guard=base,
    )
    if not run.ok:
        where = ctx.workspace.display(start)
        if "not a git repository" in run.stderr.lower():
            raise ToolError(
                f"{where} is not inside a git repository, so there is no git history here. "
                "Create one with `git init` (shell tool), or use the git tools in a directory "
                "that is a repository."
            )
        raise ToolError(f"git cannot work in {where}: {run.stderr.strip()}")
    lines = run.stdout.strip().splitlines()
    if len(lines) < 3:
        raise ToolError(f"git did not report a work tree for {ctx.workspace.display(start)}.")
    root, git_dir = Path(lines[0]).resolve(), Path(lines[1]).resolve()
    common = Path(lines[2])
    common = (common if common.is_absolute() else start / common).resolve()
    listed = await run_git(["config", "--list", "--show-scope", "-z"], root, guard=base)
    overrides = local_overrides(parse_config_list(listed.stdout)) if listed.ok else []
    if policy is not None:
        policy = policy.with_writable([root, git_dir, common])
    return Repo(root, git_dir, overrides, policy, ctx.settings.git.run_hooks)


def _inside(path: Path, root: Path) -> bool:
    # normcase: drive letters and case may differ between git's output and ours on Windows.
    p, r = Path(os.path.normcase(path)), Path(os.path.normcase(root))
    return p == r or p.is_relative_to(r)


def _check_name(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise ToolError(f"The {what} is empty.")
    if value.startswith("-"):
        raise ToolError(f"The {what} {value!r} starts with '-', which git would read as an option.")
    if any(c in value for c in "\x00\n\r"):
        raise ToolError(f"The {what} {value!r} contains a control character.")
    return value


_HINTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("would be overwritten by",),
        "Your uncommitted changes would be overwritten, so git refused and nothing was changed. "
        "Commit them (git_add + git_commit), stash them (`git stash` in the shell), or discard "
        "them first.",
    ),
    (
        ("you need to resolve your current index first", "unmerged files", "unresolved conflict"),
        "A merge with unresolved conflicts is in progress. Fix the conflicted files (see "
        "git_status), stage them with git_add and finish with git_commit, or abort with "
        "`git merge --abort` in the shell.",
    ),
    (
        ("could not read username", "terminal prompts disabled", "authentication failed"),
        "The remote needs credentials and git cannot ask for them here (prompts are disabled). "
        "Set up a credential helper or an SSH key for this remote, then try again.",
    ),
    (
        ("permission denied (publickey)", "host key verification failed"),
        "SSH refused the connection. Check that your SSH key is loaded (ssh-add) and the host is "
        "known (connect once with `ssh` in a terminal).",
    ),
    (
        ("could not resolve host", "connection refused", "connection timed out", "network is"),
        "The remote could not be reached. Check the network connection and the remote URL "
        "(`git remote -v` in the shell).",
    ),
    (
        ("does not appear to be a git repository", "no such remote"),
        "That remote does not exist or is not a repository. List the remotes with `git remote -v` "
        "in the shell.",
    ),
)


def _explain(run: GitRun, action: str) -> ToolError:
    message = run.stderr.strip() or run.stdout.strip() or f"exit status {run.code}"
    lowered = message.lower()
    text = f"{action} failed. git said:\n{message}"
    for needles, hint in _HINTS:
        if any(n in lowered for n in needles):
            text += f"\n\n{hint}"
            break
    return ToolError(text)


# -- status parsing -------------------------------------------------------------------------

_CODES = {
    "M": "modified",
    "T": "type changed",
    "A": "new file",
    "D": "deleted",
    "R": "renamed",
    "C": "copied",
}
_CONFLICTS = {
    "DD": "both deleted",
    "AU": "added by us",
    "UD": "deleted by them",
    "UA": "added by them",
    "DU": "deleted by us",
    "AA": "both added",
    "UU": "both modified",
}


@dataclass
class FileEntry:
    """One changed path: ``status`` is a word (``modified``, ``both modified``...)."""

    path: str
    status: str
    orig_path: str | None = None

    def describe(self) -> str:
        """``status: path`` (``old -> new`` for renames)."""
        shown = f"{self.orig_path} -> {self.path}" if self.orig_path else self.path
        return f"{self.status}: {shown}"

    def to_dict(self) -> dict[str, Any]:
        """For ``rawOutput``."""
        out: dict[str, Any] = {"path": self.path, "status": self.status}
        if self.orig_path:
            out["origPath"] = self.orig_path
        return out


@dataclass
class GitStatus:
    """``git status --porcelain=v2 --branch`` parsed."""

    branch: str | None = None
    detached: bool = False
    initial: bool = False
    oid: str | None = None
    upstream: str | None = None
    ahead: int = 0
    behind: int = 0
    staged: list[FileEntry] = field(default_factory=list)
    unstaged: list[FileEntry] = field(default_factory=list)
    untracked: list[str] = field(default_factory=list)
    conflicted: list[FileEntry] = field(default_factory=list)
    operation: str | None = None

    @property
    def clean(self) -> bool:
        """No staged, unstaged, untracked or conflicted paths."""
        return not (self.staged or self.unstaged or self.untracked or self.conflicted)

    def to_dict(self) -> dict[str, Any]:
        """For ``rawOutput``."""
        return {
            "branch": self.branch,
            "detached": self.detached,
            "initial": self.initial,
            "upstream": self.upstream,
            "ahead": self.ahead,
            "behind": self.behind,
            "operation": self.operation,
            "staged": [e.to_dict() for e in self.staged[:1000]],
            "unstaged": [e.to_dict() for e in self.unstaged[:1000]],
            "untracked": self.untracked[:1000],
            "conflicted": [e.to_dict() for e in self.conflicted[:1000]],
        }


def parse_status(text: str) -> GitStatus:
    """Parse ``git status --porcelain=v2 --branch -z`` output."""
    status = GitStatus()
    fields = text.split("\0")
    i = 0
    while i < len(fields):
        record = fields[i]
        i += 1
        if not record:
            continue
        kind = record[0]
        if record.startswith("# "):
            _parse_header(status, record[2:])
        elif kind == "1":
            parts = record.split(" ", 8)
            if len(parts) == 9:
                _add_change(status, parts[1], parts[8], None)
        elif kind == "2":
            parts = record.split(" ", 9)
            orig = fields[i] if i < len(fields) else None
            i += 1
            if len(parts) == 10:
                _add_change(status, parts[1], parts[9], orig)
        elif kind == "u":
            parts = record.split(" ", 10)
            if len(parts) == 11:
                xy = parts[1]
                status.conflicted.append(FileEntry(parts[10], _CONFLICTS.get(xy, "conflict")))
        elif kind == "?":
            status.untracked.append(record[2:])
    return status


def _parse_header(status: GitStatus, header: str) -> None:
    key, _, value = header.partition(" ")
    if key == "branch.oid":
        status.initial = value == "(initial)"
        status.oid = None if status.initial else value
    elif key == "branch.head":
        status.detached = value == "(detached)"
        status.branch = None if status.detached else value
    elif key == "branch.upstream":
        status.upstream = value
    elif key == "branch.ab":
        for part in value.split():
            if part.startswith("+") and part[1:].isdigit():
                status.ahead = int(part[1:])
            elif part.startswith("-") and part[1:].isdigit():
                status.behind = int(part[1:])


def _add_change(status: GitStatus, xy: str, path: str, orig: str | None) -> None:
    padded = xy + ".."
    x, y = padded[0], padded[1]
    if x != ".":
        status.staged.append(FileEntry(path, _CODES.get(x, x), orig if x in "RC" else None))
    if y != ".":
        status.unstaged.append(FileEntry(path, _CODES.get(y, y)))


async def read_status(repo: Repo) -> GitStatus:
    """Run and parse ``git status`` for ``repo``."""
    run = await run_git(
        ["status", "--porcelain=v2", "--branch", "-z"],
        repo.root,
        guard=repo.guard(),
        env={"GIT_OPTIONAL_LOCKS": "0"},
    )
    if not run.ok:
        raise _explain(run, "git status")
    status = parse_status(run.stdout)
    status.operation = repo.operation()
    return status


def _branch_line(status: GitStatus) -> str:
    if status.detached:
        short = (status.oid or "")[:10]
        line = f"HEAD detached at {short}" if short else "HEAD detached"
    else:
        line = f"On branch {status.branch}"
    if status.initial:
        return line + " (no commits yet)"
    if status.upstream:
        if status.ahead or status.behind:
            line += f" ({status.ahead} ahead, {status.behind} behind {status.upstream})"
        else:
            line += f" (up to date with {status.upstream})"
    elif not status.detached:
        line += " (no upstream branch)"
    return line


_OPERATION_ADVICE = {
    "merge": "finish with git_commit, or abort with `git merge --abort` (shell)",
    "rebase": "continue with `git rebase --continue`, or abort with `git rebase --abort` (shell)",
    "cherry-pick": "continue with `git cherry-pick --continue`, or `git cherry-pick --abort` (shell)",
    "revert": "continue with `git revert --continue`, or `git revert --abort` (shell)",
}


def _operation_line(status: GitStatus) -> str | None:
    if status.operation is None:
        if status.conflicted:
            return "There are unresolved conflicts; fix them and stage the files with git_add."
        return None
    n = len(status.conflicted)
    if n:
        return (
            f"A {status.operation} is in progress with {n} conflicted file{'s' if n != 1 else ''}. "
            "Edit them to remove the conflict markers (<<<<<<<, =======, >>>>>>>), stage them with "
            f"git_add, then {_OPERATION_ADVICE[status.operation]}."
        )
    return (
        f"A {status.operation} is in progress and all conflicts are resolved; "
        f"{_OPERATION_ADVICE[status.operation]}."
    )


def _section(title: str, items: list[str]) -> list[str]:
    if not items:
        return []
    lines = [f"{title} ({len(items)}):"]
    lines += [f"  {item}" for item in items[:_LIST_CAP]]
    if len(items) > _LIST_CAP:
        lines.append(f"  ... and {len(items) - _LIST_CAP} more")
    return lines


def format_status(status: GitStatus) -> str:
    """The status as the readable summary the model sees."""
    lines = [_branch_line(status)]
    op = _operation_line(status)
    if op:
        lines.append(op)
    lines += _section("Conflicted", [e.describe() for e in status.conflicted])
    lines += _section("Staged for commit", [e.describe() for e in status.staged])
    lines += _section("Not staged", [e.describe() for e in status.unstaged])
    lines += _section("Untracked", status.untracked)
    if status.clean:
        lines.append("Nothing to commit, working tree clean.")
    return "\n".join(lines)


# -- read tools -----------------------------------------------------------------------------


@tool(risk=ToolRisk.READ, kind="read", title="Git status")
async def git_status(ctx: ToolContext) -> ToolOutput:
    """Show the current branch, how it compares with its upstream, and every changed file.

    Lists staged, unstaged, untracked and conflicted files, and says when a merge or rebase is
    in progress.
    """
    repo = await find_repo(ctx)
    status = await read_status(repo)
    text = format_status(status)
    if repo.root != ctx.workspace.root:
        text = f"Repository: {repo.root}\n{text}"
    return ToolOutput(text, raw_output=status.to_dict())


def _diff_title(args: dict[str, Any]) -> str:
    title = "Git diff --staged" if args.get("staged") else "Git diff"
    return f"{title} {args['path']}" if args.get("path") else title


@tool(
    risk=ToolRisk.READ,
    kind="read",
    title=_diff_title,
    rule_arg="path",
    path_args=("path",),
)
async def git_diff(ctx: ToolContext, staged: bool = False, path: str | None = None) -> str:
    """Show changes as a unified diff: unstaged changes by default, staged ones with `staged`.

    Args:
        staged: Show what is staged for the next commit instead of unstaged changes.
        path: Limit the diff to this file or directory.
    """
    target = ctx.workspace.resolve(path) if path else None
    repo = await find_repo(ctx, target)
    args = ["diff", "--no-color", "--no-ext-diff", "--no-textconv"]
    if staged:
        args.append("--cached")
    spec = ["--", str(target)] if target is not None else []
    literal = {"GIT_LITERAL_PATHSPECS": "1"}
    run = await run_git(args + spec, repo.root, guard=repo.guard(), env=literal)
    if not run.ok:
        raise _explain(run, "git diff")
    where = f" in {path}" if path else ""
    if not run.stdout.strip():
        if staged:
            return f"Nothing is staged{where}. Stage changes with git_add."
        return (
            f"No unstaged changes{where} to tracked files. New files that were never added are "
            "not shown here; git_status lists them."
        )
    limit = ctx.settings.tools.max_output_chars
    if len(run.stdout) <= limit and not run.truncated:
        return run.stdout
    stat = await run_git(
        [*args, "--stat=100", *spec],
        repo.root,
        guard=repo.guard(),
        env=literal,
        max_bytes=64 * 1024,
    )
    header = f"The diff is long; files changed:\n{stat.stdout.rstrip()}\n\n"
    body = cap_output(run.stdout, max(limit - len(header) - 200, 1000), "")
    return header + body.replace(
        " omitted ...]", " omitted; call git_diff with path set to one file to see it all ...]"
    )


def _log_title(args: dict[str, Any]) -> str:
    return f"Git log {args['path']}" if args.get("path") else "Git log"


@tool(risk=ToolRisk.READ, kind="read", title=_log_title, rule_arg="path", path_args=("path",))
async def git_log(
    ctx: ToolContext,
    n: Annotated[int, Field(ge=1, le=1000)] = 10,
    path: str | None = None,
) -> ToolOutput:
    """Show the most recent commits: short hash, date, author and subject.

    Args:
        n: How many commits to show (1-1000).
        path: Only commits that changed this file or directory.
    """
    target = ctx.workspace.resolve(path) if path else None
    repo = await find_repo(ctx, target)
    args = [
        "log",
        f"-n{n}",
        "-z",
        "--no-color",
        "--date=format:%Y-%m-%d %H:%M",
        "--format=%H%x1f%h%x1f%an%x1f%ae%x1f%ad%x1f%s",
    ]
    if target is not None:
        args += ["--", str(target)]
    run = await run_git(args, repo.root, guard=repo.guard(), env={"GIT_LITERAL_PATHSPECS": "1"})
    if not run.ok:
        if "does not have any commits" in run.stderr:
            return ToolOutput("No commits yet on this branch.", raw_output={"commits": []})
        raise _explain(run, "git log")
    commits = []
    for record in run.stdout.split("\0"):
        parts = record.strip("\n").split("\x1f")
        if len(parts) == 6:
            full, short, author, email, date, subject = parts
            commits.append(
                {
                    "hash": full,
                    "shortHash": short,
                    "author": author,
                    "email": email,
                    "date": date,
                    "subject": subject,
                }
            )
    if not commits:
        if path:
            return ToolOutput(f"No commits touch {path}.", raw_output={"commits": []})
        return ToolOutput("No commits yet on this branch.", raw_output={"commits": []})
    lines = [f"{c['shortHash']}  {c['date']}  {c['author']}  {c['subject']}" for c in commits]
    return ToolOutput("\n".join(lines), raw_output={"commits": commits})


# -- write tools ----------------------------------------------------------------------------


def _add_title(args: dict[str, Any]) -> str:
    paths = args.get("paths") or []
    joined = ", ".join(str(p) for p in paths)
    return "Git add " + (joined if len(joined) <= 60 else joined[:59] + "…")


@tool(risk=ToolRisk.WRITE, kind="other", title=_add_title, rule_arg="paths", path_args=("paths",))
async def git_add(ctx: ToolContext, paths: list[str]) -> ToolOutput:
    """Stage files (new, changed or deleted) for the next commit.

    Args:
        paths: Files or directories to stage, relative to the workspace root; `.` stages
            everything.
    """
    if not paths:
        raise ToolError("Give at least one path to stage, e.g. ['src/app.py'] or ['.'].")
    resolved = [ctx.workspace.resolve(p) for p in paths]
    repo = await find_repo(ctx, resolved[0])
    for raw, target in zip(paths, resolved, strict=True):
        if not _inside(target, repo.root):
            raise ToolError(
                f"{raw!r} is outside the repository at {repo.root}; nothing was staged."
            )
    run = await run_git(
        ["add", "--", *(str(t) for t in resolved)],
        repo.root,
        guard=repo.guard(),
        env={"GIT_LITERAL_PATHSPECS": "1"},
    )
    if not run.ok:
        err = run.stderr.lower()
        if "did not match any files" in err:
            raise ToolError(
                f"Nothing was staged: a path does not exist and is not tracked by git.\n"
                f"git said: {run.stderr.strip()}\nCheck the names with git_status."
            )
        if "ignored by one of your .gitignore" in err:
            raise ToolError(
                "Nothing was staged: a path is ignored by .gitignore. git said:\n"
                f"{run.stderr.strip()}\nRemove it from the list, or change .gitignore if it "
                "should be tracked."
            )
        raise _explain(run, "git add")
    status = await read_status(repo)
    lines = [f"Staged {len(paths)} path{'s' if len(paths) != 1 else ''}."]
    lines += _section("Staged for commit", [e.describe() for e in status.staged])
    if status.conflicted:
        lines += _section("Still conflicted", [e.describe() for e in status.conflicted])
    return ToolOutput("\n".join(lines), raw_output=status.to_dict())


def _commit_title(args: dict[str, Any]) -> str:
    message = str(args.get("message", "")).strip()
    first = message.splitlines()[0] if message else ""
    return "Git commit: " + (first if len(first) <= 60 else first[:59] + "…")


@tool(risk=ToolRisk.WRITE, kind="other", title=_commit_title, rule_arg="message")
async def git_commit(ctx: ToolContext, message: str) -> ToolOutput:
    """Commit what is staged with the given message.

    Args:
        message: The commit message: a short subject line, optionally a blank line and a body.
    """
    if not message.strip():
        raise ToolError("The commit message is empty. Give a short summary of the change.")
    repo = await find_repo(ctx)
    status = await read_status(repo)
    if status.conflicted:
        files = ", ".join(e.path for e in status.conflicted[:20])
        what = f"a {status.operation} is in progress and" if status.operation else "there are"
        raise ToolError(
            f"Cannot commit: {what} {len(status.conflicted)} file(s) still have unresolved "
            f"conflicts: {files}. Edit them to remove the conflict markers, stage them with "
            "git_add, then call git_commit again"
            + (
                f" (or abort with `git {status.operation} --abort` in the shell)."
                if status.operation
                else "."
            )
        )
    if not status.staged and status.operation != "merge":
        pending = len(status.unstaged) + len(status.untracked)
        extra = (
            f" {pending} changed or untracked file(s) are not staged; see git_status."
            if pending
            else " The working tree is clean."
        )
        raise ToolError(
            "Nothing is staged, so there is nothing to commit. Stage changes with git_add first."
            + extra
        )
    run = await run_git(["commit", "-m", message], repo.root, guard=repo.guard(hooks=True))
    if not run.ok:
        text = run.output.lower()
        if (
            "please tell me who you are" in text
            or "author identity unknown" in text
            or ("user.useconfigonly" in text)
        ):
            raise ToolError(
                "Cannot commit: git does not know the author's name and email. Set them with "
                '`git config --global user.name "Your Name"` and '
                '`git config --global user.email "you@example.com"` (ask the user which to '
                "use), then commit again. Nothing was committed; the staged changes are kept."
            )
        raise ToolError(
            "The commit was not made (the staged changes are kept). git said:\n"
            + (run.output or f"exit status {run.code}")
        )
    head = await run_git(["rev-parse", "HEAD"], repo.root, guard=repo.guard())
    return ToolOutput(run.output, raw_output={"commit": head.stdout.strip()})


def _checkout_title(args: dict[str, Any]) -> str:
    return f"Git checkout {'-b ' if args.get('create') else ''}{args.get('ref', '')}"


@tool(risk=ToolRisk.WRITE, kind="edit", title=_checkout_title, rule_arg="ref")
async def git_checkout(ctx: ToolContext, ref: str, create: bool = False) -> str:
    """Switch to a branch, tag or commit, or create a new branch with `create`.

    Refuses (changing nothing) when uncommitted changes would be overwritten.

    Args:
        ref: Branch, tag or commit to switch to; with `create`, the new branch's name.
        create: Create a new branch named `ref` at the current commit and switch to it.
    """
    ref = _check_name(ref, "ref")
    repo = await find_repo(ctx)
    args = ["checkout", "-b", ref] if create else ["checkout", ref, "--"]
    run = await run_git(args, repo.root, guard=repo.guard())
    if not run.ok:
        err = run.stderr.lower()
        if "would be overwritten" in err:
            raise ToolError(
                f"Checkout of {ref!r} refused: it would overwrite uncommitted changes. "
                f"git said:\n{run.stderr.strip()}\n\nNothing was changed. Commit the changes "
                "(git_add + git_commit), stash them (`git stash` in the shell), or discard them, "
                "then try again."
            )
        if "already exists" in err:
            raise ToolError(
                f"A branch named {ref!r} already exists. Call git_checkout without create to "
                "switch to it, or choose another name."
            )
        if "did not match any" in err or "invalid reference" in err or "not a valid" in err:
            raise ToolError(
                f"There is no branch, tag or commit named {ref!r}. List branches with "
                "`git branch -a` in the shell or commits with git_log; pass create=true to "
                "create a new branch."
            )
        raise _explain(run, f"git checkout {ref}")
    return run.output or f"Switched to {ref}."


# -- network tools --------------------------------------------------------------------------


async def _current_branch(repo: Repo) -> str | None:
    run = await run_git(
        ["symbolic-ref", "--quiet", "--short", "HEAD"], repo.root, guard=repo.guard()
    )
    return (run.stdout.strip() or None) if run.ok else None


async def _config(repo: Repo, key: str) -> str | None:
    run = await run_git(["config", "--get", key], repo.root, guard=repo.guard())
    return (run.stdout.strip() or None) if run.ok else None


def _push_title(args: dict[str, Any]) -> str:
    parts = ["Git push"]
    parts += [str(args[k]) for k in ("remote", "branch") if args.get(k)]
    if args.get("force"):
        parts.append("(force with lease)")
    return " ".join(parts)


@tool(risk=ToolRisk.NETWORK, kind="other", title=_push_title, rule_arg="branch")
async def git_push(
    ctx: ToolContext,
    remote: str | None = None,
    branch: str | None = None,
    force: bool = False,
) -> str:
    """Push commits to a remote.

    Without arguments pushes the current branch to its upstream. Giving `remote` and `branch`
    publishes the branch there (and makes it the upstream when it has none).

    Args:
        remote: Remote name, e.g. `origin` (default: the branch's upstream remote, else origin).
        branch: Branch to push (default: the current branch).
        force: Overwrite the remote branch, but only if it has not changed since the last fetch
            (`--force-with-lease`).
    """
    repo = await find_repo(ctx)
    args = ["push", *transport_options(repo.overrides, "push")]
    if force:
        args.append("--force-with-lease")
    if remote is not None or branch is not None:
        name = _check_name(branch, "branch") if branch else await _current_branch(repo)
        if name is None:
            raise ToolError(
                "HEAD is detached, so there is no current branch to push. Give branch, or "
                "switch to a branch with git_checkout."
            )
        target = _check_name(remote, "remote") if remote else None
        if target is None:
            target = await _config(repo, f"branch.{name}.remote") or "origin"
        if await _config(repo, f"branch.{name}.merge") is None:
            args.append("--set-upstream")
        args += [target, name]
    run = await run_git(
        args,
        repo.root,
        guard=repo.guard(network=True),
        timeout=float(ctx.settings.tools.shell_timeout),
    )
    if not run.ok:
        err = run.stderr.lower()
        if "has no upstream branch" in err or "no configured push destination" in err:
            current = await _current_branch(repo) or "BRANCH"
            raise ToolError(
                f"The branch {current!r} has no upstream yet, so git does not know where to push. "
                f"Call git_push with remote='origin' and branch={current!r} to publish it."
            )
        if "stale info" in err:
            raise ToolError(
                "The push was refused: the remote branch changed since you last fetched, so "
                "--force-with-lease protected it. Run git_pull (or `git fetch`) and look at the "
                f"new commits before forcing.\ngit said:\n{run.stderr.strip()}"
            )
        if "[rejected]" in err or "non-fast-forward" in err or "fetch first" in err:
            raise ToolError(
                "The push was rejected: the remote has commits you do not have. Run git_pull to "
                "integrate them, then push again (or use force=true to overwrite them, which "
                f"loses those commits).\ngit said:\n{run.stderr.strip()}"
            )
        raise _explain(run, "git push")
    return run.output or "Pushed."


def _pull_title(args: dict[str, Any]) -> str:
    return " ".join(["Git pull"] + [str(args[k]) for k in ("remote", "branch") if args.get(k)])


@tool(risk=ToolRisk.NETWORK, kind="fetch", title=_pull_title, rule_arg="branch")
async def git_pull(ctx: ToolContext, remote: str | None = None, branch: str | None = None) -> str:
    """Fetch from a remote and integrate the changes into the current branch.

    Args:
        remote: Remote name, e.g. `origin` (default: the current branch's upstream).
        branch: Remote branch to pull (default: the upstream branch).
    """
    repo = await find_repo(ctx)
    args = ["pull", "--no-edit", *transport_options(repo.overrides, "pull")]
    if remote is not None or branch is not None:
        target = _check_name(remote, "remote") if remote else None
        if target is None:
            current = await _current_branch(repo)
            target = (await _config(repo, f"branch.{current}.remote") if current else None) or (
                "origin"
            )
        args.append(target)
        if branch:
            args.append(_check_name(branch, "branch"))
    run = await run_git(
        args,
        repo.root,
        guard=repo.guard(network=True),
        timeout=float(ctx.settings.tools.shell_timeout),
    )
    if run.ok:
        return run.output or "Pulled."
    text = run.output.lower()
    if "conflict" in text and "automatic merge failed" in text:
        status = await read_status(repo)
        files = "\n".join(f"  {e.describe()}" for e in status.conflicted[:_LIST_CAP])
        raise ToolError(
            "The pull merged the remote changes but stopped on conflicts:\n"
            f"{files}\n\nEdit these files to remove the conflict markers, stage them with "
            "git_add and finish with git_commit, or undo the merge with `git merge --abort` "
            f"(shell).\ngit said:\n{run.output}"
        )
    if "no tracking information" in text:
        raise ToolError(
            "The current branch has no upstream branch, so git does not know what to pull. "
            "Call git_pull with remote and branch, e.g. remote='origin', branch='main'."
        )
    if "divergent branches" in text or "need to specify how to reconcile" in text:
        raise ToolError(
            "Your branch and the remote have diverged and git needs to know whether to merge "
            "or rebase; nothing was changed. Run `git pull --no-rebase` (merge) or "
            "`git pull --rebase` with the shell tool, or set `git config pull.rebase false`."
        )
    raise _explain(run, "git pull")
