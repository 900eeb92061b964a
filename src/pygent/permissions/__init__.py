"""Permissions: modes, allow/deny rules, shell command analysis and the engine that decides.

The engine (:class:`pygent.permissions.engine.PermissionEngine`) implements the tool layer's
:class:`~pygent.tools.base.PermissionGate`; dispatch asks it before every tool call.
"""
