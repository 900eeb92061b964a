"""The common request shapes are validated without importing ACP's models (a fast first prompt)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pygent.errors import PygentError
from pygent.protocol.methods import SESSION_LOAD, SESSION_NEW, SESSION_PROMPT
from pygent.server import protocol as wire

ROOT = Path(__file__).resolve().anchor + "work"

COMMON: list[tuple[str, dict[str, Any]]] = [
    (SESSION_NEW, {}),
    (SESSION_NEW, {"cwd": ROOT, "mcpServers": []}),
    # Editor-given MCP servers are checked by pygent (ACP's models never decide about them).
    (SESSION_NEW, {"cwd": ROOT, "mcpServers": [{"name": "x", "command": "y", "args": []}]}),
    (SESSION_NEW, {"cwd": ROOT, "mcpServers": [{"name": "x", "command": "y"}]}),
    (
        SESSION_LOAD,
        {"sessionId": "01ABC", "mcpServers": [{"type": "sse", "name": "s", "url": "http://h/sse"}]},
    ),
    (SESSION_LOAD, {"sessionId": "01ABC", "cwd": ROOT}),
    (SESSION_PROMPT, {"sessionId": "01ABC", "prompt": [{"type": "text", "text": "hi"}]}),
]


@pytest.mark.parametrize(("method", "params"), COMMON)
def test_common_shapes_validate_the_same_with_and_without_acp_models(
    method: str, params: dict[str, Any]
) -> None:
    quick = wire.validate_common(method, params, Path(ROOT))
    assert quick is not None
    wire.load_schema_models()
    assert quick == wire.validate_params(method, params, Path(ROOT))


@pytest.mark.parametrize(
    ("method", "params"),
    [
        (SESSION_NEW, {"cwd": 42}),
        (SESSION_LOAD, {"cwd": ROOT}),
        (SESSION_PROMPT, {"sessionId": 7, "prompt": [{"type": "text", "text": "hi"}]}),
        (SESSION_PROMPT, {"sessionId": "s", "prompt": [{"type": "image", "data": "AA"}]}),
        (SESSION_PROMPT, {"sessionId": "s", "prompt": [{"type": "text", "text": 3}]}),
        (SESSION_PROMPT, {"sessionId": "s", "prompt": "hi"}),
        (SESSION_PROMPT, {"sessionId": "s", "prompt": [], "extra": 1}),
    ],
)
def test_other_shapes_go_to_the_full_validation(method: str, params: dict[str, Any]) -> None:
    assert wire.validate_common(method, params, Path(ROOT)) is None


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        (SESSION_NEW, {"cwd": 42}, "cwd"),
        (SESSION_NEW, {"cwd": "relative/dir"}, "cwd: must be an absolute path"),
        (SESSION_LOAD, {"cwd": ROOT}, "sessionId: field required"),
        (
            SESSION_NEW,
            {"mcpServers": [{"name": "x", "command": ""}]},
            "mcpServers[0] ('x').command: must be a non-empty string",
        ),
        (SESSION_PROMPT, {"sessionId": "s", "prompt": [{"type": "text", "text": 3}]}, "prompt[0]"),
    ],
)
def test_bad_params_are_still_refused_with_the_field_named(
    method: str, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(PygentError) as info:
        if wire.validate_common(method, params, Path(ROOT)) is None:
            wire.validate_params(method, params, Path(ROOT))
    assert info.value.code == "invalid_params"
    assert message in info.value.message


def test_common_shapes_never_import_acp() -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from pygent.server import protocol as wire\n"
        f"root = Path({ROOT!r})\n"
        "assert wire.validate_common('pygent/session/new', {}, root)['cwd'] == str(root)\n"
        "p = {'sessionId': 's', 'prompt': [{'type': 'text', 'text': 'hi'}]}\n"
        "assert wire.validate_common('pygent/session/prompt', p, root) == p\n"
        "print('acp' in sys.modules, wire.schema_models_loaded())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]
