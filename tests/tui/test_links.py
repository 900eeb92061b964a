"""Links in answers: workspace file names become file links, never http links; URLs stay URLs."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from pygent.tui.links import markdown_parser, parse_file_link


def _hrefs(root: Path, text: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', markdown_parser(root)().render(text))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    for name in ("app.py", "README.md", "setup.sh", "src/x.py", "main.rs"):
        (tmp_path / name).write_text("one\ntwo\n", encoding="utf-8")
    return tmp_path.resolve()


def test_bare_file_names_link_to_the_workspace_file(root: Path) -> None:
    hrefs = _hrefs(root, "See app.py, README.md, main.rs and setup.sh.")
    assert hrefs == [(root / n).as_uri() for n in ("app.py", "README.md", "main.rs", "setup.sh")]


def test_path_with_line_links_to_that_line(root: Path) -> None:
    assert _hrefs(root, "the bug is at src/x.py:42 and app.py:2") == [
        (root / "src/x.py").as_uri() + "#L42",
        (root / "app.py").as_uri() + "#L2",
    ]
    assert parse_file_link((root / "src/x.py").as_uri() + "#L42") == (root / "src/x.py", 42)


def test_inline_code_naming_a_file_is_a_link(root: Path) -> None:
    html = markdown_parser(root)().render("Edit `src/x.py` then `pip install`.")
    assert f'<a href="{(root / "src/x.py").as_uri()}"><code>src/x.py</code></a>' in html
    assert "<code>pip install</code>" in html and html.count("href=") == 1


def test_missing_file_names_are_plain_text_never_http_links(root: Path) -> None:
    html = markdown_parser(root)().render("Create notes.md and lib.rs, see other.py:3.")
    assert "href" not in html
    assert "notes.md" in html and "other.py:3" in html


def test_real_urls_stay_urls(root: Path) -> None:
    hrefs = _hrefs(root, "Docs: https://docs.python.org/3/ www.example.com pypi.org")
    assert hrefs == ["https://docs.python.org/3/", "http://www.example.com", "http://pypi.org"]


def test_explicit_relative_links_point_at_the_workspace_file(root: Path) -> None:
    assert _hrefs(root, "[readme](README.md) [line](src/x.py#L2)") == [
        (root / "README.md").as_uri(),
        (root / "src/x.py").as_uri() + "#L2",
    ]


def test_paths_outside_the_workspace_are_never_linked(
    root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "secret.py"
    outside.write_text("s = 1\n", encoding="utf-8")
    text = f"../{outside.parent.name}/secret.py and {outside}"
    assert not any(parse_file_link(h) for h in _hrefs(root, text))
    if hasattr(os, "symlink"):
        try:
            (root / "link.py").symlink_to(outside)
        except OSError:  # Windows without the symlink privilege
            return
        assert not any(parse_file_link(h) for h in _hrefs(root, "see link.py"))


def test_parse_file_link_ignores_other_schemes() -> None:
    assert parse_file_link("https://example.com/a.py") is None
    assert parse_file_link("http://app.py") is None
