"""macOS Seatbelt: the ``sandbox-exec`` profile for a :class:`~pygent.sandbox.policy.SandboxPolicy`.

The profile denies by default and then allows what a developer's command needs: running
programs, reading any file, writing beneath the writable roots (passed as ``-D`` parameters, so a
path never has to be quoted inside the profile), the null device and terminals, the system
services name resolution and the keychain's certificate checks use, and, only with
``network = true``, network sockets. Apple Events and other services stay denied, so a command
cannot ask another (unconfined) application to act for it.

``sandbox-exec`` is deprecated by Apple but remains the interface Seatbelt offers to processes
(Codex, Chromium's helpers and others use it the same way).
"""

from __future__ import annotations

from pygent.sandbox.policy import SandboxPolicy

__all__ = ["SANDBOX_EXEC", "profile", "sandbox_exec_argv"]

#: The Seatbelt command-line front end that ships with macOS.
SANDBOX_EXEC = "/usr/bin/sandbox-exec"

_BASE = """\
(version 1)
(deny default)

; programs, their children and their own processes
(allow process-exec)
(allow process-fork)
(allow signal (target same-sandbox))
(allow process-info* (target same-sandbox))

; reading is never restricted
(allow file-read*)

; what every program needs from the system
(allow sysctl-read)
(allow pseudo-tty)
(allow ipc-posix-sem)
(allow ipc-posix-shm-read-data)
(allow ipc-posix-shm-read-metadata)
(allow user-preference-read)
(allow mach-lookup
  (global-name "com.apple.system.opendirectoryd.libinfo")
  (global-name "com.apple.system.notification_center")
  (global-name "com.apple.system.logger")
  (global-name "com.apple.logd")
  (global-name "com.apple.trustd.agent")
  (global-name "com.apple.SecurityServer")
  (global-name "com.apple.CoreServices.coreservicesd"))

; the null device, terminals and the standard streams
(allow file-write-data file-ioctl
  (literal "/dev/null")
  (literal "/dev/zero")
  (literal "/dev/tty")
  (literal "/dev/dtracehelper")
  (regex #"^/dev/ttys[0-9]+$")
  (regex #"^/dev/fd/[0-9]+$"))
"""

_NETWORK = """
; network = true
(allow network-outbound)
(allow network-inbound)
(allow network-bind)
(allow system-socket)
(allow mach-lookup
  (global-name "com.apple.dnssd.service")
  (global-name "com.apple.SystemConfiguration.configd")
  (global-name "com.apple.SystemConfiguration.DNSConfiguration")
  (global-name "com.apple.networkd")
  (global-name "com.apple.nsurlsessiond"))
"""

_NO_NETWORK = """
; network = false: only local Unix sockets (no TCP/UDP)
(allow system-socket (socket-domain AF_UNIX))
(allow network-outbound (remote unix-socket))
"""


def _param(index: int) -> str:
    return f"WRITABLE_ROOT_{index}"


def profile(policy: SandboxPolicy) -> str:
    """The Seatbelt profile text for ``policy``; writable roots are ``(param "WRITABLE_ROOT_n")``.

    Pair it with :func:`sandbox_exec_argv`, which passes the parameters' values.
    """
    parts = [_BASE]
    if policy.writable:
        subpaths = "\n".join(
            f'  (subpath (param "{_param(i)}"))' for i in range(len(policy.writable))
        )
        parts.append(f"\n; writable roots ({policy.mode})\n(allow file-write*\n{subpaths})\n")
    parts.append(_NETWORK if policy.network else _NO_NETWORK)
    return "".join(parts)


def sandbox_exec_argv(policy: SandboxPolicy, argv: list[str]) -> list[str]:
    """``sandbox-exec -p PROFILE -D WRITABLE_ROOT_0=... -- ARGV`` for ``policy``."""
    out = [SANDBOX_EXEC, "-p", profile(policy)]
    for i, root in enumerate(policy.writable):
        out += ["-D", f"{_param(i)}={root}"]
    return [*out, "--", *argv]
