"""The sandbox's parts as data: policy building, ABI masking, the Seatbelt profile, support
detection and its fallback message, denial recognition, settings/env/flag precedence and
``config show``. Landlock itself is exercised for every ABI version in real child processes."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Literal

import pytest
from click.testing import CliRunner

from pygent.cli import cli
from pygent.cli.config import render_settings_toml
from pygent.errors import ConfigError
from pygent.sandbox import landlock, seatbelt
from pygent.sandbox.denials import find_denial
from pygent.sandbox.policy import SandboxPolicy, build_policy, temp_dirs
from pygent.sandbox.runtime import (
    SandboxStatus,
    _support,
    detect_support,
    policy_for,
    sandbox_status,
    wrap_argv,
)
from pygent.settings.loader import load_layers, load_settings
from pygent.settings.models import Settings

linux_landlock = pytest.mark.skipif(
    not sys.platform.startswith("linux") or landlock.abi_version() < 1,
    reason="needs Linux with Landlock",
)
LANDLOCK_FILE = Path(landlock.__file__)


# -- policy -------------------------------------------------------------------------------------


def test_workspace_write_policy_has_roots_temp_and_extra_dirs(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    policy = build_policy(
        "workspace-write", [ws], writable_roots=["cache", "~/.npm"], network=False
    )
    assert policy is not None and policy.mode == "workspace-write"
    assert str(ws.resolve()) == policy.writable[0]
    assert str((ws / "cache").resolve()) in policy.writable
    assert str(Path("~/.npm").expanduser().resolve()) in policy.writable
    for temp in temp_dirs():
        assert str(Path(temp).resolve()) in policy.writable
    assert len(policy.writable) == len(set(policy.writable))


def test_read_only_policy_writes_nowhere_and_off_builds_none(tmp_path: Path) -> None:
    policy = build_policy("read-only", [tmp_path])
    assert policy == SandboxPolicy("read-only", (), False)
    assert build_policy("off", [tmp_path]) is None
    with pytest.raises(ValueError, match="unknown sandbox mode 'lax'"):
        build_policy("lax", [tmp_path])


def test_allows_write_follows_symlinks_and_does_not_confuse_prefixes(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (tmp_path / "ws2").mkdir()
    ws.mkdir()
    (ws / "out").symlink_to(tmp_path / "ws2")
    policy = SandboxPolicy("workspace-write", (str(ws.resolve()),))
    assert policy.allows_write(ws / "a" / "b.txt")
    assert not policy.allows_write(tmp_path / "ws2" / "x")
    assert not policy.allows_write(ws / "out" / "x")  # the link leads outside
    assert policy.with_writable([tmp_path / "ws2"]).allows_write(tmp_path / "ws2" / "x")
    assert policy.with_network().network and not policy.network


# -- ABI masking --------------------------------------------------------------------------------


def test_write_rights_are_masked_to_what_each_abi_knows() -> None:
    refer, truncate = landlock.ACCESS_FS["REFER"][0], landlock.ACCESS_FS["TRUNCATE"][0]
    v1 = landlock.fs_write_rights(1)
    assert v1 & refer == 0 and v1 & truncate == 0
    assert landlock.fs_write_rights(2) & refer and not landlock.fs_write_rights(2) & truncate
    assert landlock.fs_write_rights(3) & truncate
    assert landlock.fs_write_rights(7) == landlock.fs_write_rights(3)  # nothing new to write
    for abi in range(1, 8):
        rights = landlock.fs_write_rights(abi)
        for name in ("READ_FILE", "READ_DIR", "EXECUTE", "IOCTL_DEV"):
            assert rights & landlock.ACCESS_FS[name][0] == 0, (abi, name)


def test_network_and_scopes_are_handled_only_from_their_abi() -> None:
    assert landlock.net_rights(3, network=False) == 0
    assert landlock.net_rights(4, network=False) == 0b11
    assert landlock.net_rights(7, network=True) == 0
    assert landlock.scope_rights(5, network=False) == 0
    assert landlock.scope_rights(6, network=False) == 0b11
    assert landlock.scope_rights(6, network=True) == 0b10  # signals stay scoped


def test_ruleset_attr_size_grows_with_the_abi() -> None:
    assert len(landlock._ruleset_attr(1, 1, 0, 0)) == 8
    assert len(landlock._ruleset_attr(4, 1, 3, 0)) == 16
    assert len(landlock._ruleset_attr(6, 1, 3, 3)) == 24


_PROBE = """
import os, socket, sys
sys.path.insert(0, os.path.dirname(sys.argv[1]))
import landlock
abi, ws, outside = int(sys.argv[2]), sys.argv[3], sys.argv[4]
tcp_port, udp_port, seccomp = int(sys.argv[5]), int(sys.argv[6]), sys.argv[7] == "1"
landlock.apply_policy([ws, "/dev/null"], network=False, abi=abi, seccomp=seccomp)
open(os.path.join(ws, "inside.txt"), "w").write("ok")
try:
    open(os.path.join(outside, "outside.txt"), "w")
    print("outside-written")
except PermissionError:
    print("outside-denied")
try:
    socket.create_connection(("127.0.0.1", tcp_port), timeout=5)
    print("connect-allowed")
except PermissionError:
    print("connect-denied")
try:
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"leak", ("127.0.0.1", udp_port))
    print("udp-allowed")
except PermissionError:
    print("udp-denied")
"""


@linux_landlock
@pytest.mark.parametrize("seccomp", [False, True], ids=["landlock-only", "with-seccomp"])
@pytest.mark.parametrize("abi", range(1, 8))
def test_every_abi_confines_writes_and_the_network_as_far_as_it_can(
    abi: int, seccomp: bool, tmp_path: Path
) -> None:
    """Landlock alone refuses TCP from ABI 4 and never UDP; with the seccomp filter both are
    refused at every ABI (a datagram to a loopback listener proves whether it left)."""
    import socket

    if abi > landlock.abi_version():
        pytest.skip(f"the kernel has Landlock ABI {landlock.abi_version()}")
    if seccomp and not landlock.seccomp_supported():
        pytest.skip("this kernel has no seccomp filters")
    ws = tmp_path / "ws"
    ws.mkdir()
    outside = Path(tempfile.mkdtemp(dir="/var/tmp"))
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    datagrams = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    datagrams.bind(("127.0.0.1", 0))
    datagrams.setblocking(False)
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                _PROBE,
                str(LANDLOCK_FILE),
                str(abi),
                str(ws),
                str(outside),
                str(server.getsockname()[1]),
                str(datagrams.getsockname()[1]),
                "1" if seccomp else "0",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        lines = done.stdout.split()
        assert (ws / "inside.txt").read_text() == "ok"
        assert lines[0] == "outside-denied"
        assert not (outside / "outside.txt").exists()
        tcp_refused = seccomp or abi >= 4
        assert lines[1] == ("connect-denied" if tcp_refused else "connect-allowed")
        assert lines[2] == ("udp-denied" if seccomp else "udp-allowed")
        try:
            received: bytes | None = datagrams.recv(64)
        except BlockingIOError:
            received = None
        assert received == (None if seccomp else b"leak")
    finally:
        server.close()
        datagrams.close()
        for child in outside.iterdir():
            child.unlink()
        outside.rmdir()


@linux_landlock
def test_trampoline_refuses_to_run_anything_it_cannot_confine(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(LANDLOCK_FILE), "--bogus", "--", "touch", str(marker)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == landlock.EXIT_SETUP_FAILED
    assert done.stderr.startswith(landlock.MESSAGE_PREFIX)
    assert "was not run" in done.stderr
    assert not marker.exists()


@linux_landlock
def test_trampoline_reports_a_missing_program_like_a_shell(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            str(LANDLOCK_FILE),
            "--write",
            str(tmp_path),
            "--",
            "no-such-program-xyz",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 127
    assert "no-such-program-xyz" in done.stderr


# -- Seatbelt -----------------------------------------------------------------------------------


def test_seatbelt_profile_denies_by_default_and_names_roots_as_parameters() -> None:
    policy = SandboxPolicy("workspace-write", ("/Users/me/proj", '/tmp/we"ird (dir)'))
    text = seatbelt.profile(policy)
    assert text.startswith("(version 1)\n(deny default)")
    assert "(allow file-read*)" in text
    assert '(subpath (param "WRITABLE_ROOT_0"))' in text
    assert '(subpath (param "WRITABLE_ROOT_1"))' in text
    assert 'we"ird' not in text  # paths travel as -D values, never inside the profile
    assert "(allow network-outbound)" not in text
    assert "(remote unix-socket)" in text
    assert text.count("(") == text.count(")")
    argv = seatbelt.sandbox_exec_argv(policy, ["bash", "-c", "make"])
    assert argv[:3] == [seatbelt.SANDBOX_EXEC, "-p", text]
    assert argv[3:7] == [
        "-D",
        "WRITABLE_ROOT_0=/Users/me/proj",
        "-D",
        'WRITABLE_ROOT_1=/tmp/we"ird (dir)',
    ]
    assert argv[7:] == ["--", "bash", "-c", "make"]


def test_seatbelt_profile_with_network_and_read_only() -> None:
    net = seatbelt.profile(SandboxPolicy("workspace-write", ("/p",), network=True))
    assert "(allow network-outbound)" in net and "com.apple.dnssd.service" in net
    read_only = seatbelt.profile(SandboxPolicy("read-only", ()))
    assert "WRITABLE_ROOT" not in read_only and "(allow file-write*\n" not in read_only
    assert '(literal "/dev/null")' in read_only


def test_wrap_argv_per_platform() -> None:
    policy = SandboxPolicy("workspace-write", ("/w",))
    linux = wrap_argv(["git", "status"], policy, platform="linux")
    assert linux[:4] == [sys.executable, "-I", "-S", str(LANDLOCK_FILE)]
    assert linux[linux.index("--") :] == ["--", "git", "status"]
    assert linux[5:7] == ["--write", "/w"] and linux[4] == "--no-network"
    assert "/dev/null" in linux
    assert wrap_argv(["ls"], policy, platform="darwin")[0] == seatbelt.SANDBOX_EXEC
    with pytest.raises(OSError, match="no sandbox is available on win32"):
        wrap_argv(["dir"], policy, platform="win32")


# -- support and the fallback -------------------------------------------------------------------


def test_a_kernel_without_landlock_has_no_sandbox_and_says_so() -> None:
    support = detect_support(lambda: 0, platform="linux")
    assert not support.available
    assert "this kernel has no Landlock" in support.reason
    status = SandboxStatus("workspace-write", False, support)
    assert not status.active and status.unsupported
    assert status.describe().startswith("off: this kernel has no Landlock")
    assert "nothing is relaxed" in status.describe()
    assert policy_for(Settings(), [Path.cwd()], status=status) is None


def test_windows_and_macos_support() -> None:
    windows = detect_support(lambda: 7, platform="win32")
    assert not windows.available and "Windows" in windows.reason
    mac = _support("darwin", lambda: 0, seatbelt_exists=True)
    assert mac.available and mac.mechanism == "Seatbelt" and mac.network
    old_mac = _support("darwin", lambda: 0, seatbelt_exists=False)
    assert not old_mac.available and "sandbox-exec is missing" in old_mac.reason


def test_old_landlock_without_seccomp_says_network_is_not_confined() -> None:
    support = detect_support(lambda: 3, platform="linux", seccomp=lambda: False)
    status = SandboxStatus("workspace-write", False, support)
    assert status.active
    assert status.describe() == (
        "workspace-write (Landlock ABI 3, network NOT confined: no seccomp filters and this "
        "kernel's Landlock predates ABI 4)"
    )
    # The seccomp filter confines the network whatever the Landlock ABI.
    with_seccomp = detect_support(lambda: 1, platform="linux", seccomp=lambda: True)
    assert with_seccomp.network
    assert SandboxStatus("workspace-write", False, with_seccomp).describe() == (
        "workspace-write (Landlock ABI 1)"
    )


def test_status_texts() -> None:
    seven = detect_support(lambda: 7, platform="linux")
    assert SandboxStatus("workspace-write", False, seven).describe() == (
        "workspace-write (Landlock ABI 7)"
    )
    assert SandboxStatus("read-only", True, seven).describe() == (
        "read-only (Landlock ABI 7, network allowed)"
    )
    assert SandboxStatus("off", False, seven).describe().startswith("off (turned off")
    assert not SandboxStatus("off", False, seven).unsupported


# -- denials ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("touch: cannot touch '/etc/x': Permission denied", "write to /etc/x"),
        ("bash: line 1: /etc/x: Permission denied", "write to /etc/x"),
        ("/usr/bin/bash: line 1: /etc/x: Permission denied", "write to /etc/x"),
        ("PermissionError: [Errno 13] Permission denied: '/etc/x'", "write to /etc/x"),
        ("mkdir: cannot create directory ‘/etc/x’: Permission denied", "write to /etc/x"),
        ("mv: cannot move 'a' to '/etc/a': Permission denied", "write to /etc/a"),
        (
            "sed: couldn't open temporary file /etc/sedX: Read-only file system",
            "write to /etc/sedX",
        ),
        (
            "  sock.connect(sa)\nPermissionError: [Errno 13] Permission denied",
            "network connection",
        ),
        ("bash: line 1: kill: (1) - Operation not permitted", "signal"),
    ],
)
def test_denials_are_recognised(output: str, expected: str, tmp_path: Path) -> None:
    policy = SandboxPolicy("workspace-write", (str(tmp_path),))
    denial = find_denial(output, policy, tmp_path)
    assert denial is not None and expected in denial.describe()


def test_permission_problems_inside_the_roots_are_not_blamed_on_the_sandbox(
    tmp_path: Path,
) -> None:
    (tmp_path / "locked.txt").write_text("")
    policy = SandboxPolicy("workspace-write", (str(tmp_path),))
    output = f"bash: {tmp_path}/locked.txt: Permission denied\ncat: locked.txt: Permission denied"
    assert find_denial(output, policy, tmp_path) is None
    assert find_denial("error: tests failed", policy, tmp_path) is None


# -- settings, environment, flags, config show ---------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    monkeypatch.chdir(root)
    return root


def test_sandbox_settings_default_and_precedence(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Settings().sandbox.mode == "workspace-write"
    assert Settings().sandbox.network is False and Settings().git.run_hooks is False
    (project / ".pygent").mkdir()
    (project / ".pygent" / "config.toml").write_text(
        '[sandbox]\nmode = "read-only"\nwritable_roots = ["~/.cache"]\n[git]\nrun_hooks = true\n'
    )
    loaded = load_layers(project)
    assert loaded.settings.sandbox.mode == "read-only"
    assert loaded.settings.git.run_hooks is True
    monkeypatch.setenv("PYGENT_SANDBOX", "off")
    loaded = load_layers(project)
    assert loaded.settings.sandbox.mode == "off"
    assert loaded.sources["sandbox.mode"] == "env (PYGENT_SANDBOX)"
    loaded = load_layers(project, {"sandbox": {"mode": "workspace-write"}})
    assert loaded.settings.sandbox.mode == "workspace-write"
    assert loaded.sources["sandbox.mode"] == "flag"


def test_bad_sandbox_mode_names_its_source(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYGENT_SANDBOX", "yolo")
    with pytest.raises(ConfigError) as info:
        load_settings(project)
    assert "PYGENT_SANDBOX" in str(info.value) and "'workspace-write'" in str(info.value)


@pytest.mark.parametrize("command", ["chat", "serve", "run"])
def test_sandbox_flag_accepts_only_known_modes(command: str, project: Path) -> None:
    args = [command, "--sandbox", "yolo"] + (["hi"] if command == "run" else [])
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "'workspace-write', 'read-only', 'off'" in result.output


@linux_landlock
def test_config_show_reports_the_sandbox(project: Path) -> None:
    result = CliRunner().invoke(cli, ["config", "show", "--brief"], catch_exceptions=False)
    assert f"# sandbox: workspace-write (Landlock ABI {landlock.abi_version()})" in result.output
    assert "[sandbox]" in result.output and 'mode = "workspace-write"  # default' in result.output


def test_config_show_says_when_the_kernel_has_no_landlock(project: Path) -> None:
    text = render_settings_toml(load_layers(project), sandbox_probe=lambda: 0)
    if sys.platform.startswith("linux"):
        assert "# sandbox: off: this kernel has no Landlock" in text
    off = Settings.model_validate({"sandbox": {"mode": "off"}})
    assert "turned off" in sandbox_status(off, lambda: 0).describe()


def test_sandbox_package_imports_nothing_it_must_not() -> None:
    # The trampoline is loaded with -I -S: the standard library only, and fast modules only.
    source = LANDLOCK_FILE.read_text()
    assert "import pygent" not in source and "from pygent" not in source
    for heavy in ("import json", "import typing", "from typing", "import re\n"):
        assert heavy not in source.replace("if TYPE_CHECKING:\n    from", ""), heavy
    assert os.access(LANDLOCK_FILE, os.R_OK)


def test_a_workspace_containing_home_is_logged_as_a_weak_sandbox(isolated_home: Path) -> None:
    from loguru import logger

    messages: list[str] = []
    sink = logger.add(lambda m: messages.append(str(m)), level="WARNING")
    try:
        status = SandboxStatus(
            "workspace-write", False, detect_support(lambda: 7, platform="linux")
        )
        policy = policy_for(Settings(), [isolated_home.parent], status=status)
    finally:
        logger.remove(sink)
    assert policy is not None and str(isolated_home.parent.resolve()) in policy.writable
    assert any("contains the home directory" in m for m in messages)


def _run_bpf(program: bytes, arch: int, nr: int, arg0: int, little: bool = True) -> int:
    """A classic-BPF interpreter for the opcodes the filter uses, over one ``seccomp_data``."""
    order: Literal["little", "big"] = "little" if little else "big"
    data = (
        nr.to_bytes(4, order)
        + arch.to_bytes(4, order)
        + bytes(8)  # instruction pointer
        + arg0.to_bytes(8, order)
        + bytes(40)  # args[1..5]
    )
    pc, acc = 0, 0
    for _ in range(len(program) // 8):
        word = program[pc * 8 : pc * 8 + 8]
        code, jt, jf = int.from_bytes(word[:2], order), word[2], word[3]
        k = int.from_bytes(word[4:], order)
        if code == 0x20:
            acc = int.from_bytes(data[k : k + 4], order)
            pc += 1
        elif code == 0x15:
            pc += 1 + (jt if acc == k else jf)
        elif code == 0x35:
            pc += 1 + (jt if acc >= k else jf)
        elif code == 0x05:
            pc += 1 + k
        elif code == 0x06:
            return k
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")
    raise AssertionError("the program ran off its end")


ALLOW, DENY = 0x7FFF0000, 0x00050000 | 13
X86_64, I386 = 0xC000003E, 0x40000003


@pytest.mark.parametrize("little", [True, False], ids=["little-endian", "big-endian"])
def test_seccomp_filter_refuses_every_network_socket_and_nothing_else(little: bool) -> None:
    program = landlock.seccomp_program("x86_64", little_endian=little)
    assert program is not None

    def verdict(arch: int, nr: int, arg0: int = 0) -> int:
        return _run_bpf(program, arch, nr, arg0, little)

    AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET = 1, 2, 10, 16, 17
    assert verdict(X86_64, 41, AF_UNIX) == ALLOW
    assert verdict(X86_64, 41, AF_NETLINK) == ALLOW
    for family in (AF_INET, AF_INET6, AF_PACKET, 0, 0xFFFF):
        assert verdict(X86_64, 41, family) == DENY, family
    # The domain's high half does not smuggle AF_UNIX past the check (the kernel uses an int).
    assert verdict(X86_64, 41, (1 << 32) | AF_INET) == DENY
    assert verdict(X86_64, 425) == DENY  # io_uring_setup
    assert verdict(X86_64, 0x40000000 | 41, AF_INET) == DENY  # x32
    for harmless in (0, 1, 2, 42, 59, 257):  # read, write, open, connect, execve, openat
        assert verdict(X86_64, harmless, AF_INET) == ALLOW
    # 32-bit programs: socketcall hides the domain in memory, so it is refused whole.
    assert verdict(I386, 102) == DENY
    assert verdict(I386, 359, AF_INET) == DENY
    assert verdict(I386, 4) == ALLOW  # write
    assert verdict(0x12345678, 0) == DENY  # an architecture the kernel never reports


def test_seccomp_filter_exists_for_the_common_architectures_only() -> None:
    for machine in ("x86_64", "aarch64", "arm64", "riscv64"):
        assert landlock.seccomp_program(machine) is not None
    assert landlock.seccomp_program("sparc64") is None
    aarch64 = landlock.seccomp_program("aarch64")
    assert aarch64 is not None
    assert _run_bpf(aarch64, 0xC00000B7, 198, 2) == DENY
    assert _run_bpf(aarch64, 0xC00000B7, 198, 1) == ALLOW
    assert _run_bpf(aarch64, 0x40000028, 281, 1) == DENY  # arm32 socket
