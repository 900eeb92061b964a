"""Linux Landlock through ctypes, and the trampoline that confines a command before ``exec``.

This file imports nothing but the standard library, because it is also the *trampoline*: the
sandboxed child is started as ``python -I -S landlock.py [--network] [--write DIR]... -- ARGV``;
the script restricts itself (``prctl(PR_SET_NO_NEW_PRIVS)``, then ``landlock_create_ruleset`` / ``landlock_add_rule`` /
``landlock_restrict_self``, syscalls 444-446 on every architecture) and ``exec``s ``ARGV``. The
domain is inherited by everything the command starts and can never be lifted.

Why a trampoline and not ``preexec_fn``: ``preexec_fn`` runs Python in the child between
``fork`` and ``exec``; the Python docs call it unsafe when the parent has threads (the server
has several: pygls, litellm, asyncio's executor), because the child can deadlock on a lock another
thread held at fork time, and it forbids the fast ``vfork``/``posix_spawn`` path. Measured on
the development machine (2 shared cores, Landlock ABI 7), spawning ``true``: 0.7 ms bare, 2.2 ms
with ``preexec_fn``, 12.3 ms with this trampoline when the machine was idle (``python -I -S``
alone is 8.3 ms: no site, no user paths, no ``PYTHON*`` variables that could subvert it; no
``json``/``re``/``typing`` imports); under a load average of 13 the same spawns took 0.7, 45 and
74 ms. The trampoline costs ~11 ms more on an idle machine, within the 15 ms budget, and cannot
deadlock, so it is the one used; ``tests/benchmarks/test_sandbox_bench.py`` measures both.

Best effort across kernels, as the kernel documentation describes: the ABI version is asked
first and every access right this ABI does not know is masked out of the ruleset (ABI 1: no
``REFER``, so moving a file between directories is refused; < 3: no ``TRUNCATE``; < 4: no TCP
rules, so ``network = false`` cannot be enforced; < 6: no scopes). Reads and execution are not
handled at all: a confined command may read anywhere and write only beneath the writable roots.
"""

from __future__ import annotations

import ctypes
import os
import sys

# The trampoline must start fast: no ``typing``, ``json`` or ``re`` at run time (they cost ~10 ms).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "ACCESS_FS",
    "LandlockError",
    "abi_version",
    "apply_policy",
    "deny_network_sockets",
    "fs_write_rights",
    "main",
    "net_rights",
    "scope_rights",
    "seccomp_program",
    "seccomp_supported",
    "trampoline_args",
]

_SYS_CREATE_RULESET = 444
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1 << 0
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
# Linux only; looked up this way so the module still imports (and type-checks) elsewhere.
_O_PATH: int = getattr(os, "O_PATH", 0)
_O_CLOEXEC: int = getattr(os, "O_CLOEXEC", 0)

#: Landlock filesystem access rights (``LANDLOCK_ACCESS_FS_*``) and the ABI that introduced each.
ACCESS_FS: dict[str, tuple[int, int]] = {
    "EXECUTE": (1 << 0, 1),
    "WRITE_FILE": (1 << 1, 1),
    "READ_FILE": (1 << 2, 1),
    "READ_DIR": (1 << 3, 1),
    "REMOVE_DIR": (1 << 4, 1),
    "REMOVE_FILE": (1 << 5, 1),
    "MAKE_CHAR": (1 << 6, 1),
    "MAKE_DIR": (1 << 7, 1),
    "MAKE_REG": (1 << 8, 1),
    "MAKE_SOCK": (1 << 9, 1),
    "MAKE_FIFO": (1 << 10, 1),
    "MAKE_BLOCK": (1 << 11, 1),
    "MAKE_SYM": (1 << 12, 1),
    "REFER": (1 << 13, 2),
    "TRUNCATE": (1 << 14, 3),
    "IOCTL_DEV": (1 << 15, 5),
}
# Rights that change the file system. Reading, listing, executing and device ioctls are not
# handled, so they stay allowed everywhere.
_WRITE_NAMES = (
    "WRITE_FILE",
    "REMOVE_DIR",
    "REMOVE_FILE",
    "MAKE_CHAR",
    "MAKE_DIR",
    "MAKE_REG",
    "MAKE_SOCK",
    "MAKE_FIFO",
    "MAKE_BLOCK",
    "MAKE_SYM",
    "REFER",
    "TRUNCATE",
)
# The only rights a rule on a non-directory (``/dev/null``) may carry.
_FILE_NAMES = ("WRITE_FILE", "TRUNCATE")
_NET_BIND_TCP = 1 << 0
_NET_CONNECT_TCP = 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
_SCOPE_SIGNAL = 1 << 1

#: Device files and directories a shell needs to write even in a confined command.
DEVICE_PATHS: tuple[str, ...] = (
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/pts",
    "/dev/shm",
)

#: Exit status of the trampoline when the sandbox cannot be set up (the command did not run).
EXIT_SETUP_FAILED = 125
#: First words of the trampoline's own messages on stderr.
MESSAGE_PREFIX = "pygent sandbox:"


class LandlockError(OSError):
    """A Landlock step failed (the message names the step and the errno text)."""


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.prctl.restype = ctypes.c_int
    return libc


def _fail(step: str) -> LandlockError:
    err = ctypes.get_errno()
    return LandlockError(err, f"{step} failed: {os.strerror(err)}")


def abi_version() -> int:
    """The Landlock ABI version of the running kernel; 0 when Landlock is unavailable.

    0 covers: not Linux, a kernel older than 5.13, Landlock compiled out or not enabled at boot
    (``lsm=``), or a seccomp filter (e.g. a container runtime) refusing the syscall.
    """
    if not sys.platform.startswith("linux"):
        return 0
    try:
        value = int(_libc().syscall(_SYS_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return value if value > 0 else 0


def fs_write_rights(abi: int, names: Iterable[str] = _WRITE_NAMES) -> int:
    """The bit mask of the named filesystem rights that ABI ``abi`` knows (the others masked)."""
    mask = 0
    for name in names:
        bit, since = ACCESS_FS[name]
        if abi >= since:
            mask |= bit
    return mask


def net_rights(abi: int, network: bool) -> int:
    """Handled network rights: TCP bind and connect when ``network`` is off and ABI >= 4."""
    return 0 if network or abi < 4 else _NET_BIND_TCP | _NET_CONNECT_TCP


def scope_rights(abi: int, network: bool) -> int:
    """Scopes (ABI >= 6): signals to processes outside the sandbox, and, without network,
    abstract Unix sockets outside it (D-Bus, X11)."""
    if abi < 6:
        return 0
    return _SCOPE_SIGNAL | (0 if network else _SCOPE_ABSTRACT_UNIX_SOCKET)


def _ruleset_attr(abi: int, fs: int, net: int, scoped: int) -> bytes:
    # struct landlock_ruleset_attr grew with the ABI: pass only the fields this kernel knows.
    fields = [fs]
    if abi >= 4:
        fields.append(net)
    if abi >= 6:
        fields.append(scoped)
    return b"".join(f.to_bytes(8, sys.byteorder) for f in fields)


def _path_beneath(allowed: int, fd: int) -> bytes:
    # struct landlock_path_beneath_attr { __u64 allowed_access; __s32 parent_fd; } __packed
    return allowed.to_bytes(8, sys.byteorder) + fd.to_bytes(4, sys.byteorder, signed=True)


def apply_policy(
    writable: Sequence[str], network: bool, abi: int | None = None, *, seccomp: bool | None = None
) -> int:
    """Confine this process (and everything it will start) to the policy; returns the ABI used.

    Args:
        writable: Directories (or device files) beneath which writing stays allowed. Missing
            paths are skipped.
        network: Keep network access. Without it, Landlock refuses TCP (ABI >= 4) and a
            seccomp filter refuses every network socket (TCP and UDP, any ABI).
        abi: The ABI to assume (default: ask the kernel).
        seccomp: Install the seccomp filter when ``network`` is off (default: when
            :func:`seccomp_supported`; a filter the kernel then refuses raises).

    Raises:
        LandlockError: Landlock is unavailable or a step failed; nothing was restricted unless
            the last step failed.
    """
    version = abi_version() if abi is None else abi
    if version < 1:
        raise LandlockError(0, "this kernel has no Landlock")
    libc = _libc()
    fs = fs_write_rights(version)
    file_rights = fs_write_rights(version, _FILE_NAMES)
    attr = _ruleset_attr(version, fs, net_rights(version, network), scope_rights(version, network))
    ruleset = int(libc.syscall(_SYS_CREATE_RULESET, attr, len(attr), 0))
    if ruleset < 0:
        raise _fail("landlock_create_ruleset")
    try:
        for path in writable:
            try:
                fd = os.open(path, _O_PATH | _O_CLOEXEC)
            except OSError:
                continue  # a root that does not exist (yet) grants nothing
            try:
                allowed = fs if os.path.isdir(f"/proc/self/fd/{fd}") else file_rights
                rule = _path_beneath(allowed, fd)
                if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, rule, 0) != 0:
                    raise _fail(f"landlock_add_rule({path})")
            finally:
                os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise _fail("prctl(PR_SET_NO_NEW_PRIVS)")
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0) != 0:
            raise _fail("landlock_restrict_self")
    finally:
        os.close(ruleset)
    if seccomp is None:
        seccomp = seccomp_supported()
    if not network and seccomp:
        deny_network_sockets()
    return version


# -- seccomp: no network sockets at all (Landlock's network rules cover TCP only) ---------------

_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_EFAULT = 14
_EACCES = 13
_AF_UNIX = 1
_AF_NETLINK = 16
# Classic BPF opcodes: load a word of ``struct seccomp_data``, compare, jump, return.
_LD_ABS = 0x20
_JEQ = 0x15
_JGE = 0x35
_JA = 0x05
_RET = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_DENY = 0x00050000 | _EACCES  # SECCOMP_RET_ERRNO: "Permission denied", like Landlock's
_X32_SYSCALL_BIT = 0x40000000

#: ``uname -m`` -> (AUDIT_ARCH, socket, io_uring_setup, compat AUDIT_ARCH, compat syscalls to deny).
#: The compat ABI (32-bit programs on a 64-bit kernel) has its own numbers, and i386's
#: ``socketcall`` multiplexer hides the socket domain in memory, so it is denied whole.
_SECCOMP_ARCHES: dict[str, tuple[int, int, int, int, tuple[int, ...]]] = {
    "x86_64": (0xC000003E, 41, 425, 0x40000003, (102, 359, 425)),
    "aarch64": (0xC00000B7, 198, 425, 0x40000028, (281, 425)),
    "arm64": (0xC00000B7, 198, 425, 0x40000028, (281, 425)),
    "riscv64": (0xC00000F3, 198, 425, 0, ()),
}


def seccomp_program(machine: str, little_endian: bool = sys.byteorder == "little") -> bytes | None:
    """The seccomp filter that refuses network sockets, as ``struct sock_filter`` bytes.

    ``socket()`` succeeds only for ``AF_UNIX`` (pipes between local programs) and
    ``AF_NETLINK`` (the kernel's own interface and routing tables; it reaches no other host);
    every other domain (``AF_INET``/``AF_INET6`` TCP *and UDP*, raw and packet sockets) fails
    with ``EACCES``. ``io_uring_setup`` is refused too (io_uring can open sockets without
    ``socket()``), and so are x32 system calls. None for an architecture this table lacks.
    """
    arch = _SECCOMP_ARCHES.get(machine)
    if arch is None:
        return None
    native, nr_socket, nr_io_uring, compat, compat_denied = arch
    domain = 16 if little_endian else 20  # the low half of seccomp_data.args[0]
    # (opcode, jump-if-true label, jump-if-false label, constant); labels resolve below.
    program: list[tuple[int, str | None, str | None, int]] = [
        (_LD_ABS, None, None, 4),  # seccomp_data.arch
        (_JEQ, None, "compat", native),
        (_LD_ABS, None, None, 0),  # seccomp_data.nr
    ]
    if machine == "x86_64":
        program.append((_JGE, "deny", None, _X32_SYSCALL_BIT))
    program += [
        (_JEQ, "deny", None, nr_io_uring),
        (_JEQ, None, "allow", nr_socket),
        (_LD_ABS, None, None, domain),
        (_JEQ, "allow", None, _AF_UNIX),
        (_JEQ, "allow", "deny", _AF_NETLINK),
    ]
    labels = {"compat": len(program)}
    if compat:
        program.append((_JEQ, None, "deny", compat))  # neither native nor compat: refuse
        program.append((_LD_ABS, None, None, 0))
        program += [(_JEQ, "deny", None, nr) for nr in compat_denied]
        program.append((_JA, "allow", None, 0))
    else:
        program.append((_JA, "deny", None, 0))  # not the native architecture: refuse
    labels["allow"] = len(program)
    program.append((_RET, None, None, _RET_ALLOW))
    labels["deny"] = len(program)
    program.append((_RET, None, None, _RET_DENY))
    out = bytearray()
    for index, (code, true, false, k) in enumerate(program):
        jt = labels[true] - index - 1 if true else 0
        jf = labels[false] - index - 1 if false else 0
        if code == _JA:  # an unconditional jump carries its offset in k
            jt, k = 0, labels[true or "allow"] - index - 1
        if little_endian:
            out += code.to_bytes(2, "little") + bytes((jt, jf)) + k.to_bytes(4, "little")
        else:
            out += code.to_bytes(2, "big") + bytes((jt, jf)) + k.to_bytes(4, "big")
    return bytes(out)


def seccomp_supported() -> bool:
    """Seccomp filters work here (Linux, a known architecture, ``CONFIG_SECCOMP_FILTER``).

    The probe installs nothing: ``PR_SET_SECCOMP`` with a NULL filter fails with ``EFAULT``
    exactly when filters are supported (``EINVAL`` when not).
    """
    if not sys.platform.startswith("linux") or os.uname().machine not in _SECCOMP_ARCHES:
        return False
    try:
        libc = _libc()
    except OSError:
        return False
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, None, 0, 0) == 0:  # pragma: no cover
        return True
    return ctypes.get_errno() == _EFAULT


def deny_network_sockets() -> None:
    """Install :func:`seccomp_program` on this process (inherited by everything it starts).

    ``PR_SET_NO_NEW_PRIVS`` must be set first (:func:`apply_policy` does).

    Raises:
        LandlockError: The architecture is unknown or the kernel refused the filter.
    """
    program = seccomp_program(os.uname().machine)
    if program is None:
        raise LandlockError(0, f"no seccomp filter for the {os.uname().machine} architecture")

    class _Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]

    prog = _Prog(len(program) // 8, program)
    if _libc().prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise _fail("seccomp(SECCOMP_MODE_FILTER)")


def trampoline_args(writable: Sequence[str], network: bool) -> list[str]:
    """The trampoline's arguments before ``--`` for a policy (parsed by :func:`main`)."""
    args = ["--network" if network else "--no-network"]
    for path in writable:
        args += ["--write", path]
    return args


def _parse(argv: Sequence[str]) -> tuple[list[str], bool, list[str]]:
    writable: list[str] = []
    network = False
    i = 0
    while i < len(argv) and argv[i] != "--":
        if argv[i] == "--write" and i + 1 < len(argv):
            writable.append(argv[i + 1])
            i += 2
            continue
        if argv[i] not in ("--network", "--no-network"):
            raise ValueError(f"unknown trampoline argument {argv[i]!r}")
        network = argv[i] == "--network"
        i += 1
    if i + 1 >= len(argv):
        raise ValueError("usage: landlock.py [--network] [--write DIR]... -- PROGRAM [ARGS...]")
    return writable, network, list(argv[i + 1 :])


def main(argv: Sequence[str] | None = None) -> int:
    """Trampoline entry: apply the policy given by the arguments, then ``exec`` the command.

    Never runs the command unconfined: any failure before ``exec`` prints a line starting with
    :data:`MESSAGE_PREFIX` and exits with :data:`EXIT_SETUP_FAILED`.
    """
    args = sys.argv[1:] if argv is None else argv
    try:
        writable, network, command = _parse(args)
        apply_policy(writable, network)
    except (OSError, ValueError) as exc:
        sys.stderr.write(
            f"{MESSAGE_PREFIX} could not confine the command, so it was not run: {exc}\n"
        )
        return EXIT_SETUP_FAILED
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        sys.stderr.write(f"{command[0]}: {exc.strerror or exc}\n")
        return 127 if isinstance(exc, FileNotFoundError) else 126
    return 126  # pragma: no cover - execvp does not return


if __name__ == "__main__":
    sys.exit(main())
