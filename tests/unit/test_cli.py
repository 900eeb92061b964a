"""The `pygent` command group: version, help, lazy commands, `python -m pygent`, NO_COLOR, completion."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pygent import __version__
from pygent.cli import COMMANDS, cli

HEAVY = ("pydantic", "litellm", "textual", "loguru", "httpx", "pygls", "tomlkit", "platformdirs")


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"pygent {__version__}\n"


def test_help_lists_every_command_without_importing_them() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.stdout
    assert "_PYGENT_COMPLETE" in result.stdout


@pytest.mark.parametrize("name", ["config", "prompt", "report", "help", "setup"])
def test_foundation_commands_load(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["frobnicate"])
    assert result.exit_code == 2
    assert "No such command" in result.stderr


def env_for_subprocess(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYGENT_LOG_DISABLED"] = "1"
    return env


def test_python_m_pygent_version(isolated_home: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pygent", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env_for_subprocess(isolated_home),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"pygent {__version__}\n"
    assert out.stderr == ""


def test_console_script_version(isolated_home: Path) -> None:
    script = shutil.which("pygent", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("console script not installed next to this interpreter")
    out = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert out.stdout == f"pygent {__version__}\n"


def imported_after(home: Path, args: list[str], modules: tuple[str, ...]) -> str:
    """Run ``pygent ARGS`` in a fresh interpreter; which of ``modules`` it imported (a list repr)."""
    code = (
        "import sys\n"
        "from pygent.cli import cli\n"
        f"try:\n    cli.main({args!r}, standalone_mode=False)\n"
        "except SystemExit:\n    pass\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({modules!r})))\n"
    )
    return run_python(home, code)[-1].strip()


def test_version_imports_nothing_heavy(isolated_home: Path) -> None:
    assert imported_after(isolated_home, ["--version"], HEAVY) == "[]"


def test_config_show_does_not_import_litellm_or_tomlkit(isolated_home: Path) -> None:
    heavy = ("litellm", "tomlkit", "textual")
    assert imported_after(isolated_home, ["config", "show"], heavy) == "[]"


def test_no_color_strips_styles(isolated_home: Path) -> None:
    env = env_for_subprocess(isolated_home)
    env["NO_COLOR"] = "1"
    env["FORCE_COLOR"] = "1"
    out = subprocess.run(
        [sys.executable, "-m", "pygent", "help", "nosuchtopic"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 2
    assert "Unknown help topic" in out.stderr
    assert "\x1b[" not in out.stderr


def test_color_is_used_when_forced_without_no_color() -> None:
    result = CliRunner().invoke(cli, ["help", "nosuchtopic"], color=True, env={"NO_COLOR": ""})
    assert "\x1b[" in result.stderr


def test_bash_completion_script(isolated_home: Path) -> None:
    env = env_for_subprocess(isolated_home)
    env["_PYGENT_COMPLETE"] = "bash_source"
    script = shutil.which("pygent", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("console script not installed next to this interpreter")
    out = subprocess.run([script], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0
    assert "_pygent_completion" in out.stdout


def test_completion_of_subcommands(isolated_home: Path) -> None:
    env = env_for_subprocess(isolated_home)
    env.update({"_PYGENT_COMPLETE": "bash_complete", "COMP_WORDS": "pygent con", "COMP_CWORD": "1"})
    script = shutil.which("pygent", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("console script not installed next to this interpreter")
    out = subprocess.run([script], capture_output=True, text=True, timeout=60, env=env)
    assert "config" in out.stdout


def test_uncaught_pygent_error_in_a_command_is_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    from pygent.errors import no_api_key

    @click.command("boom")
    def boom() -> None:
        raise no_api_key("anthropic/x", ["ANTHROPIC_API_KEY"])

    import types

    module = types.ModuleType("pygent_test_boom")
    module.boom = boom  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pygent_test_boom", module)
    monkeypatch.setitem(COMMANDS, "boom", ("pygent_test_boom", "boom", "test"))
    result = CliRunner().invoke(cli, ["boom"])
    assert result.exit_code == 1
    assert "No API key configured" in result.stderr and "ANTHROPIC_API_KEY" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_from_the_real_program_answers_before_importing_click(
    isolated_home: Path, flag: str
) -> None:
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['pygent', {flag!r}]\n"
        "try:\n    runpy.run_module('pygent', run_name='__main__')\n"
        "except SystemExit as exit:\n    assert exit.code in (0, None), exit.code\n"
        "print('click' in sys.modules)\n"
    )
    assert run_python(isolated_home, code) == [f"pygent {__version__}", "False"]


def run_python(home: Path, code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter; its stdout lines (fails on a non-zero exit)."""
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=env_for_subprocess(home),
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_cli_process_skips_pydantic_plugin_discovery(isolated_home: Path) -> None:
    code = (
        "import sys\n"
        "import pygent.cli\n"
        "from pygent.cli import cli\n"
        "try:\n    cli.main(['config', 'show', '--brief'], standalone_mode=False)\n"
        "except SystemExit:\n    pass\n"
        "from pydantic import BaseModel\n"
        "class Probe(BaseModel):\n    x: int\n"
        "print(Probe(x='3').x)\n"
        "print('importlib.metadata' in sys.modules)\n"
    )
    lines = run_python(isolated_home, code)
    # Settings were built and validated, a new model validates too, and pydantic never read
    # the installed distributions' entry points.
    assert lines[-2:] == ["3", "False"]


def test_pydantic_plugin_loader_stub_defers_to_the_real_module(isolated_home: Path) -> None:
    code = (
        "import sys\n"
        "import pygent.cli\n"
        "from pydantic import BaseModel\n"
        "class Probe(BaseModel):\n    x: int\n"
        "stub = sys.modules['pydantic.plugin._loader']\n"
        "print(list(stub.get_plugins()))\n"
        "print(stub.PYDANTIC_ENTRY_POINT_GROUP)\n"  # not in the stub: the real module answers
        "print(sys.modules['pydantic.plugin._loader'] is stub)\n"
    )
    assert run_python(isolated_home, code) == ["[]", "pydantic", "False"]


def test_plugin_stub_is_not_installed_over_a_loaded_real_loader(isolated_home: Path) -> None:
    code = (
        "import sys\n"
        "import pydantic.plugin._loader as real\n"
        "import pygent.cli\n"
        "print(sys.modules['pydantic.plugin._loader'] is real)\n"
    )
    assert run_python(isolated_home, code) == ["True"]


GC_PROBE = """
import gc, sys, types
import click
import pygent.cli as cli_module

probe_module = types.ModuleType("gc_probe")

@click.command()
def probe() -> None:
    print("collector", "on" if gc.isenabled() else "paused")

probe_module.probe = probe
sys.modules["gc_probe"] = probe_module
cli_module.COMMANDS[{name!r}] = ("gc_probe", "probe", "")
sys.argv = ["pygent", {name!r}]
try:
    cli_module.cli()
except SystemExit as exit:
    print("exit", exit.code)
print("after", "on" if gc.isenabled() else "paused")
"""


@pytest.mark.parametrize(
    ("name", "during"),
    [
        ("config", "paused"),
        ("sessions", "paused"),
        ("serve", "on"),
        ("run", "on"),
        ("chat", "paused"),  # until its first frame: see tests/tui/test_ui_settings.py
    ],
)
def test_collector_is_paused_only_for_short_lived_commands(
    isolated_home: Path, name: str, during: str
) -> None:
    lines = run_python(isolated_home, GC_PROBE.format(name=name))
    # The exit code passes through; the collector is back on after the program returns.
    assert lines == [f"collector {during}", "exit 0", "after on"]


def test_in_process_main_leaves_the_collector_alone() -> None:
    import gc

    assert gc.isenabled()
    result = CliRunner().invoke(cli, ["help"])
    assert result.exit_code == 0
    assert gc.isenabled()
