"""Agent core: the turn loop, LLM access, context management, sessions. Knows nothing of JSON-RPC."""
