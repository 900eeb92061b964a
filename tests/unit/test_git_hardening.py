"""A malicious repository cannot make the git tools run its code (real git, real payloads).

The repository's ``.git/config`` names a payload script in every place git runs a program:
fsmonitor, pagers, hooks (and a hooksPath), external diff and textconv, clean/smudge/process
filters, a merge driver, a remote's upload-pack/receive-pack, the ``ext::`` transport, editors.
The payload writes a marker file; each test drives the git tools and asserts the marker never
appears. A control test proves the payload is live: plain ``git status`` in the same repository
does write the marker.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _tool_testkit import make_ctx, registry_of

from pygent.settings.models import Settings
from pygent.tools import git as git_tools
from pygent.tools.base import ToolRegistry, ToolResult, dispatch
from pygent.tools.gitsafety import (
    config_args,
    local_overrides,
    parse_config_list,
    scrub_git_env,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="payloads are POSIX scripts")

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
HOOKS = (
    "pre-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "post-checkout",
    "pre-push",
    "post-merge",
    "pre-merge-commit",
    "reference-transaction",
    "pre-auto-gc",
    "post-index-change",
    "fsmonitor-watchman",
)


# Test setup commits in the evil repository without triggering its payloads.
TAMED = (
    *("-c", "filter.evil.process=", "-c", "filter.evil.clean=cat", "-c", "filter.evil.smudge=cat"),
    *("-c", "filter.evil.required=false", "-c", "core.fsmonitor=false"),
    *("-c", "core.hooksPath=/nonexistent"),
)


@pytest.fixture(autouse=True)
def git_identity(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = isolated_home / ".gitconfig"
    config.write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n[pull]\n\trebase = false\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def registry() -> ToolRegistry:
    return registry_of(*GIT_TOOLS)


def git(cwd: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check:
        assert done.returncode == 0, f"git {args} failed: {done.stderr}"
    return done.stdout


class Evil:
    """A workspace whose repository's config runs a payload from everywhere git can."""

    def __init__(self, tmp_path: Path) -> None:
        self.marker = tmp_path / "PWNED"
        self.payload = tmp_path / "payload.sh"
        self.payload.write_text(f'#!/bin/sh\necho "$0 $*" >> "{self.marker}"\nexit 1\n')
        self.payload.chmod(0o755)
        self.remote = tmp_path / "remote.git"
        git(tmp_path, "init", "-q", "--bare", str(self.remote))
        self.repo = tmp_path / "ws"
        self.repo.mkdir()
        git(self.repo, "init", "-q")
        (self.repo / "a.txt").write_text("one\n")
        (self.repo / ".gitattributes").write_text("*.txt diff=evil filter=evil merge=evil\n")
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-q", "-m", "initial")
        git(self.repo, "remote", "add", "origin", str(self.remote))
        git(self.repo, "push", "-q", "-u", "origin", "main")
        p = str(self.payload)
        evil_hooks = tmp_path / "evil-hooks"
        evil_hooks.mkdir()
        for hooks_dir in (evil_hooks, self.repo / ".git" / "hooks"):
            for name in HOOKS:
                hook = hooks_dir / name
                hook.write_text(f"#!/bin/sh\n{p} hook-{name}\nexit 0\n")
                hook.chmod(0o755)
        for key, value in (
            ("core.fsmonitor", p),
            ("core.pager", p),
            ("pager.diff", p),
            ("pager.status", p),
            ("pager.log", p),
            ("core.hooksPath", str(evil_hooks)),
            ("core.editor", p),
            ("sequence.editor", p),
            ("diff.external", p),
            ("diff.evil.textconv", p),
            ("diff.evil.command", p),
            ("filter.evil.clean", p),
            ("filter.evil.smudge", p),
            ("filter.evil.process", p),
            ("filter.evil.required", "true"),
            ("merge.evil.driver", f"{p} %O %A %B"),
            ("remote.origin.uploadpack", f"{p} upload; git-upload-pack"),
            ("remote.origin.receivepack", f"{p} receive; git-receive-pack"),
            ("protocol.ext.allow", "always"),
            ("remote.ext.url", f"ext::{p} ext"),
            ("core.sshCommand", p),
            ("credential.helper", f"!{p} credential"),
            ("gpg.program", p),
        ):
            git(self.repo, "config", key, value)

    def ran(self) -> str:
        return self.marker.read_text() if self.marker.exists() else ""


async def call(registry: ToolRegistry, root: Path, name: str, **args: Any) -> ToolResult:
    return await dispatch(registry, name, args, make_ctx(root))


async def test_no_git_tool_runs_the_repository_config_programs(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    evil = Evil(tmp_path)
    ws = evil.repo
    (ws / "a.txt").write_text("one\ntwo\n")
    results = [
        await call(registry, ws, "git_status"),
        await call(registry, ws, "git_diff"),
        await call(registry, ws, "git_add", paths=["a.txt"]),
        await call(registry, ws, "git_diff", staged=True),
        await call(registry, ws, "git_commit", message="second"),
        await call(registry, ws, "git_log", n=5),
        await call(registry, ws, "git_checkout", ref="topic", create=True),
        await call(registry, ws, "git_checkout", ref="main"),
        await call(registry, ws, "git_push"),
        await call(registry, ws, "git_pull"),
    ]
    assert evil.ran() == "", f"the payload ran: {evil.ran()}"
    for result in results:
        assert not result.is_error, result.text
    assert "two" in results[1].text  # the diff is the plain diff, not the payload's output
    assert git(evil.remote, "log", "-1", "--format=%s").strip() == "second"


async def test_pull_with_a_conflict_runs_no_merge_driver(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    evil = Evil(tmp_path)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(evil.remote), str(other))
    (other / "a.txt").write_text("theirs\n")
    git(other, "commit", "-qam", "theirs")
    git(other, "push", "-q")
    (evil.repo / "a.txt").write_text("ours\n")
    git(evil.repo, *TAMED, "commit", "-qam", "ours")
    evil.marker.unlink(missing_ok=True)
    result = await call(registry, evil.repo, "git_pull")
    assert evil.ran() == "", f"the payload ran: {evil.ran()}"
    assert result.is_error and "conflict" in result.text.lower()


async def test_ext_transport_is_refused_even_when_the_repository_allows_it(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    evil = Evil(tmp_path)
    result = await call(registry, evil.repo, "git_pull", remote="ext", branch="main")
    assert result.is_error
    assert evil.ran() == ""


async def test_git_config_from_the_environment_is_scrubbed(
    registry: ToolRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    evil = Evil(tmp_path)
    git(evil.repo, "config", "--unset", "core.fsmonitor")
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.fsmonitor")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", str(evil.payload))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", f"'core.pager'='{evil.payload}'")
    result = await call(registry, evil.repo, "git_status")
    assert not result.is_error, result.text
    assert evil.ran() == ""


async def test_option_injection_through_a_ref_is_refused(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    evil = Evil(tmp_path)
    result = await call(
        registry, evil.repo, "git_checkout", ref=f"-c core.fsmonitor={evil.payload}"
    )
    assert result.is_error and "starts with '-'" in result.text
    assert evil.ran() == ""


async def test_commit_hooks_run_confined_only_when_enabled(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    evil = Evil(tmp_path)
    (evil.repo / "a.txt").write_text("changed\n")
    git(evil.repo, *TAMED, "add", "a.txt")
    evil.marker.unlink(missing_ok=True)
    settings = Settings.model_validate({"git": {"run_hooks": True}})
    result = await dispatch(registry, "git_commit", {"message": "m"}, make_ctx(evil.repo, settings))
    assert not result.is_error, result.text
    assert "hook-pre-commit" in evil.ran()  # the repository's hooksPath, as the user asked


async def test_the_payload_is_live_for_plain_git(tmp_path: Path) -> None:
    """Control: without pygent's guard, git status runs the repository's fsmonitor."""
    evil = Evil(tmp_path)
    evil.marker.unlink(missing_ok=True)
    git(evil.repo, "status", check=False)
    assert evil.ran() != ""


# -- the overrides as data ----------------------------------------------------------------------


def test_local_overrides_replace_repository_programs_with_the_users_own() -> None:
    listing = "\0".join(
        [
            "global",
            "credential.helper\nstore",
            "global",
            "core.sshcommand\nssh -i ~/.ssh/work",
            "global",
            "filter.lfs.clean\ngit-lfs clean -- %f",
            "local",
            "credential.helper\n!evil",
            "local",
            "core.sshCommand\nevil",
            "local",
            "filter.Evil.clean\nevil",
            "local",
            "remote.Origin.uploadpack\nevil",
            "local",
            "gpg.program\nevil",
            "local",
            "user.name\nMallory",
            "",
        ]
    )
    overrides = local_overrides(parse_config_list(listing))
    assert ("credential.helper", "") in overrides
    assert ("credential.helper", "store") in overrides
    assert ("core.sshcommand", "ssh -i ~/.ssh/work") in overrides
    assert ("filter.Evil.clean", "") in overrides
    assert ("remote.Origin.uploadpack", "git-upload-pack") in overrides
    assert ("gpg.program", "gpg") in overrides
    assert not any(key.startswith(("user.", "filter.lfs")) for key, _ in overrides)
    assert all("evil" not in value for _, value in overrides)


def test_config_args_disable_hooks_pager_fsmonitor_and_external_diff() -> None:
    args = config_args()
    assert args[0] == "--no-pager"
    pairs = dict(a.split("=", 1) for a in args[2::2])
    assert pairs["core.fsmonitor"] == "false"
    assert pairs["diff.external"] == ""
    assert pairs["protocol.ext.allow"] == "never"
    hooks = Path(pairs["core.hooksPath"])
    assert hooks.is_dir() and list(hooks.iterdir()) == []
    assert "core.hooksPath" not in dict(a.split("=", 1) for a in config_args(run_hooks=True)[2::2])


def test_scrub_git_env_keeps_identity_and_drops_redirection() -> None:
    env = scrub_git_env(
        {
            "PATH": os.environ.get("PATH", ""),
            "GIT_DIR": "/elsewhere",
            "GIT_CONFIG_PARAMETERS": "'core.pager'='evil'",
            "GIT_EXEC_PATH": "/evil",
            "GIT_AUTHOR_NAME": "Me",
            "GIT_SSH_COMMAND": "ssh -v",
        }
    )
    assert set(env) == {"PATH", "GIT_AUTHOR_NAME", "GIT_SSH_COMMAND"}
