"""The protocol vocabulary every part of pygent shares: a leaf package.

- :mod:`~pygent.protocol.updates`: ACP ``sessionUpdate`` constructors (the one event vocabulary)
  and :data:`~pygent.protocol.updates.ToolKind`.
- :mod:`~pygent.protocol.port`: the frontend port the agent talks to, and ACP's permission
  request, outcome and option shapes.
- :mod:`~pygent.protocol.methods`: the ``pygent/*`` method names.
- :mod:`~pygent.protocol.modes`: the permission modes and what each means.
- :mod:`~pygent.protocol.codes`: JSON-RPC error numbers and pygent's stable ``data.code`` strings.

It imports nothing of pygent but :mod:`pygent.errors` (``tests/unit/test_import_graph.py`` holds it
to that), so the agent, tools, permissions, server, client, ACP adapter and TUI can all use it
without reaching into each other.
"""
