"""The settings schema: every field documented; that text feeds ``config show`` and the docs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)

from pygent.protocol.modes import PermissionMode


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class LLMSettings(_Section):
    """The model and how to call it."""

    model: str = Field(
        default="anthropic/claude-sonnet-4-5",
        description="A litellm model string, `provider/model` (e.g. `openai/gpt-4o`, `ollama/llama3.1`).",
    )
    api_key: SecretStr | None = Field(
        default=None,
        description="API key; when unset, the provider's own variable (ANTHROPIC_API_KEY, OPENAI_API_KEY, ...) is used.",
    )
    api_base: str | None = Field(
        default=None,
        description="Base URL of an OpenAI-compatible endpoint (Ollama, llama.cpp, vLLM, a proxy).",
    )
    max_tokens: int | None = Field(
        default=None,
        gt=0,
        description="Maximum tokens the model may generate per response (unset: the provider's default).",
    )
    temperature: float | None = Field(
        default=None,
        ge=0.0,
        le=2.0,
        description="Sampling temperature (unset: the provider's default).",
    )
    timeout: float = Field(
        default=600.0, gt=0, description="Seconds to wait for one model request before giving up."
    )
    num_retries: int = Field(
        default=3,
        ge=0,
        le=20,
        description="How often a rate-limited, failed or timed-out request is retried (with exponential backoff).",
    )
    max_turn_requests: int = Field(
        default=50,
        ge=1,
        description="How many model requests one turn may make before it stops with `max_turn_requests`.",
    )
    compact_threshold: float = Field(
        default=0.8,
        gt=0.0,
        le=1.0,
        description="Fraction of the context window after which older turns are summarised.",
    )
    prompt_caching: bool = Field(
        default=True,
        description="Ask providers that support it (Anthropic) to cache the system prompt and conversation prefix.",
    )
    backend: Literal["auto", "litellm", "native"] = Field(
        default="auto",
        description="How models are called: `native` (a direct streaming client for OpenAI-style and Anthropic APIs, no litellm import), `litellm` (every provider litellm supports), `auto` (native where it covers the provider, else litellm).",
    )


class PermissionSettings(_Section):
    """What the agent may do without asking."""

    mode: PermissionMode = Field(
        default="ask",
        description="`ask` (reads run, everything else asks), `auto-edit` (reads and edits run), `plan` (read-only), `auto` (all run).",
    )
    allow: list[str] = Field(
        default_factory=list,
        description="Rules that allow without asking, e.g. `shell(pytest*)`, `edit(src/**)`.",
    )
    deny: list[str] = Field(
        default_factory=list,
        description="Rules that always refuse, e.g. `shell(rm -rf*)`, `web_fetch(*internal*)`. Deny wins over allow.",
    )


class SystemPromptSettings(_Section):
    """The system prompt and how layers combine."""

    content: str | None = Field(
        default=None,
        description="Prompt text. User level: replaces the built-in prompt. Project level: added or replacing per `mode`.",
    )
    file: str | None = Field(
        default=None,
        description="Path of a prompt file (project level: relative to `.pygent/`). Same role as `content`.",
    )
    append: str | None = Field(
        default=None, description="Text appended after the base prompt (user level)."
    )
    mode: Literal["append", "replace"] = Field(
        default="append",
        description="Project level: `append` adds the project prompt; `replace` replaces everything above it.",
    )
    agents_md: bool = Field(
        default=True, description="Append the project's AGENTS.md as project instructions."
    )


class LoggingSettings(_Section):
    """File logging."""

    level: Literal["TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", description="Lowest level written to the log file."
    )
    file: str | None = Field(
        default=None,
        description="Log file path (unset: `pygent.log` in the platform's log directory).",
    )
    enabled: bool = Field(default=True, description="Write a log file at all.")


class TelemetrySettings(_Section):
    """Anonymous usage statistics (nothing is recorded or sent unless enabled)."""

    enabled: bool = Field(
        default=False,
        description="Record anonymous usage statistics (counts and timings, never content) in a local spool; `pygent telemetry show` prints it.",
    )
    endpoint: str | None = Field(
        default=None,
        pattern=r"^https?://\S+$",
        description="URL the spooled statistics are POSTed to as JSON (unset: nothing leaves the machine).",
    )


class PluginSettings(_Section):
    """Plugins installed as Python packages (entry-point group ``pygent.plugins``).

    Besides ``disabled``, each ``[plugins.NAME]`` table holds one plugin's own settings; the plugin
    validates it with the model it registers (``PluginApp.add_settings``).
    """

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    disabled: list[str] = Field(
        default_factory=list,
        description="Entry-point names of installed plugins not to load (`pygent plugins list` shows them).",
    )

    @model_validator(mode="after")
    def _tables_only(self) -> PluginSettings:
        for name, value in (self.model_extra or {}).items():
            if not isinstance(value, dict):
                raise ValueError(
                    f"plugins.{name} must be a table ([plugins.{name}]) of that plugin's settings"
                )
        return self


_SERVER_NAME = r"^[A-Za-z0-9][A-Za-z0-9-]*(_[A-Za-z0-9-]+)*$"


class McpServerSettings(_Section):
    """One MCP server: a command started over stdio, or a streamable-HTTP `url`."""

    command: str | None = Field(
        default=None,
        description="Program that starts the server over stdio (e.g. `npx`, `uvx`, `docker`). Set this or `url`.",
    )
    args: list[str] = Field(default_factory=list, description="Arguments of `command`.")
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Extra environment variables of the server process; `${VAR}` is taken from pygent's environment.",
    )
    cwd: str | None = Field(
        default=None,
        description="Working directory of the server process (default: the workspace root).",
    )
    url: str | None = Field(
        default=None,
        pattern=r"^https?://\S+$",
        description="Streamable-HTTP endpoint of a running server (e.g. `http://127.0.0.1:8000/mcp`). Set this or `command`.",
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description='HTTP headers sent to `url` (e.g. `Authorization = "Bearer ${TOKEN}"`).',
    )
    enabled: bool = Field(default=True, description="Start this server at all.")
    risk: Literal["read", "write", "execute", "network"] = Field(
        default="execute",
        description="Risk tier of every tool of this server: decides what the permission mode lets run without asking.",
    )
    allowed_tools: list[str] | None = Field(
        default=None,
        description="Expose only these tools of the server (their names as the server gives them); unset: all.",
    )
    timeout: float = Field(
        default=60.0, gt=0, description="Seconds one tool call may take before it fails."
    )
    startup_timeout: float = Field(
        default=30.0, gt=0, description="Seconds the server may take to start and list its tools."
    )

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerSettings:
        if self.command is None and self.url is None:
            raise ValueError("set `command` (a stdio server) or `url` (a streamable-HTTP server)")
        if self.command is not None and self.url is not None:
            raise ValueError("set either `command` or `url`, not both")
        if self.command is not None and not self.command.strip():
            raise ValueError("`command` is empty")
        return self


class McpSettings(_Section):
    """MCP servers whose tools the agent may use (`[mcp.servers.NAME]` tables)."""

    servers: dict[str, McpServerSettings] = Field(
        default_factory=dict,
        description="One `[mcp.servers.NAME]` table per server; its tools appear as `mcp__NAME__TOOL`.",
    )

    @field_validator("servers", mode="before")
    @classmethod
    def _names(cls, servers: Any) -> Any:
        import re

        if isinstance(servers, dict):
            for name in servers:
                if not re.match(_SERVER_NAME, str(name)) or "__" in str(name):
                    raise ValueError(
                        f"the server name {name!r} may hold only letters, digits, `-` and single `_`"
                    )
        return servers


class ToolSettings(_Section):
    """Limits of the built-in tools."""

    shell_timeout: int = Field(
        default=120,
        ge=1,
        le=600,
        description="Default timeout in seconds of a shell command (the model may ask for up to 600).",
    )
    max_output_chars: int = Field(
        default=30_000,
        ge=1_000,
        description="Tool results longer than this keep their head and tail with a marker in between.",
    )
    read_limit_lines: int = Field(
        default=2_000, ge=1, description="Lines `read_file` returns when no limit is given."
    )
    web_max_bytes: int = Field(
        default=5 * 1024 * 1024, ge=1024, description="Largest download `web_fetch` accepts."
    )


class SandboxSettings(_Section):
    """OS confinement of shell and git commands (Landlock on Linux, Seatbelt on macOS)."""

    mode: Literal["workspace-write", "read-only", "off"] = Field(
        default="workspace-write",
        description="`workspace-write` (commands write only in the workspace, the temp dir and `writable_roots`), `read-only` (commands write nowhere), `off` (no confinement). Where the OS has no sandbox (Windows, Linux without Landlock) commands run unconfined and nothing is relaxed.",
    )
    writable_roots: list[str] = Field(
        default_factory=list,
        description="Extra directories confined commands may write, e.g. `~/.cache/pip` (relative paths: from the workspace root).",
    )
    network: bool = Field(
        default=False,
        description="Let confined commands use the network (TCP, UDP). Off by default; git_push and git_pull always have network.",
    )


class GitSettings(_Section):
    """How the git tools run git."""

    run_hooks: bool = Field(
        default=False,
        description="Run the repository's hooks (pre-commit, commit-msg, ...) for git_commit. Off by default: a cloned repository's hooks are code nobody reviewed. Other git tools never run hooks.",
    )


class UISettings(_Section):
    """Terminal UI choices."""

    theme: str = Field(
        default="textual-dark",
        description="Theme of the terminal chat: a Textual theme such as `textual-dark`, `textual-light`, `nord`, `gruvbox`. A theme chosen in the chat (Ctrl+P, Change theme) is saved here.",
    )
    diff_style: Literal["unified", "split"] = Field(
        default="unified", description="How edit diffs are shown."
    )
    show_thoughts: bool = Field(
        default=True, description="Show the model's thinking when the provider streams it."
    )
    follow_agent: bool = Field(
        default=False,
        description="Editors: show each file the agent edits (window/showDocument, without taking focus). An editor's `followAgent` initialization option overrides it.",
    )


class Settings(_Section):
    """All of pygent's settings."""

    llm: LLMSettings = Field(
        default_factory=LLMSettings, description="The model and how to call it."
    )
    permissions: PermissionSettings = Field(
        default_factory=PermissionSettings, description="What the agent may do without asking."
    )
    system_prompt: SystemPromptSettings = Field(
        default_factory=SystemPromptSettings,
        description="The system prompt and how its layers combine.",
    )
    logging: LoggingSettings = Field(default_factory=LoggingSettings, description="File logging.")
    telemetry: TelemetrySettings = Field(
        default_factory=TelemetrySettings, description="Anonymous usage statistics."
    )
    tools: ToolSettings = Field(
        default_factory=ToolSettings, description="Limits of the built-in tools."
    )
    sandbox: SandboxSettings = Field(
        default_factory=SandboxSettings,
        description="OS confinement of shell and git commands.",
    )
    git: GitSettings = Field(default_factory=GitSettings, description="How the git tools run git.")
    ui: UISettings = Field(default_factory=UISettings, description="Terminal UI choices.")
    plugins: PluginSettings = Field(
        default_factory=PluginSettings,
        description="Installed plugins: which to skip, and each plugin's own [plugins.NAME] table.",
    )
    mcp: McpSettings = Field(
        default_factory=McpSettings,
        description="MCP servers as tool sources: one [mcp.servers.NAME] table per server.",
    )

    # Set by pygent.settings.loader: the validated raw dict of each layer ("user", "project",
    # "env", "flag") and the project config file, so the prompt assembly can tell user-level
    # from project-level [system_prompt] values. None when the Settings was built directly.
    _layers: dict[str, dict[str, Any]] | None = PrivateAttr(default=None)
    _project_config: Any = PrivateAttr(default=None)
