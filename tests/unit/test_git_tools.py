"""Git tools against real repositories made with the real ``git`` in ``tmp_path``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from _tool_testkit import make_ctx, registry_of

from pygent.settings.models import Settings
from pygent.tools import git as git_tools
from pygent.tools.base import ToolRegistry, ToolResult, ToolRisk, dispatch

GIT_TOOLS = (
    git_tools.git_status,
    git_tools.git_diff,
    git_tools.git_log,
    git_tools.git_add,
    git_tools.git_commit,
    git_tools.git_checkout,
    git_tools.git_push,
    git_tools.git_pull,
)


@pytest.fixture(autouse=True)
def git_identity(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A global git config in the isolated HOME with a test identity and branch name."""
    config = isolated_home / ".gitconfig"
    config.write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n"
        "[pull]\n\trebase = false\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(var, raising=False)
    return config


def git(cwd: Path, *args: str) -> str:
    """Run git for test setup; fails the test on error."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"git {args} failed: {done.stderr}"
    return done.stdout


def make_repo(path: Path, files: dict[str, str] | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    for name, text in (files or {}).items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    if files:
        git(path, "add", "-A")
        git(path, "commit", "-q", "-m", "initial")
    return path


@pytest.fixture
def registry() -> ToolRegistry:
    return registry_of(*GIT_TOOLS)


async def call(reg: ToolRegistry, root: Path, name: str, **args: Any) -> ToolResult:
    return await dispatch(reg, name, args, make_ctx(root))


def make_conflict(repo: Path) -> None:
    """Leave ``repo`` in a merge with ``a.txt`` conflicted."""
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "a.txt").write_text("theirs\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "theirs")
    git(repo, "checkout", "-q", "main")
    (repo / "a.txt").write_text("ours\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "ours")
    done = subprocess.run(["git", "merge", "other"], cwd=repo, capture_output=True, text=True)
    assert done.returncode != 0 and "CONFLICT" in done.stdout


# -- specs ----------------------------------------------------------------------------------


def test_specs_have_the_contract_risks_and_kinds() -> None:
    specs = {f.__name__: f.__pygent_tool__ for f in GIT_TOOLS}  # type: ignore[attr-defined]
    assert {n: s.risk for n, s in specs.items()} == {
        "git_status": ToolRisk.READ,
        "git_diff": ToolRisk.READ,
        "git_log": ToolRisk.READ,
        "git_add": ToolRisk.WRITE,
        "git_commit": ToolRisk.WRITE,
        "git_checkout": ToolRisk.WRITE,
        "git_push": ToolRisk.NETWORK,
        "git_pull": ToolRisk.NETWORK,
    }
    assert specs["git_status"].kind == "read"
    assert specs["git_pull"].kind == "fetch"
    schema = specs["git_push"].json_schema()
    assert set(schema["properties"]) == {"remote", "branch", "force"}
    assert schema["additionalProperties"] is False
    assert specs["git_checkout"].make_title({"ref": "dev", "create": True}) == "Git checkout -b dev"
    assert (
        specs["git_diff"].make_title({"staged": True, "path": "a.py"}) == "Git diff --staged a.py"
    )


# -- not a repository -------------------------------------------------------------------------

NOT_A_REPO_CALLS = [
    ("git_status", {}),
    ("git_diff", {}),
    ("git_log", {}),
    ("git_add", {"paths": ["a.txt"]}),
    ("git_commit", {"message": "x"}),
    ("git_checkout", {"ref": "main"}),
    ("git_push", {}),
    ("git_pull", {}),
]


@pytest.mark.parametrize(("name", "args"), NOT_A_REPO_CALLS)
async def test_outside_a_repository_is_a_clear_error(
    registry: ToolRegistry, tmp_path: Path, name: str, args: dict[str, Any]
) -> None:
    (tmp_path / "a.txt").write_text("keep\n", encoding="utf-8")
    result = await call(registry, tmp_path, name, **args)
    assert result.is_error
    assert "is not inside a git repository" in result.text
    assert "git init" in result.text
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "keep\n"
    assert not (tmp_path / ".git").exists()


async def test_missing_git_executable_is_explained(
    registry: ToolRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "1\n"})
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    result = await call(registry, repo, "git_status")
    assert result.is_error
    assert "git is not installed or not on PATH" in result.text


# -- git_status -------------------------------------------------------------------------------


async def test_status_in_a_repository_without_commits(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "r")
    (repo / "staged.txt").write_text("s\n", encoding="utf-8")
    (repo / "loose.txt").write_text("u\n", encoding="utf-8")
    git(repo, "add", "staged.txt")
    result = await call(registry, repo, "git_status")
    assert not result.is_error, result.text
    assert "On branch main (no commits yet)" in result.text
    assert "Staged for commit (1):\n  new file: staged.txt" in result.text
    assert "Untracked (1):\n  loose.txt" in result.text
    assert result.raw_output is not None
    assert result.raw_output["initial"] is True
    assert result.raw_output["untracked"] == ["loose.txt"]


async def test_status_lists_every_kind_of_change(registry: ToolRegistry, tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "r",
        {"mod.txt": "1\n", "gone.txt": "2\n", "old.txt": "3\n", "both.txt": "4\n"},
    )
    (repo / "mod.txt").write_text("changed\n", encoding="utf-8")
    (repo / "gone.txt").unlink()
    git(repo, "mv", "old.txt", "new name.txt")
    (repo / "both.txt").write_text("staged\n", encoding="utf-8")
    git(repo, "add", "both.txt")
    (repo / "both.txt").write_text("staged then changed\n", encoding="utf-8")
    (repo / "fresh.txt").write_text("x\n", encoding="utf-8")

    result = await call(registry, repo, "git_status")
    text = result.text
    assert "On branch main (no upstream branch)" in text
    assert "renamed: old.txt -> new name.txt" in text
    assert "Staged for commit (2):" in text
    assert "modified: both.txt" in text.split("Not staged")[0]
    not_staged = text.split("Not staged")[1].split("Untracked")[0]
    assert "modified: mod.txt" in not_staged
    assert "deleted: gone.txt" in not_staged
    assert "modified: both.txt" in not_staged
    assert "Untracked (1):\n  fresh.txt" in text
    assert "working tree clean" not in text


async def test_status_clean_tree(registry: ToolRegistry, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "a\n"})
    result = await call(registry, repo, "git_status")
    assert "Nothing to commit, working tree clean." in result.text
    assert result.raw_output is not None and result.raw_output["branch"] == "main"


async def test_status_reports_ahead_and_behind_upstream(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    seed = make_repo(tmp_path / "seed", {"a.txt": "a\n"})
    git(seed, "push", "-q", str(origin), "main")
    git(tmp_path, "clone", "-q", str(origin), "work")
    work = tmp_path / "work"
    (seed / "b.txt").write_text("b\n", encoding="utf-8")
    git(seed, "add", "b.txt")
    git(seed, "commit", "-q", "-m", "remote side")
    git(seed, "push", "-q", str(origin), "main")
    git(work, "fetch", "-q")
    (work / "c.txt").write_text("c\n", encoding="utf-8")
    git(work, "add", "c.txt")
    git(work, "commit", "-q", "-m", "local side")

    result = await call(registry, work, "git_status")
    assert "On branch main (1 ahead, 1 behind origin/main)" in result.text
    assert result.raw_output is not None
    assert (result.raw_output["ahead"], result.raw_output["behind"]) == (1, 1)


async def test_status_reports_detached_head(registry: ToolRegistry, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "a\n"})
    head = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "--detach")
    result = await call(registry, repo, "git_status")
    assert f"HEAD detached at {head[:10]}" in result.text


async def test_status_and_commit_report_a_dirty_merge_state(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "base\n"})
    make_conflict(repo)
    conflicted = (repo / "a.txt").read_text(encoding="utf-8")
    assert "<<<<<<<" in conflicted
    head_before = git(repo, "rev-parse", "HEAD")

    status = await call(registry, repo, "git_status")
    assert "A merge is in progress with 1 conflicted file" in status.text
    assert "Conflicted (1):\n  both modified: a.txt" in status.text
    assert "git merge --abort" in status.text
    assert status.raw_output is not None and status.raw_output["operation"] == "merge"

    commit = await call(registry, repo, "git_commit", message="try to commit")
    assert commit.is_error
    assert "Cannot commit" in commit.text and "unresolved conflicts: a.txt" in commit.text
    assert "git_add" in commit.text
    assert git(repo, "rev-parse", "HEAD") == head_before
    assert (repo / "a.txt").read_text(encoding="utf-8") == conflicted

    checkout = await call(registry, repo, "git_checkout", ref="other")
    assert checkout.is_error
    assert "resolve" in checkout.text.lower()

    # Resolve, stage, commit: the merge completes.
    (repo / "a.txt").write_text("merged\n", encoding="utf-8")
    add = await call(registry, repo, "git_add", paths=["a.txt"])
    assert not add.is_error, add.text
    status = await call(registry, repo, "git_status")
    assert "all conflicts are resolved" in status.text
    commit = await call(registry, repo, "git_commit", message="Merge other")
    assert not commit.is_error, commit.text
    parents = git(repo, "log", "-1", "--format=%P").split()
    assert len(parents) == 2


# -- git_diff ---------------------------------------------------------------------------------


async def test_diff_unstaged_staged_and_by_path(registry: ToolRegistry, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "one\n", "b.txt": "two\n"})
    (repo / "a.txt").write_text("one changed\n", encoding="utf-8")
    (repo / "b.txt").write_text("two changed\n", encoding="utf-8")
    git(repo, "add", "b.txt")

    unstaged = await call(registry, repo, "git_diff")
    assert "+one changed" in unstaged.text and "b.txt" not in unstaged.text
    staged = await call(registry, repo, "git_diff", staged=True)
    assert "+two changed" in staged.text and "a.txt" not in staged.text
    by_path = await call(registry, repo, "git_diff", path="b.txt")
    assert "No unstaged changes in b.txt" in by_path.text


async def test_diff_when_nothing_changed(registry: ToolRegistry, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "one\n"})
    (repo / "new.txt").write_text("untracked\n", encoding="utf-8")
    result = await call(registry, repo, "git_diff")
    assert not result.is_error
    assert "No unstaged changes" in result.text and "git_status" in result.text
    staged = await call(registry, repo, "git_diff", staged=True)
    assert "Nothing is staged" in staged.text


async def test_diff_path_outside_workspace_is_refused(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "one\n"})
    result = await call(registry, repo, "git_diff", path="../elsewhere")
    assert result.is_error and "outside the workspace" in result.text


async def test_long_diff_lists_files_and_keeps_head_and_tail(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    files = {f"f{i}.txt": "".join(f"line {j}\n" for j in range(300)) for i in range(20)}
    repo = make_repo(tmp_path / "r", files)
    for name in files:
        (repo / name).write_text("".join(f"new {j}\n" for j in range(300)), encoding="utf-8")
    result = await call(registry, repo, "git_diff")
    assert not result.is_error
    assert result.text.startswith("The diff is long; files changed:")
    assert "f19.txt" in result.text.split("\n\n")[0]
    assert "call git_diff with path" in result.text
    assert len(result.text) <= Settings().tools.max_output_chars


# -- git_log ----------------------------------------------------------------------------------


async def test_log_shows_hash_date_author_subject(registry: ToolRegistry, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "1\n", "b.txt": "1\n"})
    for i in range(3):
        (repo / "a.txt").write_text(f"{i}\n", encoding="utf-8")
        git(repo, "commit", "-q", "-am", f"change a {i}")
    result = await call(registry, repo, "git_log", n=2)
    lines = result.text.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("Test User  change a 2")
    short = git(repo, "rev-parse", "--short", "HEAD").strip()
    assert lines[0].startswith(short)
    assert result.raw_output is not None
    assert result.raw_output["commits"][0]["email"] == "test@example.com"

    by_path = await call(registry, repo, "git_log", path="b.txt")
    assert [ln.split("  ")[-1] for ln in by_path.text.splitlines()] == ["initial"]


async def test_log_in_a_repository_without_commits(registry: ToolRegistry, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    result = await call(registry, repo, "git_log")
    assert not result.is_error
    assert result.text == "No commits yet on this branch."


async def test_log_rejects_bad_n(registry: ToolRegistry, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "1\n"})
    result = await call(registry, repo, "git_log", n=0)
    assert result.is_error and "'n'" in result.text


# -- git_add ----------------------------------------------------------------------------------


async def test_add_stages_new_changed_and_deleted_files(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "1\n", "b.txt": "1\n"})
    (repo / "a.txt").write_text("2\n", encoding="utf-8")
    (repo / "b.txt").unlink()
    (repo / "dir").mkdir()
    (repo / "dir" / "c[1].txt").write_text("new\n", encoding="utf-8")
    result = await call(registry, repo, "git_add", paths=["a.txt", "b.txt", "dir/c[1].txt"])
    assert not result.is_error, result.text
    assert "Staged 3 paths." in result.text
    staged = git(repo, "diff", "--cached", "--name-status").split("\n")
    assert {ln for ln in staged if ln} == {"M\ta.txt", "D\tb.txt", "A\tdir/c[1].txt"}


async def test_add_refuses_paths_outside_the_workspace(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "1\n"})
    (repo / "a.txt").write_text("2\n", encoding="utf-8")
    result = await call(registry, repo, "git_add", paths=["a.txt", "../../etc/passwd"])
    assert result.is_error and "outside the workspace" in result.text
    assert git(repo, "diff", "--cached", "--name-only") == ""


async def test_add_refuses_paths_outside_the_repository(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "1\n"})
    (repo / "a.txt").write_text("2\n", encoding="utf-8")
    (tmp_path / "loose.txt").write_text("x\n", encoding="utf-8")
    result = await call(registry, tmp_path, "git_add", paths=["r/a.txt", "loose.txt"])
    assert result.is_error
    assert "'loose.txt' is outside the repository" in result.text
    assert "nothing was staged" in result.text
    assert git(repo, "diff", "--cached", "--name-only") == ""


async def test_add_missing_path_stages_nothing(registry: ToolRegistry, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "1\n"})
    (repo / "a.txt").write_text("2\n", encoding="utf-8")
    result = await call(registry, repo, "git_add", paths=["a.txt", "missing.txt"])
    assert result.is_error
    assert "Nothing was staged" in result.text and "missing.txt" in result.text
    assert git(repo, "diff", "--cached", "--name-only") == ""


async def test_add_ignored_file_is_explained(registry: ToolRegistry, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {".gitignore": "*.log\n"})
    (repo / "x.log").write_text("log\n", encoding="utf-8")
    result = await call(registry, repo, "git_add", paths=["x.log"])
    assert result.is_error and ".gitignore" in result.text


async def test_add_needs_at_least_one_path(registry: ToolRegistry, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "1\n"})
    result = await call(registry, repo, "git_add", paths=[])
    assert result.is_error and "at least one path" in result.text
    missing = await call(registry, repo, "git_add")
    assert missing.is_error and "missing required argument 'paths'" in missing.text


# -- git_commit -------------------------------------------------------------------------------


async def test_commit_creates_a_commit(registry: ToolRegistry, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    (repo / "a.txt").write_text("1\n", encoding="utf-8")
    git(repo, "add", "a.txt")
    result = await call(registry, repo, "git_commit", message="First commit\n\nWith a body.")
    assert not result.is_error, result.text
    assert "First commit" in result.text
    assert result.raw_output is not None
    assert result.raw_output["commit"] == git(repo, "rev-parse", "HEAD").strip()
    assert git(repo, "log", "-1", "--format=%B").strip() == "First commit\n\nWith a body."


async def test_commit_with_nothing_staged(registry: ToolRegistry, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "1\n"})
    (repo / "a.txt").write_text("2\n", encoding="utf-8")
    head = git(repo, "rev-parse", "HEAD")
    result = await call(registry, repo, "git_commit", message="nothing")
    assert result.is_error
    assert "Nothing is staged" in result.text and "git_add" in result.text
    assert "1 changed or untracked file(s) are not staged" in result.text
    assert git(repo, "rev-parse", "HEAD") == head
    assert (repo / "a.txt").read_text(encoding="utf-8") == "2\n"


async def test_commit_with_nothing_staged_in_a_new_repository(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "r")
    result = await call(registry, repo, "git_commit", message="nothing")
    assert result.is_error and "working tree is clean" in result.text


async def test_commit_without_identity_says_how_to_set_it(
    registry: ToolRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "r")
    no_identity = tmp_path / "noid.gitconfig"
    no_identity.write_text("[user]\n\tuseConfigOnly = true\n", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(no_identity))
    for var in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
    ):
        monkeypatch.delenv(var, raising=False)
    (repo / "a.txt").write_text("1\n", encoding="utf-8")
    git(repo, "add", "a.txt")
    result = await call(registry, repo, "git_commit", message="who am I")
    assert result.is_error
    assert "user.name" in result.text and "user.email" in result.text
    assert "staged changes are kept" in result.text
    assert git(repo, "diff", "--cached", "--name-only").strip() == "a.txt"


async def test_commit_hook_failure_is_reported_when_hooks_are_enabled(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    if os.name == "nt":
        pytest.skip("shell-script hooks need a POSIX shell")
    repo = make_repo(tmp_path / "r", {"a.txt": "1\n"})
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'lint failed: bad style' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    (repo / "a.txt").write_text("2\n", encoding="utf-8")
    git(repo, "add", "a.txt")
    settings = Settings.model_validate({"git": {"run_hooks": True}})
    result = await dispatch(registry, "git_commit", {"message": "x"}, make_ctx(repo, settings))
    assert result.is_error
    assert "lint failed: bad style" in result.text and "not made" in result.text


async def test_commit_skips_the_repository_hooks_by_default(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    if os.name == "nt":
        pytest.skip("shell-script hooks need a POSIX shell")
    repo = make_repo(tmp_path / "r", {"a.txt": "1\n"})
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'lint failed: bad style' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    (repo / "a.txt").write_text("2\n", encoding="utf-8")
    git(repo, "add", "a.txt")
    result = await call(registry, repo, "git_commit", message="x")
    assert not result.is_error, result.text
    assert git(repo, "log", "-1", "--format=%s").strip() == "x"


async def test_commit_empty_message(registry: ToolRegistry, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "1\n"})
    result = await call(registry, repo, "git_commit", message="   ")
    assert result.is_error and "message is empty" in result.text


# -- git_checkout -----------------------------------------------------------------------------


async def test_checkout_create_and_switch(registry: ToolRegistry, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "1\n"})
    created = await call(registry, repo, "git_checkout", ref="feature", create=True)
    assert not created.is_error, created.text
    assert "Switched to a new branch 'feature'" in created.text
    assert git(repo, "branch", "--show-current").strip() == "feature"
    back = await call(registry, repo, "git_checkout", ref="main")
    assert not back.is_error and "Switched to branch 'main'" in back.text
    again = await call(registry, repo, "git_checkout", ref="feature", create=True)
    assert again.is_error and "already exists" in again.text


async def test_checkout_refuses_to_overwrite_local_changes(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "1\n"})
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "a.txt").write_text("other\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "other")
    git(repo, "checkout", "-q", "main")
    (repo / "a.txt").write_text("my unsaved work\n", encoding="utf-8")

    result = await call(registry, repo, "git_checkout", ref="other")
    assert result.is_error
    assert "would overwrite uncommitted changes" in result.text
    assert "Your local changes to the following files would be overwritten" in result.text
    assert "Nothing was changed" in result.text
    assert (repo / "a.txt").read_text(encoding="utf-8") == "my unsaved work\n"
    assert git(repo, "branch", "--show-current").strip() == "main"


async def test_checkout_unknown_ref_and_option_like_ref(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "1\n"})
    unknown = await call(registry, repo, "git_checkout", ref="nope")
    assert unknown.is_error and "no branch, tag or commit named 'nope'" in unknown.text
    dash = await call(registry, repo, "git_checkout", ref="--orphan")
    assert dash.is_error and "starts with '-'" in dash.text


async def test_checkout_ref_named_like_a_file_does_not_discard_changes(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "1\n"})
    (repo / "a.txt").write_text("unsaved\n", encoding="utf-8")
    result = await call(registry, repo, "git_checkout", ref="a.txt")
    assert result.is_error
    assert (repo / "a.txt").read_text(encoding="utf-8") == "unsaved\n"


# -- git_push / git_pull ----------------------------------------------------------------------


@pytest.fixture
def remote_pair(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A bare ``origin`` and two clones, ``work`` and ``peer``, both on main."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    seed = make_repo(tmp_path / "seed", {"a.txt": "base\n"})
    git(seed, "push", "-q", str(origin), "main")
    git(tmp_path, "clone", "-q", str(origin), "work")
    git(tmp_path, "clone", "-q", str(origin), "peer")
    return origin, tmp_path / "work", tmp_path / "peer"


def commit_file(repo: Path, name: str, text: str, message: str) -> None:
    (repo / name).write_text(text, encoding="utf-8")
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message)


async def test_push_and_pull(registry: ToolRegistry, remote_pair: tuple[Path, Path, Path]) -> None:
    origin, work, peer = remote_pair
    commit_file(work, "b.txt", "b\n", "add b")
    pushed = await call(registry, work, "git_push")
    assert not pushed.is_error, pushed.text
    assert "main -> main" in pushed.text
    assert git(origin, "rev-parse", "main") == git(work, "rev-parse", "HEAD")

    pulled = await call(registry, peer, "git_pull")
    assert not pulled.is_error, pulled.text
    assert (peer / "b.txt").read_text(encoding="utf-8") == "b\n"
    again = await call(registry, peer, "git_pull")
    assert "Already up to date" in again.text


async def test_push_new_branch_needs_remote_then_sets_upstream(
    registry: ToolRegistry, remote_pair: tuple[Path, Path, Path]
) -> None:
    origin, work, _ = remote_pair
    git(work, "checkout", "-q", "-b", "topic")
    commit_file(work, "t.txt", "t\n", "topic work")
    bare = await call(registry, work, "git_push")
    assert bare.is_error
    assert "has no upstream" in bare.text and "remote='origin'" in bare.text

    published = await call(registry, work, "git_push", remote="origin", branch="topic")
    assert not published.is_error, published.text
    assert git(origin, "rev-parse", "topic") == git(work, "rev-parse", "HEAD")
    assert git(work, "config", "branch.topic.merge").strip() == "refs/heads/topic"


async def test_push_rejected_then_force_with_lease(
    registry: ToolRegistry, remote_pair: tuple[Path, Path, Path]
) -> None:
    origin, work, peer = remote_pair
    commit_file(peer, "p.txt", "p\n", "peer change")
    git(peer, "push", "-q")
    commit_file(work, "w.txt", "w\n", "work change")

    rejected = await call(registry, work, "git_push")
    assert rejected.is_error
    assert "rejected" in rejected.text and "git_pull" in rejected.text
    assert git(origin, "rev-parse", "main") == git(peer, "rev-parse", "HEAD")

    # The lease is stale until we fetch: force refuses to clobber unseen commits.
    stale = await call(registry, work, "git_push", force=True)
    assert stale.is_error
    assert git(origin, "rev-parse", "main") == git(peer, "rev-parse", "HEAD")

    git(work, "fetch", "-q")
    forced = await call(registry, work, "git_push", force=True)
    assert not forced.is_error, forced.text
    assert git(origin, "rev-parse", "main") == git(work, "rev-parse", "HEAD")


async def test_pull_with_conflicts_reports_them(
    registry: ToolRegistry, remote_pair: tuple[Path, Path, Path]
) -> None:
    _, work, peer = remote_pair
    commit_file(peer, "a.txt", "peer\n", "peer edit")
    git(peer, "push", "-q")
    commit_file(work, "a.txt", "work\n", "work edit")
    result = await call(registry, work, "git_pull")
    assert result.is_error
    assert "stopped on conflicts" in result.text
    assert "both modified: a.txt" in result.text
    status = await call(registry, work, "git_status")
    assert "A merge is in progress with 1 conflicted file" in status.text


async def test_pull_refuses_to_overwrite_local_changes(
    registry: ToolRegistry, remote_pair: tuple[Path, Path, Path]
) -> None:
    _, work, peer = remote_pair
    commit_file(peer, "a.txt", "peer\n", "peer edit")
    git(peer, "push", "-q")
    (work / "a.txt").write_text("uncommitted\n", encoding="utf-8")
    result = await call(registry, work, "git_pull")
    assert result.is_error
    assert "would be overwritten" in result.text
    assert (work / "a.txt").read_text(encoding="utf-8") == "uncommitted\n"


async def test_pull_with_divergent_branches_and_no_pull_config(
    registry: ToolRegistry,
    remote_pair: tuple[Path, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, work, peer = remote_pair
    commit_file(peer, "p.txt", "peer\n", "peer edit")
    git(peer, "push", "-q")
    commit_file(work, "w.txt", "work\n", "work edit")
    plain = tmp_path / "plain.gitconfig"
    plain.write_text("[user]\n\tname = T\n\temail = t@example.com\n", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(plain))
    head = git(work, "rev-parse", "HEAD")
    result = await call(registry, work, "git_pull")
    assert result.is_error
    assert "diverged" in result.text and "git pull --rebase" in result.text
    assert git(work, "rev-parse", "HEAD") == head


async def test_push_to_missing_remote(
    registry: ToolRegistry, remote_pair: tuple[Path, Path, Path]
) -> None:
    _, work, _ = remote_pair
    result = await call(registry, work, "git_push", remote="nowhere", branch="main")
    assert result.is_error
    assert "git push failed" in result.text and "git remote -v" in result.text
    pull = await call(registry, work, "git_pull", remote="nowhere")
    assert pull.is_error and "git remote -v" in pull.text


async def test_option_like_remote_is_refused(
    registry: ToolRegistry, remote_pair: tuple[Path, Path, Path]
) -> None:
    _, work, _ = remote_pair
    result = await call(registry, work, "git_push", remote="--mirror")
    assert result.is_error and "starts with '-'" in result.text


async def test_subdirectory_of_a_repository_uses_that_repository(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "r", {"sub/a.txt": "1\n"})
    (repo / "sub" / "a.txt").write_text("2\n", encoding="utf-8")
    result = await call(registry, repo / "sub", "git_status")
    assert not result.is_error
    assert f"Repository: {repo.resolve()}" in result.text
    assert "modified: sub/a.txt" in result.text


def test_parse_status_handles_renames_and_conflicts() -> None:
    text = "\0".join(
        [
            "# branch.oid abc",
            "# branch.head main",
            "# branch.upstream origin/main",
            "# branch.ab +2 -0",
            "1 .M N... 100644 100644 100644 a a x y.txt",
            "2 R. N... 100644 100644 100644 a a R100 new.txt",
            "old.txt",
            "u UU N... 100644 100644 100644 100644 a b c conflict.txt",
            "? untracked file.txt",
            "",
        ]
    )
    status = git_tools.parse_status(text)
    assert status.branch == "main" and status.ahead == 2 and status.behind == 0
    assert [e.describe() for e in status.unstaged] == ["modified: x y.txt"]
    assert [e.describe() for e in status.staged] == ["renamed: old.txt -> new.txt"]
    assert [e.describe() for e in status.conflicted] == ["both modified: conflict.txt"]
    assert status.untracked == ["untracked file.txt"]
