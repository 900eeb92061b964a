"""Children die with pygent: the parent-death signal on Linux, a kill-on-close Job Object on Windows.

When pygent stops normally (end of input, ``exit``, SIGTERM, SIGHUP) it stops every child's
process group itself. This module covers the case where pygent cannot: it is killed outright
(SIGKILL, the OOM killer, a crash, Task Manager).

* Linux: each child asks the kernel, between ``fork`` and ``exec``, for SIGKILL when its parent
  dies (``prctl(PR_SET_PDEATHSIG)``), and kills itself at once if the parent is already gone (the
  race between ``fork`` and ``prctl``). The signal reaches the direct child, which is what the
  shell tool runs (``bash -c 'sleep 100'`` execs ``sleep``); processes a script starts in the
  background are not covered after a SIGKILL (the normal stop kills the whole group).
* Windows: every child is assigned to one Job Object created with
  ``JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE``. The job's only handle is pygent's, so when pygent dies,
  Windows closes it and terminates every process in the job, grandchildren included (they
  inherit the job).
* macOS has neither; the normal stop path is all there is (documented in
  ``docs/advanced/reliability.md``).

The spawn path uses it through two hooks: :func:`spawn_kwargs` (extra ``subprocess`` arguments)
and :func:`adopt` (called with the new child's pid). A child that another library spawns (an MCP
server, started by the MCP SDK, which takes no ``preexec_fn``) is started through this file
instead: :func:`wrap_command` turns ``cmd args`` into ``python -I -S parent_death.py PID -- cmd
args``, which asks for the signal and then ``exec``s the command (Linux).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["adopt", "enabled", "spawn_kwargs", "wrap_command"]

_PR_SET_PDEATHSIG = 1
IS_LINUX = sys.platform.startswith("linux")
IS_WINDOWS = sys.platform == "win32"
#: ``PYGENT_KEEP_CHILDREN=1`` turns the protection off (e.g. to debug a child after a crash).
_DISABLE_VAR = "PYGENT_KEEP_CHILDREN"

_prctl: Callable[..., int] | None = None
_prctl_loaded = False
_job: Any = None


def enabled() -> bool:
    """False when ``PYGENT_KEEP_CHILDREN=1`` turns the protection off."""
    return os.environ.get(_DISABLE_VAR, "").strip() in ("", "0")


def _load_prctl() -> Callable[..., int] | None:
    """libc's ``prctl``, loaded in the parent (the child must not load libraries after ``fork``)."""
    global _prctl, _prctl_loaded
    if not _prctl_loaded:
        _prctl_loaded = True
        try:
            import ctypes
            import ctypes.util

            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            func = libc.prctl
            func.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
            func.restype = ctypes.c_int
            _prctl = func
        except (OSError, AttributeError):
            _prctl = None
    return _prctl


def _pdeathsig_preexec(parent: int, prctl: Callable[..., int]) -> Callable[[], None]:
    # Everything is computed here, in the parent: between fork and exec the child only makes one
    # foreign call and one system call (no import, no attribute lookup on modules, no logging).
    option, sig, getppid, exit_now = _PR_SET_PDEATHSIG, int(signal.SIGKILL), os.getppid, os._exit

    def preexec() -> None:
        prctl(option, sig, 0, 0)
        if getppid() != parent:  # the parent died before prctl: nobody will send the signal
            exit_now(1)

    return preexec


def spawn_kwargs() -> dict[str, Any]:
    """Extra keyword arguments for ``subprocess``/``asyncio`` spawns (Linux: a ``preexec_fn``)."""
    if not IS_LINUX or not enabled():
        return {}
    prctl = _load_prctl()
    if prctl is None:
        return {}
    return {"preexec_fn": _pdeathsig_preexec(os.getpid(), prctl)}


def wrap_command(command: str, args: list[str], path: str | None = None) -> tuple[str, list[str]]:
    """``command args`` started through this file so the program dies with pygent (Linux).

    Args:
        command: The program.
        args: Its arguments.
        path: The ``PATH`` the program is looked up in (default: this process's).

    Returns:
        The command and arguments to spawn instead; unchanged off Linux, with the protection
        turned off, or when ``command`` is not found (the spawn then fails with its own message).
    """
    import shutil

    if not IS_LINUX or not enabled() or _load_prctl() is None:
        return command, args
    if shutil.which(command, path=path) is None:
        return command, args
    return sys.executable, [
        "-I",
        "-S",
        os.path.abspath(__file__),
        str(os.getpid()),
        "--",
        command,
        *args,
    ]


def _trampoline(argv: list[str]) -> int:
    """``parent_death.py PID -- COMMAND ARGS...``: ask for SIGKILL when PID dies, then ``exec``."""
    if len(argv) < 3 or argv[1] != "--" or not argv[0].isdigit():
        sys.stderr.write("usage: parent_death.py PARENT_PID -- COMMAND [ARGS...]\n")
        return 2
    prctl = _load_prctl()
    if prctl is not None and enabled():
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0)
        if os.getppid() != int(argv[0]):  # the parent died before prctl: nobody will signal
            return 1
    command = argv[2:]
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        sys.stderr.write(f"{command[0]}: {exc.strerror or exc}\n")
        return 127 if isinstance(exc, FileNotFoundError) else 126
    return 126  # pragma: no cover - execvp does not return


def adopt(pid: int) -> None:
    """Put a freshly spawned child into pygent's kill-on-close Job Object (Windows; no-op elsewhere).

    Never raises: a child that cannot be adopted (e.g. pygent itself runs in a job that forbids
    nesting, before Windows 8) still runs, and the normal stop path still stops it.
    """
    if not IS_WINDOWS or not enabled():
        return
    with contextlib.suppress(Exception):
        _assign_to_job(pid)


# -- Windows ---------------------------------------------------------------------------------

_JOB_OBJECT_EXTENDED_LIMIT_INFORMATION = 9
_JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000
_PROCESS_SET_QUOTA = 0x0100
_PROCESS_TERMINATE = 0x0001


def _kernel32() -> Any:
    import ctypes

    return ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]


def _job_handle() -> Any:
    """The process-wide job (created on first use), its only handle kept open until pygent dies."""
    global _job
    if _job is not None:
        return _job
    import ctypes
    from ctypes import wintypes

    class IoCounters(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_ulonglong)
            for name in (
                "ReadOperationCount",
                "WriteOperationCount",
                "OtherOperationCount",
                "ReadTransferCount",
                "WriteTransferCount",
                "OtherTransferCount",
            )
        ]

    class BasicLimits(ctypes.Structure):
        _fields_ = [
            ("PerProcessUserTimeLimit", ctypes.c_int64),
            ("PerJobUserTimeLimit", ctypes.c_int64),
            ("LimitFlags", wintypes.DWORD),
            ("MinimumWorkingSetSize", ctypes.c_size_t),
            ("MaximumWorkingSetSize", ctypes.c_size_t),
            ("ActiveProcessLimit", wintypes.DWORD),
            ("Affinity", ctypes.c_size_t),
            ("PriorityClass", wintypes.DWORD),
            ("SchedulingClass", wintypes.DWORD),
        ]

    class ExtendedLimits(ctypes.Structure):
        _fields_ = [
            ("BasicLimitInformation", BasicLimits),
            ("IoInfo", IoCounters),
            ("ProcessMemoryLimit", ctypes.c_size_t),
            ("JobMemoryLimit", ctypes.c_size_t),
            ("PeakProcessMemoryUsed", ctypes.c_size_t),
            ("PeakJobMemoryUsed", ctypes.c_size_t),
        ]

    kernel32 = _kernel32()
    kernel32.CreateJobObjectW.restype = wintypes.HANDLE
    kernel32.CreateJobObjectW.argtypes = [ctypes.c_void_p, wintypes.LPCWSTR]
    job = kernel32.CreateJobObjectW(None, None)
    if not job:
        raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined,unused-ignore]
    info = ExtendedLimits()
    info.BasicLimitInformation.LimitFlags = _JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    kernel32.SetInformationJobObject.argtypes = [
        wintypes.HANDLE,
        ctypes.c_int,
        ctypes.c_void_p,
        wintypes.DWORD,
    ]
    if not kernel32.SetInformationJobObject(
        job, _JOB_OBJECT_EXTENDED_LIMIT_INFORMATION, ctypes.byref(info), ctypes.sizeof(info)
    ):
        kernel32.CloseHandle(job)
        raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined,unused-ignore]
    _job = job
    return job


def _assign_to_job(pid: int) -> None:
    from ctypes import wintypes

    kernel32 = _kernel32()
    job = _job_handle()
    kernel32.OpenProcess.restype = wintypes.HANDLE
    kernel32.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
    handle = kernel32.OpenProcess(_PROCESS_SET_QUOTA | _PROCESS_TERMINATE, False, pid)
    if not handle:
        return  # already exited
    try:
        kernel32.AssignProcessToJobObject.argtypes = [wintypes.HANDLE, wintypes.HANDLE]
        kernel32.AssignProcessToJobObject(job, handle)
    finally:
        kernel32.CloseHandle(handle)


if __name__ == "__main__":
    sys.exit(_trampoline(sys.argv[1:]))
