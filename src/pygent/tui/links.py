"""Links in the assistant's Markdown: workspace file names open the file, real URLs stay URLs.

Markdown's linkify turns ``app.py`` or ``README.md`` into ``http://app.py`` (``.py`` and ``.md``
are top-level domains). :func:`markdown_parser` adds a rule after linkify that:

- turns a linkified bare name (no scheme, no ``www.``) into a link to the workspace file when it
  exists, and back into plain text when it does not but looks like a file name (its "domain" is a
  common file extension); ``example.com`` stays a link;
- links file references the model wrote as text or inline code (``src/x.py:42``, `` `util.py` ``)
  when the file exists in the workspace;
- points explicit relative links (``[notes](docs/notes.md)``) at the workspace file.

A file link is a ``file://`` URI with ``#L<line>`` when a line was given; :func:`parse_file_link`
reads it back. Only paths inside the workspace root are ever linked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore
    from markdown_it.token import Token

__all__ = ["FileLinker", "markdown_parser", "parse_file_link"]

#: Extensions that make a bare ``name.ext`` a file name, never a web address.
FILE_EXTENSIONS = frozenset(
    [
        "py",
        "pyi",
        "md",
        "rst",
        "txt",
        "toml",
        "yaml",
        "yml",
        "json",
        "jsonc",
        "cfg",
        "ini",
        "lock",
        "rs",
        "go",
        "c",
        "h",
        "cc",
        "cpp",
        "hpp",
        "cs",
        "java",
        "kt",
        "kts",
        "swift",
        "rb",
        "php",
        "js",
        "jsx",
        "mjs",
        "cjs",
        "ts",
        "tsx",
        "vue",
        "svelte",
        "css",
        "scss",
        "sass",
        "less",
        "html",
        "htm",
        "xml",
        "sh",
        "bash",
        "zsh",
        "fish",
        "ps1",
        "bat",
        "lua",
        "vim",
        "el",
        "ex",
        "exs",
        "erl",
        "hs",
        "ml",
        "mli",
        "scala",
        "sql",
        "proto",
        "graphql",
        "tf",
        "nix",
        "zig",
        "dart",
        "r",
        "jl",
        "pl",
        "pm",
        "tex",
        "gradle",
        "mk",
        "cmake",
        "dockerfile",
        "env",
        "log",
        "csv",
        "tsv",
        "ipynb",
        "gitignore",
    ]
)
#: ``path/to/name.ext`` optionally followed by ``:line`` (or ``:line:column``).
_FILE_REF = re.compile(
    r"(?<![\w/.:-])(?P<path>(?:\.{0,2}/)?(?:[\w.-]+/)*[\w-][\w.-]*\.[A-Za-z0-9]{1,12})"
    r"(?::(?P<line>\d{1,7})(?::\d{1,5})?)?(?![\w/-])"
)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def parse_file_link(href: str) -> tuple[Path, int | None] | None:
    """``(path, line)`` of a ``file://`` link made by :class:`FileLinker`; None for anything else."""
    parsed = urlparse(href)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path)
    if len(path) >= 3 and path[0] == "/" and path[2] == ":":  # file:///C:/x on Windows
        path = path[1:]
    line = None
    match = re.fullmatch(r"L(\d+)", parsed.fragment or "")
    if match:
        line = int(match.group(1))
    return Path(path), line


class FileLinker:
    """Decides which names are workspace files (cached: the same names recur while streaming).

    Args:
        root: The workspace root; nothing outside it is linked.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._cache: dict[str, Path | None] = {}

    def resolve(self, name: str) -> Path | None:
        """The file ``name`` (relative to the root, or absolute inside it) names, if it exists."""
        if name in self._cache:
            return self._cache[name]
        found: Path | None = None
        try:
            candidate = Path(name)
            path = (candidate if candidate.is_absolute() else self.root / candidate).resolve()
            if path.is_relative_to(self.root) and path.is_file():
                found = path
        except (OSError, ValueError):
            found = None
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[name] = found
        return found

    def href(self, name: str, line: str | int | None = None) -> str | None:
        """A ``file://`` link (``#L<line>``) for a workspace file, or None."""
        path = self.resolve(name)
        if path is None:
            return None
        return path.as_uri() + (f"#L{int(line)}" if line else "")

    # -- the markdown-it rule ---------------------------------------------------------------

    def rule(self, state: StateCore) -> None:
        """markdown-it core rule: rewrite the inline tokens of every block (see the module doc)."""
        for block in state.tokens:
            if block.type == "inline" and block.children:
                block.children = self._rewrite(block.children, state)

    def _rewrite(self, children: list[Token], state: StateCore) -> list[Token]:
        from markdown_it.token import Token

        out: list[Token] = []
        index = 0
        while index < len(children):
            token = children[index]
            if token.type == "link_open":
                close = _matching_close(children, index)
                inner = children[index + 1 : close]
                text = "".join(t.content for t in inner)
                href = str(token.attrs.get("href", ""))
                if token.markup == "linkify" and _is_fuzzy(text):
                    ref = _FILE_REF.fullmatch(text)  # `util.py:2` reads as host:port to linkify
                    target = self.href(ref["path"], ref["line"]) if ref else None
                    if target is not None:
                        token.attrs["href"] = target
                    elif ref is not None and _looks_like_file(ref["path"]):
                        out.extend(inner)  # a file name, not a web address: plain text
                        index = close + 1
                        continue
                elif href and not _SCHEME.match(href) and not href.startswith(("#", "//")):
                    name, _, line = href.partition("#L")
                    target = self.href(unquote(name), line if line.isdigit() else None)
                    if target is not None:
                        token.attrs["href"] = target
                out.extend(children[index : close + 1])
                index = close + 1
                continue
            if token.type == "code_inline":
                match = _FILE_REF.fullmatch(token.content.strip())
                target = self.href(match["path"], match["line"]) if match else None
                if target is not None:
                    out.extend(_wrap_link(target, [token], state, Token))
                else:
                    out.append(token)
            elif token.type == "text":
                out.extend(self._split_text(token, state, Token))
            else:
                out.append(token)
            index += 1
        return out

    def _split_text(self, token: Token, state: StateCore, token_cls: type[Token]) -> list[Token]:
        text = token.content
        pieces: list[Token] = []
        last = 0
        for match in _FILE_REF.finditer(text):
            target = self.href(match["path"], match["line"])
            if target is None:
                continue
            if match.start() > last:
                pieces.append(_text_token(text[last : match.start()], token_cls))
            pieces += _wrap_link(target, [_text_token(match.group(0), token_cls)], state, token_cls)
            last = match.end()
        if not pieces:
            return [token]
        if last < len(text):
            pieces.append(_text_token(text[last:], token_cls))
        return pieces


def markdown_parser(root: Path) -> Callable[[], MarkdownIt]:
    """A ``parser_factory`` for Textual's ``Markdown``: "gfm-like" plus the workspace-file rule."""
    linker = FileLinker(root)

    def factory() -> MarkdownIt:
        from markdown_it import MarkdownIt

        parser = MarkdownIt("gfm-like")
        parser.core.ruler.push("pygent_files", linker.rule)
        return parser

    return factory


def _matching_close(children: list[Token], start: int) -> int:
    depth = 0
    for index in range(start, len(children)):
        kind = children[index].type
        if kind == "link_open":
            depth += 1
        elif kind == "link_close":
            depth -= 1
            if depth == 0:
                return index
    return len(children) - 1


def _is_fuzzy(text: str) -> bool:
    """A linkified text written without a scheme and without ``www.`` (``app.py``, ``pypi.org``)."""
    lowered = text.lower()
    return "://" not in text and not lowered.startswith(("www.", "mailto:")) and "@" not in text


def _looks_like_file(text: str) -> bool:
    name = text.rstrip("/").rsplit("/", 1)[-1]
    return "." in name and name.rsplit(".", 1)[1].lower() in FILE_EXTENSIONS


def _text_token(content: str, token_cls: type[Token]) -> Token:
    token = token_cls("text", "", 0)
    token.content = content
    return token


def _wrap_link(
    href: str, inner: list[Token], state: StateCore, token_cls: type[Token]
) -> list[Token]:
    opening = token_cls("link_open", "a", 1)
    opening.attrs = {"href": href}
    opening.markup = "pygent-file"
    closing = token_cls("link_close", "a", -1)
    closing.markup = "pygent-file"
    return [opening, *inner, closing]
