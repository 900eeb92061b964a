"""A fake OpenAI-compatible LLM server for tests: scripted answers, SSE streaming, injected failures.

Every test suite of the project (Python, Neovim, VS Code) talks to this server through real litellm
over real HTTP by pointing ``llm.api_base`` at :attr:`FakeLLM.base_url`. Nothing is mocked.

Endpoints: ``POST /v1/chat/completions`` (also ``/chat/completions``), Anthropic's
``POST /v1/messages`` (same scripts, Anthropic's event stream and error shapes, so ``anthropic/``
models can be tested with ``llm.api_base`` = the server's root URL), ``GET /v1/models``, and two
control endpoints for out-of-process users: ``POST /_fake/script`` (body: a script, replaces the
current one) and ``GET /_fake/requests`` (every request body received so far, as a JSON list).

Script items (plain dicts, or JSON in a file)::

    {"text": "Hello"}                                          # streamed in chunks of chunk_size chars
    {"tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}}]}
    {"tool_calls": [{"name": "edit_file", "arguments": "{not json"}]}   # raw string: malformed JSON
    {"text": "Let me look.", "tool_calls": [...], "reasoning": "thinking..."}
    {"text": "...", "finish_reason": "length"}                 # stop | tool_calls | length | content_filter
    {"text": "...", "usage": {"prompt_tokens": 10, "completion_tokens": 5, "cached_tokens": 3}}
    {"error": {"status": 429, "retry_after": 0.1}}             # or "rate_limit"
    {"error": "server"} | {"error": "auth"} | {"error": "model_not_found"} | {"error": "context_length"}
    {"text": "...", "delay": 0.05}                             # seconds before every chunk (slow stream)
    {"tool_calls": [...], "drop_after_chunks": 3}              # close the socket after 3 SSE events
    {"error": "rate_limit", "repeat": 5}                       # the same item 5 times
    {"match": "regex", "respond": {...}}                       # rule on the last user message
    {"after_tool": "regex", "respond": {...}}                  # rule on the last tool result
    {"match": "regex", "respond": {...}, "times": 1}           # a rule that fires once

Answer selection per request: a rule whose pattern matches wins (``match`` is tried only when the
request's last message is the user's, ``after_tool`` only when it is a tool result, so a rule does
not fire again on every step of a tool loop); else the next item of the list; else the default
answer ``{"text": "(fake) done"}``, so turns always end.

Streaming sends OpenAI ``chat.completion.chunk`` events: the text split into ``chunk_size``
characters per event; each tool call as one event with ``index``, ``id`` and ``name`` (empty
arguments) followed by events carrying argument fragments; a final event with ``finish_reason``;
and, when the request has ``stream_options.include_usage``, a usage event (``choices: []``).
``drop_after_chunks`` counts those events.

The server is split by job: :mod:`~pygent.testing.fake_server` (listening, routing),
:mod:`~pygent.testing.fake_script` (scripts), :mod:`~pygent.testing.fake_openai` and
:mod:`~pygent.testing.fake_anthropic` (the two APIs), :mod:`~pygent.testing.fake_errors`,
:mod:`~pygent.testing.fake_http` and :mod:`~pygent.testing.fake_thread`. This module keeps the
public names and the command line.

Run standalone (editor test suites do)::

    python -m pygent.testing.fake_llm --script script.json [--port N] [--chunk-size N]

prints the port as the first line of stdout and serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from pygent.testing.fake_script import DEFAULT_TEXT, load_script
from pygent.testing.fake_server import FakeLLM
from pygent.testing.fake_thread import FakeLLMThread

__all__ = ["DEFAULT_TEXT", "FakeLLM", "FakeLLMThread", "load_script", "main"]


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: serve a script until killed; prints the port first."""
    parser = argparse.ArgumentParser(
        prog="python -m pygent.testing.fake_llm",
        description="Fake OpenAI-compatible LLM server for tests.",
    )
    parser.add_argument("--script", help="JSON file with a list of response items")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--chunk-size", type=int, default=4, help="characters per streamed chunk")
    args = parser.parse_args(argv)
    try:
        script = load_script(args.script) if args.script else []
    except (OSError, ValueError) as exc:
        print(f"fake_llm: cannot read script: {exc}", file=sys.stderr)
        return 2

    async def run() -> None:
        fake = FakeLLM(script, port=args.port, host=args.host, chunk_size=args.chunk_size)
        await fake.start()
        sys.stdout.write(f"{fake.port}\n")
        sys.stdout.flush()
        await fake.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
