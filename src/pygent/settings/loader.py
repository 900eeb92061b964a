"""Layered settings: built-in defaults < user file < project file < environment < flags.

Every layer is validated on its own, so an error names the file (or environment variable) it
came from, the dotted key, the expected type and the value found. The result remembers where each
value came from (``config show`` prints it).

Nothing heavy is imported at module level beyond the settings models (pydantic).
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr, ValidationError

from pygent.errors import ConfigError
from pygent.settings import paths
from pygent.settings.models import Settings

__all__ = [
    "ENV_CASE_INSENSITIVE",
    "ENV_VARS",
    "Layer",
    "LoadedSettings",
    "Problem",
    "all_keys",
    "field_for_key",
    "find_project_config_path",
    "layer_problems",
    "load_layers",
    "load_settings",
    "problems_error",
    "provider_env_vars",
    "provider_of",
    "read_toml_file",
    "resolve_api_key",
    "toml_loads",
    "validate_layer",
]

LayerName = Literal["default", "user", "project", "env", "flag"]

#: Environment variable -> dotted settings key.
ENV_VARS: dict[str, str] = {
    "PYGENT_MODEL": "llm.model",
    "PYGENT_API_KEY": "llm.api_key",
    "PYGENT_API_BASE": "llm.api_base",
    "PYGENT_MAX_TOKENS": "llm.max_tokens",
    "PYGENT_LLM_BACKEND": "llm.backend",
    "PYGENT_LOG_LEVEL": "logging.level",
    "PYGENT_PERMISSION_MODE": "permissions.mode",
    "PYGENT_SANDBOX": "sandbox.mode",
}

#: Settings whose environment variable is read in any case (``debug`` = ``DEBUG``).
ENV_CASE_INSENSITIVE: frozenset[str] = frozenset({"logging.level", "permissions.mode"})

#: litellm provider prefix -> the environment variables that hold its key (first wins).
PROVIDER_KEY_VARS: dict[str, tuple[str, ...]] = {
    "anthropic": ("ANTHROPIC_API_KEY",),
    "openai": ("OPENAI_API_KEY",),
    "text-completion-openai": ("OPENAI_API_KEY",),
    "chatgpt": ("OPENAI_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "openrouter": ("OPENROUTER_API_KEY",),
    "mistral": ("MISTRAL_API_KEY",),
    "codestral": ("CODESTRAL_API_KEY", "MISTRAL_API_KEY"),
    "groq": ("GROQ_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "xai": ("XAI_API_KEY",),
    "azure": ("AZURE_API_KEY",),
    "azure_ai": ("AZURE_AI_API_KEY",),
    "cohere": ("COHERE_API_KEY",),
    "cohere_chat": ("COHERE_API_KEY",),
    "together_ai": ("TOGETHERAI_API_KEY", "TOGETHER_API_KEY"),
    "fireworks_ai": ("FIREWORKS_API_KEY", "FIREWORKS_AI_API_KEY"),
    "perplexity": ("PERPLEXITYAI_API_KEY", "PERPLEXITY_API_KEY"),
    "huggingface": ("HF_TOKEN", "HUGGINGFACE_API_KEY"),
    "cerebras": ("CEREBRAS_API_KEY",),
    "deepinfra": ("DEEPINFRA_API_KEY",),
    "anyscale": ("ANYSCALE_API_KEY",),
    "replicate": ("REPLICATE_API_KEY",),
    "nvidia_nim": ("NVIDIA_NIM_API_KEY",),
    "sambanova": ("SAMBANOVA_API_KEY",),
    "moonshot": ("MOONSHOT_API_KEY",),
    "dashscope": ("DASHSCOPE_API_KEY",),
    "github": ("GITHUB_API_KEY",),
    "ollama": (),
    "ollama_chat": (),
    "lm_studio": (),
    "hosted_vllm": (),
    "llamafile": (),
    "vertex_ai": (),
    "bedrock": (),
}

# Model names without a provider prefix that litellm routes to a provider other than OpenAI.
_UNPREFIXED: tuple[tuple[str, str], ...] = (
    ("claude", "anthropic"),
    ("gemini", "gemini"),
    ("mistral", "mistral"),
    ("codestral", "mistral"),
    ("deepseek", "deepseek"),
    ("grok", "xai"),
    ("command", "cohere"),
)

_LAYER_LABELS: dict[str, str] = {
    "default": "built-in default",
    "user": "user config",
    "project": "project config",
    "env": "environment",
    "flag": "command-line flag",
}


@dataclass
class Layer:
    """One validated settings layer.

    Attributes:
        name: ``default``, ``user``, ``project``, ``env`` or ``flag``.
        data: The layer's raw nested values (as read, validated against the schema).
        path: The file the layer came from (``user`` and ``project``), else None.
        origins: Dotted key -> a detail such as the environment variable's name.
    """

    name: LayerName
    data: dict[str, Any]
    path: Path | None = None
    origins: dict[str, str] = field(default_factory=dict)


@dataclass
class LoadedSettings:
    """The effective settings plus where every value came from.

    Attributes:
        settings: The merged, validated settings.
        layers: The layers that contributed, lowest first (``default`` is implicit).
        sources: Dotted leaf key -> source label (``default``, ``user``, ``project``,
            ``env (PYGENT_MODEL)``, ``flag``, or ``user+project`` for merged lists).
        user_file: The user config path (whether or not it exists).
        project_file: The project config in effect, or None.
    """

    settings: Settings
    layers: list[Layer]
    sources: dict[str, str]
    user_file: Path
    project_file: Path | None


# --------------------------------------------------------------------------- schema helpers


def _sections() -> dict[str, type[BaseModel]]:
    out: dict[str, type[BaseModel]] = {}
    for name, info in Settings.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out[name] = annotation
    return out


def all_keys() -> list[str]:
    """Every valid dotted leaf key, in schema order (``llm.model``, ``llm.api_key``, ...)."""
    return [
        f"{section}.{leaf}" for section, model in _sections().items() for leaf in model.model_fields
    ]


def field_for_key(dotted_key: str) -> Any:
    """The pydantic ``FieldInfo`` of a dotted leaf key.

    Raises:
        ConfigError: The key does not exist (the message suggests the closest valid key).
    """
    section, _, leaf = dotted_key.partition(".")
    model = _sections().get(section)
    if model is not None and not leaf:
        keys = ", ".join(f"{section}.{name}" for name in model.model_fields)
        raise ConfigError(
            f"{section!r} is a table of settings, not a single setting.",
            f"Use one of its keys: {keys}.",
            {"key": dotted_key},
        )
    if model is None or leaf not in model.model_fields or "." in leaf:
        hint = f"{_suggest_hint(dotted_key)} `pygent config show` lists every setting."
        raise ConfigError(f"Unknown setting {dotted_key!r}.", hint.strip(), {"key": dotted_key})
    return model.model_fields[leaf]


def _suggest(dotted_key: str) -> str | None:
    keys = all_keys()
    candidates = keys + list(_sections())
    match = difflib.get_close_matches(dotted_key, candidates, n=1, cutoff=0.6)
    if match:
        return match[0]
    leaf = dotted_key.rsplit(".", 1)[-1]
    by_leaf = {key.rsplit(".", 1)[-1]: key for key in keys}
    match = difflib.get_close_matches(leaf, list(by_leaf), n=1, cutoff=0.75)
    return by_leaf[match[0]] if match else None


def _suggest_hint(dotted_key: str) -> str:
    best = _suggest(dotted_key)
    return f"Did you mean {best!r}?" if best else ""


def describe_type(annotation: Any) -> str:
    """A person's description of a field type: ``an integer``, ``true or false``, ``one of ...``."""
    origin = get_origin(annotation)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(annotation))
    if origin is Union or type(annotation).__name__ == "UnionType":
        parts = [a for a in get_args(annotation) if a is not type(None)]
        if len(parts) == 1:
            return describe_type(parts[0])
        return " or ".join(describe_type(p) for p in parts)
    if origin is dict:
        return "a table"
    if origin is list:
        (item,) = get_args(annotation) or (Any,)
        return f"a list of {describe_type(item).removeprefix('a ').removeprefix('an ')}s"
    if annotation is bool:
        return "true or false"
    if annotation is int:
        return "an integer"
    if annotation is float:
        return "a number"
    if annotation in (str, SecretStr):
        return "a string"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "a table"
    return str(annotation)


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    return type(value).__name__


# --------------------------------------------------------------------------- reading files


def toml_loads(text: str) -> dict[str, Any]:
    """Parse TOML text (``tomllib`` on Python 3.11+, ``tomli`` on 3.10)."""
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads(text)
    import tomli  # type: ignore[import-not-found, unused-ignore]

    result: dict[str, Any] = tomli.loads(text)
    return result


def toml_decode_error() -> type[ValueError]:
    """The TOML parser's decode error class (a ``ValueError`` subclass)."""
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.TOMLDecodeError
    import tomli  # type: ignore[import-not-found, unused-ignore]

    error: type[ValueError] = tomli.TOMLDecodeError
    return error


_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_AT_END = re.compile(r"\s*\(at end of document\)\s*$")


def read_toml_file(path: Path) -> dict[str, Any]:
    """Read a TOML config file into a dict.

    Raises:
        ConfigError: The path is a directory, unreadable, not UTF-8, or not valid TOML. The
            message names the file (and line and column for a syntax error).
    """
    return parse_toml_text(read_config_file_text(path), path)


def read_config_file_text(path: Path) -> str:
    """The text of a config file that must exist.

    Raises:
        ConfigError: The path is missing, a directory, unreadable or not UTF-8.
    """
    text = read_config_text(path)
    if text is None:
        raise ConfigError(
            f"The config file {path} does not exist.",
            "Check the path, or create the file with `pygent config set KEY VALUE`.",
            {"path": str(path)},
        )
    return text


def read_config_text(path: Path) -> str | None:
    """The text of a config file, or None if it does not exist.

    Raises:
        ConfigError: The path is a directory, unreadable or not UTF-8.
    """
    if path.is_dir():
        raise ConfigError(
            f"The config path {path} is a directory, not a file.",
            "Remove or rename that directory so pygent can create the file there.",
            {"path": str(path)},
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        # NotADirectoryError: a file stands where a parent directory would be (an odd or
        # read-only home); either way there is no config file to read.
        return None
    except PermissionError:
        raise ConfigError(
            f"Cannot read the config file {path}: permission denied.",
            f"Make it readable and writable for your user (e.g. `chmod 600 {path}`).",
            {"path": str(path)},
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"The config file {path} is not valid UTF-8 (byte {exc.start}).",
            "Save it as UTF-8 text.",
            {"path": str(path)},
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"Cannot read the config file {path}: {exc.strerror or exc}.",
            "Check that the file exists and is readable.",
            {"path": str(path)},
        ) from None
    return text


def parse_toml_text(text: str, path: Path | str) -> dict[str, Any]:
    """Parse TOML ``text`` read from ``path``; a syntax error names file, line and column.

    Raises:
        ConfigError: The text is not valid TOML.
    """
    try:
        return toml_loads(text)
    except toml_decode_error() as exc:
        message = str(exc)
        line = col = None
        match = _AT_LINE.search(message)
        if match:
            line, col = int(match.group(1)), int(match.group(2))
            message = message[: match.start()]
        elif _AT_END.search(message):
            line = text.count("\n") + 1
            col = len(text.rsplit("\n", 1)[-1]) + 1
            message = _AT_END.sub("", message)
        where = f"{path}:{line}:{col}" if line is not None else str(path)
        raise ConfigError(
            f"Invalid TOML in {where} (line {line}, column {col}): {message}."
            if line is not None
            else f"Invalid TOML in {where}: {message}.",
            "Fix the syntax (e.g. with `pygent config edit`) and try again.",
            {"path": str(path), "line": line, "column": col},
        ) from None


# --------------------------------------------------------------------------- validation


def key_line(text: str, dotted_key: str) -> int | None:
    """The 1-based line where ``dotted_key`` (``section.leaf`` or a section) is set in TOML text."""
    section, _, leaf = dotted_key.partition(".")
    current = ""
    header = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\s\"']+?)\s*\]")
    for number, line in enumerate(text.splitlines(), 1):
        match = header.match(line)
        if match and not line.lstrip().startswith("[["):
            current = match.group(1).replace(" ", "").strip("\"'")
            if not leaf and current == section:
                return number
            continue
        stripped = line.strip()
        if not leaf:
            if current == "" and re.match(rf"^{re.escape(section)}\s*[=.]", stripped):
                return number
            continue
        if current == section and re.match(rf"^{re.escape(leaf)}\s*=", stripped):
            return number
        if current == "" and re.match(
            rf"^{re.escape(section)}\s*\.\s*{re.escape(leaf)}\s*=", stripped
        ):
            return number
    return None


def _where(source: str, text: str | None, dotted_key: str) -> str:
    line = key_line(text, dotted_key) if text is not None else None
    return f"{source}, line {line}" if line is not None else source


def _located(where: str, message: str) -> str:
    return f"{where}: {message}" if where else message


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a settings layer.

    Attributes:
        key: The dotted key it concerns (``llm.timeout``).
        line: The 1-based line of the key in the file, when known.
        message: What is wrong, without the file and line (``llm.timeout must be a number ...``).
        suggestion: A short fix, e.g. ``Did you mean 'llm.num_retries'?`` (may be empty).
        valid: The valid keys around it, for an unknown key (may be empty).
    """

    key: str
    line: int | None
    message: str
    suggestion: str = ""
    valid: str = ""


def _unknown_key_problems(data: Mapping[str, Any], text: str | None) -> list[Problem]:
    sections = _sections()
    problems: list[Problem] = []
    for key, value in data.items():
        if key not in sections:
            problems.append(
                Problem(
                    key,
                    key_line(text, key) if text is not None else None,
                    f"unknown key {key!r}.",
                    _suggest_hint(key),
                    "Valid sections: " + ", ".join(sections) + ".",
                )
            )
            continue
        if not isinstance(value, Mapping):
            continue  # reported as a type error by the schema
        model = sections[key]
        if model.model_config.get("extra") == "allow":
            continue  # [plugins]: each plugin validates its own table
        for leaf in value:
            if leaf not in model.model_fields:
                dotted = f"{key}.{leaf}"
                problems.append(
                    Problem(
                        dotted,
                        key_line(text, dotted) if text is not None else None,
                        f"unknown key {dotted!r}.",
                        _suggest_hint(dotted),
                        f"Valid keys in [{key}]: " + ", ".join(model.model_fields) + ".",
                    )
                )
    return problems


_TYPE_ERRORS = {
    "int_type",
    "int_parsing",
    "int_from_float",
    "float_type",
    "float_parsing",
    "bool_type",
    "bool_parsing",
    "string_type",
    "list_type",
    "model_type",
    "dict_type",
    "literal_error",
    "model_attributes_type",
}


#: pydantic's bound errors -> (the context key holding the bound, how to say it).
_BOUND_ERRORS: dict[str, tuple[str, str]] = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "at most"),
}


def _annotation_for(loc: tuple[Any, ...]) -> Any:
    sections = _sections()
    if not loc or loc[0] not in sections:
        return Any
    model = sections[loc[0]]
    if len(loc) == 1:
        return model
    info = model.model_fields.get(str(loc[1]))
    if info is None:
        return Any
    if len(loc) == 3:  # an item of a list, or a table of a dict of tables ([mcp.servers.X])
        args = get_args(info.annotation)
        return args[-1] if args else Any
    if len(loc) >= 4:  # a key inside a table of a dict of tables: mcp.servers.NAME.KEY
        args = get_args(info.annotation)
        inner = args[-1] if args else None
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            leaf = inner.model_fields.get(str(loc[3]))
            if leaf is None:
                return Any
            if len(loc) == 5:
                items = get_args(leaf.annotation)
                return items[-1] if items else Any
            return leaf.annotation
        return Any
    return info.annotation


def _schema_problem(
    error: Mapping[str, Any], key_names: Mapping[str, str] | None, text: str | None
) -> Problem:
    """A pydantic error as a :class:`Problem` a person can act on."""
    loc = tuple(error["loc"])
    dotted = ".".join(str(part) for part in loc)
    value = error.get("input")
    name = (key_names or {}).get(dotted, dotted)
    line_key = ".".join(str(part) for part in loc[:2])
    line = key_line(text, line_key) if text is not None else None
    valid = ""
    if error["type"] == "extra_forbidden":
        message = f"unknown key {dotted!r}."
        model = _annotation_for(loc[:-1])
        if isinstance(model, type) and issubclass(model, BaseModel):
            valid = "Valid keys: " + ", ".join(model.model_fields) + "."
        line = key_line(text, dotted) if text is not None else None
    elif error["type"] == "value_error":
        detail = str(error["msg"]).removeprefix("Value error, ")
        message = f"{name} is invalid: {detail}."
    elif error["type"] in _BOUND_ERRORS:
        bound = (error.get("ctx") or {}).get(_BOUND_ERRORS[error["type"]][0])
        message = f"{name} must be {_BOUND_ERRORS[error['type']][1]} {bound}, but found {value!r}."
    elif error["type"] in _TYPE_ERRORS:
        expected = describe_type(_annotation_for(loc))
        message = f"{name} must be {expected}, but found {value!r} ({_toml_type(value)})."
    else:
        detail = str(error["msg"])
        detail = detail[0].lower() + detail[1:] if detail else detail
        message = f"{name} is invalid: {detail}, but found {value!r}."
    return Problem(dotted, line, message, valid=valid)


def layer_problems(
    data: Mapping[str, Any],
    *,
    strict: bool = True,
    key_names: Mapping[str, str] | None = None,
    text: str | None = None,
) -> list[Problem]:
    """Everything wrong in one layer's raw values, in file order (empty when it is valid).

    Args:
        data: The layer's nested values (e.g. a parsed TOML file).
        strict: Reject values of the wrong type instead of converting them (files: True).
        key_names: Dotted key -> the name a person used for it (an environment variable).
        text: The file's text, to name the line of each problem.
    """
    problems = _unknown_key_problems(data, text)
    reported = {problem.key for problem in problems}
    try:
        Settings.model_validate(dict(data), strict=strict)
    except ValidationError as exc:
        for error in exc.errors():
            dotted = ".".join(str(part) for part in error["loc"])
            if error["type"] == "extra_forbidden" and dotted in reported:
                continue  # already reported with a suggestion
            problems.append(_schema_problem(error, key_names, text))
    # File order; problems without a line (nested tables) keep their order at the end.
    return sorted(problems, key=lambda p: p.line if p.line is not None else sys.maxsize)


def problems_error(
    problems: list[Problem], source: str, *, key_names: Mapping[str, str] | None = None
) -> ConfigError:
    """One :class:`ConfigError` that reports every problem of a layer.

    Args:
        problems: What :func:`layer_problems` found (at least one).
        source: The layer's name in messages: a file path, ``environment``, or ``""`` for a
            value given on the command line (no location is printed then).
        key_names: Set for the environment layer (the hint then says to change the variables).
    """
    data: dict[str, Any] = {
        "key": problems[0].key,
        "source": source,
        "problems": [
            {"key": p.key, "line": p.line, "message": p.message, "suggestion": p.suggestion}
            for p in problems
        ],
    }
    if len(problems) == 1:
        (problem,) = problems
        where = f"{source}, line {problem.line}" if problem.line is not None else source
        if problem.suggestion or problem.valid:
            hint = f"{problem.suggestion} {problem.valid}".strip()
        elif key_names is not None:
            hint = "Change or unset that variable and try again."
        else:
            hint = f"Fix it in {source}." if source else ""
        return ConfigError(_located(where, problem.message), hint, data)
    lines = [f"{source or 'The settings'} has {len(problems)} problems:"]
    for problem in problems:
        where = f"line {problem.line}" if problem.line is not None else ""
        detail = f"{problem.message} {problem.suggestion or problem.valid}".strip()
        lines.append("  " + _located(where, detail))
    if key_names is not None:
        hint = "Change or unset those variables and try again."
    else:
        hint = f"Fix them in {source}." if source else "Fix them and try again."
    return ConfigError("\n".join(lines), hint, data)


def validate_layer(
    data: Mapping[str, Any],
    source: str,
    *,
    strict: bool = True,
    key_names: Mapping[str, str] | None = None,
    text: str | None = None,
) -> Settings:
    """Validate one layer's raw values against the schema.

    Args:
        data: The layer's nested values (e.g. a parsed TOML file).
        source: What to call the layer in messages (a file path, "environment"; ``""`` names
            no place, for a single value given on the command line).
        strict: Reject values of the wrong type instead of converting them (files: True).
        key_names: Dotted key -> the name a person used for it (an environment variable).
        text: The file's text, to name the line of a bad key.

    Returns:
        Settings built from defaults plus this layer alone.

    Raises:
        ConfigError: Every unknown key (with the closest valid key) and every wrong type or
            value (naming the key, the expected type and the value found), in one message.
    """
    problems = layer_problems(data, strict=strict, key_names=key_names, text=text)
    if problems:
        raise problems_error(problems, source, key_names=key_names)
    return Settings.model_validate(dict(data), strict=strict)


# --------------------------------------------------------------------------- layers


def find_project_config_path(cwd: Path) -> Path | None:
    """The project ``.pygent/config.toml`` (walking up from ``cwd`` to the git root), or None.

    Unlike :func:`pygent.settings.paths.find_project_config` this also returns a path that
    exists but is not a regular file, so reading it reports a clear error.
    """
    start = cwd.resolve()
    stop = paths.find_git_root(start)
    home = Path.home().resolve()
    for candidate in (start, *start.parents):
        path = candidate / paths.PROJECT_DIR_NAME / paths.CONFIG_FILE_NAME
        # The user's home .pygent is not a project (without a git root above, stop at home).
        if path.exists() and not (stop is None and candidate == home):
            return path
        if candidate == stop or (stop is None and candidate == home):
            break
    return None


def _set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    section, _, leaf = dotted.partition(".")
    target.setdefault(section, {})[leaf] = value


def _env_layer(environ: Mapping[str, str]) -> Layer | None:
    data: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for var, dotted in ENV_VARS.items():
        raw = environ.get(var)
        if raw is None or raw.strip() == "":
            continue
        value: Any = raw.strip()
        if dotted == "llm.max_tokens":
            try:
                value = int(value)
            except ValueError:
                raise ConfigError(
                    f"Environment variable {var} must be a positive integer, but found {raw!r}.",
                    f"Set {var} to a number such as 4096, or unset it.",
                    {"key": dotted, "source": var},
                ) from None
        elif dotted in ENV_CASE_INSENSITIVE:
            value = value.upper() if dotted == "logging.level" else value.lower()
        _set_dotted(data, dotted, value)
        origins[dotted] = var
    if not data:
        return None
    validate_layer(
        data,
        "environment",
        key_names={dotted: f"environment variable {var}" for dotted, var in origins.items()},
    )
    return Layer("env", data, None, origins)


def _leaves(data: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    for section, values in data.items():
        if isinstance(values, Mapping):
            for leaf, value in values.items():
                yield f"{section}.{leaf}", value


def _merge(layers: list[Layer]) -> tuple[dict[str, Any], dict[str, str]]:
    merged: dict[str, Any] = {}
    sources: dict[str, str] = dict.fromkeys(all_keys(), "default")
    for layer in layers:
        for dotted, value in _leaves(layer.data):
            section, _, leaf = dotted.partition(".")
            label: str = layer.name
            if layer.name == "env" and dotted in layer.origins:
                label = f"env ({layer.origins[dotted]})"
            current = merged.get(section, {}).get(leaf)
            if dotted == "mcp.servers" and isinstance(value, dict) and isinstance(current, dict):
                # Servers add up across layers; a later layer's table replaces one of the same name.
                _set_dotted(merged, dotted, {**current, **value})
                sources[dotted] = f"{sources[dotted]}+{label}"
            elif isinstance(value, list) and isinstance(current, list):
                # Rule lists add up across layers (a project adds to the user's allow/deny).
                combined = list(current) + [item for item in value if item not in current]
                _set_dotted(merged, dotted, combined)
                sources[dotted] = f"{sources[dotted]}+{label}"
            else:
                _set_dotted(merged, dotted, value)
                sources[dotted] = label
    return merged, sources


def _file_layer(name: LayerName, path: Path) -> Layer:
    """Read, parse and validate one config file as the layer ``name``."""
    text = read_config_file_text(path)
    data = parse_toml_text(text, path)
    validate_layer(data, str(path), text=text)
    return Layer(name, data, path)


def load_layers(
    cwd: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> LoadedSettings:
    """Load every layer and merge them, remembering each value's source.

    Args:
        cwd: Where to look for the project config (default: the current directory).
        overrides: Command-line flags as a nested dict, e.g. ``{"llm": {"model": "x"}}``.
        environ: The environment (default: ``os.environ``).

    Raises:
        ConfigError: A layer is unreadable or invalid; the message says which and how to fix it.
    """
    cwd = (cwd or Path.cwd()).resolve()
    environ = os.environ if environ is None else environ
    layers: list[Layer] = []
    # Every broken layer is reported at once: fixing the user file should not reveal, only
    # then, a broken project file or variable.
    errors: list[ConfigError] = []

    def add(make: Callable[[], Layer | None]) -> None:
        try:
            layer = make()
        except ConfigError as exc:
            errors.append(exc)
        else:
            if layer is not None:
                layers.append(layer)

    user_file = paths.user_config_file()
    if user_file.exists() or user_file.is_symlink():
        add(lambda: _file_layer("user", user_file))

    project_file = find_project_config_path(cwd)
    if project_file is not None and project_file.resolve() == user_file.resolve():
        project_file = None
    if project_file is not None:
        found = project_file
        add(lambda: _file_layer("project", found))

    add(lambda: _env_layer(environ))
    if len(errors) == 1:
        raise errors[0]
    if errors:
        # Each layer's message keeps its own hint right under it.
        raise ConfigError(
            "\n".join(
                f"{error.message}\n  {error.hint}" if error.hint else error.message
                for error in errors
            ),
            "Fix each of them; `pygent config show` checks them again.",
            {"errors": [error.to_dict() for error in errors]},
        )

    if overrides:
        flag_data: dict[str, Any] = {}
        for section, values in overrides.items():
            if isinstance(values, Mapping):
                kept = {key: value for key, value in values.items() if value is not None}
                if kept:
                    flag_data[section] = kept
            elif values is not None:
                flag_data[section] = values
        if flag_data:
            validate_layer(flag_data, "command-line flags", strict=False)
            layers.append(Layer("flag", flag_data))

    merged, sources = _merge(layers)
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as exc:  # pragma: no cover - each layer validated above
        raise ConfigError(f"Invalid settings: {exc.errors()[0]['msg']}.") from None
    settings._layers = {layer.name: layer.data for layer in layers}
    settings._project_config = project_file
    return LoadedSettings(settings, layers, sources, user_file, project_file)


def load_settings(cwd: Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """The effective settings: defaults < user file < project file < environment < ``overrides``.

    Args:
        cwd: Where to look for the project ``.pygent/config.toml`` (default: current directory).
        overrides: Command-line flags as a nested dict, e.g. ``{"llm": {"model": "x"}}``;
            ``None`` values are ignored.

    Raises:
        ConfigError: A file or variable is invalid; the message names it and says what to do.
    """
    settings = load_layers(cwd, overrides).settings
    resolve_api_key(settings)  # registers the key in use with pygent.redact
    return settings


# --------------------------------------------------------------------------- providers and keys


def provider_of(model: str) -> str:
    """The litellm provider of a model string (``anthropic/claude-x`` -> ``anthropic``).

    A model without a prefix is routed the way litellm does for well-known families
    (``claude-*`` -> anthropic, ``gemini-*`` -> gemini, ...), else OpenAI.
    """
    prefix, sep, rest = model.partition("/")
    if sep and rest:
        return prefix.lower()
    lowered = model.lower()
    for start, provider in _UNPREFIXED:
        if lowered.startswith(start):
            return provider
    return "openai"


def provider_env_vars(model: str) -> list[str]:
    """The environment variables that may hold the key for ``model``'s provider.

    Example: ``provider_env_vars("anthropic/claude-sonnet-4-5") == ["ANTHROPIC_API_KEY"]``.
    Local providers (ollama, lm_studio, hosted_vllm) return ``[]``; an unknown provider
    ``foo`` returns ``["FOO_API_KEY"]`` (litellm's convention).
    """
    provider = provider_of(model)
    if provider in PROVIDER_KEY_VARS:
        return list(PROVIDER_KEY_VARS[provider])
    return [re.sub(r"[^A-Z0-9]+", "_", provider.upper()) + "_API_KEY"]


def resolve_api_key(settings: Settings, environ: Mapping[str, str] | None = None) -> str | None:
    """The API key to use: ``llm.api_key``, else the provider's variable (e.g. ANTHROPIC_API_KEY).

    Returns:
        The key, or None when none is configured (local endpoints need none).
    """
    from pygent.redact import add_secret

    if settings.llm.api_key is not None:
        secret = settings.llm.api_key.get_secret_value()
        if secret:
            add_secret(secret)  # whatever its format, the key in use is never shown or saved
            return secret
    environ = os.environ if environ is None else environ
    for var in provider_env_vars(settings.llm.model):
        value = environ.get(var, "").strip()
        if value:
            add_secret(value)
            return value
    return None


def api_key_source(settings: Settings, environ: Mapping[str, str] | None = None) -> str | None:
    """Where :func:`resolve_api_key` finds the key: ``llm.api_key``, a variable name, or None."""
    if settings.llm.api_key is not None and settings.llm.api_key.get_secret_value():
        return "llm.api_key"
    environ = os.environ if environ is None else environ
    for var in provider_env_vars(settings.llm.model):
        if environ.get(var, "").strip():
            return var
    return None


def layer_label(name: str) -> str:
    """A person's name for a layer (``user`` -> ``user config``)."""
    return _LAYER_LABELS.get(name, name)
