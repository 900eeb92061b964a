"""Texts of ``pygent help TOPIC`` (and the TUI's help): one place, extended by later features.

Add a topic by adding a key to :data:`TOPICS`; keep each text plain (it is printed to a terminal
as is) and concrete (commands and examples, not marketing).
"""

from __future__ import annotations

__all__ = ["TOPICS", "topic_names"]

_TOOLS = """\
Tools the agent can use

Reading (run without asking in every mode):
  read_file        read a file with line numbers (offset/limit for big files)
  list_directory   list a directory, respecting .gitignore
  grep             search contents with a regular expression (ripgrep)
  find_files       find files by glob pattern
  find_definition  find where a function, class or symbol is defined (tree-sitter)
  git_status, git_diff, git_log

Changing files (shown to you as a diff to review):
  edit_file        replace an exact old_string with new_string
  create_file      create a new file
  delete_file, move_file, copy_file
  git_add, git_commit, git_checkout

Running programs and the network (ask first unless allowed):
  shell            run a command in the project (timeout: tools.shell_timeout seconds)
  web_fetch        fetch a web page as Markdown
  git_push, git_pull

Every path must lie inside the workspace. Long results keep their head and tail
(tools.max_output_chars). See `pygent help permissions` for what runs without asking.
"""

_CONFIG = """\
Configuration

Settings are layered, lowest first:
  1. built-in defaults
  2. user file      ~/.config/pygent/config.toml (Linux; `pygent config path` shows yours)
  3. project file   .pygent/config.toml, found from the working directory up to the git root
  4. environment    PYGENT_MODEL, PYGENT_API_KEY, PYGENT_API_BASE, PYGENT_MAX_TOKENS,
                    PYGENT_LOG_LEVEL, PYGENT_PERMISSION_MODE
  5. command-line flags

Commands:
  pygent config show [--brief]        effective settings, each with its source
  pygent config path                  where the files are
  pygent config init [--force]        write a commented default user file
  pygent config set KEY VALUE         e.g. pygent config set llm.model openai/gpt-4o
  pygent config set KEY VALUE --project
  pygent config unset KEY [--project]
  pygent config edit [--project]      open in $VISUAL/$EDITOR, checked after you save
  pygent setup                        choose provider, model and key interactively

API keys: llm.api_key, else the provider's variable for the model's prefix
(anthropic/ -> ANTHROPIC_API_KEY, openai/ -> OPENAI_API_KEY, gemini/ -> GEMINI_API_KEY,
openrouter/ -> OPENROUTER_API_KEY, ...). Local servers: set llm.api_base, e.g.
  pygent config set llm.model openai/qwen2.5-coder
  pygent config set llm.api_base http://localhost:11434/v1
"""

_PERMISSIONS = """\
Permissions

Every tool has a risk: READ (read, list, grep, find, git status/diff/log), WRITE (edit,
create, delete, move files; git add/commit/checkout), EXECUTE (shell), NETWORK (web_fetch,
git push/pull).

Modes (permissions.mode, PYGENT_PERMISSION_MODE, or switched during a session):
  ask        default: READ runs, everything else asks
  auto-edit  READ and WRITE run; shell and network ask
  plan       read-only: anything above READ is refused
  auto       everything runs (use in a sandbox)

Rules allow or deny by tool and argument pattern; deny always wins:
  [permissions]
  allow = ["shell(pytest*)", "shell(git status*)", "edit(src/**)"]
  deny  = ["shell(rm -rf*)", "web_fetch(*internal*)"]

Answering "Allow always" stores a rule in the project's .pygent/config.toml. Edits reviewed
in your editor's diff view are approved by that review (never asked twice).
"""

_PROMPTS = """\
System prompts

The prompt is assembled in layers:
  1. base: the built-in prompt, or yours ([system_prompt] content or file in the user config)
  2. [system_prompt] append from the user config
  3. the project's prompt (.pygent/config.toml [system_prompt] file (relative to .pygent/) or
     content): mode = "append" (default) adds it, mode = "replace" replaces 1 and 2
  4. AGENTS.md at the project root, always appended (system_prompt.agents_md = false: off)

Template variables, replaced wherever they appear:
  {project_name} {project_type} {current_dir} {git_branch} {date} {os}
Other text in braces (code samples, JSON, unknown {names}) is left exactly as written.

Commands:
  pygent prompt show             the effective prompt with a header per layer
  pygent prompt set FILE         use FILE as your base prompt (--project: the project's)
  pygent prompt edit [--project] edit your prompt file in $VISUAL/$EDITOR
  pygent prompt reset [--project]
"""

_SESSIONS = """\
Sessions

Every conversation is a session, saved as it happens (one JSON Lines file per session,
grouped by workspace, in pygent's data directory). A crash loses at most the last line.

  pygent sessions list            sessions of this workspace, newest first
  pygent sessions show ID         the conversation
  pygent sessions delete ID
  pygent run --session ID "..."   continue a session without a UI

In the terminal UI and editors, pick a session to resume it; its history is replayed.
Long conversations are compacted (older turns summarised) when they near the model's
context window (llm.compact_threshold), or on demand with /compact.
"""

_SHORTCUTS = """\
Shortcuts (terminal UI, `pygent chat`)

Conversation
  Enter              send the message           Shift+Enter / Ctrl+J  new line
  Up / Down          previous / next prompt     Tab after @           complete a file path
  Ctrl+C             cancel the running turn    Ctrl+C twice (idle)   quit
  Ctrl+N             new session                Ctrl+R                resume a session
  Ctrl+P             command palette            Ctrl+Q                quit
  F2                 show / hide the right pane F3                    swap the panes
  Alt+Left/Right     widen / narrow the pane    F5                    restart a stopped server
  Enter on a tool card   expand it (input and output; its output opens on the right)

Reviewing an edit (the diff on the right has the focus)
  a  accept (the file is written)     r  reject
  e  reject with a reason (sent to the model)   s  unified / side-by-side diff

Permission prompt
  y  allow once     a  allow always     n  reject     (or click an option)

Commands: /help /new /sessions /model [NAME] /mode [MODE] /compact /clear /quit
"""

#: Topic name -> text. Later features add or extend topics here.
TOPICS: dict[str, str] = {
    "tools": _TOOLS,
    "config": _CONFIG,
    "permissions": _PERMISSIONS,
    "prompts": _PROMPTS,
    "sessions": _SESSIONS,
    "shortcuts": _SHORTCUTS,
}


def topic_names() -> list[str]:
    """The topic names, in display order."""
    return list(TOPICS)
