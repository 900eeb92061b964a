"""The documentation site: generated reference pages are current; the public API is documented."""

from __future__ import annotations

import enum
import importlib
import importlib.util
import inspect
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _gen_reference() -> ModuleType:
    path = ROOT / "scripts" / "gen_reference.py"
    spec = importlib.util.spec_from_file_location("gen_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_reference"] = module
    spec.loader.exec_module(module)
    return module


def test_generated_reference_pages_are_current() -> None:
    stale = _gen_reference().stale_pages()
    assert not stale, f"stale docs/reference pages {stale}: run python scripts/gen_reference.py"


def test_stale_check_notices_a_changed_page(tmp_path: Path) -> None:
    gen = _gen_reference()
    for name, render in gen.PAGES.items():
        (tmp_path / name).write_text(render(), encoding="utf-8")
    assert gen.stale_pages(tmp_path) == []
    (tmp_path / "tools.md").write_text("# old\n", encoding="utf-8")
    assert gen.stale_pages(tmp_path) == ["tools.md"]


def test_stale_check_notices_a_changed_generated_block(tmp_path: Path) -> None:
    gen = _gen_reference()
    for name, render in gen.PAGES.items():
        (tmp_path / name).write_text(render(), encoding="utf-8")
    docs = tmp_path / "docs"
    docs.mkdir()
    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    (docs / "configuration.md").write_text(page, encoding="utf-8")
    assert gen.stale_pages(tmp_path, docs) == []
    (docs / "configuration.md").write_text(
        page.replace("| `PYGENT_SANDBOX` |", "| `PYGENT_SANDBOX_OLD` |"), encoding="utf-8"
    )
    assert gen.stale_pages(tmp_path, docs) == ["configuration.md"]
    (docs / "configuration.md").write_text("# no markers\n", encoding="utf-8")
    assert gen.stale_pages(tmp_path, docs) == ["configuration.md"]


def test_configuration_page_counts_and_lists_every_environment_variable() -> None:
    from pygent.settings.loader import ENV_VARS

    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    gen = _gen_reference()
    count = re.search(r"Only these (\w+) `PYGENT_\*` variables are read as settings", page)
    assert count is not None
    assert count.group(1) == gen._NUMBERS[len(ENV_VARS)]
    listed = re.findall(r"^\| `(PYGENT_\w+)` \| `([\w.]+)` \|", page, flags=re.MULTILINE)
    assert dict(listed) == ENV_VARS


def test_reference_pages_name_every_command_setting_and_tool() -> None:
    from pygent.cli import COMMANDS
    from pygent.settings.loader import ENV_VARS, all_keys
    from pygent.tools.base import default_registry

    cli = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f"## `pygent {name}`" in cli, name
    config = (DOCS / "reference" / "config.md").read_text(encoding="utf-8")
    for key in all_keys():
        section, leaf = key.split(".", 1)
        assert f"## `[{section}]`" in config and f"| `{leaf}` |" in config, key
    for var in ENV_VARS:
        assert f"`{var}`" in config, var
    tools = (DOCS / "reference" / "tools.md").read_text(encoding="utf-8")
    for name in default_registry().names():
        assert f"## `{name}`" in tools, name


def _api_objects() -> list[str]:
    text = (DOCS / "reference" / "api.md").read_text(encoding="utf-8")
    return re.findall(r"^::: ([\w.]+)\s*$", text, flags=re.MULTILINE)


def _resolve(dotted: str) -> object:
    module_name, _, attr = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


def _undocumented(name: str, obj: object) -> list[str]:
    missing = [] if inspect.getdoc(obj) else [name]
    if inspect.isclass(obj) and not issubclass(obj, enum.Enum):
        for member, value in vars(obj).items():
            if member.startswith("_"):
                continue
            target = value.fget if isinstance(value, property) else value
            if isinstance(target, (staticmethod, classmethod)):
                target = target.__func__
            if inspect.isfunction(target) and not (target.__doc__ or "").strip():
                missing.append(f"{name}.{member}")
    return missing


def test_the_api_page_covers_the_top_level_public_names() -> None:
    import pygent

    documented = {dotted.rsplit(".", 1)[1] for dotted in _api_objects()}
    public = {name for name in pygent.__all__ if not name.startswith("_")}
    assert public <= documented, f"not on docs/reference/api.md: {sorted(public - documented)}"


@pytest.mark.parametrize("dotted", _api_objects())
def test_every_public_name_on_the_api_page_has_a_docstring(dotted: str) -> None:
    assert not _undocumented(dotted, _resolve(dotted))


def test_the_docstring_check_finds_a_missing_docstring() -> None:
    class Documented:
        """Has one."""

        def method(self) -> None:
            pass

    assert _undocumented("Documented", Documented) == ["Documented.method"]
