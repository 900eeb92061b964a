"""Texts of ``pygent help TOPIC`` (and the TUI's help): one place, extended by later features.

Add a topic by adding a key to :data:`TOPICS`; keep each text plain (it is printed to a terminal
as is) and concrete (commands and examples, not marketing).
"""

from __future__ import annotations

__all__ = ["SHORTCUT_SECTIONS", "TOPICS", "topic_names"]

_TOOLS = """\
Tools the agent can use (21)

Reading (READ: run without asking in every mode):
  read_file        read a text file with line numbers (offset/limit; 2000 lines by default)
  list_directory   list a directory (depth 1-10), respecting .gitignore
  grep             search contents with a regular expression (ripgrep), respecting .gitignore
  find_files       find files by glob pattern, newest first
  find_definition  find where a function, class or type is defined (tree-sitter)
  git_status       branch, ahead/behind, changed files
  git_diff         unstaged (or staged) changes as a unified diff
  git_log          recent commits
  update_plan      show the plan of a multi-step task as a live checklist

Changing files (WRITE: sent to your editor as a diff to review; `pygent run` writes to disk):
  create_file      create a file (overwrite=true to replace one)
  edit_file        replace an exact old_string with new_string (replace_all for every one)
  delete_file      delete a file (not a directory)
  move_file        move or rename a file
  copy_file        copy a text file

Changing the repository (WRITE, no diff review):
  git_add          stage paths
  git_commit       commit what is staged
  git_checkout     switch branch, tag or commit (create=true: a new branch)

Running programs (EXECUTE):
  shell            run a command line in the workspace (timeout: tools.shell_timeout, at most 600 s)

Leaving the machine (NETWORK):
  web_fetch        fetch an http(s) page as text (HTML becomes Markdown)
  git_push         push to a remote (force=true uses --force-with-lease)
  git_pull         fetch and merge from a remote

Every path must lie inside the workspace. Long results keep their head and tail
(tools.max_output_chars). `pygent help permissions` says what runs without asking;
docs/tools/ describes every tool and argument.
"""

_CONFIG = """\
Configuration

Settings are layered, lowest first:
  1. built-in defaults
  2. user file      ~/.config/pygent/config.toml (Linux; `pygent config path` shows yours)
  3. project file   .pygent/config.toml, found from the working directory up to the git root
  4. environment    PYGENT_MODEL, PYGENT_API_KEY, PYGENT_API_BASE, PYGENT_MAX_TOKENS,
                    PYGENT_LLM_BACKEND, PYGENT_LOG_LEVEL, PYGENT_PERMISSION_MODE,
                    PYGENT_SANDBOX
  5. command-line flags (--model/-m, --mode, --sandbox)
A bad file is reported whole: every unknown key and bad value, each with its line.
permissions.allow and permissions.deny add up across the files instead of replacing each other.

Sections: [llm] [permissions] [system_prompt] [logging] [telemetry] [tools] [sandbox] [git] [ui]
[plugins]
(`pygent config show` lists every key with its description and source).

Commands:
  pygent config show [--brief]        effective settings, each with its source
  pygent config path                  where the files are
  pygent config init [--force]        write a commented user file listing every setting
  pygent config init --project        the same for .pygent/config.toml
  pygent config set KEY VALUE         e.g. pygent config set llm.model openai/gpt-4o
  pygent config set KEY VALUE --project
  pygent config unset KEY [--project]
  pygent config edit [--project]      open in $VISUAL/$EDITOR, checked after you save
  pygent setup                        choose provider, model and key interactively

Backend: llm.backend = "auto" (default) calls OpenAI-style and Anthropic APIs directly
(fast start, no litellm import) and every other provider through litellm; "litellm" forces
litellm for all models (PYGENT_LLM_BACKEND=litellm for one run), "native" never uses it.

API keys: llm.api_key (or PYGENT_API_KEY), else the provider's variable for the model's
prefix (anthropic/ -> ANTHROPIC_API_KEY, openai/ -> OPENAI_API_KEY, gemini/ -> GEMINI_API_KEY
or GOOGLE_API_KEY, openrouter/ -> OPENROUTER_API_KEY, ...). Local servers need no key; set
llm.api_base, e.g. for Ollama:
  pygent config set llm.model openai/qwen2.5-coder
  pygent config set llm.api_base http://localhost:11434/v1
"""

_PERMISSIONS = """\
Permissions

Every tool has a risk:
  READ     (read_file, list_directory, grep, find_files, find_definition, git_status,
            git_diff, git_log, update_plan)
  WRITE    (create_file, edit_file, delete_file, move_file, copy_file, git_add,
            git_commit, git_checkout)
  EXECUTE  (shell)
  NETWORK  (web_fetch, git_push, git_pull)
A shell command made only of read-only programs (ls, cat, rg, git status, ...) whose paths
all lie inside the workspace (symlinks followed) counts as READ. What the classifier cannot
know asks: NAME=value before a command, env/xargs/timeout/sudo/exec wrappers, options that run
programs (find -exec, fd -x, git grep -O, sort --compress-program, rg --pre), $VAR, ${VAR},
$(...), ~user, cd -, redirections into files and here-documents.

Modes (permissions.mode, PYGENT_PERMISSION_MODE, --mode, or switched during a session;
editors list the server's modes: `:PygentMode` in Neovim, the mode drop-down in VS Code):
  ask        default: READ runs, everything else asks
  auto-edit  READ and WRITE run; shell and network ask
  plan       read-only: anything above READ is refused (the model is told why)
  auto       everything runs, except that destructive shell commands (rm -rf, sudo,
             git push --force, ...), writes into .pygent/ or .git/, and web_fetch of
             localhost or a private network (10.x, 192.168.x, 169.254.169.254) still ask

Rules allow or deny by tool and argument pattern; deny always wins:
  [permissions]
  allow = ["shell(pytest*)", "shell(git status*)", "edit(src/**)"]
  deny  = ["shell(rm -rf*)", "web_fetch(*internal*)"]
Aliases: edit(...) = every file-changing tool, read(...) = every reading tool with a path,
bash(...) = shell(...). A shell allow rule must cover each command of the line, so
shell(pytest*) does not let `pytest; rm -rf ~` through. Shell allow rules match at word
boundaries: shell(touch*) covers `touch a` but never `touchy` (npm test:* works too). No
allow rule covers a path outside the workspace (or one that cannot be known), a chain whose
parts are not all covered, or a destructive/forceful form it does not name literally
(rm -r/-f, git push --force, git reset --hard, git clean, sudo...): shell(rm *) never lets
`rm -rf x` through; shell(rm -rf build) does. Deny rules stay plain globs.
A web_fetch redirect to another host is judged as a fetch of its own; a rule for one
private URL (web_fetch(http://127.0.0.1:8000/*)) never covers another private address.

Answering "Allow always" (or "Reject always") adds an allow (deny) rule for the session
and saves it to the project's .pygent/config.toml. It saves the narrowest rule: the exact
command, or its program and options with * for workspace paths (rm a.txt -> shell(rm *)),
and pygent says which rule it saved. Edits reviewed in your editor's diff
view are approved by that review (never asked twice); an edit or a command you turn down
shows as "rejected" in the editors, not "failed". `pygent run` cannot ask: anything
that would ask is rejected, so choose --mode or rules for it.

The sandbox ([sandbox] mode, PYGENT_SANDBOX, --sandbox; Linux Landlock, macOS Seatbelt):
shell and git commands may read anywhere but write only in the workspace, the temp dir
and [sandbox] writable_roots, and have no network unless [sandbox] network = true.
  - In auto-edit and auto, a confined shell command runs without asking when it has no
    destructive part, names no path outside the workspace (or in .git/.pygent) and no
    $VARIABLE; in ask mode it still asks. Without a sandbox nothing is relaxed.
  - A command the sandbox stopped says "blocked by the sandbox: write to /x". The model
    may ask to re-run it unconfined (shell escalate=true with a reason): that ALWAYS asks,
    even in auto and with an allow rule, and offers no "Allow always".
  - `pygent config show` says whether the sandbox is in effect; Windows and kernels
    without Landlock have none (commands ask as the mode says).
  - Git tools never run the repository's hooks, fsmonitor, pager, filters or other
    programs from its .git/config ([git] run_hooks = true lets git_commit run hooks).
"""

_PROMPTS = """\
System prompts

The prompt is assembled in layers:
  1. base: the built-in prompt, or yours ([system_prompt] content or file in the user
     config; file wins, relative to the user config directory)
  2. [system_prompt] append from the user config
  3. the project's prompt (.pygent/config.toml [system_prompt] file (relative to .pygent/) or
     content): mode = "append" (default) adds it, mode = "replace" replaces 1 and 2;
     a project append follows it
  4. AGENTS.md at the project root, appended as project instructions
     (system_prompt.agents_md = false turns it off)

Template variables, replaced wherever they appear:
  {project_name} {project_type} {current_dir} {git_branch} {date} {os}
Other text in braces (code samples, JSON, unknown {names}) is left exactly as written.

Commands:
  pygent prompt show [--raw]       the effective prompt with a header per layer
  pygent prompt set PATH           use PATH as your base prompt (--project: the project's)
  pygent prompt edit [--project]   edit your prompt file in $VISUAL/$EDITOR (created if missing)
  pygent prompt reset [--project]  remove the prompt settings (files are kept)
"""

_SESSIONS = """\
Sessions

Every conversation is a session, saved as it happens (one JSON Lines file per session,
grouped by workspace, in pygent's data directory, e.g. ~/.local/share/pygent/sessions/ on
Linux). A crash loses at most the last line. The workspace is the git root above the
current directory, so the terminal UI, editors and `pygent run` share sessions.

  pygent sessions list [--json]              sessions of this workspace, newest first
  pygent sessions show ID [--full] [--json]  the conversation
  pygent sessions delete ID [--yes]
  pygent run --resume ID "..."               continue a session without a UI
  pygent run --continue "..."                continue the newest session
  pygent chat --resume [ID] / --continue     resume in the terminal UI (no ID: pick one;
                                             quitting the chat prints the session's id)

In editors, pick a session to resume it; its history is replayed (one update per message),
with each tool call's run time and approval wait and each turn's tokens and cost.
Listing reads a small index (index.json in the workspace's sessions folder), rebuilt from the
session files whenever it is missing or damaged; deleting it is always safe.
Long conversations are compacted (older turns summarised) when they near the model's
context window (llm.compact_threshold), or on demand with /compact in the terminal UI.

One turn at a time per session, across processes: while an editor runs a turn, a
second prompt elsewhere is refused (session_busy, naming the process: pid and host).
Loading and reading stay allowed. A lock left by a killed process never blocks.
API keys (the configured one, every *_API_KEY value, key-shaped tokens) are replaced
by [REDACTED] in session files, errors and logs.
"""

#: The terminal UI's keys, by section: ``(heading, ((keys, what they do), ...))``. ``/help`` in
#: the chat lays them out for its pane; ``pygent help shortcuts`` prints them as text.
SHORTCUT_SECTIONS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Conversation",
        (
            ("Enter", "send the message"),
            ("Shift+Enter / Ctrl+J", "new line"),
            ("Up / Down", "previous / next prompt"),
            ("Tab after @", "complete a file path"),
            ("Tab after /", "complete a command (plugins' too)"),
            ("Ctrl+C", "cancel the running turn"),
            ("Ctrl+C twice (idle)", "quit"),
            ("Ctrl+N", "new session"),
            ("Ctrl+R", "resume a session"),
            ("Ctrl+P", "command palette"),
            ("Ctrl+Q", "quit"),
            ("F2", "show / hide the right pane"),
            ("F3", "swap the panes"),
            ("Alt+Left/Right", "widen / narrow the pane"),
            ("F5", "restart a stopped server"),
            ("Enter on a tool card", "expand it; its output opens on the right"),
            ("Click a file name", "open it on the right (src/x.py:42 opens at line 42)"),
        ),
    ),
    (
        "Reviewing an edit (the diff has the focus)",
        (
            ("a", "accept (the file is written)"),
            ("r", "reject"),
            ("e", "reject with a reason (sent to the model)"),
            ("s", "unified / side-by-side diff"),
        ),
    ),
    (
        "Permission prompt (or click an option)",
        (
            ("y", "allow once"),
            ("a", "allow always"),
            ("n / Esc", "reject once"),
            ("N (Shift+N)", "reject always"),
        ),
    ),
)


def _shortcuts_text() -> str:
    lines = ["Shortcuts (terminal UI, `pygent chat`)"]
    for heading, rows in SHORTCUT_SECTIONS:
        width = max(len(keys) for keys, _ in rows) + 2
        lines += ["", heading]
        lines += [f"  {keys:<{width}}{what}" for keys, what in rows]
    lines += [
        "",
        "Commands: /help /new /sessions /model [NAME] /mode [MODE] /compact /mcp",
        "          /clear /quit",
        "Plugins' commands are listed in /help; Tab completes a /command.",
    ]
    return "\n".join(lines) + "\n"


_SHORTCUTS = _shortcuts_text()

_ACP = """\
ACP: pygent in Zed, JetBrains, CodeCompanion, avante and Emacs (`pygent acp`)

`pygent acp` speaks the Agent Client Protocol (v1, newline-delimited JSON-RPC) on
stdin/stdout. Point the editor's agent configuration at the command `pygent` with the
argument `acp`. Zed (settings.json):

  "agent_servers": { "pygent": { "type": "custom", "command": "pygent", "args": ["acp"] } }

JetBrains: the same "agent_servers" entry in ~/.jetbrains/acp.json (without "type").

  pygent acp --model MODEL      model for new sessions (default: llm.model)
  pygent acp --mode MODE        ask, auto-edit, plan or auto (default: permissions.mode)
  pygent acp --sandbox MODE     workspace-write, read-only or off (default: sandbox.mode)

Edits are reviewed as diffs in the editor's permission prompt ("Allow always" switches
the session to auto-edit); with the editor's file access pygent reads unsaved buffers and
writes through the editor; shell commands run in the editor's terminal when it has one.
Sessions, settings, rules and logs are the same as in `pygent chat` and `pygent serve`.
MCP servers the editor gives (stdio, http, sse) join that session's servers, trusted as given.
Plugins' slash commands are offered as the editor's /commands and run without the model.
Snippets for every editor: docs/editors/acp.md.
"""

_SERVER = """\
The server editors talk to (`pygent serve`)

  pygent serve                          JSON-RPC (LSP framing) on stdin/stdout; editors start it
  pygent serve --model NAME             override llm.model for this server
  pygent serve --mode plan              override permissions.mode
  pygent serve --sandbox read-only      override sandbox.mode
  pygent serve --cwd DIR                the workspace when the editor names no root
  pygent serve --max-message-bytes N    largest message accepted (default 64 MiB;
                                        also PYGENT_MAX_MESSAGE_BYTES)

In VS Code and Neovim, / at the start of the prompt completes the slash commands (/help /new
/sessions /model /mode and the plugins' ones, from pygent/commands/list); /NAME args runs a
plugin's command on the server (pygent/commands/run) and its text shows in the chat, not as
the model's answer. `//word` sends `/word` to the model.

Stdout carries protocol frames only; logs go to the log file (`pygent report`).
Bad input never stops it: a malformed or oversized frame is answered with error -32700 and
the server reads on from the next frame. Ctrl-C cancels running turns (their prompts answer
"cancelled"), then the server exits.

Errors carry a stable data.code; pygent's own use their own numbers:
  no_api_key -31001   model_not_found -31002   auth_failed -31003   rate_limited -31004
  context_overflow -31005   network -31006   invalid_config -31007
  session_not_found -31008   session_busy -31009   llm_error -31010
  endpoint_not_found -31011
The protocol is documented in docs/protocol.md.
"""

_MCP = """\
MCP servers (tools from Model Context Protocol servers)

  [mcp.servers.github]                       a stdio server: command, args, env, cwd
  command = "npx"
  args = ["-y", "@modelcontextprotocol/server-github"]
  env = { GITHUB_TOKEN = "${GITHUB_TOKEN}" }  ${VAR} comes from pygent's environment
  risk = "network"                           read | write | execute (default) | network

  [mcp.servers.docs]                         a streamable-HTTP server: url, headers
  url = "http://127.0.0.1:8000/mcp"
  allowed_tools = ["search"]                 expose only these; timeout = seconds per call

Tools appear as mcp__NAME__TOOL and go through the permission engine: the server's risk
decides when pygent asks; rules may use mcp__NAME__* (allow = ["mcp__docs__*"]).
Servers start on the first turn that needs them; one that fails is reported once and
left out. Servers from a project's .pygent/config.toml start only after you trust that
exact list in that workspace (`pygent mcp trust`, or "Trust and start" when the chat or
an editor asks; no permission mode answers for you); any change needs trust again.
Editors may add servers to one session (ACP mcpServers); they need no trust.
MCP servers run as you, outside pygent's sandbox. /mcp in the chat shows each server's
origin (user, project, editor), state and tools.

  pygent mcp list [--no-start]              servers, layer, trust, state and tools
  pygent mcp add NAME [--project] -- CMD ARGS...   or  pygent mcp add NAME --url URL
  pygent mcp remove NAME [--project]
  pygent mcp trust [--yes]
"""

_OPTIONS = """\
Options shared by chat, run, serve and acp (one spelling everywhere)

  --resume ID, -r ID     resume a session (chat: -r alone picks one from a list)   chat, run
  --continue, -c         the workspace's newest session                            chat, run
  --model MODEL, -m      the model (overrides llm.model)                           all
  --mode MODE            ask, auto-edit, plan or auto (overrides permissions.mode) all
  --sandbox MODE         workspace-write, read-only or off (overrides sandbox.mode) all
  --cwd DIR              work in DIR instead of the current directory              all
  --json                 one JSON line per update (run, sessions list/show)

Old spellings still work: `pygent run --session ID` (now --resume) and
`pygent serve/acp --permission-mode` (now --mode).
"""

_LOGGING = """\
Logging

pygent writes a log file, never to stdout: `pygent report` bundles it (redacted) for a bug
report. Where: pygent.log in the log directory (~/.local/state/pygent/log/ on Linux;
logging.file moves it). Rotated at 10 MB, kept 7 days.

Levels (logging.level, or PYGENT_LOG_LEVEL=DEBUG for one run):
  ERROR    something failed that you will notice (a model request, a turn, a tool crash)
  WARNING  degraded but continuing (a retry, a skipped MCP server, a damaged session line)
  INFO     lifecycle: session and turn start/end, one line per model request and response
           (model, message count, stop reason, latency, tokens), one per tool call
           (name, ok/failed, duration), compaction. The default.
  DEBUG    details: tool arguments and errors, payload sizes, timings

Every line passes the redaction of API keys, tokens and passwords; prompts and file contents
are never logged, tool arguments only at DEBUG. logging.enabled = false turns the file off.
"""

_TROUBLESHOOTING = """\
Messages you may hit first, and what to do (docs/troubleshooting.md has them all)

  The server at llm.api_base = URL answered 404 Not Found ...
      the base URL's path is wrong, not the model: point llm.api_base at the server's
      OpenAI-compatible root, usually ending in /v1 (Ollama http://localhost:11434/v1,
      LM Studio http://localhost:1234/v1, vLLM http://localhost:8000/v1). Not retried.
  Unknown provider 'X' in the model 'X/NAME'. Did you mean ...?
      a model is PROVIDER/MODEL with a litellm provider (anthropic, openai, gemini,
      openrouter, mistral, groq, deepseek, xai, ollama, lm_studio, hosted_vllm, ...); any
      OpenAI-compatible server: openai/NAME with llm.api_base.
  X needs permission; rejected (mode 'ask').        (pygent run)
      edits: --mode auto-edit. A command or a site: the note prints the exact rule for
      [permissions] allow in .pygent/config.toml (the one "Allow always" would save).
  The workspace is your home directory (or the filesystem/drive root)
      the agent can read everything under it: start pygent in a project folder.
  Cannot write the log file ... / Cannot save sessions in ...
      a read-only home: logging goes off and sessions live in a temporary directory
      until pygent exits. Move them with XDG_STATE_HOME / XDG_DATA_HOME (Linux), HOME
      (macOS, ~/Library), LOCALAPPDATA (Windows), or logging.file; silence the log
      warning with logging.enabled = false (PYGENT_LOG_DISABLED=1).
  Cannot write the config file ...                  (pygent setup, before any question)
      move it with XDG_CONFIG_HOME (Linux) / APPDATA (Windows), or skip the file:
      PYGENT_MODEL and PYGENT_API_KEY (or the provider's key variable).

Every error names a stable code (no_api_key, model_not_found, endpoint_not_found,
auth_failed, rate_limited, context_overflow, network, ...). `pygent report` bundles the
logs for a bug report.
"""

#: Topic name -> text. Later features add or extend topics here.
TOPICS: dict[str, str] = {
    "tools": _TOOLS,
    "config": _CONFIG,
    "permissions": _PERMISSIONS,
    "prompts": _PROMPTS,
    "sessions": _SESSIONS,
    "shortcuts": _SHORTCUTS,
    "acp": _ACP,
    "server": _SERVER,
    "mcp": _MCP,
    "options": _OPTIONS,
    "logging": _LOGGING,
    "troubleshooting": _TROUBLESHOOTING,
}


def topic_names() -> list[str]:
    """The topic names, in display order."""
    return list(TOPICS)
