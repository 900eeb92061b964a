"""Whether this OS can confine commands, the effective sandbox, and the argv that confines one.

Support is probed once per process: on Linux the Landlock ABI version (a harmless
``landlock_create_ruleset`` version query), on macOS the presence of ``sandbox-exec``. Windows
and kernels without Landlock have no sandbox: pygent says so once (log, ``config show``, a notice
in editors) and relaxes nothing, so commands ask exactly as the permission mode says.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from pygent.sandbox.policy import SandboxPolicy, build_policy

if TYPE_CHECKING:
    from pygent.settings.models import Settings

__all__ = [
    "SandboxStatus",
    "SandboxSupport",
    "detect_support",
    "policy_for",
    "sandbox_status",
    "wrap_argv",
]


@dataclass(frozen=True)
class SandboxSupport:
    """What this machine offers to confine child processes.

    Attributes:
        available: Commands can be confined.
        mechanism: ``Landlock ABI 7``, ``Seatbelt``, or ``""``.
        reason: Why not, when unavailable (``this kernel has no Landlock``).
        network: Network access can be denied (a seccomp filter or Landlock ABI >= 4 on
            Linux, Seatbelt on macOS).
    """

    available: bool
    mechanism: str = ""
    reason: str = ""
    network: bool = False


def _landlock_probe() -> int:
    from pygent.sandbox.landlock import abi_version

    return abi_version()


def _seccomp_probe() -> bool:
    from pygent.sandbox.landlock import seccomp_supported

    return seccomp_supported()


def _support(
    platform: str,
    landlock_abi: Callable[[], int],
    seatbelt_exists: bool,
    seccomp: Callable[[], bool] = _seccomp_probe,
) -> SandboxSupport:
    if platform.startswith("linux"):
        abi = landlock_abi()
        if abi < 1:
            return SandboxSupport(
                False,
                reason="this kernel has no Landlock (Linux 5.13 or newer with Landlock enabled "
                "is needed)",
            )
        # Landlock's network rules cover TCP only; the seccomp filter refuses every network
        # socket (UDP too), so network = false holds with seccomp at any ABI.
        return SandboxSupport(True, f"Landlock ABI {abi}", network=seccomp() or abi >= 4)
    if platform == "darwin":
        if not seatbelt_exists:
            return SandboxSupport(False, reason="/usr/bin/sandbox-exec is missing")
        return SandboxSupport(True, "Seatbelt", network=True)
    if platform == "win32":
        return SandboxSupport(False, reason="Windows has no sandbox for commands yet")
    return SandboxSupport(False, reason=f"no sandbox is available on {platform}")


def detect_support(
    probe: Callable[[], int] | None = None,
    *,
    platform: str | None = None,
    seccomp: Callable[[], bool] | None = None,
) -> SandboxSupport:
    """What this machine offers; cached for the process unless ``probe``/``platform`` are given.

    Args:
        probe: Returns the Landlock ABI version (0: none). Tests inject one to simulate a kernel
            without Landlock; the default asks the running kernel.
        platform: ``sys.platform`` to assume.
        seccomp: Whether seccomp filters work (default: ask the kernel).
    """
    if probe is None and platform is None and seccomp is None:
        return _cached_support()
    from pygent.sandbox.seatbelt import SANDBOX_EXEC

    return _support(
        platform or sys.platform,
        probe or _landlock_probe,
        os.path.exists(SANDBOX_EXEC),
        seccomp or _seccomp_probe,
    )


@lru_cache(maxsize=1)
def _cached_support() -> SandboxSupport:
    from pygent.sandbox.seatbelt import SANDBOX_EXEC

    support = _support(sys.platform, _landlock_probe, os.path.exists(SANDBOX_EXEC))
    if not support.available:
        from loguru import logger

        logger.warning("sandbox unavailable: {}; commands run unconfined", support.reason)
    return support


@dataclass(frozen=True)
class SandboxStatus:
    """The sandbox in effect: the mode the settings ask for and what the machine supports.

    Attributes:
        mode: ``[sandbox] mode`` (``workspace-write``, ``read-only`` or ``off``).
        network: ``[sandbox] network``.
        support: What the machine offers.
    """

    mode: str
    network: bool
    support: SandboxSupport

    @property
    def active(self) -> bool:
        """Commands are confined."""
        return self.mode != "off" and self.support.available

    @property
    def unsupported(self) -> bool:
        """The settings ask for a sandbox this machine cannot provide."""
        return self.mode != "off" and not self.support.available

    def describe(self) -> str:
        """One line for people: ``workspace-write (Landlock ABI 7)``, or why it is off."""
        if self.active:
            detail = self.support.mechanism
            if self.network:
                detail += ", network allowed"
            elif not self.support.network:
                detail += (
                    ", network NOT confined: no seccomp filters and this kernel's Landlock "
                    "predates ABI 4"
                )
            return f"{self.mode} ({detail})"
        if self.mode == "off":
            return "off (turned off in the settings; commands run unconfined)"
        return (
            f"off: {self.support.reason}; commands run unconfined and ask as the permission "
            "mode says (nothing is relaxed)"
        )


def sandbox_status(settings: Settings, probe: Callable[[], int] | None = None) -> SandboxStatus:
    """The effective sandbox for ``settings`` (``probe``: see :func:`detect_support`)."""
    support = detect_support(probe) if probe is not None else detect_support()
    return SandboxStatus(settings.sandbox.mode, settings.sandbox.network, support)


def policy_for(
    settings: Settings, roots: Sequence[str | Path], *, status: SandboxStatus | None = None
) -> SandboxPolicy | None:
    """The policy confining commands for ``settings`` over ``roots``; None when inactive."""
    current = status or sandbox_status(settings)
    if not current.active:
        return None
    _warn_about_broad_roots(tuple(str(r) for r in roots))
    return build_policy(
        current.mode,
        roots,
        writable_roots=settings.sandbox.writable_roots,
        network=settings.sandbox.network,
    )


@lru_cache(maxsize=8)
def _warn_about_broad_roots(roots: tuple[str, ...]) -> None:
    # A workspace at / or containing the home directory makes ~/.bashrc, ~/.ssh and
    # ~/.gitconfig writable: the sandbox then protects much less. Said once per set of roots.
    home = Path.home().resolve()
    for root in roots:
        resolved = Path(root).resolve()
        if resolved == home or home.is_relative_to(resolved):
            from loguru import logger

            logger.warning(
                "the workspace {} contains the home directory: sandboxed commands may write "
                "your shell profile, SSH and git config; open a project directory instead",
                resolved,
            )


def _trampoline() -> str:
    return str(Path(__file__).with_name("landlock.py"))


def wrap_argv(
    argv: Sequence[str], policy: SandboxPolicy, *, platform: str | None = None
) -> list[str]:
    """``argv`` prefixed so it runs confined by ``policy`` on this platform.

    Linux: ``python -I -S .../landlock.py [--network] --write DIR ... -- ARGV`` (the trampoline
    restricts itself, then execs ARGV). macOS: ``sandbox-exec -p PROFILE -D ... -- ARGV``.

    Raises:
        OSError: this platform has no sandbox (callers check :class:`SandboxStatus` first).
    """
    system = platform or sys.platform
    if system.startswith("linux"):
        from pygent.sandbox.landlock import DEVICE_PATHS, trampoline_args

        writable = [*policy.writable, *DEVICE_PATHS]
        return [
            sys.executable,
            "-I",
            "-S",
            _trampoline(),
            *trampoline_args(writable, policy.network),
            "--",
            *argv,
        ]
    if system == "darwin":
        from pygent.sandbox.seatbelt import sandbox_exec_argv

        return sandbox_exec_argv(policy, list(argv))
    raise OSError(f"no sandbox is available on {system}")
