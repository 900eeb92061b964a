"""Open documents: pygls' model loads off the request path, and nothing sent before a turn is lost."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

from pygent.server.documents import OpenDocuments


def _change(uri: str, version: int, line: int, text: str) -> dict[str, Any]:
    position = {"line": line, "character": 0}
    return {
        "textDocument": {"uri": uri, "version": version},
        "contentChanges": [{"range": {"start": position, "end": position}, "text": text}],
    }


async def test_notifications_sent_while_the_model_loads_are_applied_in_order(
    tmp_path: Path,
) -> None:
    mirrored: dict[Path, tuple[str, int | None]] = {}
    closed: list[Path] = []
    docs = OpenDocuments(
        tmp_path,
        "utf-16",
        lambda path, text, version: mirrored.__setitem__(path, (text, version)),
        closed.append,
    )
    path = tmp_path / "a.py"
    uri = path.as_uri()
    opened = {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": "end\n"}}
    docs.handle("textDocument/didOpen", opened)
    # Every line is inserted at the top, so only the original order gives 49 ... 0 then "end".
    for n in range(50):
        docs.handle("textDocument/didChange", _change(uri, n + 2, 0, f"{n}\n"))
    await docs.settled()
    text, version = mirrored[path]
    assert text.splitlines() == [str(n) for n in reversed(range(50))] + ["end"]
    assert version == 51
    # Once loaded, a change applies at once (no await needed).
    docs.handle("textDocument/didChange", _change(uri, 52, 0, "now\n"))
    assert mirrored[path][0].startswith("now\n49\n")
    docs.handle("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert closed == [path]


async def test_malformed_and_unknown_documents_are_ignored_and_the_rest_applies(
    tmp_path: Path,
) -> None:
    mirrored: dict[Path, str] = {}
    docs = OpenDocuments(
        tmp_path, "utf-16", lambda path, text, _v: mirrored.__setitem__(path, text), lambda _p: None
    )
    uri = (tmp_path / "b.py").as_uri()
    docs.handle("textDocument/didOpen", {"bogus": 1})
    docs.handle("textDocument/didChange", _change((tmp_path / "never.py").as_uri(), 2, 5, "x"))
    docs.handle("textDocument/didChange", {"textDocument": "nope", "contentChanges": 3})
    docs.handle(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": "ok\n"}},
    )
    await docs.settled()
    assert mirrored == {tmp_path / "b.py": "ok\n"}


async def test_settled_returns_at_once_when_no_document_was_ever_sent(tmp_path: Path) -> None:
    docs = OpenDocuments(tmp_path, "utf-16", lambda *_: None, lambda _p: None)
    await asyncio.wait_for(docs.settled(), 5)


def test_the_server_and_what_session_new_needs_do_not_import_lsprotocol() -> None:
    # lsprotocol's types cost ~0.25 s of CPU: more than session/new's whole budget.
    code = (
        "import sys\n"
        "import pygent.server.main, pygent.server.server\n"
        "import pygent.settings.loader, pygent.agent.session.store\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'lsprotocol', 'pygls', 'litellm'})\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]", out.stdout
