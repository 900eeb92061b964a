"""Shell lexer: a command line as words and operators, with what each word expands.

A small POSIX-shell tokenizer of our own, because :mod:`shlex` cannot tell a quoted ``';'`` from
the operator ``;`` and says nothing about expansions. Each word remembers whether the shell would
change it before running the command (``$VAR``, ``${VAR}``, ``$((...))``, ``$'...'``, a leading
``~``, unquoted glob characters), so the classifier can refuse to trust what it cannot know
statically. Command substitutions (``$(...)``, backticks, ``<(...)``) are cut out and returned
separately; the word keeps a marker where each one was. Here-document bodies are data, except that
an unquoted delimiter lets the shell run the ``$(...)`` inside them: those are returned as
substitutions too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "OUTPUT_REDIRECTS",
    "PIPES",
    "REDIRECTS",
    "SEPARATORS",
    "SUBST_MARK",
    "ParseError",
    "Token",
    "render",
    "substitution_indexes",
    "tokenize",
]

OPERATORS = (
    "&>>",
    "<<<",
    "<<-",
    "&&",
    "||",
    ";;",
    "|&",
    ">>",
    "<<",
    ">&",
    "<&",
    "&>",
    ">|",
    "<>",
    ";",
    "&",
    "|",
    "<",
    ">",
    "(",
    ")",
)
#: Operators that end a simple command.
SEPARATORS = frozenset({";", "&", "&&", "||", "|", "|&", ";;", "(", ")"})
PIPES = frozenset({"|", "|&"})
#: Redirection operators (each takes the next word as its target).
REDIRECTS = frozenset({"<", ">", ">>", ">|", "&>", "&>>", "<>", ">&", "<&", "<<", "<<-", "<<<"})
OUTPUT_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", "<>"})
#: Marks where a command substitution was cut out of a word: ``\x00<index>\x00``.
SUBST_MARK = "\x00"
_SUBST_RE = re.compile(f"{SUBST_MARK}(\\d+){SUBST_MARK}")
# After `$`, these start an expansion: names, `{`, `(`, digits, special parameters, quotes.
_EXPANSION_START = re.compile(r"[A-Za-z_{(0-9@*#?$!\-'\"]")


class ParseError(Exception):
    """The line is not valid shell (an unterminated quote or substitution)."""


@dataclass
class Token:
    """A word or an operator.

    Attributes:
        kind: ``"word"`` or ``"op"``.
        value: The word with quotes removed (substitutions replaced by markers), or the operator.
        quoted: Some part of the word was quoted or escaped.
        expands: The shell changes the word before use: ``$VAR``, ``${...}``, ``$((...))``,
            ``$'...'``, or a command substitution.
        glob: An unquoted ``*``, ``?`` or ``[`` (the shell may expand it to file names).
        tilde: The word starts with an unquoted ``~`` (home directory expansion).
        brace: An unquoted ``{...}`` holding ``,`` or ``..`` (brace expansion: ``{/etc/x,a}``).
    """

    kind: str
    value: str
    quoted: bool = False
    expands: bool = False
    glob: bool = False
    tilde: bool = False
    brace: bool = False


def _sentinel(index: int) -> str:
    return f"{SUBST_MARK}{index}{SUBST_MARK}"


def render(word: str, subs: list[str]) -> str:
    """``word`` quoted the shell way, with its substitution markers shown as ``$(...)``."""
    import shlex

    if SUBST_MARK in word:
        return _SUBST_RE.sub(
            lambda m: f"$({subs[int(m.group(1))]})" if int(m.group(1)) < len(subs) else "$(...)",
            word,
        )
    return shlex.quote(word)


def substitution_indexes(word: str) -> list[int]:
    """The indexes of the substitutions whose markers ``word`` holds."""
    return [int(i) for i in _SUBST_RE.findall(word)]


def _balanced(text: str, start: int) -> tuple[str, int]:
    """The text up to the ``)`` closing an opening just before ``start``, and the index after it."""
    depth = 1
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            j = text.find("'", i + 1)
            if j < 0:
                raise ParseError("unterminated single quote")
            i = j + 1
            continue
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            if i >= n:
                raise ParseError("unterminated double quote")
            i += 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return text[start:i], i + 1
        i += 1
    raise ParseError("unterminated command substitution $(...)")


def _backtick(text: str, start: int) -> tuple[str, int]:
    """The text up to the closing backtick (``start`` is just after the opening one)."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == "`":
            return text[start:i].replace("\\`", "`"), i + 1
        i += 1
    raise ParseError("unterminated backtick substitution")


def _body_substitutions(body: str) -> list[str]:
    """The ``$(...)`` and backtick commands inside an unquoted here-document body."""
    found: list[str] = []
    i = 0
    while i < len(body):
        if body[i] == "\\":
            i += 2
        elif body.startswith("$(", i):
            try:
                inner, i = _balanced(body, i + 2)
            except ParseError:
                found.append(body[i + 2 :])
                break
            found.append(inner)
        elif body[i] == "`":
            try:
                inner, i = _backtick(body, i + 1)
            except ParseError:
                found.append(body[i + 1 :])
                break
            found.append(inner)
        else:
            i += 1
    return found


class _Lexer:
    def __init__(self, command: str) -> None:
        self.text = command
        self.tokens: list[Token] = []
        self.subs: list[str] = []
        self.buf: list[str] = []
        self.in_word = False
        self.word = Token("word", "")
        self.expect_heredoc = False
        self.heredocs: list[Token] = []
        self.brace_open = False
        self.brace_sep = False

    def flush(self) -> None:
        if self.in_word:
            self.word.value = "".join(self.buf)
            self.tokens.append(self.word)
            if self.expect_heredoc:
                self.heredocs.append(self.word)
                self.expect_heredoc = False
        self.buf.clear()
        self.in_word = False
        self.word = Token("word", "")
        self.brace_open = self.brace_sep = False

    def start(self) -> None:
        self.in_word = True

    def substitution(self, inner: str) -> None:
        self.subs.append(inner)
        self.buf.append(_sentinel(len(self.subs) - 1))
        self.word.expands = True
        self.in_word = True

    def dollar(self, i: int) -> int:
        """Handle a ``$`` at ``i`` outside single quotes; returns the index after what it took."""
        text = self.text
        if text.startswith("$((", i):
            inner, end = _balanced(text, i + 2)
            if "$(" in inner or "`" in inner:
                self.substitution(inner)
            else:
                self.buf.append("$(" + inner + ")")
                self.word.expands = True
                self.start()
            return end
        if text.startswith("$(", i):
            inner, end = _balanced(text, i + 2)
            self.substitution(inner)
            return end
        nxt = text[i + 1 : i + 2]
        if nxt and _EXPANSION_START.match(nxt):
            self.word.expands = True
        self.buf.append("$")
        self.start()
        return i + 1

    def skip_heredoc_bodies(self, i: int) -> int:
        text = self.text
        n = len(text)
        for delim_token in self.heredocs:
            delimiter = delim_token.value
            body: list[str] = []
            while i < n:
                end = text.find("\n", i)
                line = text[i:] if end < 0 else text[i:end]
                i = n if end < 0 else end + 1
                if line.strip() == delimiter:
                    break
                body.append(line)
            if not delim_token.quoted:
                # The shell expands `$(...)` and backticks in an unquoted here-document.
                for inner in _body_substitutions("\n".join(body)):
                    self.subs.append(inner)
        self.heredocs.clear()
        return i

    def run(self) -> tuple[list[Token], list[str]]:
        text = self.text
        n = len(text)
        i = 0
        while i < n:
            c = text[i]
            if c in " \t\r":
                self.flush()
                i += 1
            elif c == "\n":
                self.flush()
                self.tokens.append(Token("op", ";"))
                i = self.skip_heredoc_bodies(i + 1)
            elif c == "\\":
                if i + 1 < n and text[i + 1] == "\n":  # line continuation
                    i += 2
                    continue
                self.buf.append(text[i + 1] if i + 1 < n else "\\")
                self.word.quoted = True
                self.start()
                i += 2
            elif c == "'":
                j = text.find("'", i + 1)
                if j < 0:
                    raise ParseError("unterminated single quote")
                self.buf.append(text[i + 1 : j])
                self.word.quoted = True
                self.start()
                i = j + 1
            elif c == '"':
                self.word.quoted = True
                self.start()
                i = self.double_quoted(i + 1)
            elif c == "#" and not self.in_word:
                end = text.find("\n", i)
                i = n if end < 0 else end
            elif c == "$":
                i = self.dollar(i)
            elif c == "`":
                inner, i = _backtick(text, i + 1)
                self.substitution(inner)
            elif c in "<>" and text.startswith("(", i + 1):  # process substitution
                self.flush()
                inner, i = _balanced(text, i + 2)
                self.substitution(inner)
                self.flush()
            elif c in ";&|<>()":
                if c in "<>" and self.in_word and "".join(self.buf).isdigit():
                    self.buf.clear()  # "2>" names a file descriptor, not a word
                    self.in_word = False
                    self.word = Token("word", "")
                self.flush()
                for op in OPERATORS:
                    if text.startswith(op, i):
                        self.tokens.append(Token("op", op))
                        i += len(op)
                        if op in ("<<", "<<-"):
                            self.expect_heredoc = True
                        break
            else:
                if c == "~" and not self.in_word:
                    self.word.tilde = True
                elif c in "*?[":
                    self.word.glob = True
                elif c == "{":
                    self.brace_open = True
                elif c in ",." and self.brace_open:
                    self.brace_sep = True
                elif c == "}" and self.brace_open and self.brace_sep:
                    self.word.brace = True
                self.buf.append(c)
                self.start()
                i += 1
        self.flush()
        return self.tokens, self.subs

    def double_quoted(self, i: int) -> int:
        text = self.text
        n = len(text)
        while True:
            if i >= n:
                raise ParseError("unterminated double quote")
            d = text[i]
            if d == "\\" and i + 1 < n and text[i + 1] in '$`"\\\n':
                if text[i + 1] != "\n":
                    self.buf.append(text[i + 1])
                i += 2
            elif d == '"':
                return i + 1
            elif d == "$":
                i = self.dollar(i)
            elif d == "`":
                inner, i = _backtick(text, i + 1)
                self.substitution(inner)
            else:
                self.buf.append(d)
                i += 1


def tokenize(command: str) -> tuple[list[Token], list[str]]:
    """Shell words and operators of ``command``, plus the texts of its command substitutions.

    Raises:
        ParseError: an unterminated quote or substitution.
    """
    return _Lexer(command).run()
