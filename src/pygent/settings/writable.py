"""Whether pygent's own directories can be written, and messages that say which and how to move it.

A read-only or unwritable home must not make pygent fail with a bare ``OSError``: each frontend
probes the directories it is about to write (:func:`probe_dir`, a real file creation, since
``os.access`` is wrong for root and for Windows ACLs), keeps working where it can (logging off,
sessions in a temporary directory) and says which directory failed and which environment
variable or setting moves it (:func:`log_dir_problem`, :func:`sessions_dir_problem`,
:func:`config_dir_problem`).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pygent.errors import PygentError
    from pygent.settings.models import Settings

__all__ = [
    "DirKind",
    "config_dir_problem",
    "config_unwritable",
    "dir_variable",
    "log_dir_problem",
    "log_warning",
    "prepare_storage",
    "probe_dir",
    "sessions_dir_problem",
    "sessions_warning",
]

DirKind = Literal["config", "data", "log"]


def probe_dir(path: Path, *, keep: bool = True) -> str | None:
    """None when a file can be created in ``path`` (made first if missing), else the reason.

    The probe file is removed at once. ``keep=False`` also removes the directories the probe
    had to create (for a check made before anyone decided to write there).
    """
    missing = []
    current = path
    while not current.exists() and current.parent != current:
        missing.append(current)
        current = current.parent
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".pygent-probe-", dir=path)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        return exc.strerror or str(exc) or type(exc).__name__
    finally:
        if not keep:
            for created in missing:  # deepest first
                try:
                    created.rmdir()
                except OSError:
                    break
    return None


def dir_variable(kind: DirKind) -> str:
    """The environment variable that moves pygent's ``kind`` directory on this OS.

    Linux (and other Unix): the XDG variables. macOS: everything lives under ``~/Library``, so
    ``HOME``. Windows: ``APPDATA`` for the config, ``LOCALAPPDATA`` for data and logs.
    """
    if sys.platform == "win32":
        return "APPDATA" if kind == "config" else "LOCALAPPDATA"
    if sys.platform == "darwin":
        return "HOME"
    return {"config": "XDG_CONFIG_HOME", "data": "XDG_DATA_HOME", "log": "XDG_STATE_HOME"}[kind]


def log_dir_problem(settings: Settings | None = None) -> str | None:
    """A warning when the log file cannot be written (logging is then off), else None.

    None also when file logging is off (``logging.enabled = false`` or
    ``PYGENT_LOG_DISABLED=1``): nothing will be written, so nothing can fail.
    """
    if os.environ.get("PYGENT_LOG_DISABLED", "").strip() not in ("", "0"):
        return None
    if settings is not None and not settings.logging.enabled:
        return None
    from pygent.settings.paths import log_file

    # The file pygent.logs.log_path picks (that module imports this package, not the reverse).
    custom = settings.logging.file if settings is not None else None
    path = Path(custom).expanduser() if custom else log_file()
    reason = probe_dir(path.parent)
    return None if reason is None else log_warning(path, reason, custom=bool(custom))


def log_warning(path: Path, reason: str, *, custom: bool = False) -> str:
    """The warning for a log file ``path`` that cannot be written (``custom``: from logging.file)."""
    where = (
        "set logging.file to a writable path"
        if custom
        else f"point {dir_variable('log')} at a writable directory or set logging.file"
    )
    return (
        f"Cannot write the log file {path} ({reason}), so logging is off. To keep a log, {where}; "
        "to silence this, set logging.enabled = false (or PYGENT_LOG_DISABLED=1)."
    )


def sessions_dir_problem() -> tuple[Path, str] | None:
    """``(directory, reason)`` when sessions cannot be saved in the sessions directory, else None.

    Probes the usual directory even while a temporary one is in use, so the answer (and the
    warning built from it) is the same however often it is asked.
    """
    from pygent.settings.paths import default_sessions_dir

    directory = default_sessions_dir()
    reason = probe_dir(directory)
    return None if reason is None else (directory, reason)


def sessions_warning(directory: Path, reason: str, temporary: Path) -> str:
    """The warning shown when sessions go to the temporary directory ``temporary``."""
    return (
        f"Cannot save sessions in {directory} ({reason}): this session is kept in a temporary "
        f"directory ({temporary}) that is deleted when pygent exits, so it cannot be resumed "
        f"later. Point {dir_variable('data')} at a writable directory to keep sessions."
    )


def config_dir_problem(config_file: Path) -> PygentError | None:
    """An ``invalid_config`` error when ``config_file`` cannot be written, else None.

    Checked before ``pygent setup`` asks anything, so nobody answers every question for nothing.
    """
    target = config_file.parent
    reason = probe_dir(target, keep=False)
    if reason is None and config_file.exists() and not os.access(config_file, os.W_OK):
        reason = "the file is read-only"
    return None if reason is None else config_unwritable(config_file, reason)


def config_unwritable(config_file: Path, reason: str) -> PygentError:
    """The ``invalid_config`` error for a config file that cannot be written, and why."""
    from pygent.errors import PygentError

    return PygentError(
        "invalid_config",
        f"Cannot write the config file {config_file} ({reason}).",
        f"Point {dir_variable('config')} at a writable directory, or configure pygent without "
        "the file: set PYGENT_MODEL and PYGENT_API_KEY (or the provider's key variable, e.g. "
        "ANTHROPIC_API_KEY) in your environment.",
        {"path": str(config_file)},
    )


def prepare_storage(settings: Settings | None) -> list[str]:
    """Probe the log and sessions directories before a frontend writes there; the warnings.

    A log directory that cannot be written leaves logging off (``setup_logging`` gives up
    quietly); a sessions directory that cannot be written is replaced by a temporary one for
    this process (:func:`pygent.settings.paths.use_temporary_sessions_dir`). Each problem
    becomes one warning for the person, naming the directory and what moves it.

    Raises:
        PygentError: ``invalid_config`` when not even a temporary directory can hold sessions.
    """
    from pygent.errors import PygentError
    from pygent.settings.paths import use_temporary_sessions_dir

    warnings: list[str] = []
    log = log_dir_problem(settings)
    if log:
        warnings.append(log)
    problem = sessions_dir_problem()
    if problem is not None:
        directory, reason = problem
        try:
            temporary = use_temporary_sessions_dir()
        except OSError as exc:
            raise PygentError(
                "invalid_config",
                f"Cannot save sessions in {directory} ({reason}), nor in a temporary directory "
                f"({exc.strerror or exc}).",
                f"Point {dir_variable('data')} at a writable directory.",
                {"path": str(directory)},
            ) from None
        warnings.append(sessions_warning(directory, reason, temporary))
    return warnings
