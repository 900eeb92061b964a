"""Every relative link in docs/ and README.md points at a file (and heading) that exists.

External links (http, https, mailto) are not fetched. A link to a heading (``page.md#section``
or ``#section``) must name a heading of that page, slugged the way mkdocs and GitHub do.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

# [text](target) and ![alt](target), not inside code; the target ends at whitespace or ")".
_LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,}).*?^\1\2[`~]*\s*$", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_EXTERNAL = ("http://", "https://", "mailto:", "ftp://", "vscode:", "file:")


def _markdown_files() -> list[Path]:
    files = sorted(DOCS.rglob("*.md"))
    readme = ROOT / "README.md"
    if readme.is_file():
        files.append(readme)
    return files


def _strip_code(text: str) -> str:
    text = _FENCE.sub("", text)
    return _INLINE_CODE.sub("", text)


def slugify(heading: str) -> str:
    """The anchor of a heading, as mkdocs' toc extension and GitHub make it."""
    heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links keep their text
    heading = heading.replace("`", "")
    heading = unicodedata.normalize("NFKD", heading)
    heading = re.sub(r"[^\w\s-]", "", heading).strip().lower()
    return re.sub(r"[\s]+", "-", heading)


def anchors_of(path: Path) -> set[str]:
    """Every heading anchor of a Markdown file (duplicates get ``_1``/``-1`` suffixes)."""
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    out: set[str] = set()
    for match in _HEADING.finditer(text):
        slug = slugify(match.group(1))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        out.add(slug)
        if count:
            out.add(f"{slug}_{count}")  # mkdocs
            out.add(f"{slug}-{count}")  # GitHub
    # Explicit anchors: <a id="x"></a>, <a name="x">, {#x}.
    out.update(re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", text))
    out.update(re.findall(r"\{#([\w-]+)\}", text))
    return out


def links_of(path: Path) -> list[str]:
    """The link targets of a Markdown file, code spans and fenced blocks excluded."""
    text = _strip_code(path.read_text(encoding="utf-8"))
    return [m.group(1) for m in _LINK.finditer(text)] + _REFERENCE.findall(text)


def broken_links(path: Path) -> list[str]:
    """Human-readable descriptions of the relative links of ``path`` that do not resolve."""
    problems: list[str] = []
    for target in links_of(path):
        if target.startswith(_EXTERNAL):
            continue
        file_part, _, anchor = target.partition("#")
        dest = path if not file_part else (path.parent / file_part).resolve()
        if file_part and not dest.exists():
            problems.append(f"{target}: {file_part} does not exist")
            continue
        if anchor and dest.is_file() and dest.suffix == ".md" and anchor not in anchors_of(dest):
            problems.append(f"{target}: no heading #{anchor} in {dest.name}")
    return problems


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_resolve(path: Path) -> None:
    assert broken_links(path) == [], f"broken links in {path.relative_to(ROOT)}"


def test_checker_reports_a_missing_page_and_a_missing_heading(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text("# Title\n\n## Real section\n", encoding="utf-8")
    page = tmp_path / "a.md"
    page.write_text(
        "See [b](b.md), [real](b.md#real-section), [gone](gone.md), [bad](b.md#nope),\n"
        "[web](https://example.com/x.md) and `[code](ignored.md)`.\n\n"
        "```\n[fenced](also-ignored.md)\n```\n",
        encoding="utf-8",
    )
    problems = broken_links(page)
    assert problems == ["gone.md: gone.md does not exist", "b.md#nope: no heading #nope in b.md"]


def test_slugs_match_mkdocs_for_code_and_punctuation() -> None:
    assert slugify("`pygent run`: one prompt without a UI") == "pygent-run-one-prompt-without-a-ui"
    assert slugify("Retries, context and caching") == "retries-context-and-caching"
    assert slugify("git_push and git_pull") == "git_push-and-git_pull"
