"""The OS sandbox, attacked for real through the shell tool and the permission engine (Linux).

Every test runs real commands under a real Landlock domain. The workspace is a temp directory
(under /tmp, which the sandbox lets commands write); "outside" is a fresh directory under
/var/tmp, which it does not. On this CI machine the tests run as root: Landlock confines root
too, and several tests prove it by writing where only the sandbox can stop root.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _tool_testkit import registry_of

from pygent.edits.changes import ApplyResult, ChangeSet
from pygent.permissions.engine import PermissionEngine
from pygent.protocol.port import PermissionOutcome, PermissionRequest
from pygent.sandbox.landlock import abi_version
from pygent.settings.models import Settings
from pygent.tools import shell as shell_mod
from pygent.tools.base import ToolContext, ToolRegistry, ToolResult, dispatch
from pygent.tools.workspace import Workspace

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or abi_version() < 4,
    reason="needs Linux with Landlock ABI >= 4 (TCP rules)",
)
PY = sys.executable


class Person:
    """The person at the frontend: answers permission requests in order and records them."""

    reviews_edits = False

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.requests: list[PermissionRequest] = []

    def emit(self, update: dict[str, Any]) -> None:
        pass

    async def request_permission(self, request: PermissionRequest) -> PermissionOutcome:
        self.requests.append(request)
        if not self.answers:
            raise AssertionError(f"unexpected permission request: {request['toolCall']['title']}")
        return {"outcome": "selected", "optionId": self.answers.pop(0)}

    async def apply_edit(self, change_set: ChangeSet) -> ApplyResult:
        raise AssertionError("the shell tool does not edit through the port")


@pytest.fixture
def registry() -> ToolRegistry:
    return registry_of(shell_mod.shell)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root.resolve()


@pytest.fixture
def outside() -> Iterator[Path]:
    """A directory outside every writable root (the sandbox lets /tmp through, not /var/tmp)."""
    base = Path("/var/tmp")
    path = Path(tempfile.mkdtemp(prefix="pygent-sandbox-test-", dir=base)).resolve()
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def settings_for(permission: str = "auto", **sandbox: Any) -> Settings:
    return Settings.model_validate({"permissions": {"mode": permission}, "sandbox": sandbox})


async def run(
    registry: ToolRegistry,
    ws: Path,
    command: str,
    *,
    settings: Settings | None = None,
    person: Person | None = None,
    **args: Any,
) -> ToolResult:
    settings = settings or settings_for()
    ctx = ToolContext(Workspace([ws]), settings, person or Person())  # type: ignore[arg-type]
    gate = PermissionEngine(settings, ws)
    return await dispatch(registry, "shell", {"command": command, **args}, ctx, gate)


# -- writes -----------------------------------------------------------------------------------


async def test_write_outside_the_roots_is_blocked_and_reported_even_for_root(
    registry: ToolRegistry, ws: Path, outside: Path
) -> None:
    target = outside / "pwned.txt"
    result = await run(registry, ws, f"echo owned > {target}")
    assert f"blocked by the sandbox: write to {target}" in result.text
    assert "escalate=true" in result.text
    assert result.raw_output is not None
    assert result.raw_output["sandboxDenied"] == {"kind": "write", "target": str(target)}
    assert not target.exists()
    assert list(outside.iterdir()) == []
    if os.geteuid() == 0:  # root bypasses file permissions; only the sandbox stopped it
        assert os.access(outside, os.W_OK)


async def test_writes_inside_the_workspace_and_tmp_work(
    registry: ToolRegistry, ws: Path, tmp_path: Path
) -> None:
    scratch = Path(tempfile.gettempdir()) / f"pygent-sbx-{os.getpid()}-{tmp_path.name}"
    try:
        result = await run(
            registry,
            ws,
            f"mkdir -p sub && echo a > sub/a.txt && echo b > {scratch} && cat {scratch}",
        )
        assert result.text.startswith("Exit code: 0"), result.text
        assert (ws / "sub" / "a.txt").read_text() == "a\n"
        assert scratch.read_text() == "b\n"
        assert result.raw_output is not None and result.raw_output["sandboxed"] is True
    finally:
        scratch.unlink(missing_ok=True)


async def test_writable_roots_setting_opens_an_extra_directory(
    registry: ToolRegistry, ws: Path, outside: Path
) -> None:
    settings = settings_for(writable_roots=[str(outside)])
    result = await run(registry, ws, f"echo ok > {outside}/allowed.txt", settings=settings)
    assert result.text.startswith("Exit code: 0"), result.text
    assert (outside / "allowed.txt").read_text() == "ok\n"


async def test_read_only_mode_blocks_workspace_writes_too(registry: ToolRegistry, ws: Path) -> None:
    result = await run(registry, ws, "echo x > new.txt", settings=settings_for(mode="read-only"))
    assert "blocked by the sandbox: write to" in result.text
    assert "read-only" in result.text
    assert not (ws / "new.txt").exists()


async def test_reading_outside_the_workspace_still_works(
    registry: ToolRegistry, ws: Path, outside: Path
) -> None:
    (outside / "notes.txt").write_text("readable\n")
    result = await run(registry, ws, f"cat {outside}/notes.txt")
    assert result.text.startswith("Exit code: 0") and "readable" in result.text


async def test_sandbox_off_runs_unconfined(registry: ToolRegistry, ws: Path, outside: Path) -> None:
    result = await run(registry, ws, f"touch {outside}/free", settings=settings_for(mode="off"))
    assert result.text.startswith("Exit code: 0"), result.text
    assert (outside / "free").exists()
    assert result.raw_output is not None and result.raw_output["sandboxed"] is False


# -- network ----------------------------------------------------------------------------------


@pytest.fixture
def listening_port() -> Iterator[int]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def _connect(port: int) -> str:
    return (
        f'{PY} -c \'import socket; socket.create_connection(("127.0.0.1", {port}), timeout=5); '
        'print("connected")\''
    )


async def test_connect_to_loopback_fails_without_network(
    registry: ToolRegistry, ws: Path, listening_port: int
) -> None:
    result = await run(registry, ws, _connect(listening_port))
    assert "connected" not in result.text.replace("Exit code", "")
    assert "Permission denied" in result.text
    assert "blocked by the sandbox: network connection" in result.text


async def test_connect_to_loopback_works_with_network_true(
    registry: ToolRegistry, ws: Path, listening_port: int
) -> None:
    result = await run(registry, ws, _connect(listening_port), settings=settings_for(network=True))
    assert result.text.startswith("Exit code: 0"), result.text
    assert "connected" in result.text


async def test_listening_socket_is_refused_without_network(
    registry: ToolRegistry, ws: Path
) -> None:
    command = (
        f'{PY} -c \'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print("bound")\''
    )
    result = await run(registry, ws, command)
    assert "bound" not in result.text
    assert "Permission denied" in result.text


async def test_exfiltration_over_udp_is_blocked_in_auto_edit_without_asking(
    registry: ToolRegistry, ws: Path, outside: Path
) -> None:
    """The prompt-injection path: in auto-edit a confined command runs without asking, so the
    model writes a script into the workspace that reads a secret outside it (reads are allowed)
    and sends it as a datagram. Landlock's network rules cover TCP only; the seccomp filter must
    refuse the UDP socket, and no byte may reach the listener."""
    secret = outside / "id_rsa"
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY----- s3cr3t\n")
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.setblocking(False)
    try:
        port = listener.getsockname()[1]
        (ws / "sync.py").write_text(
            "import socket\n"
            f"data = open({str(secret)!r}).read().encode()\n"
            "for family, host in ((socket.AF_INET, '127.0.0.1'), (socket.AF_INET6, '::1')):\n"
            "    try:\n"
            "        socket.socket(family, socket.SOCK_DGRAM).sendto(data, (host, "
            f"{port}))\n"
            "        print('sent', family)\n"
            "    except OSError as exc:\n"
            "        print('refused', exc.strerror)\n"
        )
        person = Person()  # no answers: any permission request fails the test
        result = await run(
            registry, ws, f"{PY} sync.py", settings=settings_for("auto-edit"), person=person
        )
        assert person.requests == []  # relaxed: it ran without asking...
        assert "sent" not in result.text  # ...and could not send
        assert result.text.count("refused Permission denied") == 2, result.text
        with pytest.raises(BlockingIOError):
            listener.recv(4096)
    finally:
        listener.close()


async def test_raw_socket_syscalls_that_dodge_socket_domains_are_refused(
    registry: ToolRegistry, ws: Path
) -> None:
    """io_uring can open sockets without socket(2), and x32 system calls have other numbers."""
    probe = (
        "import ctypes, os, platform\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "libc.syscall.restype = ctypes.c_long\n"
        "params = ctypes.create_string_buffer(120)\n"
        "r = libc.syscall(425, 1, params)\n"
        "print('io_uring', r, os.strerror(ctypes.get_errno()) if r < 0 else 'opened')\n"
        "if platform.machine() == 'x86_64':\n"
        "    r = libc.syscall(0x40000000 | 41, 2, 2, 0)\n"
        "    print('x32', r, os.strerror(ctypes.get_errno()) if r < 0 else 'opened')\n"
    )
    (ws / "probe.py").write_text(probe)
    result = await run(registry, ws, f"{PY} probe.py")
    assert "io_uring -1 Permission denied" in result.text, result.text
    assert "opened" not in result.text
    if os.uname().machine == "x86_64":
        assert "x32 -1 Permission denied" in result.text


async def test_local_unix_sockets_still_work_without_network(
    registry: ToolRegistry, ws: Path
) -> None:
    command = (
        f"{PY} -c 'import socket; a, b = socket.socketpair(); a.send(b\"ok\"); print(b.recv(2))'"
    )
    result = await run(registry, ws, command)
    assert result.text.startswith("Exit code: 0"), result.text
    assert "b'ok'" in result.text


# -- escalation -------------------------------------------------------------------------------


async def test_escalation_asks_even_in_auto_and_runs_unconfined_when_allowed(
    registry: ToolRegistry, ws: Path, outside: Path
) -> None:
    person = Person("allow_once")
    target = outside / "escalated.txt"
    command = f"echo yes > {target}"
    result = await run(
        registry, ws, command, person=person, escalate=True, reason="write the shared cache"
    )
    assert result.text.startswith("Exit code: 0"), result.text
    assert target.read_text() == "yes\n"
    assert len(person.requests) == 1
    request = person.requests[0]
    assert request["toolCall"]["title"] == f"Run OUTSIDE the sandbox (unconfined): `{command}`"
    kinds = [o["kind"] for o in request["options"]]
    assert "allow_always" not in kinds and kinds == ["allow_once", "reject_once"]
    assert "write the shared cache" in request["_meta"]["reason"]


async def test_rejected_escalation_runs_nothing(
    registry: ToolRegistry, ws: Path, outside: Path
) -> None:
    person = Person("reject_once")
    target = outside / "never.txt"
    result = await run(
        registry, ws, f"touch {target}", person=person, escalate=True, reason="needs it"
    )
    assert result.is_error and "declined" in result.text
    assert not target.exists()


async def test_escalation_asks_despite_an_allow_rule(
    registry: ToolRegistry, ws: Path, outside: Path
) -> None:
    settings = Settings.model_validate(
        {"permissions": {"mode": "auto", "allow": ["shell(touch*)"]}}
    )
    person = Person("reject_once")
    target = outside / "rule.txt"
    await run(
        registry, ws, f"touch {target}", settings=settings, person=person, escalate=True, reason="x"
    )
    assert len(person.requests) == 1
    assert not target.exists()


async def test_escalation_without_a_reason_is_refused_without_asking(
    registry: ToolRegistry, ws: Path, outside: Path
) -> None:
    target = outside / "noreason.txt"
    result = await run(registry, ws, f"touch {target}", escalate=True)
    assert result.is_error and "needs a reason" in result.text
    assert not target.exists()


# -- when the engine asks ---------------------------------------------------------------------


async def test_confined_command_runs_without_asking_in_auto_edit(
    registry: ToolRegistry, ws: Path
) -> None:
    result = await run(registry, ws, "echo hi > out.txt", settings=settings_for("auto-edit"))
    assert result.text.startswith("Exit code: 0"), result.text
    assert (ws / "out.txt").read_text() == "hi\n"


async def test_confined_command_still_asks_in_ask_mode(registry: ToolRegistry, ws: Path) -> None:
    person = Person("reject_once")
    await run(registry, ws, "echo hi > out.txt", settings=settings_for("ask"), person=person)
    assert len(person.requests) == 1
    assert not (ws / "out.txt").exists()


@pytest.mark.parametrize(
    "command",
    [
        "cat ~/.ssh/id_rsa > key.txt",  # reads a secret outside the workspace
        "cp /etc/hostname here.txt",
        "echo $HOME > where.txt",  # an expansion the classifier cannot see through
        "echo '[permissions]' > .pygent/config.toml",  # pygent's own settings
        "echo x > .git/hooks/pre-commit",
        # The same directories as case-insensitive (macOS, Windows) file systems open them.
        "echo x > .GIT/hooks/pre-commit",
        "echo '[permissions]' > .Pygent/config.toml",
        "cp out.txt .git./hooks/post-checkout",
        "rm -rf build",  # destructive
    ],
)
async def test_auto_edit_still_asks_for_what_the_sandbox_does_not_cover(
    registry: ToolRegistry, ws: Path, command: str
) -> None:
    person = Person("reject_once")
    await run(registry, ws, command, settings=settings_for("auto-edit"), person=person)
    assert len(person.requests) == 1, command


async def test_auto_edit_asks_when_the_sandbox_is_off(registry: ToolRegistry, ws: Path) -> None:
    person = Person("reject_once")
    settings = settings_for("auto-edit", mode="off")
    await run(registry, ws, "echo hi > out.txt", settings=settings, person=person)
    assert len(person.requests) == 1
    assert not (ws / "out.txt").exists()


async def test_auto_edit_asks_when_network_is_allowed(registry: ToolRegistry, ws: Path) -> None:
    person = Person("reject_once")
    settings = settings_for("auto-edit", network=True)
    await run(registry, ws, "echo hi > out.txt", settings=settings, person=person)
    assert len(person.requests) == 1


class TerminalPerson(Person):
    """A frontend that runs commands in its own terminals (an ACP client with ``terminal: true``)."""

    def __init__(self, *answers: str) -> None:
        super().__init__(*answers)
        self.ran: list[str] = []

    async def run_command(self, command: str, **kwargs: Any) -> None:
        self.ran.append(command)
        return None  # (a real client would run it, unconfined by our sandbox)


async def test_auto_edit_asks_when_the_frontend_runs_commands_in_its_own_terminal(
    registry: ToolRegistry, ws: Path
) -> None:
    person = TerminalPerson("reject_once")
    await run(registry, ws, "echo hi > out.txt", settings=settings_for("auto-edit"), person=person)
    assert len(person.requests) == 1  # the sandbox would not confine it: no relaxation
    assert person.ran == [] and not (ws / "out.txt").exists()


# -- attacks ----------------------------------------------------------------------------------


async def test_symlink_inside_the_workspace_does_not_lead_outside(
    registry: ToolRegistry, ws: Path, outside: Path
) -> None:
    (ws / "link").symlink_to(outside, target_is_directory=True)
    result = await run(registry, ws, "echo through > link/escaped.txt")
    assert "blocked by the sandbox" in result.text
    assert not (outside / "escaped.txt").exists()


async def test_cd_to_root_and_touch_is_blocked(registry: ToolRegistry, ws: Path) -> None:
    marker = Path("/") / f"pygent-sandbox-marker-{os.getpid()}"
    try:
        result = await run(registry, ws, f"cd / && touch {marker.name}", settings=settings_for())
        assert not marker.exists()
        assert "Permission denied" in result.text
        assert "blocked by the sandbox: write to" in result.text
    finally:
        marker.unlink(missing_ok=True)


async def test_grandchildren_and_reexec_inherit_the_sandbox(
    registry: ToolRegistry, ws: Path, outside: Path
) -> None:
    script = ws / "spawn.py"
    script.write_text(
        "import os, subprocess, sys\n"
        "if len(sys.argv) == 1:\n"
        "    os.execv(sys.executable, [sys.executable, __file__, 'again'])\n"
        f"subprocess.run(['bash', '-c', 'echo deep > {outside}/deep.txt'])\n"
        f"pid = os.fork()\n"
        f"if pid == 0:\n"
        f"    open('{outside}/forked.txt', 'w')\n"
        f"os.waitpid(pid, 0) if pid else None\n"
    )
    command = f"bash -c 'sh -c \"{PY} spawn.py\"'; (sleep 0.1; touch {outside}/bg.txt) & wait"
    result = await run(registry, ws, command, settings=settings_for("auto"))
    assert "Permission denied" in result.text
    assert list(outside.iterdir()) == []


async def test_moving_a_file_out_of_the_workspace_is_blocked(
    registry: ToolRegistry, ws: Path, outside: Path
) -> None:
    (ws / "secret.txt").write_text("s")
    result = await run(registry, ws, f"mv secret.txt {outside}/")
    assert "blocked by the sandbox" in result.text
    assert (ws / "secret.txt").read_text() == "s"
    assert list(outside.iterdir()) == []


async def test_hard_link_to_an_outside_file_cannot_be_made_or_written(
    registry: ToolRegistry, ws: Path, outside: Path
) -> None:
    victim = outside / "victim.txt"
    victim.write_text("original\n")
    result = await run(registry, ws, f"ln {victim} hard && echo pwned > hard")
    assert not (ws / "hard").exists()
    assert victim.read_text() == "original\n"
    assert "blocked by the sandbox" in result.text


async def test_writing_through_proc_self_fd_is_blocked(
    registry: ToolRegistry, ws: Path, outside: Path
) -> None:
    victim = outside / "victim.txt"
    victim.write_text("original\n")
    command = (
        f"exec 3<{victim}; echo pwned > /proc/self/fd/3; {PY} -c \"open('/proc/self/fd/3', 'w')\""
    )
    result = await run(registry, ws, command)
    assert victim.read_text() == "original\n"
    assert "Permission denied" in result.text


async def test_the_sandbox_cannot_be_lifted_by_a_new_landlock_call(
    registry: ToolRegistry, ws: Path, outside: Path
) -> None:
    # A confined program may stack more restrictions, never fewer: applying a policy that
    # allows `outside` from inside the sandbox still cannot write there.
    landlock = Path(shell_mod.__file__).parent.parent / "sandbox" / "landlock.py"
    command = f"{PY} -I -S {landlock} --write {outside} -- touch {outside}/lifted"
    result = await run(registry, ws, command)
    assert "Permission denied" in result.text
    assert not (outside / "lifted").exists()


async def test_signal_to_a_process_outside_the_sandbox_is_refused(
    registry: ToolRegistry, ws: Path
) -> None:
    # Landlock ABI 6 scopes signals: a confined command cannot kill pygent.
    if abi_version() < 6:
        pytest.skip("signal scoping needs Landlock ABI 6")
    result = await run(registry, ws, f"kill -0 {os.getpid()} && echo reached")
    assert "reached" not in result.text
    assert "not permitted" in result.text.lower()
