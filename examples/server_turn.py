"""One turn through ``pygent serve`` with an edit review and a permission question, no API key needed.

Starts the fake LLM server (``pygent.testing``), scripts a model that edits ``util.py`` and then runs a
shell command, and drives ``pygent serve`` with :class:`pygent.client.PygentClient`, printing every
update, the ``workspace/applyEdit`` it reviews and the permission question it answers::

    python examples/server_turn.py

This is what every frontend does; ``docs/protocol.md`` describes the messages.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pygent.client import PygentClient
from pygent.testing.fake_llm import FakeLLMThread

SCRIPT = [
    {"text": "I'll add the docstring."},
    {
        "tool_calls": [
            {
                "name": "edit_file",
                "arguments": {
                    "path": "util.py",
                    "old_string": "def add(a, b):\n",
                    "new_string": 'def add(a, b):\n    """Add two numbers."""\n',
                },
            }
        ]
    },
    {"tool_calls": [{"name": "shell", "arguments": {"command": "touch tests-ran"}}]},
    {"text": "Done: docstring added, tests ran."},
]


def review_edit(params: dict[str, Any]) -> dict[str, Any]:
    """A reviewer that accepts every edit (an editor would show a diff first)."""
    print("applyEdit:", json.dumps(params["edit"], indent=2)[:400])
    return {"applied": True}


def answer_permission(params: dict[str, Any]) -> dict[str, Any]:
    """Allow once; a frontend would ask the person."""
    print("permission asked for:", params["toolCall"].get("title"))
    return {"outcome": {"outcome": "selected", "optionId": "allow_once"}}


async def main() -> None:
    with FakeLLMThread([SCRIPT[0] | SCRIPT[1], SCRIPT[2], SCRIPT[3]]) as fake:
        root = Path(tempfile.mkdtemp(prefix="pygent-example-"))
        (root / "util.py").write_text("def add(a, b):\n    return a + b\n")
        env = dict(
            os.environ,
            PYGENT_MODEL="openai/fake-model",
            PYGENT_API_BASE=fake.base_url,
            PYGENT_API_KEY="sk-fake-test",
        )
        async with PygentClient(
            root=root, env=env, apply_edit=review_edit, request_permission=answer_permission
        ) as client:
            print("server:", client.server_info)
            session_id = await client.new_session()
            async with client.stream(session_id) as updates:
                turn = asyncio.ensure_future(
                    client.prompt(session_id, "add a docstring to util.py")
                )
                async for params in updates.until(turn):
                    update = params["update"]
                    print(update["sessionUpdate"], update.get("title") or update.get("content", ""))
            print("result:", turn.result())


if __name__ == "__main__":
    asyncio.run(main())
