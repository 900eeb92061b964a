"""Release metadata checks used by the publish workflow and the test suite.

    python scripts/release_meta.py check [--tag vX.Y.Z]   # versions agree (and match the tag)
    python scripts/release_meta.py notes X.Y.Z            # print the CHANGELOG section of X.Y.Z

The version is single-sourced in ``src/pygent/__init__.py``; the VS Code extension's
``package.json`` must carry the same one, and a released version must have its own
``## [X.Y.Z] - YYYY-MM-DD`` section in ``CHANGELOG.md`` (Keep a Changelog).
Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_VERSION = re.compile(r'^__version__ = "([^"]+)"$', re.MULTILINE)
_HEADING = re.compile(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?\s*$", re.MULTILINE)


def package_version(root: Path = ROOT) -> str:
    """``__version__`` as written in ``src/pygent/__init__.py``."""
    text = (root / "src" / "pygent" / "__init__.py").read_text(encoding="utf-8")
    match = _VERSION.search(text)
    if match is None:
        raise ValueError("src/pygent/__init__.py has no __version__ line")
    return match.group(1)


def extension_version(root: Path = ROOT) -> str:
    """The VS Code extension's ``package.json`` version."""
    data = json.loads((root / "editors" / "vscode" / "package.json").read_text(encoding="utf-8"))
    return str(data["version"])


def changelog_section(text: str, version: str) -> str | None:
    """The body of ``## [version] - date`` in a Keep a Changelog text (None when absent or undated)."""
    headings = list(_HEADING.finditer(text))
    for index, match in enumerate(headings):
        if match.group(1) == version and match.group(2):
            end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
            body = text[match.end() : end]
            # link reference definitions at the end of the file are not part of the section
            body = re.split(r"^\[[^\]]+\]: ", body, maxsplit=1, flags=re.MULTILINE)[0]
            return body.strip()
    return None


def problems(root: Path = ROOT, tag: str | None = None) -> list[str]:
    """Every disagreement between the tag, ``__version__``, ``package.json`` and the CHANGELOG."""
    found: list[str] = []
    version = package_version(root)
    ext = extension_version(root)
    if ext != version:
        found.append(
            f"editors/vscode/package.json has version {ext}, src/pygent/__init__.py has {version}"
        )
    changelog = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    if "## [Unreleased]" not in changelog:
        found.append("CHANGELOG.md has no '## [Unreleased]' section (Keep a Changelog)")
    if tag is not None:
        wanted = tag[1:] if tag.startswith("v") else tag
        if wanted != version:
            found.append(f"tag {tag} does not match __version__ {version}")
        if changelog_section(changelog, wanted) is None:
            found.append(
                f"CHANGELOG.md has no dated section '## [{wanted}] - YYYY-MM-DD' for tag {tag}"
            )
    return found


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="versions agree (and match --tag)")
    check.add_argument("--tag", help="the release tag, e.g. v0.2.0")
    notes = sub.add_parser("notes", help="print a version's CHANGELOG section")
    notes.add_argument("version")
    args = parser.parse_args(argv)
    if args.command == "check":
        found = problems(ROOT, args.tag)
        for problem in found:
            print(f"error: {problem}", file=sys.stderr)
        if not found:
            print(f"versions agree: {package_version()}")
        return 1 if found else 0
    version = args.version[1:] if args.version.startswith("v") else args.version
    section = changelog_section((ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), version)
    if section is None:
        print(f"error: CHANGELOG.md has no dated section for {version}", file=sys.stderr)
        return 1
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
