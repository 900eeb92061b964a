"""``pygent report``: a tar.gz of recent logs (secrets, home directory and user name redacted)
plus ``system.txt`` (versions and the effective settings with secrets masked), for a bug report."""

from __future__ import annotations

import datetime as _dt
import getpass
import gzip
import io
import os
import platform
import re
import sys
import tarfile
import time
from pathlib import Path

import click

from pygent.cli._common import fail

__all__ = ["build_report", "redact_report_text", "report"]

KEY_PACKAGES = (
    "click",
    "pydantic",
    "tomlkit",
    "platformdirs",
    "loguru",
    "litellm",
    "pygls",
    "lsprotocol",
    "agent-client-protocol",
    "httpx",
    "textual",
    "tree-sitter",
    "ripgrep",
)


def redact_report_text(text: str) -> str:
    """Redact secrets (see :func:`pygent.logs.redact`), the home directory and the user name."""
    from pygent.logs import redact

    text = redact(text)
    home = str(Path.home())
    if len(home) > 1:
        text = text.replace(home, "~")
        if os.sep == "\\":
            text = text.replace(home.replace("\\", "/"), "~")
    try:
        user = getpass.getuser()
    except Exception:
        user = ""
    if len(user) >= 3:
        text = re.sub(rf"(?<![A-Za-z0-9_]){re.escape(user)}(?![A-Za-z0-9_])", "<user>", text)
    return text


def _log_files(log_dir: Path, days: int) -> list[Path]:
    if not log_dir.is_dir():
        return []
    cutoff = time.time() - days * 86400
    found = []
    for path in sorted(log_dir.iterdir()):
        if not path.is_file() or ".log" not in path.name:
            continue
        try:
            if path.stat().st_mtime >= cutoff:
                found.append(path)
        except OSError:
            continue
    return found


def _read_log(path: Path) -> str:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            return f"(could not decompress {path.name})\n"
    return data.decode("utf-8", errors="replace")


def _versions() -> list[str]:
    from importlib import metadata

    lines = []
    for name in KEY_PACKAGES:
        try:
            lines.append(f"  {name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            lines.append(f"  {name} (not installed)")
    return lines


def _system_text() -> str:
    from pygent import __version__

    lines = [
        f"pygent {__version__}",
        f"Python {sys.version.split()[0]} ({platform.python_implementation()}) at {sys.executable}",
        f"OS {platform.platform()} ({platform.machine()})",
        f"Date {_dt.datetime.now(_dt.timezone.utc).isoformat(timespec='seconds')}",
        "",
        "Packages:",
        *_versions(),
        "",
        "Effective settings (secrets masked):",
    ]
    try:
        from pygent.cli.config import render_settings_toml
        from pygent.settings.loader import load_layers

        lines.append(render_settings_toml(load_layers()))
    except Exception as exc:  # an invalid config is itself worth reporting
        lines.append(f"(could not load settings: {exc})")
    return "\n".join(lines) + "\n"


def _add_text(tar: tarfile.TarFile, name: str, text: str) -> None:
    data = text.encode("utf-8")
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def build_report(output: Path, days: int, log_dir: Path | None = None) -> list[str]:
    """Write the report archive to ``output``; returns the names of the log files included."""
    from pygent.logs import log_path

    log_dir = log_dir or log_path().parent
    logs = _log_files(log_dir, days)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".part")
    root = output.name.removesuffix(".tar.gz").removesuffix(".tgz")
    try:
        with tarfile.open(tmp, "w:gz") as tar:
            _add_text(tar, f"{root}/system.txt", redact_report_text(_system_text()))
            for path in logs:
                name = path.name.removesuffix(".gz")
                _add_text(tar, f"{root}/logs/{name}", redact_report_text(_read_log(path)))
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
    return [path.name for path in logs]


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the archive (default: ./pygent-report-DATE.tar.gz).",
)
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Include logs from this many days.",
)
def report(output: Path | None, days: int) -> None:
    """Bundle recent logs (redacted) and system information for a bug report."""
    from pygent.logs import log_path

    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    output = output or Path.cwd() / f"pygent-report-{stamp}.tar.gz"
    try:
        from pygent.settings.loader import load_settings

        log_dir = log_path(load_settings()).parent
    except Exception:  # a broken config must not stop a bug report
        log_dir = log_path().parent
    try:
        included = build_report(output, days, log_dir)
    except OSError as exc:
        fail(
            f"Could not write the report to {output}: {exc.strerror or exc}.",
            "Choose another place with -o FILE.",
        )
    if not included:
        click.echo(
            f"No pygent logs from the last {days} day(s) in {log_dir}; "
            "the report holds system information only."
        )
    else:
        click.echo(f"Included {len(included)} log file(s) from {log_dir}.")
    click.echo(f"Wrote {output}")
    click.echo(
        "Attach this file to your bug report (https://github.com/pygent-dev/pygent/issues). "
        "API keys, your home directory and user name are redacted; look inside before sharing."
    )
