"""`pygent report`: a redacted tar.gz of recent logs plus system.txt; "no logs" is friendly."""

from __future__ import annotations

import getpass
import gzip
import os
import tarfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from pygent.cli import cli
from pygent.logs import log_path


def members(archive: Path) -> dict[str, str]:
    with tarfile.open(archive, "r:gz") as tar:
        out = {}
        for member in tar.getmembers():
            handle = tar.extractfile(member)
            assert handle is not None
            out[member.name] = handle.read().decode("utf-8")
        return out


@pytest.fixture
def log_dir() -> Path:
    path = log_path().parent
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_report_redacts_keys_home_and_user(
    log_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "alicewonder")
    monkeypatch.setenv("LOGNAME", "alicewonder")
    monkeypatch.setenv("USERNAME", "alicewonder")
    home = str(Path.home())
    (log_dir / "pygent.log").write_text(
        f"2026-01-01 | INFO | opened {home}/project/main.py for alicewonder\n"
        "2026-01-01 | DEBUG | key sk-ant-api03-LEAKEDLEAKEDLEAKED in a log line\n"
        "2026-01-01 | DEBUG | Authorization: Bearer tok_abcdefghijklmnop\n"
    )
    with gzip.open(log_dir / "pygent.2026-01-01_00-00-00_000000.log.gz", "wt") as handle:
        handle.write("rotated line with api_key=rotatedsecret123\n")
    out = tmp_path / "bundle.tar.gz"
    result = CliRunner().invoke(cli, ["report", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert str(out) in result.stdout and "bug report" in result.stdout
    files = members(out)
    names = sorted(files)
    assert names[-1].endswith("system.txt")
    assert any(n.endswith("logs/pygent.log") for n in names)
    assert any(n.endswith(".log") and "2026-01-01" in n for n in names)
    everything = "\n".join(files.values())
    assert "LEAKEDLEAKED" not in everything
    assert "tok_abcdefghijklmnop" not in everything
    assert "rotatedsecret123" not in everything
    assert getpass.getuser() == "alicewonder"
    assert "alicewonder" not in everything and "for <user>" in everything
    assert home not in everything
    assert "~/project/main.py" in everything
    system = next(text for name, text in files.items() if name.endswith("system.txt"))
    assert "pygent 0.1.0" in system and "Python " in system and "pydantic" in system
    assert "[llm]" in system


def test_report_without_logs_is_friendly(tmp_path: Path) -> None:
    out = tmp_path / "r.tar.gz"
    result = CliRunner().invoke(cli, ["report", "--output", str(out)])
    assert result.exit_code == 0
    assert "No pygent logs" in result.stdout
    assert [n.rsplit("/", 1)[-1] for n in members(out)] == ["system.txt"]


def test_report_days_filters_old_logs(log_dir: Path, tmp_path: Path) -> None:
    old = log_dir / "pygent.old.log"
    old.write_text("old line\n")
    ten_days_ago = time.time() - 10 * 86400
    os.utime(old, (ten_days_ago, ten_days_ago))
    (log_dir / "pygent.log").write_text("new line\n")
    out = tmp_path / "r.tar.gz"
    CliRunner().invoke(cli, ["report", "-o", str(out), "--days", "2"])
    assert "old line" not in "".join(members(out).values())
    CliRunner().invoke(cli, ["report", "-o", str(out), "--days", "30"])
    assert "old line" in "".join(members(out).values())


def test_report_with_broken_config_still_works(tmp_path: Path) -> None:
    from pygent.settings import paths

    paths.user_config_file().parent.mkdir(parents=True)
    paths.user_config_file().write_text("[llm\n")
    out = tmp_path / "r.tar.gz"
    result = CliRunner().invoke(cli, ["report", "-o", str(out)])
    assert result.exit_code == 0
    system = "".join(members(out).values())
    assert "could not load settings" in system and "Invalid TOML" in system


def test_report_to_unwritable_place_is_clear(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = CliRunner().invoke(cli, ["report", "-o", str(blocker / "sub" / "r.tar.gz")])
    assert result.exit_code == 1
    assert "Could not write the report" in result.stderr
