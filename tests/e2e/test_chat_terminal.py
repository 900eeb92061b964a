"""``pygent chat`` as a person starts it: the console script in a real pseudo-terminal.

The pilot tests in ``tests/tui`` drive the app in-process; this one goes through the command line
(settings files, the CLI's start-up, the spawned server, the fake LLM over HTTP) and a terminal.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from run_helpers import pygent_env

from pygent.agent.session import SessionStore
from pygent.testing.fake_llm import FakeLLMThread

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal"),
]

_ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")


class Terminal:
    """A child process on a pseudo-terminal, with everything it draws collected."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        import fcntl
        import pty
        import struct
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = {key: value for key, value in env.items() if key != "NO_COLOR"}  # colours on
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env={
                **env,
                "TERM": "xterm-256color",
                "COLORTERM": "truecolor",
                "COLUMNS": "120",
                "LINES": "40",
            },
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        self.output = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self.output += data

    def text(self) -> str:
        """What was drawn so far, without escape sequences."""
        with self._lock:
            raw = bytes(self.output)
        return _ESCAPES.sub(b"", raw).decode("utf-8", errors="replace")

    def wait_for(self, needle: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            if self.process.poll() is not None:
                raise AssertionError(
                    f"pygent chat exited ({self.process.returncode}) before showing {needle!r}:\n"
                    + self.text()[-3000:]
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{needle!r} not shown within {timeout} s:\n{self.text()[-3000:]}"
                )
            time.sleep(0.05)

    def raw(self) -> bytes:
        """Everything drawn so far, escape sequences included."""
        with self._lock:
            return bytes(self.output)

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode("utf-8"))

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        os.close(self.master)
        self._reader.join(5)


def test_chat_in_a_real_terminal(tmp_path: Path, fake_llm: FakeLLMThread) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "notes.md").write_text("# notes\n", encoding="utf-8")
    # A project setting, read by `pygent chat` on its way in.
    (project / ".pygent").mkdir()
    (project / ".pygent" / "config.toml").write_text('[ui]\ntheme = "nord"\n', encoding="utf-8")
    fake_llm.script([{"text": "Quokkas are marsupials from Rottnest Island."}])
    script = shutil.which("pygent", path=str(Path(sys.executable).parent))
    argv = [script, "chat"] if script else [sys.executable, "-m", "pygent", "chat"]

    terminal = Terminal(argv, project, pygent_env(fake_llm.base_url))
    try:
        terminal.wait_for("openai/fake-model", 90)  # the status bar, once the server answered
        terminal.type("tell me about quokkas")
        terminal.wait_for("tell me about quokkas")
        terminal.type("\r")
        terminal.wait_for("Rottnest Island", 90)
        # The project's ui.theme: nord's background (#2E3440) is what the screen is painted with.
        assert b"48;2;46;52;64" in terminal.raw()
        terminal.type("\x11")  # Ctrl+Q
        assert terminal.process.wait(30) == 0
    finally:
        terminal.close()

    (request,) = fake_llm.requests
    last = request["messages"][-1]
    assert last["role"] == "user" and "tell me about quokkas" in str(last["content"])
    sessions = SessionStore(project).list()
    assert len(sessions) == 1 and sessions[0]["messageCount"] == 2
    assert sessions[0]["title"].startswith("tell me about quokkas")
