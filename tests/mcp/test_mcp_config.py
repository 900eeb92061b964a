"""MCP configuration, trust records, tool names, rules and result conversion (no server needed)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from mcp_helpers import stdio_table, toml_table, user_config

from pygent.errors import ConfigError
from pygent.mcp.config import (
    McpConfigError,
    configured_servers,
    expand,
    fingerprint,
    mask_secrets,
    tool_name,
)
from pygent.mcp.tools import result_output, schema_problem
from pygent.mcp.trust import record_trust, trust_file, untrusted_servers
from pygent.permissions.rules import CallSubject, RuleSet, parse_rule
from pygent.settings.loader import load_settings


def _project(root: Path, text: str) -> Path:
    (root / ".git").mkdir(parents=True, exist_ok=True)
    (root / ".pygent").mkdir(exist_ok=True)
    path = root / ".pygent" / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[mcp.servers.gh]\nenv = {}\n", "mcp.servers.gh is invalid: set `command`"),
        (
            '[mcp.servers.gh]\ncommand = "x"\nurl = "http://127.0.0.1:1/mcp"\n',
            "set either `command` or `url`, not both",
        ),
        ('[mcp.servers.gh]\ncommand = "x"\nrisk = "low"\n', "mcp.servers.gh.risk must be one of"),
        (
            '[mcp.servers.gh]\ncommand = "x"\ntrusted = true\n',
            "unknown key 'mcp.servers.gh.trusted'",
        ),
        ('[mcp.servers.gh]\nurl = "ftp://host/mcp"\n', "mcp.servers.gh.url is invalid"),
        (
            '[mcp.servers.gh]\ncommand = "x"\ntimeout = "soon"\n',
            "mcp.servers.gh.timeout must be a number",
        ),
        (
            '[mcp.servers.gh]\ncommand = "x"\nenv = { A = 1 }\n',
            "mcp.servers.gh.env.A must be a string",
        ),
        ('[mcp.servers.a__b]\ncommand = "x"\n', "the server name 'a__b' may hold only"),
        ('[mcp.servers."a b"]\ncommand = "x"\n', "the server name 'a b' may hold only"),
        ("[mcp]\ntrusted = true\n", "unknown key 'mcp.trusted'"),
    ],
)
def test_bad_server_table_is_refused_naming_the_key(
    tmp_path: Path, table: str, message: str
) -> None:
    path = user_config(table)
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    assert message in info.value.message
    assert str(path) in info.value.message
    assert path.read_text(encoding="utf-8") == table  # nothing lost


def test_user_and_project_servers_add_up_and_a_project_table_replaces_a_user_one(
    tmp_path: Path,
) -> None:
    user_config(toml_table("a", {"command": "user-a"}) + toml_table("b", {"command": "user-b"}))
    _project(
        tmp_path,
        toml_table("b", {"command": "proj-b"}) + toml_table("c", {"url": "http://127.0.0.1:9/mcp"}),
    )
    servers = {c.name: c for c in configured_servers(load_settings(tmp_path))}
    assert {n: (c.layer, c.describe()) for n, c in servers.items()} == {
        "a": ("user", "user-a"),
        "b": ("project", "proj-b"),
        "c": ("project", "http://127.0.0.1:9/mcp"),
    }
    assert servers["c"].transport == "http"


def test_expand_replaces_variables_and_names_an_unset_one_without_its_value() -> None:
    assert expand("Bearer ${TOK}", "headers.A", "gh", {"TOK": "s3cret"}) == "Bearer s3cret"
    with pytest.raises(McpConfigError) as info:
        expand("${MISSING}", "env.T", "gh", {})
    assert str(info.value).startswith("mcp.servers.gh.env.T uses ${MISSING}, but the environment")


def test_mask_secrets_hides_literal_values_but_shows_references() -> None:
    table = {"command": "x", "env": {"A": "${A}", "B": "literal-secret"}, "headers": {"H": "tok"}}
    assert mask_secrets(table) == {
        "command": "x",
        "env": {"A": "${A}", "B": "***"},
        "headers": {"H": "***"},
    }


def test_tool_names_are_provider_safe_and_long_ones_stay_distinct() -> None:
    assert tool_name("github", "create_issue") == "mcp__github__create_issue"
    assert tool_name("docs", "search.v2 beta") == "mcp__docs__search_v2_beta"
    one, two = tool_name("s", "x" * 80 + "1"), tool_name("s", "x" * 80 + "2")
    assert len(one) == len(two) == 64 and one != two


# -- trust -------------------------------------------------------------------------------------


def test_trust_covers_the_exact_list_and_a_change_untrusts_it(tmp_path: Path) -> None:
    config = _project(tmp_path, toml_table("p", {"command": "tool", "args": ["--safe"]}))
    settings = load_settings(tmp_path)
    assert [c.name for c in untrusted_servers(settings)] == ["p"]
    record_trust(settings)
    assert untrusted_servers(load_settings(tmp_path)) == []
    assert trust_file().is_relative_to(Path.home())  # the user's data dir, not the project
    assert not (tmp_path / ".pygent" / "mcp-trust.json").exists()

    for changed in (
        toml_table("p", {"command": "tool", "args": ["--evil"]}),
        toml_table("p", {"command": "tool", "args": ["--safe"], "env": {"NODE_OPTIONS": "-r x"}}),
        toml_table("p", {"command": "tool", "args": ["--safe"], "risk": "read"}),
        toml_table("p", {"command": "tool", "args": ["--safe"]})
        + toml_table("q", {"command": "other"}),
    ):
        config.write_text(changed, encoding="utf-8")
        assert untrusted_servers(load_settings(tmp_path)), changed
    config.write_text(toml_table("p", {"command": "tool", "args": ["--safe"], "timeout": 5}))
    assert untrusted_servers(load_settings(tmp_path)) == []  # a timeout is not what runs


def test_trust_of_one_workspace_does_not_cover_another(tmp_path: Path) -> None:
    table = toml_table("p", {"command": "tool"})
    _project(tmp_path / "one", table)
    _project(tmp_path / "two", table)
    record_trust(load_settings(tmp_path / "one"))
    assert untrusted_servers(load_settings(tmp_path / "one")) == []
    assert [c.name for c in untrusted_servers(load_settings(tmp_path / "two"))] == ["p"]


def test_fingerprint_ignores_order_of_servers() -> None:
    from pygent.mcp.config import ServerConfig
    from pygent.settings.models import McpServerSettings

    a = ServerConfig("a", "project", McpServerSettings(command="x"))
    b = ServerConfig("b", "project", McpServerSettings(command="y"))
    assert fingerprint([a, b]) == fingerprint([b, a]) != fingerprint([a])


# -- permission rules --------------------------------------------------------------------------


def _spec(name: str) -> Any:
    from pydantic import BaseModel

    from pygent.tools.base import ToolRisk, ToolSpec

    async def func(ctx: Any) -> str:
        return ""

    return ToolSpec(name, "", ToolRisk.EXECUTE, "execute", func, BaseModel, name)


def test_server_wildcard_rule_covers_that_servers_tools_only() -> None:
    rules = RuleSet([parse_rule("mcp__github__*", "allow")])
    subject = CallSubject(tool="x")
    assert rules.find_allow(_spec("mcp__github__create_issue"), subject) is not None
    assert rules.find_allow(_spec("mcp__gitlab__create_issue"), subject) is None
    assert rules.find_allow(_spec("shell"), subject) is None


def test_wildcard_in_a_non_mcp_tool_name_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        parse_rule("sh*", "allow")
    assert "only MCP tool names may hold `*`" in info.value.message


# -- tool schemas and results ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ("x", "not a JSON object"),
        ({"type": "string"}, "has type 'string'"),
        ({"type": "object", "properties": []}, "`properties` is not an object"),
        ({"type": "object", "properties": {"a": "str"}}, "property 'a' is not a schema"),
        ({"type": "object", "required": "a"}, "`required` is not a list"),
    ],
)
def test_schema_problem_names_what_is_wrong(schema: Any, problem: str) -> None:
    found = schema_problem(schema)
    assert found is not None and problem in found


def test_schema_problem_accepts_a_plain_object_schema() -> None:
    assert schema_problem({"type": "object", "properties": {"a": {"type": "string"}}}) is None
    assert schema_problem({}) is None


def test_results_become_text_with_placeholders_for_binary_content() -> None:
    import mcp_types as t

    result = t.CallToolResult(
        content=[
            t.TextContent(type="text", text="hello"),
            t.ImageContent(type="image", data="AAAA", mime_type="image/png"),
            t.EmbeddedResource(
                type="resource",
                resource=t.BlobResourceContents(
                    uri="file:///x.bin", blob="AA", mime_type="application/zip"
                ),
            ),
            t.ResourceLink(type="resource_link", uri="file:///doc.md", name="doc"),
        ]
    )
    out = result_output(result)
    assert out.text.splitlines() == [
        "hello",
        "[image: image/png, ~3 bytes]",
        "[resource file:///x.bin: application/zip content not shown]",
        "[resource link: doc file:///doc.md]",
    ]
    assert not out.is_error
    failed = result_output(t.CallToolResult(content=[], is_error=True))
    assert failed.is_error and "error" in failed.text


# -- CLI ---------------------------------------------------------------------------------------


def _cli(*args: str, input: str | None = None) -> Any:
    from pygent.cli import cli

    return CliRunner().invoke(cli, ["mcp", *args], input=input, catch_exceptions=False)


def test_mcp_add_writes_the_user_config_and_keeps_comments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = user_config('# mine\n[llm]\nmodel = "openai/x"  # keep\n')
    result = _cli("add", "gh", "--env", "T=${GH_TOKEN}", "--", "npx", "-y", "server-github")
    assert result.exit_code == 0, result.output
    text = path.read_text(encoding="utf-8")
    assert text.startswith('# mine\n[llm]\nmodel = "openai/x"  # keep\n')
    (server,) = configured_servers(load_settings(tmp_path))
    assert (server.settings.command, server.settings.args) == ("npx", ["-y", "server-github"])
    assert server.settings.env == {"T": "${GH_TOKEN}"}

    again = _cli("add", "gh", "--", "other")
    assert again.exit_code == 1
    assert "already in" in again.output and "--replace" in again.output
    assert path.read_text(encoding="utf-8") == text  # nothing lost


def test_mcp_add_refuses_bad_input_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = user_config("# mine\n")
    for args, message in (
        (("web",), "Give either a command"),
        (("web", "--url", "http://127.0.0.1:1/mcp", "--", "x"), "Give either a command"),
        (("web", "--url", "ftp://host"), "mcp.servers.web.url is invalid"),
        (("web", "--url", "http://127.0.0.1:1/mcp", "--header", "novalue"), "is not KEY=VALUE"),
        (("a__b", "--", "x"), "may hold only"),
    ):
        result = _cli("add", *args)
        assert result.exit_code == 1, args
        assert message in result.output, result.output
    assert path.read_text(encoding="utf-8") == "# mine\n"


def test_mcp_remove_removes_and_says_where_a_missing_one_lives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, toml_table("p", {"command": "x"}))
    user_config(toml_table("u", {"command": "y"}))
    result = _cli("remove", "p")
    assert result.exit_code == 1
    assert "run the command with --project" in result.output
    assert _cli("remove", "p", "--project").exit_code == 0
    assert _cli("remove", "u").exit_code == 0
    assert configured_servers(load_settings(tmp_path)) == []


def test_mcp_trust_shows_the_commands_and_records_only_on_yes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, toml_table("p", stdio_table(env={"TOKEN": "${T}"})))
    declined = _cli("trust", input="n\n")
    assert declined.exit_code == 1
    assert sys.executable in declined.output and "env: TOKEN" in declined.output
    assert "outside pygent's sandbox" in declined.output
    assert untrusted_servers(load_settings(tmp_path))
    assert _cli("trust", "--yes").exit_code == 0
    assert untrusted_servers(load_settings(tmp_path)) == []
    assert "already trusted" in _cli("trust").output


def test_mcp_list_without_start_shows_layer_trust_and_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, toml_table("p", {"command": "x"}))
    user_config(toml_table("u", {"url": "http://127.0.0.1:1/mcp", "enabled": False}))
    out = _cli("list", "--no-start").output
    assert "p  [project]  not trusted (run `pygent mcp trust`)" in out
    assert "u  [user]  disabled" in out
