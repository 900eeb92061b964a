"""Editing config files in place with tomlkit: comments, order and formatting survive.

Every change is validated against the schema before anything is written; the file is replaced
atomically, so on any error it is left exactly as it was. A file that holds an API key gets
mode 0600.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import SecretStr

from pygent.errors import ConfigError
from pygent.fsutil import atomic_write_text
from pygent.settings.loader import (
    _sections,
    describe_type,
    field_for_key,
    layer_problems,
    parse_toml_text,
    problems_error,
    read_config_text,
    validate_layer,
)

__all__ = [
    "SECRET_KEYS",
    "append_to_list",
    "check_new_values",
    "default_config_text",
    "parse_value",
    "read_config_text",
    "set_value",
    "set_values",
    "unset_value",
    "validate_config_text",
    "write_config_text",
]

#: Keys whose value is a secret: a file holding one is written with mode 0600.
SECRET_KEYS: frozenset[str] = frozenset({"llm.api_key"})

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def validate_config_text(text: str, path: Path) -> dict[str, Any]:
    """Parse and validate config ``text`` as if it were the file at ``path``.

    Raises:
        ConfigError: Broken TOML, unknown keys or wrong types (naming file, line, key).
    """
    data = parse_toml_text(text, path)
    validate_layer(data, str(path), text=text)
    return data


def _holds_secret(data: dict[str, Any]) -> bool:
    for dotted in SECRET_KEYS:
        section, _, leaf = dotted.partition(".")
        values = data.get(section)
        if isinstance(values, dict) and values.get(leaf):
            return True
    return False


def write_config_text(path: Path, text: str) -> None:
    """Validate ``text`` and write it to ``path`` atomically (0600 if it holds a secret).

    Raises:
        ConfigError: The text is invalid or the file cannot be written; the file is unchanged.
    """
    data = validate_config_text(text, path)
    mode: int | None = None
    if _holds_secret(data):
        mode = 0o600
    elif path.exists():
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(path.stat().st_mode)
    try:
        atomic_write_text(path, text, mode=mode)
    except PermissionError:
        raise ConfigError(
            f"Cannot write the config file {path}: permission denied.",
            f"Check the permissions of {path.parent}.",
            {"path": str(path)},
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"Cannot write the config file {path}: {exc.strerror or exc}.",
            "Check that the directory exists and is writable.",
            {"path": str(path)},
        ) from None


def _load_document(path: Path) -> Any:
    import tomlkit
    from tomlkit.exceptions import ParseError

    text = read_config_text(path) or ""
    # The same parser as loading (tomllib) reports a syntax error, so `pygent run` and
    # `pygent config set` name the same line and column for the same broken file.
    parse_toml_text(text, path)
    try:
        return tomlkit.parse(text)
    except ParseError as exc:  # pragma: no cover - tomllib accepted the text
        raise ConfigError(
            f"Invalid TOML in {path}:{exc.line}:{exc.col} (line {exc.line}, column {exc.col}).",
            "Fix the syntax first (e.g. with `pygent config edit`).",
            {"path": str(path), "line": exc.line, "column": exc.col},
        ) from None


def _section_table(doc: Any, section: str) -> Any:
    import tomlkit

    if section not in doc:
        doc.add(section, tomlkit.table())
    table = doc[section]
    if not isinstance(table, dict):
        raise ConfigError(
            f"[{section}] in the config file is not a table.",
            f"Fix the file so that `{section}` is a [{section}] table.",
        )
    return table


def _plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _save_document(path: Path, doc: Any) -> None:
    import tomlkit

    try:
        write_config_text(path, tomlkit.dumps(doc))
    except ConfigError as exc:
        raise ConfigError(exc.message, f"Nothing was changed in {path}.", exc.data) from None


def check_new_values(values: dict[str, Any], path: Path) -> None:
    """Check values about to be written on their own, before the file is read.

    A bad value is then reported as given (``permissions.mode must be one of ...``) rather
    than at a line of a file that does not hold it yet.

    Raises:
        ConfigError: An unknown key or a bad value; the hint says nothing was changed.
    """
    nested: dict[str, dict[str, Any]] = {}
    for dotted_key, value in values.items():
        field_for_key(dotted_key)
        section, _, leaf = dotted_key.partition(".")
        nested.setdefault(section, {})[leaf] = _plain(value)
    # Only the values' own problems: a rule across keys is judged on the whole file afterwards
    # (here the other keys would be defaults, not what the file holds).
    problems = [p for p in layer_problems(nested, strict=False) if p.key in values]
    if problems:
        error = problems_error(problems, "")
        raise ConfigError(error.message, f"Nothing was changed in {path}.", error.data)


def set_value(path: Path, dotted_key: str, value: Any) -> None:
    """Set ``dotted_key`` (e.g. ``llm.model``) to ``value`` in the TOML file at ``path``.

    The file is created if missing; comments, order and formatting of the rest survive.

    Raises:
        ConfigError: Unknown key (with a suggestion), a value of the wrong type, or an
            unreadable/broken file. The file is left unchanged.
    """
    check_new_values({dotted_key: value}, path)
    doc = _load_document(path)
    section, _, leaf = dotted_key.partition(".")
    table = _section_table(doc, section)
    table[leaf] = _plain(value)
    _save_document(path, doc)


def set_values(path: Path, values: dict[str, Any]) -> None:
    """Set several keys in one atomic write; a ``None`` value removes that key.

    Example: ``set_values(path, {"llm.model": "openai/x", "llm.api_key": None})``.

    Raises:
        ConfigError: An unknown key, a wrong value, or an unreadable/broken file. The file is
            left unchanged (all or nothing).
    """
    check_new_values({key: value for key, value in values.items() if value is not None}, path)
    for dotted_key in values:
        field_for_key(dotted_key)
    doc = _load_document(path)
    for dotted_key, value in values.items():
        section, _, leaf = dotted_key.partition(".")
        if value is None:
            table = doc.get(section)
            if isinstance(table, dict) and leaf in table:
                del table[leaf]
        else:
            _section_table(doc, section)[leaf] = _plain(value)
    _save_document(path, doc)


def unset_value(path: Path, dotted_key: str) -> bool:
    """Remove ``dotted_key`` from the file at ``path``; True if it was there.

    Raises:
        ConfigError: Unknown key or an unreadable/broken file (the file is left unchanged).
    """
    field_for_key(dotted_key)
    if read_config_text(path) is None:
        return False
    doc = _load_document(path)
    section, _, leaf = dotted_key.partition(".")
    table = doc.get(section)
    if not isinstance(table, dict) or leaf not in table:
        return False
    del table[leaf]
    _save_document(path, doc)
    return True


def append_to_list(path: Path, dotted_key: str, value: str) -> None:
    """Append ``value`` to the list at ``dotted_key`` (e.g. ``permissions.allow``) if not present.

    Raises:
        ConfigError: The key is unknown or not a list, or the file is unreadable/broken.
    """
    info = field_for_key(dotted_key)
    if get_origin(info.annotation) is not list:
        raise ConfigError(
            f"{dotted_key} is not a list setting.", "Use `pygent config set` for single values."
        )
    doc = _load_document(path)
    section, _, leaf = dotted_key.partition(".")
    table = _section_table(doc, section)
    current = table.get(leaf)
    if current is None:
        import tomlkit

        array = tomlkit.array()
        array.append(value)
        table[leaf] = array
    else:
        if value in list(current):
            return
        current.append(value)
    _save_document(path, doc)


def _is_type(annotation: Any, *types: Any) -> bool:
    if annotation in types:
        return True
    origin = get_origin(annotation)
    if origin is Union or type(annotation).__name__ == "UnionType":
        return any(_is_type(a, *types) for a in get_args(annotation) if a is not type(None))
    return False


def parse_value(dotted_key: str, raw: str) -> Any:
    """Convert a command-line string to the type ``dotted_key`` expects.

    Strings stay strings, ``true``/``false`` (also yes/no/on/off) become booleans, numbers are
    parsed, and lists accept a TOML array (``'["a", "b"]'``) or a comma-separated string.

    Raises:
        ConfigError: Unknown key, or a value that is not of the expected type.
    """
    info = field_for_key(dotted_key)
    annotation = info.annotation
    expected = describe_type(annotation)
    text = raw.strip()

    def bad() -> ConfigError:
        return ConfigError(
            f"{dotted_key} must be {expected}, but found {raw!r}.",
            f"Example: pygent config set {dotted_key} {_example(annotation)}",
            {"key": dotted_key},
        )

    if get_origin(annotation) is Literal:
        return text
    if get_origin(annotation) is list:
        if text.startswith("["):
            try:
                parsed = parse_toml_text(f"v = {text}", "<value>")["v"]
            except ConfigError:
                raise bad() from None
            return parsed
        return [part.strip() for part in text.split(",") if part.strip()]
    if _is_type(annotation, bool):
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise bad()
    if _is_type(annotation, int):
        try:
            return int(text.replace("_", ""))
        except ValueError:
            raise bad() from None
    if _is_type(annotation, float):
        try:
            return float(text)
        except ValueError:
            raise bad() from None
    return raw


def _example(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return str(get_args(annotation)[0])
    if _is_type(annotation, bool):
        return "true"
    if _is_type(annotation, int):
        return "4096"
    if _is_type(annotation, float):
        return "0.5"
    if get_origin(annotation) is list:
        return "'[\"shell(pytest*)\"]'"
    return "VALUE"


def _toml_literal(value: Any) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_literal(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def default_config_text(*, project: bool = False) -> str:
    """A commented config file listing every setting with its default (``config init``)."""
    lines = [
        "# pygent " + ("project" if project else "user") + " configuration.",
        "# Every setting is listed with its default, commented out: uncomment to change it.",
        "# Layers, lowest first: defaults < user file < project file < environment < flags.",
        "# `pygent config show` prints the effective values and where each one comes from.",
    ]
    if project:
        lines.append("# Project settings are shared with your team: never put API keys here.")
    for section, model in _sections().items():
        lines += ["", f"[{section}]"]
        doc = (model.__doc__ or "").strip().splitlines()
        if doc:
            lines.insert(len(lines) - 1, f"# {doc[0]}")
        for leaf, info in model.model_fields.items():
            for text_line in (info.description or "").splitlines():
                lines.append(f"# {text_line.strip()}".rstrip())
            default = info.get_default(call_default_factory=True)
            if default is None:
                lines.append(f"# {leaf} = ...  ({describe_type(info.annotation)}; unset)")
            else:
                lines.append(f"# {leaf} = {_toml_literal(_plain(default))}")
    return "\n".join(lines) + "\n"


def ensure_private(path: Path) -> None:
    """Give ``path`` mode 0600 (no-op where chmod is not supported)."""
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)


def set_table(path: Path, keys: tuple[str, ...], values: dict[str, Any]) -> None:
    """Write the table at ``keys`` (e.g. ``("mcp", "servers", "github")``), replacing it.

    The file is created if missing; the rest keeps its comments and order. The result is
    validated before anything is written.

    Raises:
        ConfigError: The table would make the file invalid (naming the key), or the file is
            unreadable or broken. The file is left unchanged.
    """
    import tomlkit

    doc = _load_document(path)
    parent: Any = doc
    for key in keys[:-1]:
        if key not in parent:
            parent.add(key, tomlkit.table(is_super_table=True))
        parent = parent[key]
        if not isinstance(parent, dict):
            raise ConfigError(
                f"[{'.'.join(keys[: keys.index(key) + 1])}] in {path} is not a table.",
                "Fix the file first (e.g. with `pygent config edit`).",
            )
    table = tomlkit.table()
    for key, value in values.items():
        if isinstance(value, dict):
            inline = tomlkit.inline_table()
            inline.update({k: _plain(v) for k, v in value.items()})
            table[key] = inline
        elif value is not None:
            table[key] = _plain(value)
    parent[keys[-1]] = table
    _save_document(path, doc)


def remove_table(path: Path, keys: tuple[str, ...]) -> bool:
    """Remove the table at ``keys`` from the file; True if it was there.

    Raises:
        ConfigError: The file is unreadable or broken (it is left unchanged).
    """
    if read_config_text(path) is None:
        return False
    doc = _load_document(path)
    parent: Any = doc
    for key in keys[:-1]:
        parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            return False
    if keys[-1] not in parent:
        return False
    del parent[keys[-1]]
    _save_document(path, doc)
    return True
