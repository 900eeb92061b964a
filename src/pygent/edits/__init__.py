"""Edits: change sets produced by tools, their LSP WorkspaceEdit form, and local application to disk."""
