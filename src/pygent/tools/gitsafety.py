"""What a repository's own git config could make git run, and the options that neutralise it.

A cloned repository (or a prompt-injected model writing ``.git/config``) controls the
repository-level config, and git runs programs named there: ``core.fsmonitor`` on every
``status``/``diff``/``add``, the pager, hooks, ``diff.external``, clean/smudge filters, custom
merge drivers, ``core.sshCommand``, credential helpers, ``gpg.program``, a remote's
``uploadpack``/``receivepack``, the ``ext::`` transport. The git tools therefore run git with:

* fixed overrides (:data:`FIXED_CONFIG`, plus ``--no-pager`` and ``core.hooksPath`` pointing
  at an empty private directory unless hooks are explicitly enabled for ``git_commit``);
* per repository, overrides for every risky key the *local* (or worktree, or an include of
  them) scope sets: :func:`local_overrides` reads ``git config --list --show-scope -z`` and
  answers with the user's own (global/system) value or a harmless default. The user's global
  settings (a credential helper, git-lfs filters, an SSH command) keep working;
* an environment without ``GIT_*`` variables (``GIT_DIR``, ``GIT_CONFIG_PARAMETERS``,
  ``GIT_EXEC_PATH`` would redirect or reconfigure git), except the user's identity, config-file
  and authentication choices (:data:`KEPT_GIT_VARS`).

And every git command runs inside the OS sandbox (:mod:`pygent.sandbox`) as well.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import tempfile
from collections.abc import Mapping

__all__ = [
    "FIXED_CONFIG",
    "KEPT_GIT_VARS",
    "config_args",
    "empty_hooks_dir",
    "local_overrides",
    "parse_config_list",
    "scrub_git_env",
    "transport_options",
]

#: ``-c`` overrides applied to every git command the tools run.
FIXED_CONFIG: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),
    ("core.pager", "cat"),
    ("core.editor", "true"),
    ("sequence.editor", "true"),
    ("diff.external", ""),
    ("protocol.ext.allow", "never"),
    ("submodule.recurse", "false"),
    ("commit.verbose", "false"),
)

#: ``GIT_*`` variables from the user's environment that survive scrubbing: who they are, which
#: config files are theirs, how they authenticate. Everything else (``GIT_DIR``,
#: ``GIT_INDEX_FILE``, ``GIT_CONFIG_PARAMETERS``/``_COUNT``, ``GIT_EXEC_PATH``, ``GIT_TRACE*``,
#: ...) goes: set by a hook or an editor git started, it would point the tools elsewhere.
KEPT_GIT_VARS = frozenset(
    {
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_AUTHOR_DATE",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_COMMITTER_DATE",
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_SYSTEM",
        "GIT_CONFIG_NOSYSTEM",
        "GIT_SSH",
        "GIT_SSH_COMMAND",
        "GIT_ASKPASS",
        "GIT_SSL_CAINFO",
        "GIT_SSL_CAPATH",
    }
)

# Local-scope keys that name a program (lower-case, as ``git config --list`` prints them):
# pattern -> harmless replacement when the user's own config has no value for the key.
_PROGRAM_KEYS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"core\.sshcommand"), "ssh"),
    (re.compile(r"core\.askpass"), ""),
    (re.compile(r"core\.gitproxy"), "none"),
    (re.compile(r"gpg\.program"), "gpg"),
    (re.compile(r"gpg\.openpgp\.program"), "gpg"),
    (re.compile(r"gpg\.x509\.program"), "gpgsm"),
    (re.compile(r"gpg\.ssh\.program"), "ssh-keygen"),
    (re.compile(r"gpg\.ssh\.defaultkeycommand"), "true"),
    (re.compile(r"remote\..+\.uploadpack"), "git-upload-pack"),  # subsection: any case
    (re.compile(r"remote\..+\.receivepack"), "git-receive-pack"),
    (re.compile(r"filter\..+\.(?:clean|smudge|process)"), ""),
    (re.compile(r"filter\..+\.required"), "false"),
    (re.compile(r"diff\..+\.(?:textconv|command)"), "cat"),
    (re.compile(r"merge\..+\.driver"), "false"),
    (re.compile(r"pager\..+"), "false"),
)
_TRANSPORT_KEYS = (".uploadpack", ".receivepack")
_CREDENTIAL_HELPER = re.compile(r"credential\.(?:.+\.)?helper")
_UNTRUSTED_SCOPES = frozenset({"local", "worktree", "command", "unknown"})


def parse_config_list(text: str) -> list[tuple[str, str, str]]:
    """``(scope, key, value)`` triples from ``git config --list --show-scope -z`` output.

    Keys keep their spelling (a subsection such as a remote's name is case-sensitive).
    """
    items = text.split("\0")
    out: list[tuple[str, str, str]] = []
    for scope, entry in zip(items[::2], items[1::2], strict=False):
        key, _, value = entry.partition("\n")
        if key:
            out.append((scope, key, value))
    return out


def _match_form(key: str) -> str:
    # Section and variable names are case-insensitive, a subsection is not: compare lowered
    # names but keep the subsection's spelling for the override.
    section, _, rest = key.partition(".")
    sub, _, name = rest.rpartition(".")
    return ".".join(p for p in (section.lower(), sub, name.lower()) if p) if sub else key.lower()


def local_overrides(entries: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """``-c`` overrides that neutralise every program the untrusted scopes name.

    A key set by the repository (``local``/``worktree`` scope, or a file those include) gets the
    user's own value for it (the last ``global``/``system`` value) or a harmless default; the
    credential helper list is reset and refilled with the user's helpers.
    """
    trusted: dict[str, str] = {}
    trusted_helpers: dict[str, list[str]] = {}
    for scope, raw_key, value in entries:
        key = _match_form(raw_key)
        if scope in _UNTRUSTED_SCOPES:
            continue
        trusted[key] = value
        if _CREDENTIAL_HELPER.fullmatch(key):
            trusted_helpers.setdefault(key, []).append(value)
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for scope, raw_key, _ in entries:
        key = _match_form(raw_key)
        if scope not in _UNTRUSTED_SCOPES or key in seen:
            continue
        if _CREDENTIAL_HELPER.fullmatch(key):
            seen.add(key)
            out.append((key, ""))  # an empty value resets the helper list
            out += [(key, helper) for helper in trusted_helpers.get(key, []) if helper]
            continue
        for pattern, default in _PROGRAM_KEYS:
            if pattern.fullmatch(key):
                seen.add(key)
                out.append((key, trusted.get(key, default)))
                break
    return out


_hooks_dir: str | None = None


def empty_hooks_dir() -> str:
    """A private empty directory (created once per process, removed at exit) for ``core.hooksPath``.

    Private (``mkdtemp``: mode 0700, unpredictable name) so no other user can put hooks in it.
    """
    global _hooks_dir
    if _hooks_dir is None or not os.path.isdir(_hooks_dir):
        _hooks_dir = tempfile.mkdtemp(prefix="pygent-no-hooks-")
        atexit.register(_remove_hooks_dir, _hooks_dir)
    return _hooks_dir


def _remove_hooks_dir(path: str) -> None:
    with contextlib.suppress(OSError):
        os.rmdir(path)


def transport_options(overrides: list[tuple[str, str]], command: str) -> list[str]:
    """``--upload-pack=`` (``pull``) or ``--receive-pack=`` (``push``) when the repository
    names its own program for a remote.

    For these two keys git uses the *first* value it reads (the repository's, before any
    ``-c``), so only the command-line option replaces them.
    """
    suffix, option = (
        (".receivepack", "--receive-pack")
        if command == "push"
        else (".uploadpack", "--upload-pack")
    )
    values = [v for k, v in overrides if k.lower().endswith(suffix)]
    return [f"{option}={values[0]}"] if values else []


def config_args(
    overrides: list[tuple[str, str]] = [],  # noqa: B006 - never mutated
    *,
    run_hooks: bool = False,
) -> list[str]:
    """Global git options: ``--no-pager`` and ``-c KEY=VALUE`` for the fixed and given overrides.

    Args:
        overrides: Per-repository overrides from :func:`local_overrides`.
        run_hooks: Leave ``core.hooksPath`` alone so the repository's hooks run.
    """
    pairs = list(FIXED_CONFIG)
    if not run_hooks:
        pairs.append(("core.hooksPath", empty_hooks_dir()))
    # upload-pack/receive-pack: replaced by transport_options (a second value only makes git
    # complain "more than one uploadpack given").
    pairs += [(k, v) for k, v in overrides if not k.lower().endswith(_TRANSPORT_KEYS)]
    args = ["--no-pager"]
    for key, value in pairs:
        args += ["-c", f"{key}={value}"]
    return args


def scrub_git_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without ``GIT_*`` variables (except :data:`KEPT_GIT_VARS`)."""
    return {
        k: v
        for k, v in env.items()
        if not k.upper().startswith("GIT_") or k.upper() in KEPT_GIT_VARS
    }
