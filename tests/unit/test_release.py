"""Release engineering: workflow files are well-formed and pinned; versions agree; notes extract."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
_PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$")


def _release_meta() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "release_meta", ROOT / "scripts" / "release_meta.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["release_meta"] = module
    spec.loader.exec_module(module)
    return module


def _load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name} is not a YAML mapping"
    return data


def _steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_there_are_ci_docs_and_publish_workflows() -> None:
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "docs.yml", "publish.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_parses_and_every_action_is_pinned(path: Path) -> None:
    workflow = _load(path)
    # PyYAML reads the bare key `on` as True (YAML 1.1); either spelling is the trigger block.
    assert "on" in workflow or True in workflow, f"{path.name} has no trigger"
    assert workflow.get("permissions"), f"{path.name} has no top-level permissions block"
    for name, job in workflow["jobs"].items():
        assert "timeout-minutes" in job, f"{path.name}: job {name} has no timeout-minutes"
    for step in _steps(workflow):
        uses = step.get("uses")
        if uses is not None:
            assert _PINNED.match(uses), (
                f"{path.name}: `uses: {uses}` is not pinned to a version or SHA"
            )


def test_pin_check_refuses_branches_and_missing_versions() -> None:
    for bad in (
        "actions/checkout",
        "actions/checkout@main",
        "pypa/gh-action-pypi-publish@release/v1",
    ):
        assert not _PINNED.match(bad), bad
    for good in ("actions/checkout@v4", "pypa/gh-action-pypi-publish@v1.12.4", "a/b@" + "0" * 40):
        assert _PINNED.match(good), good


def test_publish_uses_trusted_publishing_testpypi_first_and_no_tokens() -> None:
    workflow = _load(ROOT / ".github" / "workflows" / "publish.yml")
    jobs = workflow["jobs"]
    text = (ROOT / ".github" / "workflows" / "publish.yml").read_text(encoding="utf-8")
    assert "password:" not in text and "PYPI_API_TOKEN" not in text
    for name in ("testpypi", "pypi"):
        assert jobs[name]["permissions"] == {"id-token": "write"}, name
        assert any("gh-action-pypi-publish" in s.get("uses", "") for s in jobs[name]["steps"])
    testpypi_step = next(
        s for s in jobs["testpypi"]["steps"] if "pypi-publish" in s.get("uses", "")
    )
    assert testpypi_step["with"]["repository-url"] == "https://test.pypi.org/legacy/"
    # order: build -> testpypi -> smoke test -> pypi -> attach
    assert jobs["testpypi"]["needs"] == "build"
    assert set(jobs["smoke-test"]["needs"]) == {"build", "testpypi"}
    assert jobs["pypi"]["needs"] == "smoke-test"
    assert jobs["attach"]["needs"] == "pypi"
    assert "release_meta.py check --tag" in text
    assert "pygent-agent==" in text


def test_ci_matrix_covers_every_python_the_classifiers_claim() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    claimed = set(re.findall(r"Programming Language :: Python :: (3\.\d+)\"", pyproject))
    ci = _load(ROOT / ".github" / "workflows" / "ci.yml")
    linux = set(ci["jobs"]["linux"]["strategy"]["matrix"]["python"])
    assert claimed and claimed == linux
    other = ci["jobs"]["other-os"]["strategy"]["matrix"]
    assert set(other["os"]) == {"macos-latest", "windows-latest"}
    assert "bash .ci/run" in json.dumps(ci["jobs"]["linux"]["steps"])


def test_versions_agree_in_this_checkout() -> None:
    meta = _release_meta()
    assert meta.problems(ROOT) == []
    from pygent import __version__

    assert meta.package_version(ROOT) == __version__


def _fake_repo(tmp_path: Path, version: str, ext_version: str, changelog: str) -> Path:
    (tmp_path / "src" / "pygent").mkdir(parents=True)
    (tmp_path / "src" / "pygent" / "__init__.py").write_text(f'__version__ = "{version}"\n')
    (tmp_path / "editors" / "vscode").mkdir(parents=True)
    (tmp_path / "editors" / "vscode" / "package.json").write_text(
        json.dumps({"version": ext_version})
    )
    (tmp_path / "CHANGELOG.md").write_text(changelog)
    return tmp_path


CHANGELOG = """# Changelog

## [Unreleased]

## [0.2.0] - 2027-01-10

### Added

- A thing.

## [0.1.0] - 2026-12-01

- First.

[Unreleased]: https://example.invalid/compare/v0.2.0...HEAD
[0.2.0]: https://example.invalid/releases/tag/v0.2.0
"""


def test_mismatches_are_each_reported(tmp_path: Path) -> None:
    meta = _release_meta()
    repo = _fake_repo(tmp_path, "0.2.0", "0.1.9", CHANGELOG)
    found = meta.problems(repo, "v0.3.0")
    assert any("package.json has version 0.1.9" in p for p in found)
    assert any("tag v0.3.0 does not match __version__ 0.2.0" in p for p in found)
    assert any("no dated section '## [0.3.0]" in p for p in found)
    assert meta.problems(_fake_repo(tmp_path / "ok", "0.2.0", "0.2.0", CHANGELOG), "v0.2.0") == []


def test_an_unreleased_changelog_cannot_be_published(tmp_path: Path) -> None:
    meta = _release_meta()
    repo = _fake_repo(tmp_path, "0.1.0", "0.1.0", "# Changelog\n\n## [Unreleased]\n\n- x\n")
    assert meta.problems(repo) == []
    assert any("no dated section" in p for p in meta.problems(repo, "v0.1.0"))


def test_release_notes_are_the_versions_section_only() -> None:
    meta = _release_meta()
    notes = meta.changelog_section(CHANGELOG, "0.2.0")
    assert notes == "### Added\n\n- A thing."
    assert meta.changelog_section(CHANGELOG, "0.1.0") == "- First."
    assert meta.changelog_section(CHANGELOG, "Unreleased") is None
    assert meta.changelog_section(CHANGELOG, "9.9.9") is None


def test_release_meta_runs_as_a_script() -> None:
    import subprocess

    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "release_meta.py"), "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "versions agree" in result.stdout
