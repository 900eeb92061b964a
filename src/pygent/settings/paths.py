"""Where pygent keeps its files: config, data (sessions), logs. All from platformdirs.

Functions (not constants) so tests that repoint ``XDG_*``/``HOME`` see the change.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

APP_NAME = "pygent"
PROJECT_DIR_NAME = ".pygent"
CONFIG_FILE_NAME = "config.toml"


def user_config_dir() -> Path:
    """The user's pygent config directory (``$XDG_CONFIG_HOME/pygent`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False, roaming=True))


def user_config_file() -> Path:
    """The user-level ``config.toml``."""
    return user_config_dir() / CONFIG_FILE_NAME


def user_data_dir() -> Path:
    """The user's pygent data directory (sessions live under it)."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


_temporary_sessions: Path | None = None


def sessions_dir() -> Path:
    """Root of all session files (one sub-directory per workspace).

    The temporary directory of :func:`use_temporary_sessions_dir` while one is in use.
    """
    if _temporary_sessions is not None:
        return _temporary_sessions
    return default_sessions_dir()


def default_sessions_dir() -> Path:
    """Where sessions are saved normally: ``sessions`` in :func:`user_data_dir`."""
    return user_data_dir() / "sessions"


def use_temporary_sessions_dir() -> Path:
    """Keep this process's sessions in a new temporary directory, removed at exit.

    For a data directory that cannot be written (:mod:`pygent.settings.writable`): pygent keeps
    working, but the sessions cannot be resumed by a later process.

    Raises:
        OSError: the temporary directory cannot be created either.
    """
    global _temporary_sessions
    import atexit
    import shutil
    import tempfile

    if _temporary_sessions is None:
        directory = Path(tempfile.mkdtemp(prefix="pygent-sessions-"))
        atexit.register(shutil.rmtree, directory, True)
        _temporary_sessions = directory
    return _temporary_sessions


def stop_temporary_sessions_dir() -> None:
    """Remove the temporary sessions directory and go back to the data directory."""
    global _temporary_sessions
    import shutil

    if _temporary_sessions is not None:
        shutil.rmtree(_temporary_sessions, ignore_errors=True)
        _temporary_sessions = None


def user_state_dir() -> Path:
    """The state directory (``$XDG_STATE_HOME/pygent`` on Linux): the telemetry spool lives here."""
    import platformdirs

    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def user_log_dir() -> Path:
    """The log directory (``$XDG_STATE_HOME/pygent/log`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def log_file() -> Path:
    """The main log file, ``pygent.log`` in :func:`user_log_dir`."""
    return user_log_dir() / "pygent.log"


def find_git_root(start: Path) -> Path | None:
    """The nearest ancestor of ``start`` (inclusive) that contains ``.git``, or None."""
    current = start.resolve()
    for candidate in (current, *current.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def find_project_root(start: Path | None = None) -> Path:
    """The project root: the git root above ``start``, else ``start`` itself."""
    start = (start or Path.cwd()).resolve()
    return find_git_root(start) or start


def broad_workspace_warning(root: Path) -> str | None:
    """A warning when ``root`` is the home directory or a filesystem (drive) root, else None.

    Such a workspace gives the agent every file under it: it can read them all and, when
    allowed, change them. Usually pygent was started in the wrong directory.
    """
    try:
        resolved = root.resolve()
    except OSError:
        resolved = root
    what = ""
    if resolved == Path(resolved.anchor) or resolved.parent == resolved:
        drive = resolved.drive
        what = f"the root of drive {drive}" if drive else "the filesystem root"
    else:
        try:
            home = Path.home().resolve()
        except (OSError, RuntimeError):
            home = None
        if home is not None and resolved == home:
            what = "your home directory"
    if not what:
        return None
    return (
        f"The workspace is {what} ({resolved}): the agent can read every file under it and, "
        "when allowed, change them. Open a project folder instead (cd into it and start "
        "pygent there)."
    )


def find_project_config(start: Path | None = None) -> Path | None:
    """The project ``.pygent/config.toml``: walk up from ``start`` to the git root (inclusive).

    Returns the first existing file, or None.
    """
    start = (start or Path.cwd()).resolve()
    stop = find_git_root(start)
    for candidate in (start, *start.parents):
        path = candidate / PROJECT_DIR_NAME / CONFIG_FILE_NAME
        if path.is_file():
            return path
        if stop is not None and candidate == stop:
            break
    return None


def project_config_file(start: Path | None = None) -> Path:
    """Where the project config is or would be created (existing file, else under the project root)."""
    return (
        find_project_config(start) or find_project_root(start) / PROJECT_DIR_NAME / CONFIG_FILE_NAME
    )


def git_branch(cwd: Path) -> str | None:
    """The current git branch of ``cwd`` (works in a repository without commits), or None."""
    try:
        out = subprocess.run(
            ["git", "symbolic-ref", "--short", "-q", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    branch = out.stdout.strip()
    return branch or None
