"""Definitions in source files, found with tree-sitter queries (per-language grammar wheels).

``tree_sitter`` and the grammars are imported lazily, on the first parse. Parse results of a file are
cached by (path, mtime, size), so asking again about an unchanged file costs nothing.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LANGUAGE_BY_SUFFIX", "Definition", "clear_cache", "definitions_in", "language_for"]

LANGUAGE_BY_SUFFIX: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".jsx": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "cpp",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".c++": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
}
"""File suffix -> grammar. ``.h`` is parsed as C++ (a superset good enough for definitions)."""

# (module, function returning the language pointer)
_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
}

_JS = """
(function_declaration name: (_) @name) @def
(generator_function_declaration name: (_) @name) @def
(class_declaration name: (_) @name) @def
(method_definition name: (_) @name) @def
(variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @def
"""

_TS_EXTRA = """
(abstract_class_declaration name: (_) @name) @def
(interface_declaration name: (_) @name) @def
(type_alias_declaration name: (_) @name) @def
(enum_declaration name: (_) @name) @def
(function_signature name: (_) @name) @def
(abstract_method_signature name: (_) @name) @def
(method_signature name: (_) @name) @def
(internal_module name: (_) @name) @def
"""

_C = """
(function_definition declarator: (function_declarator declarator: (_) @name)) @def
(function_definition declarator: (pointer_declarator declarator: (function_declarator declarator: (_) @name))) @def
(struct_specifier name: (_) @name body: (_)) @def
(union_specifier name: (_) @name body: (_)) @def
(enum_specifier name: (_) @name body: (_)) @def
(type_definition declarator: (type_identifier) @name) @def
(preproc_function_def name: (_) @name) @def
(preproc_def name: (_) @name) @def
"""

_CPP_EXTRA = """
(function_definition declarator: (reference_declarator (function_declarator declarator: (_) @name))) @def
(class_specifier name: (_) @name body: (_)) @def
(namespace_definition name: (_) @name) @def
(alias_declaration name: (_) @name) @def
(field_declaration declarator: (function_declarator declarator: (_) @name)) @def
"""

_QUERIES: dict[str, str] = {
    "python": """
(function_definition name: (_) @name) @def
(class_definition name: (_) @name) @def
""",
    "javascript": _JS,
    "typescript": _JS + _TS_EXTRA,
    "tsx": _JS + _TS_EXTRA,
    "go": """
(function_declaration name: (_) @name) @def
(method_declaration name: (_) @name) @def
(type_spec name: (_) @name) @def
(type_alias name: (_) @name) @def
""",
    "rust": """
(function_item name: (_) @name) @def
(function_signature_item name: (_) @name) @def
(struct_item name: (_) @name) @def
(enum_item name: (_) @name) @def
(union_item name: (_) @name) @def
(trait_item name: (_) @name) @def
(type_item name: (_) @name) @def
(mod_item name: (_) @name) @def
(macro_definition name: (_) @name) @def
(const_item name: (_) @name) @def
(static_item name: (_) @name) @def
""",
    "java": """
(class_declaration name: (_) @name) @def
(interface_declaration name: (_) @name) @def
(enum_declaration name: (_) @name) @def
(record_declaration name: (_) @name) @def
(annotation_type_declaration name: (_) @name) @def
(method_declaration name: (_) @name) @def
(constructor_declaration name: (_) @name) @def
""",
    "c": _C,
    "cpp": _C + _CPP_EXTRA,
}

_KIND_BY_NODE = {
    "function_definition": "function",
    "function_declaration": "function",
    "generator_function_declaration": "function",
    "function_item": "function",
    "function_signature_item": "function",
    "function_signature": "function",
    "preproc_function_def": "macro",
    "preproc_def": "macro",
    "macro_definition": "macro",
    "class_definition": "class",
    "class_declaration": "class",
    "abstract_class_declaration": "class",
    "class_specifier": "class",
    "method_definition": "method",
    "method_declaration": "method",
    "method_signature": "method",
    "abstract_method_signature": "method",
    "constructor_declaration": "constructor",
    "field_declaration": "method",
    "variable_declarator": "function",
    "interface_declaration": "interface",
    "trait_item": "trait",
    "struct_item": "struct",
    "struct_specifier": "struct",
    "enum_item": "enum",
    "enum_declaration": "enum",
    "enum_specifier": "enum",
    "union_item": "union",
    "union_specifier": "union",
    "type_spec": "type",
    "type_alias": "type",
    "type_item": "type",
    "type_alias_declaration": "type",
    "type_definition": "type",
    "alias_declaration": "type",
    "record_declaration": "record",
    "annotation_type_declaration": "annotation",
    "namespace_definition": "namespace",
    "internal_module": "namespace",
    "mod_item": "module",
    "const_item": "constant",
    "static_item": "static",
}


@dataclass(frozen=True)
class Definition:
    """One definition found in a file.

    Attributes:
        name: The defined name (last component for qualified C++ names).
        line: 1-based line of the definition's first line.
        kind: ``function``, ``class``, ``method``, ``struct``, ``type``, ...
        signature: That line, stripped (at most 200 characters).
    """

    name: str
    line: int
    kind: str
    signature: str


class _Grammar:
    def __init__(self, language: str) -> None:
        import tree_sitter

        module_name, func_name = _GRAMMARS[language]
        module = importlib.import_module(module_name)
        self.language = tree_sitter.Language(getattr(module, func_name)())
        self.parser = tree_sitter.Parser(self.language)
        self.query = tree_sitter.Query(self.language, _QUERIES[language])
        self.cursor_type: Any = tree_sitter.QueryCursor


_GRAMMAR_CACHE: dict[str, _Grammar] = {}
_PARSE_CACHE: dict[Path, tuple[int, int, tuple[Definition, ...]]] = {}
_PARSE_CACHE_MAX = 5000
_LOCK = threading.Lock()
_PARSE_LOCK = threading.Lock()  # parsers and cursors are not thread-safe
parse_count = 0
"""Files actually parsed (not served from the cache); tests read it."""


def language_for(path: Path) -> str | None:
    """The grammar name for ``path``'s suffix, or None when unsupported."""
    return LANGUAGE_BY_SUFFIX.get(path.suffix.lower())


def _grammar(language: str) -> _Grammar:
    with _LOCK:
        grammar = _GRAMMAR_CACHE.get(language)
        if grammar is None:
            grammar = _Grammar(language)
            _GRAMMAR_CACHE[language] = grammar
        return grammar


def _extract(language: str, source: bytes) -> tuple[Definition, ...]:
    grammar = _grammar(language)
    tree = grammar.parser.parse(source)
    cursor = grammar.cursor_type(grammar.query)
    lines = source.split(b"\n")
    found: dict[tuple[int, str], Definition] = {}
    for _index, captures in cursor.matches(tree.root_node):
        defs = captures.get("def")
        names = captures.get("name")
        if not defs or not names:
            continue
        node, name_node = defs[0], names[0]
        raw_name = (name_node.text or b"").decode("utf-8", errors="replace")
        name = raw_name.split("::")[-1].strip()
        if not name:
            continue
        row = node.start_point[0]
        line_text = lines[row].decode("utf-8", errors="replace").strip() if row < len(lines) else ""
        kind = _KIND_BY_NODE.get(node.type, node.type)
        key = (row, name)
        if key not in found:
            found[key] = Definition(name, row + 1, kind, line_text[:200])
    return tuple(sorted(found.values(), key=lambda d: (d.line, d.name)))


def definitions_in(path: Path) -> tuple[Definition, ...]:
    """All definitions in ``path`` (cached by mtime and size; empty for unsupported files).

    Raises:
        OSError: when the file cannot be read.
    """
    global parse_count
    language = language_for(path)
    if language is None:
        return ()
    info = path.stat()
    cached = _PARSE_CACHE.get(path)
    if cached is not None and cached[0] == info.st_mtime_ns and cached[1] == info.st_size:
        return cached[2]
    source = path.read_bytes()
    with _PARSE_LOCK:
        result = _extract(language, source)
    with _LOCK:
        parse_count += 1
        if len(_PARSE_CACHE) >= _PARSE_CACHE_MAX:
            _PARSE_CACHE.pop(next(iter(_PARSE_CACHE)))
        _PARSE_CACHE[path] = (info.st_mtime_ns, info.st_size, result)
    return result


def clear_cache() -> None:
    """Forget every cached parse result."""
    with _LOCK:
        _PARSE_CACHE.clear()
