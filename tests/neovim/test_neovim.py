"""The Neovim plugin (editors/neovim) tested in a real headless Neovim against the real ``pygent serve``.

Each Lua spec file runs in its own ``nvim --clean --headless -u NONE`` with isolated XDG directories;
the specs start the project's fake LLM server (``python -m pygent.testing.fake_llm``) and the server
(``python -m pygent serve``) with this interpreter. The harness writes a JSON report; every spec
file is one pytest test that fails listing the failed cases with their messages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[2] / "editors" / "neovim"
SPECS = sorted((PLUGIN / "tests" / "spec").glob("*_spec.lua"))

pytestmark = [pytest.mark.neovim, pytest.mark.timeout(400)]


def _env(tmp_path: Path, results: Path) -> dict[str, str]:
    env = dict(os.environ)
    home = tmp_path / "home"
    for var, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_RUNTIME_DIR", "run"),
    ):
        path = home / sub
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    env["HOME"] = str(home)
    env["USERPROFILE"] = str(home)
    env["TMPDIR"] = str(tmp_path)
    env["PYGENT_TEST_PYTHON"] = sys.executable
    env["PYGENT_TEST_RESULTS"] = str(results)
    env["PYGENT_LOG_DISABLED"] = "1"
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    env.pop("NVIM", None)
    env.pop("VIMINIT", None)
    return env


def test_specs_exist() -> None:
    names = {spec.stem for spec in SPECS}
    for needed in (
        "chat_spec",
        "review_spec",
        "permission_spec",
        "cancel_spec",
        "sessions_spec",
        "health_spec",
        "modes_spec",
        "replay_spec",
        "commands_spec",
    ):
        assert needed in names, f"missing Lua spec {needed}.lua in {PLUGIN / 'tests' / 'spec'}"


@pytest.mark.parametrize("spec", SPECS, ids=[spec.stem for spec in SPECS])
def test_lua_spec(spec: Path, nvim: Path, tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    cmd = [
        str(nvim),
        "--clean",
        "--headless",
        "-u",
        "NONE",
        "-l",
        str(PLUGIN / "tests" / "run.lua"),
        str(spec),
    ]
    try:
        proc = subprocess.run(
            cmd,
            cwd=tmp_path,
            env=_env(tmp_path, results),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=360,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = (
            exc.stdout
            if isinstance(exc.stdout, str)
            else (exc.stdout or b"").decode(errors="replace")
        )
        pytest.fail(f"{spec.name} did not finish within {exc.timeout} s; output so far:\n{out}")
    output = proc.stdout + ("\n--- stderr ---\n" + proc.stderr if proc.stderr.strip() else "")
    assert results.is_file(), (
        f"{spec.name}: the harness wrote no report (exit {proc.returncode}):\n{output}"
    )
    report = json.loads(results.read_text(encoding="utf-8"))
    failed = [t for t in report["tests"] if not t["ok"]]
    summary = "\n\n".join(f"FAILED {t['name']}:\n{t['error']}" for t in failed)
    assert not failed, (
        f"{spec.name}: {len(failed)} of {len(report['tests'])} failed\n{summary}\n\n{output}"
    )
    assert report["passed"] > 0, f"{spec.name} ran no test:\n{output}"
    assert proc.returncode == 0, f"{spec.name}: nvim exited {proc.returncode}:\n{output}"
