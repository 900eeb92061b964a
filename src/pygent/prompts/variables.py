"""Template variables of system prompts: ``{project_name}``, ``{project_type}``, ``{current_dir}``,
``{git_branch}``, ``{date}``, ``{os}``.

Only these exact names are replaced. Anything else in braces — unknown ``{names}``, code samples
with ``{`` and ``}``, JSON — is left exactly as written (``str.format`` is never used). A known name
in double braces (``{{date}}``) is left alone too.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from pygent.settings import paths

__all__ = ["VARIABLES", "detect_project", "expand", "git_branch_name", "template_values"]

#: Variable name -> what it expands to (documentation for `pygent help prompts`).
VARIABLES: dict[str, str] = {
    "project_name": "the project's name (pyproject.toml, package.json, Cargo.toml, go.mod, else the folder)",
    "project_type": "python, node, rust, go, java, ... (from the files at the project root)",
    "current_dir": "the working directory",
    "git_branch": "the current git branch (also before the first commit)",
    "date": "today's date, YYYY-MM-DD",
    "os": "the operating system (Linux, macOS, Windows) and version",
}

_PATTERN = re.compile(r"(?<!\{)\{(" + "|".join(VARIABLES) + r")\}(?!\})")


def expand(text: str, values: Mapping[str, str]) -> str:
    """Replace the known ``{name}`` variables in ``text``; everything else stays as written."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        return values.get(name, match.group(0))

    return _PATTERN.sub(substitute, text)


def _load_toml(path: Path) -> dict[str, object]:
    from pygent.settings.loader import toml_loads

    try:
        return toml_loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _name_from_pyproject(path: Path) -> str | None:
    data = _load_toml(path)
    project = data.get("project")
    if isinstance(project, dict) and isinstance(project.get("name"), str):
        return str(project["name"])
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if isinstance(poetry, dict) and isinstance(poetry.get("name"), str):
        return str(poetry["name"])
    return None


def _name_from_package_json(path: Path) -> str | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name else None


def _name_from_cargo(path: Path) -> str | None:
    package = _load_toml(path).get("package")
    if isinstance(package, dict) and isinstance(package.get("name"), str):
        return str(package["name"])
    return None


def _name_from_go_mod(path: Path) -> str | None:
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("module "):
                return line.split(None, 1)[1].strip().strip('"')
    except (OSError, IndexError):
        return None
    return None


_MARKERS: tuple[tuple[str, str, Callable[[Path], str | None] | None], ...] = (
    ("pyproject.toml", "python", _name_from_pyproject),
    ("package.json", "node", _name_from_package_json),
    ("Cargo.toml", "rust", _name_from_cargo),
    ("go.mod", "go", _name_from_go_mod),
    ("setup.py", "python", None),
    ("setup.cfg", "python", None),
    ("requirements.txt", "python", None),
    ("pom.xml", "java", None),
    ("build.gradle", "java", None),
    ("build.gradle.kts", "kotlin", None),
    ("Gemfile", "ruby", None),
    ("composer.json", "php", None),
    ("mix.exs", "elixir", None),
    ("Package.swift", "swift", None),
    ("pubspec.yaml", "dart", None),
    ("CMakeLists.txt", "c/c++", None),
    ("Makefile", "make", None),
)


def detect_project(root: Path) -> tuple[str, str]:
    """``(project_name, project_type)`` of the project at ``root``.

    The name comes from pyproject.toml, package.json, Cargo.toml or go.mod, else the folder
    name; the type from marker files (``unknown`` when none is found).
    """
    name: str | None = None
    kind: str | None = None
    for marker, marker_type, reader in _MARKERS:
        path = root / marker
        if not path.is_file():
            continue
        if kind is None:
            kind = marker_type
        if name is None and reader is not None:
            name = reader(path)
        if name is not None and kind is not None:
            break
    if kind is None:
        try:
            if any(root.glob("*.csproj")) or any(root.glob("*.sln")):
                kind = "csharp"
        except OSError:
            pass
    return name or root.name or str(root), kind or "unknown"


def git_branch_name(cwd: Path) -> str:
    """The current branch (works before the first commit), ``detached at SHA``, or a note."""
    root = paths.find_git_root(cwd)
    if root is None:
        return "(not a git repository)"
    git_dir = root / ".git"
    try:
        if git_dir.is_file():  # worktree or submodule: "gitdir: PATH"
            target = git_dir.read_text(encoding="utf-8").strip().removeprefix("gitdir:").strip()
            git_dir = (root / target).resolve()
        head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
    except OSError:
        return paths.git_branch(cwd) or "(unknown)"
    if head.startswith("ref:"):
        return head.removeprefix("ref:").strip().removeprefix("refs/heads/")
    return f"(detached at {head[:7]})" if head else "(unknown)"


def _os_name() -> str:
    system = platform.system()
    if system == "Darwin":
        return f"macOS {platform.mac_ver()[0]}".strip()
    if system == "Windows":
        return f"Windows {platform.release()}".strip()
    return f"{system} {platform.release()}".strip() or sys.platform


def template_values(cwd: Path, project_root: Path | None = None) -> dict[str, str]:
    """The values of every template variable for a session in ``cwd``."""
    root = project_root or paths.find_project_root(cwd)
    name, kind = detect_project(root)
    return {
        "project_name": name,
        "project_type": kind,
        "current_dir": str(cwd),
        "git_branch": git_branch_name(cwd),
        "date": _dt.date.today().isoformat(),
        "os": _os_name(),
    }
