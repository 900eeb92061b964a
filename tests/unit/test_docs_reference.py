"""The reference docs and `pygent help` name what the code has: every tool, risk and env var."""

from __future__ import annotations

import re
from pathlib import Path

from pygent.help_topics import TOPICS
from pygent.settings.loader import ENV_VARS
from pygent.tools.base import default_registry

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _table_rows(text: str) -> dict[str, list[str]]:
    """First-cell tool/key name -> the row's cells, for Markdown table rows."""
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        match = re.search(r"`([\w.]+)`", cells[0])
        if match:
            rows.setdefault(match.group(1), cells)
    return rows


def test_tools_index_lists_every_tool_with_its_risk_and_kind() -> None:
    rows = _table_rows((DOCS / "tools" / "index.md").read_text(encoding="utf-8"))
    registry = default_registry()
    for name in registry.names():
        spec = registry.get(name)
        assert spec is not None
        assert name in rows, f"docs/tools/index.md has no row for {name}"
        assert rows[name][1] == spec.risk.name, name
        assert rows[name][2] == f"`{spec.kind}`", name
    documented = {
        n for n, cells in rows.items() if cells[1] in ("READ", "WRITE", "EXECUTE", "NETWORK")
    }
    assert documented == set(registry.names()), "a documented tool does not exist"


def test_tools_index_lists_every_argument() -> None:
    rows = _table_rows((DOCS / "tools" / "index.md").read_text(encoding="utf-8"))
    registry = default_registry()
    for name in registry.names():
        spec = registry.get(name)
        assert spec is not None
        schema = spec.json_schema()
        required = set(schema.get("required", []))
        expected = [p if p in required else f"{p}?" for p in schema.get("properties", {})]
        assert rows[name][4] == (", ".join(expected) or "—"), name


def test_help_tools_topic_names_every_registered_tool() -> None:
    text = TOPICS["tools"]
    for name in default_registry().names():
        assert re.search(rf"\b{name}\b", text), f"`pygent help tools` does not mention {name}"


def test_help_permissions_topic_puts_every_tool_in_its_tier() -> None:
    text = TOPICS["permissions"]
    tiers = {
        "READ": text.index("READ     ("),
        "WRITE": text.index("WRITE    ("),
        "EXECUTE": text.index("EXECUTE  ("),
        "NETWORK": text.index("NETWORK  ("),
    }
    order = sorted(tiers, key=tiers.__getitem__)
    registry = default_registry()
    for name in registry.names():
        spec = registry.get(name)
        assert spec is not None
        risk = spec.risk.name
        start = tiers[risk]
        following = [tiers[t] for t in order if tiers[t] > start]
        section = text[start : following[0] if following else text.index("\nA shell")]
        assert re.search(rf"\b{name}\b", section), f"{name} not listed under {risk}"


def test_configuration_docs_give_each_env_var_in_its_keys_row() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    settings_part = text[text.index("## All settings") :]
    rows = _table_rows(settings_part)
    for var, dotted in ENV_VARS.items():
        leaf = dotted.split(".")[1]
        section = settings_part[settings_part.index(f"[{dotted.split('.')[0]}]") :]
        row = _table_rows(section)[leaf]
        assert row[-1] == f"`{var}`", dotted
    assert rows  # the tables were found


def test_help_config_topic_names_every_env_var() -> None:
    for var in ENV_VARS:
        assert var in TOPICS["config"], var
