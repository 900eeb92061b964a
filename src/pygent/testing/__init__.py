"""Test support shipped with pygent: a fake OpenAI-compatible LLM server and pytest fixtures.

Used by pygent's own suites (Python, Neovim, VS Code) and by anyone testing a pygent integration.
"""
