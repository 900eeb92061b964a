"""The built wheel and sdist: well-formed, complete, and working when installed into a fresh venv."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from pygent.testing.fake_llm import FakeLLMThread

from .dist_helpers import ROOT, Dist, Venv, build

# Building and installing (dependencies from the package cache) takes a minute on an idle machine.
pytestmark = pytest.mark.timeout(1200)


def test_twine_check_strict_passes(dist: Dist) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(dist.sdist), str(dist.wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2


def test_distribution_is_pygent_agent_and_the_import_name_is_pygent(dist: Dist) -> None:
    from pygent import __version__

    assert dist.wheel.name.startswith(f"pygent_agent-{__version__}-")
    assert dist.sdist.name == f"pygent_agent-{__version__}.tar.gz"
    with zipfile.ZipFile(dist.wheel) as archive:
        metadata = archive.read(f"pygent_agent-{__version__}.dist-info/METADATA").decode()
        entry_points = archive.read(f"pygent_agent-{__version__}.dist-info/entry_points.txt")
    assert "Name: pygent-agent" in metadata
    assert b"pygent = pygent.cli:cli" in entry_points


def test_wheel_carries_the_runtime_files_and_nothing_else(dist: Dist) -> None:
    names = dist.wheel_files()
    for needed in (
        "pygent/py.typed",
        "pygent/prompts/default.md",
        "pygent/help_topics.py",
        "pygent/tui/app.tcss",
        "pygent/protocol/updates.py",
        "pygent/testing/fake_llm.py",
    ):
        assert needed in names, f"{needed} is missing from the wheel"
    top = {name.split("/", 1)[0] for name in names}
    assert top == {"pygent", f"pygent_agent-{dist.wheel.name.split('-')[1]}.dist-info"}, top
    assert not [n for n in names if "/tests/" in n or n.startswith("tests/")]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if "node_modules" in n or n.endswith(".vsix")]


def test_every_package_data_file_of_the_source_tree_is_in_the_wheel(dist: Dist) -> None:
    src = ROOT / "src"
    tracked = subprocess.run(
        ["git", "ls-files", "src/pygent"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    expected = {str(Path(p).relative_to("src")).replace(os.sep, "/") for p in tracked}
    assert expected, "git ls-files found nothing"
    missing = expected - set(dist.wheel_files())
    assert not missing, f"in the source tree but not in the wheel: {sorted(missing)}"
    assert (src / "pygent" / "__init__.py").is_file()


def test_the_sdist_builds_the_same_wheel(dist: Dist, tmp_path: Path) -> None:
    with tarfile.open(dist.sdist) as archive:
        archive.extractall(tmp_path, filter="data") if sys.version_info >= (
            3,
            12,
        ) else archive.extractall(tmp_path)
    (unpacked,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    (rebuilt,) = [p for p in build(unpacked, tmp_path / "out", "wheel") if p.suffix == ".whl"]
    with zipfile.ZipFile(rebuilt) as archive:
        again = sorted(archive.namelist())
    assert again == dist.wheel_files()


def _pygent(
    venv: Venv, *args: str, cwd: Path, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv.pygent), *args],
        cwd=cwd,
        env=venv.env(PYGENT_LOG_DISABLED="1", **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_installed_wheel_imports_pygent_from_the_venv_not_the_source_tree(
    venv: Venv, tmp_path: Path
) -> None:
    result = subprocess.run(
        [str(venv.python), "-c", "import pygent, sys; print(pygent.__file__)"],
        cwd=tmp_path,
        env=venv.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    where = Path(result.stdout.strip()).resolve()
    assert venv.root.resolve() in where.parents
    assert ROOT.resolve() not in where.parents


def test_installed_wheel_version_help_and_config_show(venv: Venv, tmp_path: Path) -> None:
    from pygent import __version__

    version = _pygent(venv, "--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == f"pygent {__version__}"
    helped = _pygent(venv, "help", "permissions", cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert "auto-edit" in helped.stdout
    shown = _pygent(venv, "config", "show", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "[llm]" in shown.stdout and "model = " in shown.stdout
    assert "Traceback" not in shown.stderr


def test_installed_wheel_runs_a_turn_against_the_fake_model(venv: Venv, tmp_path: Path) -> None:
    with FakeLLMThread([{"text": "hello from the wheel"}]) as fake:
        result = _pygent(
            venv,
            "run",
            "say hello",
            cwd=tmp_path,
            timeout=300,
            PYGENT_MODEL="openai/fake-model",
            PYGENT_API_BASE=fake.base_url,
            PYGENT_API_KEY="sk-fake-wheel",
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hello from the wheel" in result.stdout


def _frame(payload: dict[str, object]) -> bytes:
    body = json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_installed_wheel_serves_initialize(venv: Venv, tmp_path: Path) -> None:
    request = _frame(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}},
        }
    )
    proc = subprocess.Popen(
        [str(venv.pygent), "serve"],
        cwd=tmp_path,
        env=venv.env(PYGENT_LOG_DISABLED="1"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = proc.communicate(request, timeout=120)  # closing stdin ends the server
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    header, _, body = out.partition(b"\r\n\r\n")
    assert header.lower().startswith(b"content-length:"), (out[:200], err[-2000:])
    answer = json.loads(body[: int(header.split(b":")[1])])
    assert answer["id"] == 1
    assert answer["result"]["serverInfo"]["name"] == "pygent"
