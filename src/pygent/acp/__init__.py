"""``pygent acp``: the Agent Client Protocol (v1) over newline-delimited JSON-RPC on stdio.

Zed, JetBrains, CodeCompanion/avante (Neovim) and Emacs agent-shell run pygent through this entry
point with no plugin of ours. The same agent core, sessions, tools, permissions and settings as
``pygent serve``; only the wire differs.

- :mod:`~pygent.acp.stdio`: newline-delimited framing on the guarded stdio descriptors.
- :mod:`~pygent.acp.adapter`: the one place that converts pygent's update vocabulary to ACP's.
- :mod:`~pygent.acp.port`: the ACP frontend port (permission requests with diffs, client file
  system and terminals).
- :mod:`~pygent.acp.agent`: the connection: ``initialize``, sessions, prompts, cancellation.
"""
